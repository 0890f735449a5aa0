"""An MLP with dropout (after nlintz TensorFlow-Tutorials 04_modern_net.py, smaller and faster): init_weights with
tf.random_normal, ReLU layers, tf.nn.dropout with keep probabilities fed through
placeholders (1.0 at test time), RMSProp, argmax predictions; on the digits."""
import numpy as np
from _data import Batches, digits

import engine as tf

tf.set_random_seed(7)
trX, trY, teX, teY = digits()


def init_weights(shape):
    return tf.Variable(tf.random_normal(shape, stddev=0.1))


def model(X, w_h, w_h2, w_o, p_keep_input, p_keep_hidden):
    X = tf.nn.dropout(X, p_keep_input)
    h = tf.nn.relu(tf.matmul(X, w_h))
    h = tf.nn.dropout(h, p_keep_hidden)
    h2 = tf.nn.relu(tf.matmul(h, w_h2))
    h2 = tf.nn.dropout(h2, p_keep_hidden)
    return tf.matmul(h2, w_o)


X = tf.placeholder("float", [None, 64])
Y = tf.placeholder("float", [None, 10])
w_h = init_weights([64, 64])
w_h2 = init_weights([64, 64])
w_o = init_weights([64, 10])
p_keep_input = tf.placeholder("float")
p_keep_hidden = tf.placeholder("float")
py_x = model(X, w_h, w_h2, w_o, p_keep_input, p_keep_hidden)
cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=py_x, labels=Y))
train_op = tf.train.RMSPropOptimizer(0.005, 0.9).minimize(cost)
predict_op = tf.argmax(py_x, 1)

batches = Batches(trX, trY)
with tf.Session() as sess:
    tf.global_variables_initializer().run()
    for i in range(16):
        for start in range(0, len(trX), 128):
            batch_x, batch_y = batches.next_batch(128)
            sess.run(train_op, feed_dict={X: batch_x, Y: batch_y, p_keep_input: 0.8, p_keep_hidden: 0.5})
    accuracy = np.mean(np.argmax(teY, axis=1) ==
                       sess.run(predict_op, feed_dict={X: teX, p_keep_input: 1.0, p_keep_hidden: 1.0}))
    # at test time dropout is off: the same input gives the same logits; while training it is on
    test_feed = {X: teX[:5], p_keep_input: 1.0, p_keep_hidden: 1.0}
    train_feed = {X: teX[:5], p_keep_input: 0.8, p_keep_hidden: 0.5}
    assert np.array_equal(sess.run(py_x, test_feed), sess.run(py_x, test_feed))
    assert not np.array_equal(sess.run(py_x, train_feed), sess.run(py_x, train_feed))
assert accuracy > 0.9, accuracy
