"""Convolutions: the engine against TensorFlow's CPU kernels and a naive numpy loop.

Forward + backward (the gradients of a loss with respect to the input and
every weight) in float32, batch 64 of 28x28x1 images:

- one conv layer: 32 filters 3x3, SAME;
- a LeNet-style model: conv 32 3x3 - relu - max pool 2 - conv 64 3x3 - relu
  - max pool 2 - dense 128 - relu - dense 10 - softmax cross-entropy.

Each configuration runs in a subprocess with OMP_NUM_THREADS (and
TensorFlow's intra/inter-op threads) set to 1, then 2, since BLAS reads the
setting when it loads. TensorFlow is optional (`tf.compat.v1`; skipped with a
message when it can't be imported): run with a Python that has it, e.g.

    PYTHONPATH=$PWD /work/venvs/tf/bin/python benchmarks/conv.py [--repeat 20]

The engine part needs numpy only. `--spark` adds (with a Python that has
pyspark) images/s of map_blocks scoring the LeNet model over an image
DataFrame, against a hand-written arrow_udf and pandas_udf doing the same
numpy forward pass (benchmarks/conv_scoring.py):

    PYTHONPATH=$PWD python benchmarks/conv.py --spark
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Callable

import numpy as np

BATCH, SIZE, FILTERS = 64, 28, 32


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds of `fn` over `repeat` runs, after one warm-up run."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def data(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    f32 = np.float32
    return {"x": rng.standard_normal((BATCH, SIZE, SIZE, 1)).astype(f32),
            "dy": rng.standard_normal((BATCH, SIZE, SIZE, FILTERS)).astype(f32),
            "w": (rng.standard_normal((3, 3, 1, FILTERS)) * 0.3).astype(f32),
            "w1": (rng.standard_normal((3, 3, 1, 32)) * 0.3).astype(f32),
            "w2": (rng.standard_normal((3, 3, 32, 64)) * 0.05).astype(f32),
            "w3": (rng.standard_normal((7 * 7 * 64, 128)) * 0.02).astype(f32),
            "w4": (rng.standard_normal((128, 10)) * 0.1).astype(f32),
            "labels": rng.integers(0, 10, BATCH)}


def lenet(tf, d: dict, x, weights: list):
    """The LeNet-style loss, written once for the engine and for TensorFlow (same API)."""
    logits = lenet_logits(tf, x, weights)
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=d["labels"], logits=logits))


def graph_runners(tf, session_factory, d: dict) -> dict:
    """{case: run()} for the engine or TensorFlow: forward + backward of the layer and of the model."""
    runs = {}
    graph = tf.Graph()
    with graph.as_default():
        x, w = tf.placeholder(tf.float32, d["x"].shape), tf.Variable(d["w"])
        y = tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME")
        layer_grads = tf.gradients(y, [x, w], tf.constant(d["dy"]))
        weights = [tf.Variable(d[k]) for k in ("w1", "w2", "w3", "w4")]
        loss = lenet(tf, d, x, weights)
        model_grads = tf.gradients(loss, [x] + weights)
        sess = session_factory(graph)
        sess.run(tf.global_variables_initializer())
    runs["conv layer"] = lambda: sess.run([y] + layer_grads, {x: d["x"]})
    runs["LeNet model"] = lambda: sess.run([loss] + model_grads, {x: d["x"]})
    return runs


def naive_layer(d: dict) -> Callable[[], object]:
    """conv2d forward and both gradients with a Python loop over output pixels (vectorized over the batch)."""
    x, w, dy = d["x"], d["w"], d["dy"]

    def run():
        xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
        y = np.empty((BATCH, SIZE, SIZE, FILTERS), np.float32)
        dxp, dw = np.zeros_like(xp), np.zeros_like(w)
        for i in range(SIZE):
            for j in range(SIZE):
                patch = xp[:, i:i + 3, j:j + 3, :]
                y[:, i, j] = np.tensordot(patch, w, axes=3)
                dw += np.tensordot(patch, dy[:, i, j], axes=([0], [0]))
                dxp[:, i:i + 3, j:j + 3, :] += np.tensordot(dy[:, i, j], w, axes=([1], [3]))
        return y, dxp[:, 1:-1, 1:-1], dw
    return run


def measure(threads: int, repeat: int) -> dict:
    """All timings with this process's thread settings: {case: {implementation: seconds}}."""
    import engine
    d = data()
    out: dict = {"conv layer": {}, "LeNet model": {}}
    for case, run in graph_runners(engine, engine.Session, d).items():
        out[case]["engine"] = timed(run, repeat)
    out["conv layer"]["naive loop"] = timed(naive_layer(d), max(3, repeat // 5))
    try:
        import tensorflow as real_tf
    except ImportError as e:
        out["note"] = f"TensorFlow skipped: {e}"
        return out
    tf1 = real_tf.compat.v1
    tf1.disable_eager_execution()
    config = tf1.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads)
    for case, run in graph_runners(tf1, lambda g: tf1.Session(graph=g, config=config), d).items():
        out[case]["TensorFlow"] = timed(run, repeat)
    return out


def check_same_values() -> float:
    """The largest relative difference between engine and TensorFlow model gradients (if TF is there)."""
    try:
        import tensorflow as real_tf
    except ImportError:
        return float("nan")
    import engine
    tf1 = real_tf.compat.v1
    tf1.disable_eager_execution()
    d = data()
    ours = graph_runners(engine, engine.Session, d)["LeNet model"]()
    theirs = graph_runners(tf1, lambda g: tf1.Session(graph=g), d)["LeNet model"]()
    return max(float(np.max(np.abs(a - b)) / (np.max(np.abs(b)) + 1e-30)) for a, b in zip(ours, theirs))


def run_child(threads: int, repeat: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads), "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([sys.executable, __file__, "--child", str(threads), "--repeat", str(repeat)], env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(results: dict) -> None:
    for threads, res in results.items():
        if "note" in res:
            print(f"({threads} thread(s): {res['note']})")
        for case in ("conv layer", "LeNet model"):
            row = res[case]
            tf_time = row.get("TensorFlow")
            cells = [f"{name} {1e3 * sec:8.2f} ms" + (f" ({sec / tf_time:.2f}x TF)" if tf_time else "")
                     for name, sec in row.items()]
            print(f"{threads} thread(s)  {case:12s}  " + "   ".join(cells))


def lenet_logits(tf, x, weights: list):
    """The LeNet-style model's logits (engine and TensorFlow alike)."""
    w1, w2, w3, w4 = weights
    h = tf.nn.max_pool(tf.nn.relu(tf.nn.conv2d(x, w1, 1, "SAME")), 2, 2, "SAME")
    h = tf.nn.max_pool(tf.nn.relu(tf.nn.conv2d(h, w2, 1, "SAME")), 2, 2, "SAME")
    return tf.matmul(tf.nn.relu(tf.matmul(tf.reshape(h, [-1, 7 * 7 * 64]), w3)), w4)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    p.add_argument("--spark", action="store_true", help="map_blocks scoring images/s (needs pyspark)")
    p.add_argument("--rows", type=int, default=20_000, help="--spark: images to score")
    args = p.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.repeat)))
        return
    if args.spark:
        here = os.path.dirname(os.path.abspath(__file__))  # the Python workers import conv_scoring too
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), here) if p)
        from conv_scoring import spark_scoring  # pyspark and pyarrow only there
        spark_scoring(args.rows, max(3, args.repeat // 5))
        return
    print(f"forward + backward, float32, batch {BATCH} of {SIZE}x{SIZE}x1; median of {args.repeat} runs; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"engine vs TensorFlow, LeNet gradients: largest relative difference {check_same_values():.2e}")
    report({threads: run_child(threads, args.repeat) for threads in (1, 2)})


if __name__ == "__main__":
    main()
