"""Logistic (softmax) regression on digits (after aymericdamien logistic_regression.py):
reduction_indices, tf.log, accuracy.eval inside the session."""
import numpy as np
from _data import Batches, digits

import engine as tf

x_train, y_train, x_test, y_test = digits()
learning_rate, training_epochs, batch_size = 0.5, 15, 100

x = tf.placeholder(tf.float32, [None, 64])
y = tf.placeholder(tf.float32, [None, 10])
W = tf.Variable(tf.zeros([64, 10]))
b = tf.Variable(tf.zeros([10]))
pred = tf.nn.softmax(tf.matmul(x, W) + b)
cost = tf.reduce_mean(-tf.reduce_sum(y * tf.log(pred + 1e-10), reduction_indices=1))
optimizer = tf.train.GradientDescentOptimizer(learning_rate).minimize(cost)
init = tf.global_variables_initializer()

batches = Batches(x_train, y_train)
with tf.Session() as sess:
    sess.run(init)
    costs = []
    for epoch in range(training_epochs):
        avg_cost = 0.
        total_batch = len(x_train) // batch_size
        for i in range(total_batch):
            batch_xs, batch_ys = batches.next_batch(batch_size)
            _, c = sess.run([optimizer, cost], feed_dict={x: batch_xs, y: batch_ys})
            avg_cost += c / total_batch
        costs.append(avg_cost)
    correct_prediction = tf.equal(tf.argmax(pred, 1), tf.argmax(y, 1))
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
    acc = accuracy.eval({x: x_test, y: y_test})
assert costs[-1] < costs[0] / 4
assert acc > 0.93, acc
