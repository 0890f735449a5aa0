"""Linear regression by the normal equation (Hands-On ML ch. 9) on the Saratoga houses:
theta = (X^T X)^-1 X^T y with tf.matrix_inverse, checked against numpy's least squares."""
import numpy as np
from _data import houses

import engine as tf

data, target = houses()
m, n = data.shape
housing_data_plus_bias = np.c_[np.ones((m, 1)), data]

X = tf.constant(housing_data_plus_bias, dtype=tf.float64, name="X")
y = tf.constant(target.reshape(-1, 1), dtype=tf.float64, name="y")
XT = tf.transpose(X)
theta = tf.matmul(tf.matmul(tf.matrix_inverse(tf.matmul(XT, X)), XT), y)

with tf.Session() as sess:
    theta_value = theta.eval()
expected = np.linalg.lstsq(housing_data_plus_bias, target, rcond=None)[0]
np.testing.assert_allclose(theta_value, expected, rtol=1e-6)
