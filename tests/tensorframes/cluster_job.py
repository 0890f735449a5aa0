"""Run by test_local_cluster.py in its own process: tensorframes on local-cluster[2,1,1024].

Two executor JVMs, each with its own Python workers: the graph (with a
variable's value) must travel to them as a GraphDef. Prints one JSON line.
"""

from __future__ import annotations

import json
import os
from typing import Iterator

import numpy as np
import pyarrow as pa

import engine as tf
import tensorframes as tfs


def worker_pids(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for _ in batches:
        yield pa.RecordBatch.from_arrays([pa.array([os.getpid()], pa.int64())], names=["pid"])


def main() -> None:
    spark = tfs.get_spark("tensorframes-local-cluster", master="local-cluster[2,1,1024]")
    df = spark.range(100).selectExpr("cast(id as double) as x").repartition(4)
    with tf.Graph().as_default():
        w = tf.Variable(np.array(2.0), name="w")
        z = tf.multiply(tfs.block(df, "x"), w, name="z")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(w.assign(3.0))
            mapped = tfs.map_blocks(z, df)
    with tf.Graph().as_default():
        total = tfs.reduce_blocks(tf.reduce_sum(tfs.block(mapped, "z", tf_name="z_input"), 0, name="z"), mapped)
    pids = {r.pid for r in df.mapInArrow(worker_pids, "pid long").collect()}
    executors = spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1  # minus the driver
    print(json.dumps({"total": float(total), "executors": executors,
                      "driver_pid": os.getpid(), "worker_pids": sorted(pids)}))
    spark.stop()


if __name__ == "__main__":
    main()
