"""Distributed training against Spark MLlib, side by side on 1,000,000 x 10 rows (local[2]).

For linear and for logistic regression (no regularization, with intercept):

1. MLlib fits the model (LinearRegression / LogisticRegression, solver
   l-bfgs) on a cached DataFrame of (features vector, label): its fit time,
   iterations and the training loss of its model (mean squared error / mean
   log loss, computed here in numpy from its coefficients).
2. tfs.train (barrier mode, L-BFGS) trains the same model on a cached
   DataFrame of (x array<double>, label). A first, untimed run finds how
   many steps it needs to get at most MLlib's training loss; the timed runs
   then train exactly that many steps, from the call to the trained values
   in the session (stage start, loading the data into numpy, rendezvous,
   steps, result). The loss of the values it returns is checked in numpy.
3. Where a tfs.train call's time goes (median over the timed runs, from
   ``TrainResult.trace``): driver set-up (the call until the stage is
   submitted: the training graph, the slot check), stage start (until the
   first task runs), loading (the slowest task's partition into numpy),
   rendezvous (what meeting the peers adds after the loading: through the
   driver, it overlaps), steps, and the result (the last step until the
   values are in the session: the state through the ``repartition(1)``
   shuffle).
4. What a step costs: a barrier step on all rows against the numpy work of
   one replica's step (its half of the rows, timed here with BLAS on one
   thread, as in Spark's Python workers); a barrier step on 1,000 rows,
   i.e. the overhead alone (allreduce, update, progress); and a
   driver-mode step (one Spark job), for scale.

Every timed case runs ``--repeat`` times in turns after one warm-up of each;
best and median are shown. ``--rows`` changes the size; ``--big-rows``
(e.g. 10000000) adds the side-by-side rows on that many rows too,
``--big-repeat`` times (the driver JVM gets ``--driver-memory``, default
6g, to cache them).

    python benchmarks/train.py [--rows 1000000] [--repeat 5] [--big-rows 10000000 --big-repeat 2]
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # the local step timing runs BLAS as Spark's workers do

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from pyspark.ml.classification import LogisticRegression  # noqa: E402
from pyspark.ml.functions import array_to_vector  # noqa: E402
from pyspark.ml.regression import LinearRegression  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

import engine as tf  # noqa: E402
import tensorframes as tfs  # noqa: E402
from tensorframes.frames import SparkColumns  # noqa: E402
from tensorframes.training.program import compile_training  # noqa: E402
from tensorframes.training.replica import TrainingSession  # noqa: E402

FEATURES, PARTITIONS = 10, 2
WEIGHTS = np.linspace(-1.0, 1.0, FEATURES)


def make_data(spark, rows: int):
    """A cached DataFrame (x: array<double>, linear, logistic) made in Spark, and its numpy copy."""
    x = F.array(*[F.randn(seed=i) for i in range(FEATURES)])
    z = sum(F.col("x")[i] * float(w) for i, w in enumerate(WEIGHTS)) + 0.5
    df = (spark.range(rows, numPartitions=PARTITIONS).select(x.alias("x"))
          .select("x", (z + 0.1 * F.randn(seed=99)).alias("linear"),
                  (F.rand(seed=98) < 1 / (1 + F.exp(-z))).cast("double").alias("logistic")))
    df = tfs.append_shape(df, "x", [None, FEATURES]).cache()
    table = df.toArrow()
    xs = table.column("x").combine_chunks().values.to_numpy().reshape(-1, FEATURES)
    return df, xs, {c: table.column(c).to_numpy() for c in ("linear", "logistic")}


def loss_of(kind: str, xs: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> float:
    """Mean squared error or mean log loss of the model (w, b) on the rows."""
    z = xs @ w + b
    if kind == "linear":
        return float(np.mean((z - y) ** 2))
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


class Model:
    def __init__(self, kind: str) -> None:
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.x = tf.placeholder(tf.float64, (None, FEATURES), name="x")
            self.y = tf.placeholder(tf.float64, (None,), name=kind)
            self.w = tf.Variable(np.zeros((FEATURES, 1)), name="w")
            self.b = tf.Variable(np.float64(0.0), name="b")
            z = tf.matmul(self.x, self.w)[:, 0] + self.b
            self.loss = (tf.losses.mean_squared_error(self.y, z) if kind == "linear"
                         else tf.losses.sigmoid_cross_entropy(self.y, z))
            self.session = tf.Session(self.graph)
            self.session.run(tf.global_variables_initializer())

    def train(self, df, steps: int, mode: str = "barrier", optimizer=None) -> tuple[float, tfs.TrainResult]:
        """Seconds from the call to the trained values, and the result (L-BFGS unless told)."""
        began = time.perf_counter()
        result = tfs.train(self.loss, df, optimizer or tf.train.LBFGSOptimizer(), steps=steps, mode=mode,
                           log_every=None, session=self.session)
        return time.perf_counter() - began, result

    def values(self) -> tuple[np.ndarray, float]:
        return self.session.run(self.w)[:, 0], float(self.session.run(self.b))


def mllib(kind: str, vectors):
    estimator = (LinearRegression(solver="l-bfgs", regParam=0.0, labelCol=kind) if kind == "linear"
                 else LogisticRegression(regParam=0.0, labelCol=kind))
    began = time.perf_counter()
    model = estimator.fit(vectors)
    return time.perf_counter() - began, model


def step_compute(kind: str, df, xs: np.ndarray, y: np.ndarray, repeat: int = 20) -> float:
    """Seconds of numpy work one replica does per step (sums over its rows and the update)."""
    model = Model(kind)
    program = compile_training(model.loss, SparkColumns(df), tf.train.LBFGSOptimizer(), None, None, model.session)
    session = TrainingSession(program)
    half = len(xs) // PARTITIONS
    columns = [np.ascontiguousarray(xs[:half]), np.ascontiguousarray(y[:half])]
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        session.apply(session.sums(columns) * PARTITIONS)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def split(call: float, returned: float, trace: dict) -> dict[str, float]:
    """Seconds of each phase of one tfs.train call (see the module docstring)."""
    tasks = trace["tasks"]
    loaded, met, trained = (max(t[k] for t in tasks) for k in ("loaded", "met", "trained"))
    started = min(t["started"] for t in tasks)
    return {"driver set-up": trace["submitted"] - call, "stage start": started - trace["submitted"],
            "loading": max(t["loaded"] - t["started"] for t in tasks), "rendezvous": max(met - loaded, 0.0),
            "steps": trained - met, "result": returned - trained}


def compare(kind: str, df, vectors, xs, y, repeat: int, rows: int) -> tuple[str, float, str]:
    """The side-by-side row of `kind`, the seconds of a barrier step on all rows, the time split row."""
    mllib(kind, vectors)  # warm-up
    fits = [mllib(kind, vectors) for _ in range(repeat)]
    model = fits[-1][1]
    target = loss_of(kind, xs, y, model.coefficients.toArray(), model.intercept)
    pilot = Model(kind).train(df, 100)[1]
    steps = next(i for i, loss in enumerate(pilot.losses) if loss <= target)  # the values after `steps` steps
    runs, splits = [], []
    for _ in range(repeat):
        ours = Model(kind)
        call = time.time()
        seconds, result = ours.train(df, steps)
        runs.append((seconds, ours))
        splits.append(split(call, call + seconds, result.trace))
    ours_loss = loss_of(kind, xs, y, *runs[-1][1].values())
    assert ours_loss <= target, (ours_loss, target)
    mllib_times, ours_times = [t for t, _ in fits], [t for t, _ in runs]
    mllib_time, ours_time = statistics.median(mllib_times), statistics.median(ours_times)
    long_run = Model(kind).train(df, 60)[1]
    row = (f"| {kind} regression, {rows:,} rows | {mllib_time:.2f} s (best {min(mllib_times):.2f}; "
           f"{model.summary.totalIterations} iterations) | {ours_time:.2f} s (best {min(ours_times):.2f}; {steps} steps) "
           f"| {ours_time / mllib_time:.2f}× (best/best {min(ours_times) / min(mllib_times):.2f}×) "
           f"| {target:.10g} | {ours_loss:.10g} |")
    phases = " | ".join(f"{statistics.median(s[k] for s in splits):.3f}" for k in splits[0])
    return row, long_run.seconds / long_run.steps, f"| {kind}, {rows:,} rows | {phases} |"


def step_costs(kind: str, df, xs, y, barrier_step: float) -> str:
    """A step in the barrier stage against its numpy work; a step on tiny data; a driver-mode step."""
    compute = step_compute(kind, df, xs, y)
    tiny = tfs.append_shape(df.limit(1000).repartition(PARTITIONS), "x", [None, FEATURES]).cache()
    tiny_run = Model(kind).train(tiny, 200, optimizer=tf.train.GradientDescentOptimizer(0.01))[1]
    tiny.unpersist()
    driver_run = Model(kind).train(df, 5, mode="driver")[1]
    tiny_step, driver_step = tiny_run.seconds / tiny_run.steps, driver_run.seconds / driver_run.steps
    return (f"| {kind} | {barrier_step * 1e3:.1f} ms | {compute * 1e3:.1f} ms | {tiny_step * 1e3:.2f} ms "
            f"| {driver_step * 1e3:.0f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--big-rows", type=int, default=None)
    parser.add_argument("--big-repeat", type=int, default=2, help="runs of each case on --big-rows")
    parser.add_argument("--driver-memory", default="6g")
    args = parser.parse_args()
    spark = tfs.get_spark(master="local[2]", **{"spark.driver.memory": args.driver_memory})
    rows = ["| case | MLlib fit, median | tfs.train (barrier, L-BFGS), median | ours / MLlib | MLlib's loss "
            "| our loss |", "|---|---|---|---|---|---|"]
    phases = ["| case | driver set-up | stage start | loading | rendezvous | steps | result |",
              "|---|---|---|---|---|---|---|"]
    steps = ["| model | barrier step, all rows | its numpy work (one replica) | barrier step, 1,000 rows "
             "| driver-mode step |", "|---|---|---|---|---|"]
    for size in [args.rows] + ([args.big_rows] if args.big_rows else []):
        df, xs, labels = make_data(spark, size)
        vectors = df.select(array_to_vector("x").alias("features"), "linear", "logistic").cache()
        vectors.count()
        for kind in ("linear", "logistic"):
            repeat = args.repeat if size == args.rows else args.big_repeat
            row, barrier_step, phase = compare(kind, df, vectors, xs, labels[kind], repeat, size)
            rows.append(row)
            phases.append(phase)
            if size == args.rows:
                steps.append(step_costs(kind, df, xs, labels[kind], barrier_step))
            print(row, phase, sep="\n", flush=True)
        df.unpersist()
        vectors.unpersist()
    print(f"{FEATURES} features, {PARTITIONS} partitions, local[2], {args.repeat} runs each")
    print("\n".join(rows + [""] + phases + ["", "seconds, median"] + [""] + steps))


if __name__ == "__main__":
    main()
