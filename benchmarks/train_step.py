"""One full-batch gradient step of logistic regression: the engine against hand-written numpy.

Data: 1,000,000 rows x 20 float64 features, labels in {0, 1}. The engine runs
`GradientDescentOptimizer(0.1).minimize(tf.losses.sigmoid_cross_entropy(y, X @ w + b))`
(the loss, its symbolic gradient and the update, one `Session.run`); numpy
runs the same step written by hand (p = sigmoid(X @ w + b), w -= lr * X^T (p - y) / n).
Both are timed alternately, so machine load hits them alike, after checking
that they compute the same update; wall-clock and process CPU time (all
threads: BLAS runs matmuls on every core) are shown. Target: engine <= 1.3x
numpy. A third column runs the numpy step that also computes the loss, which
the engine's step does (the gradient of the mean needs its input).

    python benchmarks/train_step.py [--rows 1000000] [--repeat 9]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import engine as tf

FEATURES, LEARNING_RATE = 20, 0.1


def data(rows: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, FEATURES))
    y = (rng.random((rows, 1)) < 1 / (1 + np.exp(-x @ rng.standard_normal((FEATURES, 1))))).astype(np.float64)
    return x, y


def engine_step(rows: int):
    """(session, train op, feeds, w, b) of the engine's logistic regression step."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float64, [None, FEATURES], name="x")
        y = tf.placeholder(tf.float64, [None, 1], name="y")
        w = tf.Variable(np.zeros((FEATURES, 1)), name="w")
        b = tf.Variable(np.zeros(1), name="b")
        loss = tf.losses.sigmoid_cross_entropy(y, tf.matmul(x, w) + b)
        train_op = tf.train.GradientDescentOptimizer(LEARNING_RATE).minimize(loss)
        init = tf.global_variables_initializer()
    sess = tf.Session(graph)
    sess.run(init)
    return sess, train_op, (x, y), w, b


def numpy_step(x: np.ndarray, y: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same gradient step, by hand."""
    p = 1 / (1 + np.exp(-(x @ w + b)))
    r = (p - y) / len(x)
    return w - LEARNING_RATE * (x.T @ r), b - LEARNING_RATE * r.sum(axis=0)


def numpy_step_with_loss(x: np.ndarray, y: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple:
    """The hand-written step that also computes the loss, as the engine's graph does
    (the gradient of the mean needs its input's shape, so the forward pass runs)."""
    z = x @ w + b
    loss = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
    r = (1 / (1 + np.exp(-z)) - y) / len(x)
    return w - LEARNING_RATE * (x.T @ r), b - LEARNING_RATE * r.sum(axis=0), loss


def side_by_side(fns: dict, repeat: int) -> dict:
    """Per call of each function, timed alternately so machine load hits them alike:
    {name: {clock: (median, min) seconds}} for wall-clock and process CPU time."""
    clocks = {"wall": time.perf_counter, "cpu": time.process_time}
    samples: dict = {name: {c: [] for c in clocks} for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = {c: clock() for c, clock in clocks.items()}
            fn()
            for c, clock in clocks.items():
                samples[name][c].append(clock() - start[c])
    return {name: {c: (statistics.median(t), min(t)) for c, t in by_clock.items()} for name, by_clock in samples.items()}


def _ms(times: tuple) -> str:
    return f"{times[0] * 1e3:.1f} ({times[1] * 1e3:.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=9, help="timed steps of each (default 9)")
    args = parser.parse_args()
    x, y = data(args.rows)
    sess, train_op, (x_in, y_in), w, b = engine_step(args.rows)
    feed = {x_in: x, y_in: y}

    sess.run(train_op, feed)  # the first run compiles the plan; check it against numpy
    want_w, want_b = numpy_step(x, y, np.zeros((FEATURES, 1)), np.zeros(1))
    np.testing.assert_allclose(sess.run(w), want_w, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(sess.run(b), want_b, rtol=1e-10, atol=1e-15)

    w0, b0 = np.zeros((FEATURES, 1)), np.zeros(1)
    times = side_by_side({"engine": lambda: sess.run(train_op, feed), "numpy": lambda: numpy_step(x, y, w0, b0),
                          "numpy+loss": lambda: numpy_step_with_loss(x, y, w0, b0)}, args.repeat)
    print(f"logistic regression, one full-batch gradient step, {args.rows:,} x {FEATURES} float64; "
          f"{args.repeat} steps each, ms: median (min)")
    print(f"{'clock':<7}{'engine':>15}{'numpy':>15}{'ratio':>15}{'numpy+loss':>15}{'ratio':>15}")
    for clock in ("wall", "cpu"):
        engine = times["engine"][clock]
        row = f"{clock:<7}{_ms(engine):>15}"
        for baseline in ("numpy", "numpy+loss"):
            base = times[baseline][clock]
            row += f"{_ms(base):>15}{engine[0] / base[0]:>7.2f}x ({engine[1] / base[1]:.2f}x)"
        print(row)
    print("target: engine <= 1.3x numpy")

if __name__ == "__main__":
    main()
