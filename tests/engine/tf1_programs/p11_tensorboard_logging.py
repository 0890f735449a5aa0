"""TensorBoard logging (after aymericdamien tensorboard_basic.py and the TF 1.x "TensorBoard: Visualizing
Learning" guide): a linear regression logs its loss with tf.summary.scalar and its weights with
tf.summary.histogram, merged by tf.summary.merge_all and written by tf.summary.FileWriter(logdir,
sess.graph); TensorBoard's own event_accumulator then reads back the scalars, histograms and graph."""
import os

import numpy as np
from tensorboard.backend.event_processing import event_accumulator

import engine as tf

rng = np.random.RandomState(0)
train_X = rng.uniform(-1, 1, size=(64, 3)).astype(np.float32)
true_W = np.array([[2.0], [-1.0], [0.5]], np.float32)
train_Y = (train_X @ true_W + 0.3 + 0.1 * rng.randn(64, 1)).astype(np.float32)
logdir = os.path.join(os.getcwd(), "logs")
steps, learning_rate = 30, 0.5

with tf.name_scope("input"):
    X = tf.placeholder(tf.float32, [None, 3], name="X")
    Y = tf.placeholder(tf.float32, [None, 1], name="Y")
with tf.name_scope("model"):
    W = tf.Variable(tf.zeros([3, 1]), name="W")
    b = tf.Variable(tf.zeros([1]), name="b")
    pred = tf.matmul(X, W) + b
with tf.name_scope("cost"):
    loss = tf.reduce_mean(tf.square(pred - Y))
train_op = tf.train.GradientDescentOptimizer(learning_rate).minimize(loss)
tf.summary.scalar("loss", loss)
tf.summary.histogram("weights", W)
merged = tf.summary.merge_all()

losses = []
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    writer = tf.summary.FileWriter(logdir, sess.graph)
    for step in range(steps):
        summary, step_loss, _ = sess.run([merged, loss, train_op], feed_dict={X: train_X, Y: train_Y})
        writer.add_summary(summary, step)
        losses.append(step_loss)
    writer.close()
    final_W = sess.run(W)

# the same full-batch gradient descent in numpy gives the logged losses
w, c = np.zeros((3, 1), np.float64), 0.0
expected = []
for step in range(steps):
    err = train_X @ w + c - train_Y
    expected.append(np.mean(err ** 2))
    w, c = w - learning_rate * 2 * train_X.T @ err / len(err), c - learning_rate * 2 * err.mean()
np.testing.assert_allclose(losses, expected, rtol=1e-4)
assert losses[-1] < 0.02 < losses[0]  # down to the noise's variance (0.01)

acc = event_accumulator.EventAccumulator(logdir, size_guidance={event_accumulator.SCALARS: 0,
                                                                event_accumulator.HISTOGRAMS: 0})
acc.Reload()
assert acc.Tags()["scalars"] == ["loss"] and acc.Tags()["histograms"] == ["weights"]
logged = acc.Scalars("loss")
assert [e.step for e in logged] == list(range(steps))
np.testing.assert_allclose([e.value for e in logged], losses, rtol=1e-6)
histograms = acc.Histograms("weights")
assert len(histograms) == steps and histograms[0].histogram_value.num == 3
last = histograms[-1].histogram_value  # W's value before the last step, as fetched with it
assert last.min <= final_W.min() + 0.1 and last.max >= final_W.max() - 0.1
assert acc.Tags()["graph"]
node_names = {node.name for node in acc.Graph().node}
assert {"input/X", "input/Y", "model/W", "cost/Mean"} <= node_names, sorted(node_names)[:20]
