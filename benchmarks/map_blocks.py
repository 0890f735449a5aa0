"""map_blocks and map_rows against hand-written Arrow and pandas UDFs, side by side.

The job: 10,000,000 rows of ``x`` double and ``v`` array<double> of length 10;
append ``y = x * 2 + 1`` and ``z = reduce_sum(v * v, 1)``. The input is
cached (and counted once) so every alternative reads the same in-memory
rows; the sink (``write.format("noop")``) forces every output column. The
alternatives run in turns, so machine load hits them alike; besides wall
time, the CPU time of the whole process tree (driver, JVM, Python workers)
is measured, which other work on the machine hardly disturbs.

    python benchmarks/map_blocks.py [--rows 10000000] [--repeat 5] [--extra-rows 1000000]

``map_blocks`` runs on each backend: the Arrow path (Python workers) and
the SQL path (the graph compiled to Spark SQL expressions), next to the same
job written by hand in Spark SQL (``aggregate(transform(v, ...))``). Then,
on ``--extra-rows`` rows, a ``reduce_blocks`` sum and the scoring of the
churn MLP of examples/03_churn.py (17 features, two layers of 32 ReLUs),
each on both backends.

Targets: map_blocks (Arrow) >= 0.9x the fastest hand-written Arrow path and
>= 1.5x the pandas_udf; map_rows >= 0.8x map_blocks; map_blocks (SQL) >= 2x
the fastest hand-written Arrow path and >= 0.9x the hand-written Spark SQL.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.functions import arrow_udf, pandas_udf

import engine as tf
import tensorframes as tfs

WIDTH = 10


def make_input(spark, rows: int) -> DataFrame:
    """``x`` and ``v`` (``x + i`` for i < 10), cached and materialized."""
    x = F.col("id").cast("double")
    df = spark.range(rows).select(x.alias("x"), F.array(*[x + float(i) for i in range(WIDTH)]).alias("v"))
    df = tfs.append_shape(df, "v", [None, WIDTH]).cache()
    df.count()
    return df


def graph_outputs(df: DataFrame, placeholder: Callable, axis: int) -> list[tf.Tensor]:
    """y and z from placeholders made by ``tfs.block`` (sum over axis 1) or ``tfs.row`` (axis 0)."""
    x, v = placeholder(df, "x"), placeholder(df, "v")
    return [tf.add(x * 2.0, 1.0, name="y"), tf.reduce_sum(v * v, axis, name="z")]


def with_map_blocks(df: DataFrame, backend: str = "arrow") -> DataFrame:
    with tf.Graph().as_default():
        return tfs.map_blocks(graph_outputs(df, tfs.block, 1), df, backend=backend)


def with_map_rows(df: DataFrame) -> DataFrame:
    with tf.Graph().as_default():
        return tfs.map_rows(graph_outputs(df, tfs.row, 0), df, backend="arrow")


def with_spark_sql(df: DataFrame) -> DataFrame:
    """The job as a Spark SQL user writes it: arithmetic, and a higher-order aggregate over v."""
    z = F.aggregate(F.transform("v", lambda e: e * e), F.lit(0.0), lambda a, b: a + b)
    return df.select("*", (F.col("x") * 2.0 + 1.0).alias("y"), z.alias("z"))


def _vectors(v: pa.Array) -> np.ndarray:
    offsets = v.offsets.to_numpy()
    flat = v.values.slice(int(offsets[0]), int(offsets[-1] - offsets[0])).to_numpy()
    return flat.reshape(len(v), WIDTH)


def _y_numpy(x: np.ndarray) -> np.ndarray:
    return x * 2.0 + 1.0


def _z_numpy(v: np.ndarray) -> np.ndarray:
    return (v * v).sum(axis=1)


def with_map_in_arrow(df: DataFrame) -> DataFrame:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            y = _y_numpy(batch.column("x").to_numpy())
            z = _z_numpy(_vectors(batch.column("v")))
            yield pa.RecordBatch.from_arrays(batch.columns + [pa.array(y), pa.array(z)],
                                             names=batch.schema.names + ["y", "z"])
    return df.mapInArrow(run, "x double, v array<double>, y double, z double")


def with_arrow_udf(df: DataFrame) -> DataFrame:
    @arrow_udf("double")
    def y_udf(x: pa.Array) -> pa.Array:
        return pa.array(_y_numpy(x.to_numpy()))

    @arrow_udf("double")
    def z_udf(v: pa.Array) -> pa.Array:
        return pa.array(_z_numpy(_vectors(v)))

    return df.select("*", y_udf("x").alias("y"), z_udf("v").alias("z"))


def with_pandas_udf(df: DataFrame) -> DataFrame:
    @pandas_udf("double")
    def y_udf(x: pd.Series) -> pd.Series:
        return x * 2.0 + 1.0

    @pandas_udf("double")
    def z_udf(v: pd.Series) -> pd.Series:
        return pd.Series(_z_numpy(np.stack(v.to_numpy())))

    return df.select("*", y_udf("x").alias("y"), z_udf("v").alias("z"))


MAP_ROWS, PANDAS = "map_rows (row graph)", "pandas_udf (2 scalar UDFs)"
SQL, HAND_SQL = "map_blocks, SQL path", "hand-written Spark SQL"
HAND_WRITTEN_ARROW = ("mapInArrow + numpy", "arrow_udf (2 scalar UDFs)")
ALTERNATIVES: dict[str, Callable[[DataFrame], DataFrame]] = {
    "map_blocks": with_map_blocks,
    SQL: lambda df: with_map_blocks(df, "sql"),
    HAND_SQL: with_spark_sql,
    MAP_ROWS: with_map_rows,
    HAND_WRITTEN_ARROW[0]: with_map_in_arrow,
    HAND_WRITTEN_ARROW[1]: with_arrow_udf,
    PANDAS: with_pandas_udf,
}


def check_same(small: DataFrame) -> None:
    """Every alternative computes the same y and z, on a small input."""
    expected = np.array(small.select((F.col("x") * 2 + 1).alias("y")).collect())[:, 0]
    squares = np.array([sum(c * c for c in r.v) for r in small.select("v").collect()])
    for name, build in ALTERNATIVES.items():
        got = np.array(build(small).select("y", "z").collect())
        np.testing.assert_allclose(got, np.stack([expected, squares], axis=1), err_msg=name)


def tree_cpu_seconds() -> float:
    """CPU time of this process and all its descendants (the JVM, Spark's Python workers).

    Read from /proc (Linux): unlike wall time, it hardly moves when other
    work shares the cores.
    """
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry)] = (int(fields[1]), sum(int(t) for t in fields[11:15]))  # ppid, u+s+cu+cs
    tree, frontier = {os.getpid()}, [os.getpid()]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, (ppid, _) in stats.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(stats[pid][1] for pid in tree if pid in stats) / os.sysconf("SC_CLK_TCK")


def run_once(df: DataFrame) -> tuple[float, float]:
    """(wall, CPU) seconds to compute every column of ``df``."""
    wall, cpu = time.perf_counter(), tree_cpu_seconds()
    df.write.format("noop").mode("overwrite").save()
    return time.perf_counter() - wall, tree_cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per alternative (default 5)")
    parser.add_argument("--extra-rows", type=int, default=1_000_000, help="rows of the reduce and MLP jobs")
    args = parser.parse_args()
    spark = tfs.get_spark("benchmark-map-blocks", master="local[2]", **{"spark.driver.memory": "6g"})
    check_same(make_input(spark, 1000))
    df = make_input(spark, args.rows)
    outputs = {name: build(df) for name, build in ALTERNATIVES.items()}
    for out in outputs.values():  # warm up: Python workers, imports, graph caches, JIT
        run_once(out)
    wall: dict[str, list[float]] = {name: [] for name in outputs}
    cpu: dict[str, list[float]] = {name: [] for name in outputs}
    for _ in range(args.repeat):
        for name, out in outputs.items():
            w, c = run_once(out)
            wall[name].append(w)
            cpu[name].append(c)
    report(args.rows, args.repeat, wall, cpu)
    extra(spark, args.extra_rows, args.repeat)


def _reduce_sum(df: DataFrame, backend: str) -> Callable[[], object]:
    with tf.Graph().as_default():
        total = tf.reduce_sum(tfs.block(df, "x", tf_name="x_input"), 0, name="x")
    return lambda: tfs.reduce_blocks(total, df, backend=backend)


def _churn_mlp(df: DataFrame, backend: str) -> Callable[[], object]:
    """The scoring graph of examples/03_churn.py's MLP (untrained: the cost is the same)."""
    from engine.layers import Dense
    with tf.Graph().as_default():
        hidden = Dense(32, activation="relu", seed=1)(Dense(32, activation="relu", seed=0)(tfs.block(df, "f")))
        score = tf.sigmoid(Dense(1, seed=2).linear(hidden)[:, 0], name="score")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            out = tfs.map_blocks(score, df, backend=backend)
    return lambda: out.write.format("noop").mode("overwrite").save()


def extra(spark, rows: int, repeat: int) -> None:
    """reduce_blocks sum and churn-MLP scoring, Arrow path vs SQL path, in turns."""
    x = F.col("id").cast("double")
    df = spark.range(rows).select(x.alias("x"), F.array(*[F.sin(x + i) for i in range(17)]).alias("f"))
    df = tfs.append_shape(df, "f", [None, 17]).cache()
    df.count()
    jobs = {(job, backend): build(df, backend) for job, build in (("reduce_blocks sum", _reduce_sum),
                                                                  ("churn MLP scoring", _churn_mlp))
            for backend in ("arrow", "sql")}
    for run in jobs.values():
        run()
    times: dict[tuple, list[float]] = {k: [] for k in jobs}
    for _ in range(repeat):
        for key, run in jobs.items():
            start = time.perf_counter()
            run()
            times[key].append(time.perf_counter() - start)
    print(f"\n{rows:,} rows; wall seconds best (median) of {repeat}")
    for job in ("reduce_blocks sum", "churn MLP scoring"):
        arrow, sql = times[(job, "arrow")], times[(job, "sql")]
        print(f"{job:<20} Arrow {min(arrow):6.2f} ({statistics.median(arrow):6.2f})   SQL {min(sql):6.2f} "
              f"({statistics.median(sql):6.2f})   SQL speed vs Arrow {min(arrow) / min(sql):5.2f}x")


def report(rows: int, repeat: int, wall: dict[str, list[float]], cpu: dict[str, list[float]]) -> None:
    """The table, and the target ratios by best wall time and by median CPU time."""
    print(f"{rows:,} rows, local[2], {repeat} runs each; wall seconds best (median), CPU seconds median")
    print(f"{'alternative':<28}{'wall s':>16}{'M rows/s':>10}{'CPU s':>8}{'speed vs map_blocks':>21}")
    for name in wall:
        print(f"{name:<28}{min(wall[name]):>7.2f} ({statistics.median(wall[name]):>6.2f})"
              f"{rows / min(wall[name]) / 1e6:>10.2f}{statistics.median(cpu[name]):>8.2f}"
              f"{min(wall['map_blocks']) / min(wall[name]):>20.2f}x")
    hand = min(HAND_WRITTEN_ARROW, key=lambda n: min(wall[n]))
    for clock, times, pick in (("wall, best", wall, min), ("CPU, median", cpu, statistics.median)):
        t = {name: pick(v) for name, v in times.items()}
        print(f"[{clock}] map_blocks vs fastest hand-written Arrow ({hand}): {t[hand] / t['map_blocks']:.2f} "
              f"(>= 0.9); vs pandas_udf: {t[PANDAS] / t['map_blocks']:.2f} (>= 1.5); "
              f"map_rows vs map_blocks: {t['map_blocks'] / t[MAP_ROWS]:.2f} (>= 0.8); "
              f"SQL path vs {hand}: {t[hand] / t[SQL]:.2f} (>= 2); vs hand-written Spark SQL: "
              f"{t[HAND_SQL] / t[SQL]:.2f} (>= 0.9)")


if __name__ == "__main__":
    main()
