"""Run by test_sql_backend.py in a subprocess: map_blocks under Spark Connect, SQL path then Arrow path.

Prints one JSON line: the SQL path's values and whether a Python worker (``pyspark.daemon`` /
``pyspark.worker``) ran under this process after each job.
"""

from __future__ import annotations

import json
import os
import sys

from pyspark.sql import SparkSession

import engine as tf
import tensorframes as tfs


def python_workers() -> int:
    """Processes below this one (the Connect server's JVM and its children) that are Python workers."""
    parents, commands = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    commands[int(entry)] = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
    tree, frontier = {os.getpid()}, [os.getpid()]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(1 for p in tree if "pyspark.daemon" in commands.get(p, "") or "pyspark.worker" in commands.get(p, ""))


def main() -> None:
    os.environ["PYSPARK_PYTHON"] = sys.executable
    spark = SparkSession.builder.remote("local[2]").getOrCreate()
    df = spark.createDataFrame([(float(i), [float(i), 1.0]) for i in range(6)], "x double, v array<double>")
    with tf.Graph().as_default():
        x, v = tfs.block(df, "x"), tf.placeholder(tf.float64, [None, 2], name="v")
        fetches = [tf.sigmoid(x / 2.0, name="y"), tf.reduce_sum(v * v, 1, name="z")]
        backend = tfs.explain(fetches, df).backend
        rows = tfs.map_blocks(fetches, df, backend="sql").orderBy("x").collect()
        after_sql = python_workers()
        tfs.map_blocks(fetches, df, backend="arrow").collect()
        after_arrow = python_workers()
    print(json.dumps({"backend": backend, "y": [r.y for r in rows], "z": [r.z for r in rows],
                      "workers_after_sql": after_sql, "workers_after_arrow": after_arrow}))
    spark.stop()


if __name__ == "__main__":
    main()
