"""Per-run cost of a cached Session plan, and the engine against plain numpy.

The graph is 20 elementwise ops on one float64 placeholder, (y*x + x - x) / x
five times over, so values stay near x. Two measurements, in one run:

- small input (10 elements): the per-`Session.run` cost, which is almost all
  engine overhead (feed check, plan loop, kernel calls). Target: <= 40 us.
- large input (1,000,000 elements): the same graph against the same
  expression written in numpy, timed alternately. Target: within 1.1x.
  A third row, the computation done in place with `out=`, shows the floor.

    python benchmarks/engine_session.py [--repeat 15]
"""
from __future__ import annotations

import argparse
import statistics
import timeit

import numpy as np

import engine as tf

ROUNDS = 5  # (y*x + x - x) / x per round: 4 ops, 20 in all


def build_graph() -> tuple[tf.Graph, tf.Tensor, tf.Tensor]:
    """The benchmark graph: placeholder x and the 20-op result y."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float64, [None], name="x")
        y = x
        for _ in range(ROUNDS):
            y = (y * x + x - x) / x
    return graph, x, y


def numpy_expression(x: np.ndarray) -> np.ndarray:
    """The same computation, written by hand in numpy."""
    y = x
    for _ in range(ROUNDS):
        y = (y * x + x - x) / x
    return y


def numpy_in_place(x: np.ndarray) -> np.ndarray:
    """The same computation with one buffer and `out=`: the best numpy can do."""
    y = np.multiply(x, x)
    for i in range(ROUNDS):
        if i:
            np.multiply(y, x, out=y)
        np.add(y, x, out=y)
        np.subtract(y, x, out=y)
        np.divide(y, x, out=y)
    return y


def per_call_us(fn, number: int, repeat: int) -> tuple[float, float]:
    """(median, min) microseconds per call of fn over `repeat` timeit runs."""
    times = [t / number * 1e6 for t in timeit.repeat(fn, number=number, repeat=repeat)]
    return statistics.median(times), min(times)


def side_by_side(fns: dict, number: int, repeat: int) -> dict:
    """Time the functions alternately, so machine load hits them alike."""
    samples: dict = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            samples[name].append(timeit.timeit(fn, number=number) / number * 1e6)
    return {name: (statistics.median(t), min(t)) for name, t in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="timeit repeats (default 15)")
    args = parser.parse_args()
    graph, x, y = build_graph()
    ops = [op for op in graph.get_operations() if op.type != "Placeholder"]
    sess = tf.Session(graph)
    rng = np.random.default_rng(0)

    small = rng.uniform(0.5, 1.5, 10)
    np.testing.assert_allclose(sess.run(y, {x: small}), numpy_expression(small))
    run_small = per_call_us(lambda: sess.run(y, {x: small}), number=2000, repeat=args.repeat)
    numpy_small = per_call_us(lambda: numpy_expression(small), number=2000, repeat=args.repeat)

    large = rng.uniform(0.5, 1.5, 1_000_000)
    np.testing.assert_allclose(sess.run(y, {x: large}), numpy_expression(large))
    np.testing.assert_allclose(numpy_in_place(large), numpy_expression(large))
    big = side_by_side({"engine": lambda: sess.run(y, {x: large}), "numpy": lambda: numpy_expression(large),
                        "in place": lambda: numpy_in_place(large)}, number=5, repeat=args.repeat)

    print(f"graph: {len(ops)} elementwise ops on a float64 placeholder; {args.repeat} repeats, median (min)")
    print(f"{'case':<34}{'engine':>20}{'numpy':>20}{'ratio':>9}")
    rows = [("10 elements, us per run", run_small, numpy_small),
            ("1,000,000 elements, us per run", big["engine"], big["numpy"])]
    for label, eng, ref in rows:
        print(f"{label:<34}{eng[0]:>10.1f} ({eng[1]:>6.1f}){ref[0]:>10.1f} ({ref[1]:>6.1f})"
              f"{eng[0] / ref[0]:>8.2f}x")
    best = big["in place"]
    print(f"{'1,000,000, numpy with out= (best)':<34}{'':>20}{best[0]:>10.1f} ({best[1]:>6.1f})"
          f"{big['engine'][0] / best[0]:>8.2f}x")
    print(f"per node (10 elements): {run_small[0] / len(ops):.2f} us median; target <= 40 us per run")
    print(f"large input ratio engine/numpy: {big['engine'][0] / big['numpy'][0]:.3f} median, "
          f"{big['engine'][1] / big['numpy'][1]:.3f} min; target <= 1.1")


if __name__ == "__main__":
    main()
