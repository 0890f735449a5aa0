"""A frozen TensorFlow 1.x model, loaded and run by the engine and by TensorFlow, side by side.

The model is a frozen MLP 784-2048-2048-10 (MatMul, BiasAdd, Relu, Softmax;
5.8 M float32 weights, 23 MB) built and frozen by TensorFlow. Both load the
same bytes (parse + import_graph_def, the first run included) and score the
same batches, timed in turns in one process. Needs TensorFlow, so it runs in
an interpreter that has it, with the repository on the path:

    PYTHONPATH=$PWD /work/venvs/tf/bin/python benchmarks/tf_graphdef.py [--repeat 7] [--rows 4096]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import tensorflow.compat.v1 as tf1

import engine as tf

tf1.disable_eager_execution()
LAYERS = [(784, 2048), (2048, 2048), (2048, 10)]


def frozen_mlp() -> bytes:
    rng = np.random.default_rng(0)
    with tf1.Graph().as_default() as graph:
        h = tf1.placeholder(tf1.float32, [None, 784], name="input")
        for i, (a, b) in enumerate(LAYERS):
            w = tf1.Variable(rng.normal(0, 0.05, (a, b)).astype(np.float32))
            h = tf1.nn.bias_add(tf1.matmul(h, w), tf1.Variable(np.zeros(b, np.float32)))
            h = tf1.nn.relu(h) if i < len(LAYERS) - 1 else tf1.nn.softmax(h, name="output")
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            return tf1.graph_util.convert_variables_to_constants(sess, graph.as_graph_def(), ["output"]) \
                .SerializeToString()


def load_engine(data: bytes, feed: np.ndarray):
    graph_def = tf.GraphDef()
    graph_def.ParseFromString(data)
    graph = tf.Graph()
    tf.import_graph_def(graph_def, name="", graph=graph)
    sess = tf.Session(graph)
    sess.run("output:0", {"input:0": feed})
    return lambda x: sess.run("output:0", {"input:0": x})


def load_tensorflow(data: bytes, feed: np.ndarray):
    graph = tf1.Graph()
    with graph.as_default():
        tf1.import_graph_def(tf1.GraphDef.FromString(data), name="")
    sess = tf1.Session(graph=graph)
    sess.run("output:0", {"input:0": feed})
    return lambda x: sess.run("output:0", {"input:0": x})


def timed(fn, *args) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--rows", type=int, default=4096)
    args = p.parse_args()
    data = frozen_mlp()
    x = np.random.default_rng(1).normal(size=(args.rows, 784)).astype(np.float32)
    loads = {"engine": [], "tensorflow": []}
    runs = {"engine": [], "tensorflow": []}
    outputs = {}
    for _ in range(args.repeat):
        for name, load in (("engine", load_engine), ("tensorflow", load_tensorflow)):
            seconds, run = timed(load, data, x[:1])
            loads[name].append(seconds)
            seconds, outputs[name] = timed(run, x)
            runs[name].append(seconds)
    diff = float(np.max(np.abs(outputs["engine"] - outputs["tensorflow"])))
    print(f"frozen MLP {'-'.join(str(a) for a, _ in LAYERS)}-10, {len(data) / 1e6:.1f} MB; {args.rows:,} rows "
          f"per run; median of {args.repeat} (min)\n")
    print(f"{'':24}{'engine':>20}{'tensorflow':>20}{'ratio':>8}")
    for label, table, scale, fmt in (("load + first run, s", loads, 1, ".2f"), ("score a batch, ms", runs, 1e3, ",.0f")):
        e, t = (statistics.median(table[k]) * scale for k in ("engine", "tensorflow"))
        emin, tmin = (min(table[k]) * scale for k in ("engine", "tensorflow"))
        print(f"{label:24}{f'{e:{fmt}} ({emin:{fmt}})':>20}{f'{t:{fmt}} ({tmin:{fmt}})':>20}{e / t:>7.2f}×")
    print(f"\nlargest difference of the outputs: {diff:.2g}")


if __name__ == "__main__":
    main()
