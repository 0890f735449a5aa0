"""Linear regression (after aymericdamien linear_regression.py): per-sample SGD of W * X + b with a
reduce_sum(pow) cost, checked against the same SGD done in numpy."""
import numpy as np

import engine as tf

rng = np.random.RandomState(1)
learning_rate = 0.01
training_epochs = 40
train_X = np.asarray([3.3, 4.4, 5.5, 6.71, 6.93, 4.168, 9.779, 6.182, 7.59, 2.167,
                      7.042, 10.791, 5.313, 7.997, 5.654, 9.27, 3.1])
train_Y = np.asarray([1.7, 2.76, 2.09, 3.19, 1.694, 1.573, 3.366, 2.596, 2.53, 1.221,
                      2.827, 3.465, 1.65, 2.904, 2.42, 2.94, 1.3])
n_samples = train_X.shape[0]

X = tf.placeholder("float")
Y = tf.placeholder("float")
w0, b0 = rng.randn(), rng.randn()
W = tf.Variable(w0, name="weight", dtype=tf.float32)
b = tf.Variable(b0, name="bias", dtype=tf.float32)
pred = tf.add(tf.multiply(X, W), b)
cost = tf.reduce_sum(tf.pow(pred - Y, 2)) / (2 * n_samples)
optimizer = tf.train.GradientDescentOptimizer(learning_rate).minimize(cost)
init = tf.global_variables_initializer()

with tf.Session() as sess:
    sess.run(init)
    initial_cost = sess.run(cost, feed_dict={X: train_X, Y: train_Y})
    for epoch in range(training_epochs):
        for (x, y) in zip(train_X, train_Y):
            sess.run(optimizer, feed_dict={X: x, Y: y})
    training_cost = sess.run(cost, feed_dict={X: train_X, Y: train_Y})
    w_final, b_final = sess.run(W), sess.run(b)

w, bias = np.float32(w0), np.float32(b0)  # the same updates in numpy (float32)
for epoch in range(training_epochs):
    for (x, y) in zip(train_X.astype(np.float32), train_Y.astype(np.float32)):
        err = w * x + bias - y
        w, bias = w - np.float32(learning_rate) * err * x / n_samples, bias - np.float32(learning_rate) * err / n_samples
np.testing.assert_allclose([w_final, b_final], [w, bias], rtol=1e-4)
assert training_cost < initial_cost / 10, (initial_cost, training_cost)
