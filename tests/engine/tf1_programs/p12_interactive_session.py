"""Creating and running a graph (Hands-On ML ch. 9): x.initializer.run(), f.eval() inside a
`with` session, an InteractiveSession, graph management and reset_default_graph."""
import engine as tf

x = tf.Variable(3, name="x")
y = tf.Variable(4, name="y")
f = x * x * y + y + 2

sess = tf.Session()
sess.run(x.initializer)
sess.run(y.initializer)
result = sess.run(f)
assert result == 42
sess.close()

with tf.Session() as sess:
    x.initializer.run()
    y.initializer.run()
    assert f.eval() == 42

init = tf.global_variables_initializer()
with tf.Session() as sess:
    init.run()
    assert f.eval() == 42

sess = tf.InteractiveSession()
init.run()
assert f.eval() == 42
sess.close()

x1 = tf.Variable(1)
assert x1.graph is tf.get_default_graph()
graph = tf.Graph()
with graph.as_default():
    x2 = tf.Variable(2)
assert x2.graph is graph and x2.graph is not tf.get_default_graph()

w = tf.constant(3)
x = w + 2
y = x + 5
z = x * 3
with tf.Session() as sess:
    y_val, z_val = sess.run([y, z])
assert (y_val, z_val) == (10, 15)
tf.reset_default_graph()
assert tf.get_default_graph().get_operations() == []
