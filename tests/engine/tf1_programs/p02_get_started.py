"""The official TF 1.x "Getting Started" program: a linear model trained by gradient descent.
TensorFlow's guide prints W: [-0.9999969] b: [0.99999082] loss: 5.69997e-11."""
import numpy as np

import engine as tf

node1 = tf.constant(3.0, dtype=tf.float32)
node2 = tf.constant(4.0)  # also tf.float32 implicitly
sess = tf.Session()
assert sess.run([node1, node2]) == [3.0, 4.0]
node3 = tf.add(node1, node2)
assert sess.run(node3) == 7.0

a = tf.placeholder(tf.float32)
b = tf.placeholder(tf.float32)
adder_node = a + b
np.testing.assert_array_equal(sess.run(adder_node, {a: [1, 3], b: [2, 4]}), [3.0, 7.0])
add_and_triple = adder_node * 3.
assert sess.run(add_and_triple, {a: 3, b: 4.5}) == 22.5

W = tf.Variable([.3], dtype=tf.float32)
b = tf.Variable([-.3], dtype=tf.float32)
x = tf.placeholder(tf.float32)
linear_model = W * x + b
init = tf.global_variables_initializer()
sess.run(init)
np.testing.assert_allclose(sess.run(linear_model, {x: [1, 2, 3, 4]}), [0, 0.3, 0.6, 0.9], atol=1e-7)

y = tf.placeholder(tf.float32)
squared_deltas = tf.square(linear_model - y)
loss = tf.reduce_sum(squared_deltas)
np.testing.assert_allclose(sess.run(loss, {x: [1, 2, 3, 4], y: [0, -1, -2, -3]}), 23.66, rtol=1e-6)

fixW = tf.assign(W, [-1.])
fixb = tf.assign(b, [1.])
sess.run([fixW, fixb])
assert sess.run(loss, {x: [1, 2, 3, 4], y: [0, -1, -2, -3]}) == 0.0

optimizer = tf.train.GradientDescentOptimizer(0.01)
train = optimizer.minimize(loss)
sess.run(init)  # reset values to incorrect defaults.
x_train, y_train = [1, 2, 3, 4], [0, -1, -2, -3]
for i in range(1000):
    sess.run(train, {x: x_train, y: y_train})
curr_W, curr_b, curr_loss = sess.run([W, b, loss], {x: x_train, y: y_train})
np.testing.assert_allclose(curr_W, [-0.9999969], rtol=1e-5)
np.testing.assert_allclose(curr_b, [0.99999082], rtol=1e-5)
assert curr_loss < 1e-9
