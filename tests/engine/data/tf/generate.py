"""Regenerate the frozen TensorFlow 1.x fixture graphs and their expected outputs.

Needs TensorFlow (never the engine): run with an interpreter that has it,

    /work/venvs/tf/bin/python tests/engine/data/tf/generate.py

Each model is built with tf.compat.v1 from seeded weights, frozen with
`convert_variables_to_constants` (weights become Const nodes), written with
`tf.io.write_graph` as `<name>.pb` (and `mlp.pbtxt`), and run by TensorFlow
on seeded inputs; `<name>.npz` holds the inputs and TensorFlow's outputs
under the tensor names the tests feed and fetch.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_eager_execution()
HERE = Path(__file__).resolve().parent
ROWS = 16


def dense(x, units, name, rng, activation=None):
    """A dense layer as TF 1.x programs wrote it: MatMul + BiasAdd on variables."""
    w = tf.Variable(rng.normal(0, 0.5, (int(x.shape[-1]), units)).astype(np.float32), name=f"{name}/kernel")
    b = tf.Variable(rng.normal(0, 0.1, units).astype(np.float32), name=f"{name}/bias")
    y = tf.nn.bias_add(tf.matmul(x, w), b, name=f"{name}/BiasAdd")
    return activation(y) if activation else y


def logistic_regression(rng):
    x = tf.placeholder(tf.float32, [None, 4], name="input")
    tf.sigmoid(dense(x, 1, "logits", rng), name="output")
    return {"input:0": rng.normal(size=(ROWS, 4)).astype(np.float32)}, ["output:0"]


def mlp(rng):
    x = tf.placeholder(tf.float32, [None, 8], name="input")
    h = dense(x, 16, "hidden", rng, tf.nn.relu)
    logits = dense(h, 3, "logits", rng)
    tf.nn.softmax(logits, name="probabilities")
    tf.argmax(logits, axis=1, name="classes")
    return {"input:0": rng.normal(size=(ROWS, 8)).astype(np.float32)}, ["probabilities:0", "classes:0"]


def ops(rng):
    """Shape and arithmetic ops frozen TF 1.x graphs contain, batch norm in inference included."""
    x = tf.placeholder(tf.float32, [None, 6], name="input")
    mean = tf.reduce_mean(x, axis=0, keepdims=True)
    centred = tf.subtract(x, mean)
    scaled = tf.realdiv(centred, tf.constant(2.0)) * tf.constant(1.5) + tf.constant(0.25)
    bn_in = tf.reshape(scaled, [-1, 1, 1, 6])
    bn, _, _ = tf.nn.fused_batch_norm(
        bn_in, scale=rng.uniform(0.5, 1.5, 6).astype(np.float32), offset=rng.normal(size=6).astype(np.float32),
        mean=rng.normal(size=6).astype(np.float32), variance=rng.uniform(0.5, 2.0, 6).astype(np.float32),
        epsilon=1e-3, is_training=False, name="bn")
    flat = tf.squeeze(bn, axis=[1, 2])
    part = flat[:, 1:4]
    joined = tf.concat([tf.tanh(part), tf.nn.relu(flat)], axis=1)
    stacked = tf.stack([tf.reduce_sum(joined, axis=1), tf.reduce_max(joined, axis=1)], axis=1)
    tf.identity(tf.cast(stacked, tf.float64) * tf.constant(2.0, tf.float64), name="output")
    tf.cast(tf.argmax(joined, axis=1), tf.int32, name="index")
    return {"input:0": rng.normal(size=(ROWS, 6)).astype(np.float32)}, ["output:0", "index:0"]


def extras(rng):
    """More ops TF 1.x programs write: Relu6, LeakyRelu, Div, OneHot, GatherV2, Transpose, Tile, ExpandDims, Unpack,
    AddN, ClipByValue, Select, Shape, LogSoftmax, PlaceholderWithDefault, Minimum, Maximum, Exp, Square."""
    x = tf.placeholder(tf.float32, [None, 4], name="input")
    scale = tf.placeholder_with_default(tf.constant(1.5), [], name="scale")
    a = tf.nn.leaky_relu(tf.nn.relu6(x * scale * 4.0) - 2.0, alpha=0.3)
    b = tf.div(tf.exp(x), tf.square(x) + 1.0)
    picked = tf.gather(tf.transpose(tf.concat([a, b], 1)), [0, 5, 2])
    rows = tf.transpose(picked)
    tiled = tf.tile(tf.expand_dims(tf.reduce_min(rows, 1), 1), [1, 1])
    first, second = tf.unstack(tf.reshape(tf.clip_by_value(rows[:, :2], -1.0, 3.0), [-1, 2, 1]), axis=1)
    total = tf.add_n([tiled, tf.maximum(first, second) * 2.0, tf.minimum(first, second)])
    chosen = tf.where(total > 1.0, total, -total)
    hot = tf.one_hot(tf.argmax(chosen, axis=1), 3, on_value=2.0, off_value=-1.0)
    tf.identity(tf.nn.log_softmax(tf.concat([chosen, hot], 1)), name="output")
    tf.identity(tf.shape(hot), name="hot_shape")
    return {"input:0": rng.normal(size=(ROWS, 4)).astype(np.float32)}, ["output:0", "hot_shape:0"]


def convnet(rng):
    """A small TF 1.x convnet on 8x8x1 images: conv, bias, relu, max pool, avg pool, dense, softmax."""
    x = tf.placeholder(tf.float32, [None, 8, 8, 1], name="input")
    k1 = tf.Variable(rng.normal(0, 0.5, (3, 3, 1, 4)).astype(np.float32), name="conv1/kernel")
    b1 = tf.Variable(rng.normal(0, 0.1, 4).astype(np.float32), name="conv1/bias")
    h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, k1, [1, 1, 1, 1], "SAME"), b1))
    h = tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
    k2 = tf.Variable(rng.normal(0, 0.5, (3, 3, 4, 6)).astype(np.float32), name="conv2/kernel")
    h = tf.nn.relu(tf.nn.conv2d(h, k2, [1, 1, 1, 1], "VALID"))
    h = tf.nn.avg_pool(h, [1, 2, 2, 1], [1, 1, 1, 1], "VALID")
    flat = tf.reshape(h, [-1, 1 * 1 * 6])
    tf.nn.softmax(dense(flat, 3, "logits", rng), name="probabilities")
    return {"input:0": rng.normal(size=(ROWS, 8, 8, 1)).astype(np.float32)}, ["probabilities:0"]


MODELS = {"logistic_regression": logistic_regression, "mlp": mlp, "ops": ops, "convnet": convnet, "extras": extras}


def freeze(name, build, seed):
    rng = np.random.default_rng(seed)
    graph = tf.Graph()
    with graph.as_default():
        feeds, fetches = build(rng)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            outputs = [f.split(":")[0] for f in fetches]
            frozen = tf.graph_util.convert_variables_to_constants(sess, graph.as_graph_def(), outputs)
    with tf.Graph().as_default() as g2:
        tf.import_graph_def(frozen, name="")
        with tf.Session(graph=g2) as sess:
            values = sess.run(fetches, feeds)
    tf.io.write_graph(frozen, str(HERE), f"{name}.pb", as_text=False)
    if name == "mlp":
        tf.io.write_graph(frozen, str(HERE), f"{name}.pbtxt", as_text=True)
    np.savez(HERE / f"{name}.npz", **feeds, **dict(zip(fetches, values)))
    print(name, sorted({n.op for n in frozen.node}), len(frozen.SerializeToString()), "bytes")


if __name__ == "__main__":
    for seed, (name, build) in enumerate(MODELS.items()):
        freeze(name, build, seed)
