"""Weights made with tf.get_variable, Xavier initialisation and an L2 regularizer (the contrib-era
TF 1.x style), the regularization losses added to the data loss, gradient clipping by global norm and
an exponentially decayed learning rate; the regularization term equals numpy's formula."""
import numpy as np
from _data import Batches, digits

import engine as tf

tf.set_random_seed(5)
x_train, y_train, x_test, y_test = digits()
scale = 1e-3


def layer(x, size, name, activation=None):
    with tf.variable_scope(name):
        w = tf.get_variable("weights", [int(x.get_shape()[1]), size],
                            initializer=tf.contrib.layers.xavier_initializer(),
                            regularizer=tf.contrib.layers.l2_regularizer(scale))
        b = tf.get_variable("biases", [size], initializer=tf.constant_initializer(0.1))
        out = tf.matmul(x, w) + b
        return activation(out) if activation else out


x = tf.placeholder(tf.float32, [None, 64])
y = tf.placeholder(tf.float32, [None, 10])
hidden = layer(x, 32, "hidden", tf.nn.relu)
logits = layer(hidden, 10, "logits")
data_loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
reg_loss = tf.losses.get_regularization_loss()
loss = data_loss + reg_loss
global_step = tf.train.get_or_create_global_step()
learning_rate = tf.train.exponential_decay(0.5, global_step, 50, 0.9, staircase=True)
optimizer = tf.train.GradientDescentOptimizer(learning_rate)
grads, variables = zip(*optimizer.compute_gradients(loss))
clipped, norm = tf.clip_by_global_norm(grads, 5.0)
train_op = optimizer.apply_gradients(zip(clipped, variables), global_step=global_step)
accuracy = tf.reduce_mean(tf.to_float(tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1))))

assert len(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)) == 2
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    batches = Batches(x_train, y_train)
    for step in range(200):
        x_batch, y_batch = batches.next_batch(64)
        sess.run(train_op, feed_dict={x: x_batch, y: y_batch})
    w1, w2 = sess.run([tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, "hidden/weights")[0],
                       tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, "logits/weights")[0]])
    reg, acc, lr, steps = sess.run([reg_loss, accuracy, learning_rate, global_step],
                                   feed_dict={x: x_test, y: y_test})
np.testing.assert_allclose(reg, scale * ((w1 ** 2).sum() + (w2 ** 2).sum()) / 2, rtol=1e-5)
assert steps == 200 and lr == np.float32(0.5 * 0.9 ** 4)
assert acc > 0.93, acc
