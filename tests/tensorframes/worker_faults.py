"""A killed Python worker in map_blocks, map_rows, reduce_blocks and aggregate, and what Spark makes of it.

The fault is an op of this module, ``KillWorkerOnce``: ``kill_worker_once(x,
marker, partition)`` is ``x``, except that the first time it runs in a Spark
task of partition ``partition`` (any task for -1) it creates the file
``marker`` and its Python worker kills itself with SIGKILL (as ``tfs.train``'s ``kill@`` hook does,
:mod:`tensorframes.training.faults`). Nothing in tensorframes knows about it:
executors learn the op the documented way, by importing this module, which
ENGINE_OP_MODULES names (and PYTHONPATH reaches). The driver, where
reduce_blocks combines the partitions' values, is never a task, so it never
kills itself.

:func:`run` computes each entry point twice in a session that retries tasks
(``local[N,F]`` with F > 1, as ``get_spark()``'s default ``local[*,4]``): with
a marker that is already there (no kill), then with one that is not, so
that the worker of partition 1 (aggregate: of the first task after the
shuffle, whose partition 1 may hold no group) is killed once;
training_cases.py runs it in its ``wide`` world.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np

import engine as tf
from engine import extend
from tensorframes.relay import task_partition
from tensorframes.training.faults import once

MODULE = "worker_faults"  # what ENGINE_OP_MODULES names
ROWS, PARTITIONS, KILLED = 400, 4, 1  # the worker of partition KILLED is killed, once


def _kernel(x: np.ndarray, *, marker: str, partition: int) -> np.ndarray:
    running = task_partition()  # None outside a Spark task: on the driver
    if running is not None and partition in (-1, running) and once(Path(marker)):
        os.kill(os.getpid(), signal.SIGKILL)
    return x


kill_worker_once = extend.unary_op("KillWorkerOnce", _kernel, extend.NOT_DIFFERENTIABLE,
                                   attrs={"marker": "str", "partition": "int"})


def _frame(spark):
    return spark.range(ROWS, numPartitions=PARTITIONS).selectExpr("cast(id as double) as x", "id % 3 as key")


def _computations(df, marker: str) -> dict:
    """Entry point -> a function computing it with the fault in its graph (plain Python values)."""
    import tensorframes as tfs

    def faulty(placeholder, partition=KILLED):
        return kill_worker_once(placeholder, marker=marker, partition=partition)

    def map_blocks():
        with tf.Graph().as_default():
            z = tf.add(tf.multiply(faulty(tfs.block(df, "x")), 2.0), 1.0, name="z")
            return [r.z for r in tfs.map_blocks(z, df).collect()]

    def map_rows():
        with tf.Graph().as_default():
            z = tf.square(faulty(tfs.row(df, "x")), name="z")
            return [r.z for r in tfs.map_rows(z, df).collect()]

    def reduce_blocks():
        with tf.Graph().as_default():
            return float(tfs.reduce_blocks(tf.reduce_sum(faulty(tfs.block(df, "x", tf_name="x_input")), [0],
                                                         name="x"), df))

    def aggregate():
        with tf.Graph().as_default():
            x = faulty(tfs.block(df, "x", tf_name="x_input"), partition=-1)
            sums = tfs.aggregate(tf.reduce_sum(x, [0], name="x"), df.groupBy("key"))
            return [r.x for r in sorted(sums.collect())]

    return {"map_blocks": map_blocks, "map_rows": map_rows, "reduce_blocks": reduce_blocks, "aggregate": aggregate}


def expected() -> dict:
    """What numpy says each computation gives."""
    x = np.arange(ROWS, dtype=np.float64)
    return {"map_blocks": (2 * x + 1).tolist(), "map_rows": (x * x).tolist(), "reduce_blocks": float(x.sum()),
            "aggregate": [float(x[np.arange(ROWS) % 3 == k].sum()) for k in range(3)]}


def run(spark, scratch: Path) -> dict[str, dict[str, list]]:
    """For each entry point: its values undisturbed, with the kill and by numpy, whether the kill happened,
    the seconds each run took and the tasks that failed in the disturbed run."""
    df = _frame(spark).cache()
    df.count()
    out, present = {}, scratch / "present"
    present.touch()
    for name, value in expected().items():
        marker = scratch / f"killed_{name}"
        began = time.monotonic()
        undisturbed = _computations(df, str(present))[name]()
        middle = time.monotonic()
        disturbed, failures = _failed_tasks(spark, _computations(df, str(marker))[name])
        out[f"faults_{name}"] = {"undisturbed": np.ravel(undisturbed).tolist(),
                                 "disturbed": np.ravel(disturbed).tolist(), "expected": np.ravel(value).tolist(),
                                 "killed": [float(marker.exists())], "failed_tasks": [float(failures)],
                                 "seconds": [middle - began, time.monotonic() - middle]}
    df.unpersist()
    return out


def _failed_tasks(spark, compute) -> tuple[object, int]:
    """``compute()`` and how many of its jobs' tasks failed (and were retried), from Spark's status tracker."""
    group = f"worker-faults-{time.monotonic_ns()}"
    context = spark.sparkContext
    context.setJobGroup(group, "a killed Python worker")
    try:
        value = compute()
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)
    tracker = context.statusTracker()
    stages = [s for j in tracker.getJobIdsForGroup(group) for s in tracker.getJobInfo(j).stageIds]
    return value, sum(tracker.getStageInfo(s).numFailedTasks for s in stages if tracker.getStageInfo(s))
