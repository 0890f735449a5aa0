"""Sharing variables (Hands-On ML ch. 9, "Sharing Variables"): five ReLUs share one threshold
through get_variable and variable_scope(reuse=True); the output equals numpy's."""
import numpy as np

import engine as tf

n_features = 3
X = tf.placeholder(tf.float32, shape=(None, n_features), name="X")


def relu(X):
    with tf.variable_scope("relu", reuse=True):
        threshold = tf.get_variable("threshold")
        w_shape = (int(X.get_shape()[1]), 1)
        w = tf.Variable(tf.random_normal(w_shape, seed=7), name="weights")
        b = tf.Variable(0.0, name="bias")
        z = tf.add(tf.matmul(X, w), b, name="z")
        return tf.maximum(z, threshold, name="max")


with tf.variable_scope("relu"):
    threshold = tf.get_variable("threshold", shape=(), initializer=tf.constant_initializer(0.3))
relus = [relu(X) for relu_index in range(5)]
output = tf.add_n(relus, name="output")

assert len(tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES, scope="relu/threshold")) == 1
assert [v.name for v in tf.global_variables()][:3] == ["relu/threshold:0", "relu_1/weights:0", "relu_1/bias:0"]

data = np.random.default_rng(0).standard_normal((4, n_features)).astype(np.float32)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    weights = sess.run([v for v in tf.global_variables() if v.name.endswith("weights:0")])
    result = sess.run(output, feed_dict={X: data})
    sess.run(threshold.assign(-100.0))  # one shared variable: all five ReLUs see it
    linear = sess.run(output, feed_dict={X: data})
expected = sum(np.maximum(data @ w, 0.3) for w in weights)
np.testing.assert_allclose(result, expected, rtol=1e-6)
np.testing.assert_allclose(linear, sum(data @ w for w in weights), rtol=1e-5)


def dense(x, units, name):  # the other sharing pattern: AUTO_REUSE
    with tf.variable_scope(name, reuse=tf.AUTO_REUSE):
        w = tf.get_variable("w", [int(x.shape[1]), units], initializer=tf.glorot_uniform_initializer(seed=1))
        return tf.matmul(x, w)


a, b = dense(X, 2, "shared"), dense(X, 2, "shared")
assert len(tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, "shared")) == 1
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    va, vb = sess.run([a, b], feed_dict={X: data})
np.testing.assert_array_equal(va, vb)
