"""Autoencoder (after aymericdamien autoencoder.py): sigmoid encoder/decoder with weights from
tf.random_normal, RMSProp on the mean squared reconstruction error of the digits."""
import numpy as np
from _data import Batches, digits

import engine as tf

tf.set_random_seed(1)
x_train, y_train, x_test, _ = digits()
learning_rate, num_steps, batch_size = 0.01, 300, 64
num_hidden_1, num_hidden_2, num_input = 32, 16, 64

X = tf.placeholder("float", [None, num_input])
weights = {
    'encoder_h1': tf.Variable(tf.random_normal([num_input, num_hidden_1])),
    'encoder_h2': tf.Variable(tf.random_normal([num_hidden_1, num_hidden_2])),
    'decoder_h1': tf.Variable(tf.random_normal([num_hidden_2, num_hidden_1])),
    'decoder_h2': tf.Variable(tf.random_normal([num_hidden_1, num_input])),
}
biases = {
    'encoder_b1': tf.Variable(tf.random_normal([num_hidden_1])),
    'encoder_b2': tf.Variable(tf.random_normal([num_hidden_2])),
    'decoder_b1': tf.Variable(tf.random_normal([num_hidden_1])),
    'decoder_b2': tf.Variable(tf.random_normal([num_input])),
}


def encoder(x):
    layer_1 = tf.nn.sigmoid(tf.add(tf.matmul(x, weights['encoder_h1']), biases['encoder_b1']))
    return tf.nn.sigmoid(tf.add(tf.matmul(layer_1, weights['encoder_h2']), biases['encoder_b2']))


def decoder(x):
    layer_1 = tf.nn.sigmoid(tf.add(tf.matmul(x, weights['decoder_h1']), biases['decoder_b1']))
    return tf.nn.sigmoid(tf.add(tf.matmul(layer_1, weights['decoder_h2']), biases['decoder_b2']))


encoder_op = encoder(X)
decoder_op = decoder(encoder_op)
y_pred, y_true = decoder_op, X
loss = tf.reduce_mean(tf.pow(y_true - y_pred, 2))
optimizer = tf.train.RMSPropOptimizer(learning_rate).minimize(loss)
init = tf.global_variables_initializer()

batches = Batches(x_train, x_train)
with tf.Session() as sess:
    sess.run(init)
    first = sess.run(loss, feed_dict={X: x_test})
    for i in range(1, num_steps + 1):
        batch_x, _ = batches.next_batch(batch_size)
        _, l = sess.run([optimizer, loss], feed_dict={X: batch_x})
    last = sess.run(loss, feed_dict={X: x_test})
    codes = sess.run(encoder_op, feed_dict={X: x_test[:5]})
assert codes.shape == (5, num_hidden_2)
assert last < 0.5 * first and last < 0.07, (first, last)
