"""Save and restore a model (after aymericdamien save_restore_model.py and Hands-On ML ch. 9):
train, tf.train.Saver().save with global_step and max_to_keep, then a new graph restores the
latest checkpoint (also through import_meta_graph) and gives the same predictions."""
import os

import numpy as np
from _data import digits

import engine as tf

x_train, y_train, x_test, y_test = digits()
model_dir = os.path.join(os.getcwd(), "model")
os.makedirs(model_dir)
model_path = os.path.join(model_dir, "model.ckpt")


def build():
    x = tf.placeholder(tf.float32, [None, 64], name="x")
    y = tf.placeholder(tf.float32, [None, 10], name="y")
    W = tf.Variable(tf.zeros([64, 10]), name="W")
    b = tf.Variable(tf.zeros([10]), name="b")
    logits = tf.add(tf.matmul(x, W), b, name="logits")
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
    return x, y, logits, loss


x, y, logits, loss = build()
global_step = tf.train.get_or_create_global_step()
train_op = tf.train.GradientDescentOptimizer(0.5).minimize(loss, global_step=global_step)
saver = tf.train.Saver(max_to_keep=2)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(60):
        sess.run(train_op, feed_dict={x: x_train, y: y_train})
        if (step + 1) % 20 == 0:
            save_path = saver.save(sess, model_path, global_step=global_step)
    expected = sess.run(logits, feed_dict={x: x_test})
assert save_path == model_path + "-60" and tf.train.latest_checkpoint(model_dir) == save_path
assert not os.path.exists(model_path + "-20.index")  # max_to_keep=2

tf.reset_default_graph()
x, y, logits, loss = build()
saver = tf.train.Saver([v for v in tf.global_variables()])
with tf.Session() as sess:
    saver.restore(sess, tf.train.latest_checkpoint(model_dir))
    np.testing.assert_array_equal(sess.run(logits, feed_dict={x: x_test}), expected)

tf.reset_default_graph()
with tf.Session() as sess:
    restorer = tf.train.import_meta_graph(save_path + ".meta")
    restorer.restore(sess, save_path)
    graph = tf.get_default_graph()
    out = sess.run(graph.get_tensor_by_name("logits:0"), feed_dict={graph.get_tensor_by_name("x:0"): x_test})
    np.testing.assert_array_equal(out, expected)
    assert sess.run(graph.get_tensor_by_name("global_step:0")) == 60
