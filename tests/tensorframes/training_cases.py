"""Data, models and single-process references shared by the training tests.

Also a script: ``python training_cases.py connect|wide`` trains in a Spark
session of its own (a Spark Connect session, or classic ``local[4,2]``:
four task slots, two attempts per task) and prints the trained values as
JSON, for the tests that can't use the shared local[2] session. The
``wide`` world also kills a Python worker once in map_blocks, map_rows,
reduce_blocks and aggregate (worker_faults.py), which needs its task retries.
"""

from __future__ import annotations

import json
import sys
import time
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

import engine as tf

ROWS, FEATURES = 20_000, 10  # the benchmark is 1,000,000 x 10: see benchmarks/train.py
CHURN = Path(__file__).resolve().parents[2] / "examples" / "data" / "mlc_churn.csv"
CHURN_FEATURES = ["account_length", "total_day_minutes", "total_eve_minutes", "total_night_minutes",
                  "total_intl_minutes", "number_customer_service_calls"]


def linear_data(rows: int = ROWS) -> tuple[np.ndarray, np.ndarray]:
    """rows x FEATURES standard normal features; y = x w + 0.5 + noise with known w."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, FEATURES))
    return x, x @ np.linspace(-2.0, 2.0, FEATURES) + 0.5 + 0.1 * rng.standard_normal(rows)


def churn_data() -> tuple[np.ndarray, np.ndarray]:
    """A few standardized numeric churn features; y = 1.0 for churn."""
    frame = pd.read_csv(CHURN)
    x = frame[CHURN_FEATURES].to_numpy(dtype=np.float64)
    return (x - x.mean(axis=0)) / x.std(axis=0), (frame["churn"] == "yes").to_numpy(dtype=np.float64)


def frame(x: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"x": list(x), "y": y})


def spark_frame(spark, x: np.ndarray, y: np.ndarray, partitions: int):
    """A DataFrame of x (array<double> with its length in the metadata) and y, in `partitions` partitions."""
    import tensorframes as tfs
    df = spark.createDataFrame(frame(x, y), "x array<double>, y double").repartition(partitions)
    return tfs.append_shape(df, "x", [None, x.shape[1]])


class Model:
    """A linear (or logistic) model of x -> y; its own graph and initialized session."""

    def __init__(self, features: int, logistic: bool = False) -> None:
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.x = tf.placeholder(tf.float64, (None, features), name="x")
            self.y = tf.placeholder(tf.float64, (None,), name="y")
            self.w = tf.Variable(np.zeros((features, 1)), name="w")
            self.b = tf.Variable(np.float64(0.0), name="b")
            self.output = tf.identity(tf.matmul(self.x, self.w)[:, 0] + self.b, name="prediction")
            if logistic:
                self.loss = tf.losses.sigmoid_cross_entropy(self.y, self.output)
            else:
                self.loss = tf.losses.mean_squared_error(self.y, self.output)
            self.session = tf.Session(self.graph)
            self.session.run(tf.global_variables_initializer())

    def values(self) -> dict[str, np.ndarray]:
        return {"w": self.session.run(self.w), "b": self.session.run(self.b)}


def reference(features: int, logistic: bool, make_optimizer: Callable, steps: int, x: np.ndarray,
              y: np.ndarray) -> dict[str, np.ndarray]:
    """The values single-process engine training reaches in `steps` full-batch steps."""
    model = Model(features, logistic)
    with model.graph.as_default():
        train_op = make_optimizer().minimize(model.loss)
        model.session.run(tf.variables_initializer(
            [v for v in tf.global_variables() if v.op.name not in ("w", "b")]))
    for _ in range(steps):
        model.session.run(train_op, {model.x: x, model.y: y})
    return model.values()


# -- the scenarios run in a session of their own ---------------------------------------------------
STEPS = 6
SCENARIOS = {  # name -> (data, logistic, optimizer, mode, partitions)
    "linear_barrier_4": (partial(linear_data, 4000), False, tf.train.LBFGSOptimizer, "barrier", 4),
    "linear_driver_4": (partial(linear_data, 4000), False, tf.train.LBFGSOptimizer, "driver", 4),
    "churn_barrier_4": (churn_data, True, lambda: tf.train.AdamOptimizer(0.1), "barrier", 4),
    "churn_driver_4": (churn_data, True, lambda: tf.train.AdamOptimizer(0.1), "driver", 4),
    "small_driver_2": (partial(linear_data, 2000), False, tf.train.LBFGSOptimizer, "driver", 2),
    "small_barrier_2": (partial(linear_data, 2000), False, tf.train.LBFGSOptimizer, "barrier", 2),
    "small_barrier_3": (partial(linear_data, 2000), False, tf.train.LBFGSOptimizer, "barrier", 3),
}
#: A scenario trained another way: (the scenario, tfs.train options). Ring and spilled: same values.
VARIANTS = {
    "linear_barrier_4_ring": ("linear_barrier_4", {"allreduce": "ring"}),
    "linear_barrier_4_spilled": ("linear_barrier_4", {"spill_bytes": 0}),
    "churn_barrier_4_ring_spilled": ("churn_barrier_4", {"allreduce": "ring", "spill_bytes": 0}),
    "small_barrier_2_ring": ("small_barrier_2", {"allreduce": "ring"}),
}
WORLDS = {
    "wide": ["linear_barrier_4", "linear_driver_4", "churn_barrier_4", "churn_driver_4", "linear_barrier_4_ring",
             "linear_barrier_4_spilled", "churn_barrier_4_ring_spilled"],
    "connect": ["small_driver_2", "small_barrier_2", "small_barrier_2_ring"],
}


def run_scenario(spark, name: str, **options) -> dict[str, list]:
    import tensorframes as tfs
    if name in VARIANTS:
        name, more = VARIANTS[name]
        options = {**more, **options}
    data, logistic, make_optimizer, mode, partitions = SCENARIOS[name]
    x, y = data()
    model = Model(x.shape[1], logistic)
    df = spark_frame(spark, x, y, partitions)
    tfs.train(model.loss, df, make_optimizer(), steps=STEPS, mode=mode, session=model.session, **options)
    return {k: np.ravel(v).tolist() for k, v in model.values().items()}


def connect_cancels(spark) -> dict[str, dict[str, list]]:
    """Spark Connect: interruptAll between two driver-mode steps and interruptTag of the caller's tag while the
    barrier stage runs, each after step 2: the steps done, and whether the values are those of as many steps."""
    import threading
    import tensorframes as tfs
    out = {}
    x, y = linear_data(400)
    df = spark_frame(spark, x, y, 2)
    spark.addTag("the-users-tag")
    for mode, cancel in (("driver", spark.interruptAll), ("barrier", lambda: spark.interruptTag("the-users-tag"))):
        model = Model(x.shape[1])

        def callback(info, cancel=cancel):
            if info.step == 2:
                thread = threading.Thread(target=cancel)
                thread.start()
                thread.join()
        try:
            tfs.train(model.loss, df, tf.train.GradientDescentOptimizer(0.1), steps=100_000, mode=mode,
                      session=model.session, callback=callback, log_every=None)
            out[f"cancel_{mode}"] = {"step": [-1.0]}
            continue
        except tfs.errors.TrainingCancelledError as e:
            step = e.step
        expected = reference(x.shape[1], False, lambda: tf.train.GradientDescentOptimizer(0.1), step, x, y)
        same = all(np.allclose(v, expected[k], rtol=1e-9, atol=1e-12) for k, v in model.values().items())
        out[f"cancel_{mode}"] = {"step": [float(step)], "values_of_that_step": [float(same)],
                                 "session_works": [float(spark.range(5).count() == 5)]}
    spark.removeTag("the-users-tag")
    return out


class _Recorder(__import__("logging").Handler):
    """Keeps the messages logged, to tell which rendezvous ran."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record) -> None:
        self.messages.append(record.getMessage())


def main(world: str, scratch: str) -> None:
    import os
    from pyspark.sql import SparkSession
    import tensorframes as tfs
    import logging
    logs = _Recorder()
    logging.getLogger("tensorframes.training").addHandler(logs)
    logging.getLogger("tensorframes.training").setLevel(logging.INFO)
    if world == "connect":
        os.environ.setdefault("SPARK_CONF_DIR", str(tfs.spark.CONF_DIR))
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        spark = SparkSession.builder.remote("local[2]").getOrCreate()
    else:  # its workers learn worker_faults' op, which kills them (see run_faults)
        here = str(Path(__file__).resolve().parent)
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)
        os.environ["ENGINE_OP_MODULES"] = "worker_faults"
        spark = tfs.get_spark(master="local[4,2]")
    out = {name: run_scenario(spark, name) for name in WORLDS[world]}
    out["rendezvous"] = {way: [float(any(way in m for m in logs.messages))]
                         for way in ("through the driver", "BarrierTaskContext.allGather")}
    if world == "connect":
        out.update(connect_cancels(spark))
    if world == "connect":  # no partition count before a job here: Spark's own slot check, translated
        from tensorframes.errors import BarrierSlotsError
        try:
            run_scenario(spark, "small_barrier_3")
        except BarrierSlotsError:
            out["slots"] = {"refused": [1.0]}
    if world == "wide":  # Spark retries a driver-mode task that fails once: raises, or its worker is killed
        from tensorframes.training.faults import PROPERTY
        for how in ("raise", "kill"):
            marker = Path(scratch) / f"failed_once_{how}"
            spark.sparkContext.setLocalProperty(PROPERTY, f"{how}@1:2:{marker}")
            began = time.monotonic()
            out[f"linear_driver_4_{how}"] = run_scenario(spark, "linear_driver_4")
            out[f"failed_once_{how}"] = {"marker": [float(marker.exists())], "seconds": [time.monotonic() - began]}
        spark.sparkContext.setLocalProperty(PROPERTY, None)
        import worker_faults
        out.update(worker_faults.run(spark, Path(scratch)))
    print("RESULT " + json.dumps(out))
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
