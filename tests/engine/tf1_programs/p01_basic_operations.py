"""Basic operations (after aymericdamien/TensorFlow-Examples basic_operations.py): constants,
placeholders with feeds, matmul; known results."""
import numpy as np

import engine as tf

a = tf.constant(2)
b = tf.constant(3)
with tf.Session() as sess:
    assert sess.run(a) == 2 and sess.run(b) == 3
    assert sess.run(a + b) == 5 and sess.run(a * b) == 6

a = tf.placeholder(tf.int16)
b = tf.placeholder(tf.int16)
add = tf.add(a, b)
mul = tf.multiply(a, b)
with tf.Session() as sess:
    assert sess.run(add, feed_dict={a: 2, b: 3}) == 5
    assert sess.run(mul, feed_dict={a: 2, b: 3}) == 6

matrix1 = tf.constant([[3., 3.]])
matrix2 = tf.constant([[2.], [2.]])
product = tf.matmul(matrix1, matrix2)
with tf.Session() as sess:
    result = sess.run(product)
    np.testing.assert_array_equal(result, [[12.0]])
