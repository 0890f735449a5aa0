"""A DNN with tf.layers.dense (Hands-On ML ch. 10): name scopes, ReLU hidden layers,
sparse_softmax_cross_entropy_with_logits, nn.in_top_k, mini-batches, tf.flags for the settings."""
import numpy as np
from _data import Batches, digits

import engine as tf

tf.flags.DEFINE_integer("n_epochs", 20, "epochs")
FLAGS = tf.flags.FLAGS
tf.set_random_seed(42)

x_train, y_train, x_test, y_test = digits()
y_train, y_test = y_train.argmax(1).astype(np.int64), y_test.argmax(1).astype(np.int64)
n_inputs, n_hidden1, n_hidden2, n_outputs = 64, 100, 50, 10

X = tf.placeholder(tf.float32, shape=(None, n_inputs), name="X")
y = tf.placeholder(tf.int64, shape=(None), name="y")
with tf.name_scope("dnn"):
    hidden1 = tf.layers.dense(X, n_hidden1, name="hidden1", activation=tf.nn.relu)
    hidden2 = tf.layers.dense(hidden1, n_hidden2, name="hidden2", activation=tf.nn.relu)
    logits = tf.layers.dense(hidden2, n_outputs, name="outputs")
with tf.name_scope("loss"):
    xentropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    loss = tf.reduce_mean(xentropy, name="loss")
with tf.name_scope("train"):
    optimizer = tf.train.GradientDescentOptimizer(0.1)
    training_op = optimizer.minimize(loss)
with tf.name_scope("eval"):
    correct = tf.nn.in_top_k(logits, y, 1)
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
init = tf.global_variables_initializer()

assert [v.name for v in tf.trainable_variables()] == [
    "hidden1/kernel:0", "hidden1/bias:0", "hidden2/kernel:0", "hidden2/bias:0", "outputs/kernel:0", "outputs/bias:0"]
assert logits.name.startswith("dnn/outputs/")

batches = Batches(x_train, y_train)
batch_size = 50
with tf.Session() as sess:
    init.run()
    for epoch in range(FLAGS.n_epochs):
        for iteration in range(len(x_train) // batch_size):
            X_batch, y_batch = batches.next_batch(batch_size)
            sess.run(training_op, feed_dict={X: X_batch, y: y_batch})
    acc_test = accuracy.eval(feed_dict={X: x_test, y: y_test})
    top3 = tf.reduce_mean(tf.cast(tf.nn.in_top_k(logits, y, 3), tf.float32)).eval(feed_dict={X: x_test, y: y_test})
assert acc_test > 0.95, acc_test
assert top3 >= acc_test
