"""Batch gradient descent three ways (Hands-On ML ch. 9): gradients by hand with tf.assign,
by tf.gradients, and by a MomentumOptimizer on mini-batches fed through placeholders;
initialised with tf.random_uniform(seed=42); all reach the normal-equation solution."""
import numpy as np
from _data import houses

import engine as tf

data, target = houses()
m, n = data.shape
scaled = (data - data.mean(0)) / data.std(0)
scaled_plus_bias = np.c_[np.ones((m, 1)), scaled]
target = target / 1e5
best = np.linalg.lstsq(scaled_plus_bias, target, rcond=None)[0]
n_epochs, learning_rate = 300, 0.1


def manual(use_autodiff):
    tf.reset_default_graph()
    X = tf.constant(scaled_plus_bias, dtype=tf.float32, name="X")
    y = tf.constant(target, dtype=tf.float32, name="y")
    theta = tf.Variable(tf.random_uniform([n + 1, 1], -1.0, 1.0, seed=42), name="theta")
    y_pred = tf.matmul(X, theta, name="predictions")
    error = y_pred - y
    mse = tf.reduce_mean(tf.square(error), name="mse")
    gradients = tf.gradients(mse, [theta])[0] if use_autodiff else 2 / m * tf.matmul(tf.transpose(X), error)
    training_op = tf.assign(theta, theta - learning_rate * gradients)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for epoch in range(n_epochs):
            sess.run(training_op)
        return theta.eval(), mse.eval()


by_hand, mse_hand = manual(False)
autodiff, mse_auto = manual(True)
np.testing.assert_allclose(by_hand, autodiff, rtol=1e-4, atol=1e-5)
np.testing.assert_allclose(by_hand, best, rtol=1e-3, atol=1e-3)

tf.reset_default_graph()
X = tf.placeholder(tf.float32, shape=(None, n + 1), name="X")
y = tf.placeholder(tf.float32, shape=(None, 1), name="y")
theta = tf.Variable(tf.random_uniform([n + 1, 1], -1.0, 1.0, seed=42), name="theta")
mse = tf.reduce_mean(tf.square(tf.matmul(X, theta) - y), name="mse")
training_op = tf.train.MomentumOptimizer(learning_rate=0.01, momentum=0.9).minimize(mse)
batch_size = 100
n_batches = int(np.ceil(m / batch_size))


def fetch_batch(epoch, batch_index, batch_size):
    rnd = np.random.RandomState(epoch * n_batches + batch_index)
    indices = rnd.randint(m, size=batch_size)
    return scaled_plus_bias[indices], target[indices]


with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for epoch in range(20):
        for batch_index in range(n_batches):
            X_batch, y_batch = fetch_batch(epoch, batch_index, batch_size)
            sess.run(training_op, feed_dict={X: X_batch, y: y_batch})
    best_theta = theta.eval()
    final_mse = mse.eval(feed_dict={X: scaled_plus_bias, y: target})
best_mse = float(np.mean((scaled_plus_bias @ best - target) ** 2))
assert final_mse < 1.02 * best_mse, (final_mse, best_mse)
