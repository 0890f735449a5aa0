"""Seeded random ops in graphs shipped to executors: the seeds travel as attrs, so a map draws
the same numbers each time the same program runs, and other seeds draw others; each partition
draws its own stream of the seeds (partition 0 the one a local Session draws), as Spark's
rand(seed) seeds each partition with seed + partition index."""
from __future__ import annotations

import numpy as np
import pytest
import pandas as pd
from pyspark.sql import functions as F

import engine as tf
import tensorframes as tfs

FRAME = pd.DataFrame({"x": np.arange(6.0)})


def _noisy(df, seed):
    with tf.Graph().as_default():
        tf.set_random_seed(seed)
        x = tfs.block(df, "x")
        return tfs.map_blocks(tf.add(x, tf.random_normal(tf.shape(x), dtype=tf.float64), name="z"), df)


def test_pandas_map_blocks_with_a_random_op_is_reproducible_and_seeded():
    first, again, other = _noisy(FRAME, 1)["z"], _noisy(FRAME, 1)["z"], _noisy(FRAME, 2)["z"]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other) and not np.array_equal(first, FRAME["x"])


def test_spark_map_blocks_with_a_random_op_is_reproducible(spark):
    df = spark.createDataFrame(FRAME).coalesce(1)
    first = [r.z for r in _noisy(df, 1).collect()]
    again = [r.z for r in _noisy(df, 1).collect()]
    assert first == again
    np.testing.assert_array_equal(first, _noisy(FRAME, 1)["z"])  # one partition: the pandas run's numbers


def _by_partition(df, column: str) -> dict[int, list]:
    rows = df.withColumn("p", F.spark_partition_id()).collect()
    found: dict[int, list] = {}
    for r in sorted(rows, key=lambda r: (r.p, r.x)):
        found.setdefault(r.p, []).append(r[column])
    return found


@pytest.fixture(scope="module")
def four_partitions(spark):
    """x = 0..11 in four partitions of three rows."""
    return spark.range(0, 12, 1, 4).select(F.col("id").cast("double").alias("x"))


def test_each_partition_draws_its_own_numbers_the_same_on_every_run(four_partitions):
    first, again = _by_partition(_noisy(four_partitions, 1), "z"), _by_partition(_noisy(four_partitions, 1), "z")
    assert first == again and sorted(first) == [0, 1, 2, 3]
    noise = {p: tuple(np.subtract(z, np.arange(3 * p, 3 * p + 3))) for p, z in first.items()}
    assert len(set(noise.values())) == 4, "partitions repeat each other's random numbers"
    local = _noisy(pd.DataFrame({"x": np.arange(3.0)}), 1)["z"]  # three rows on the session's own stream
    np.testing.assert_array_equal(first[0], local)


def test_dropout_masks_differ_between_partitions(four_partitions):
    with tf.Graph().as_default():
        x = tfs.block(four_partitions, "x")
        ones = tf.ones([tf.shape(x)[0], 64], dtype=tf.float64)
        masks = tfs.map_blocks(tf.identity(tf.nn.dropout(ones, rate=0.5, seed=9), name="mask"), four_partitions)
        found = _by_partition(masks, "mask")
    per_partition = {p: np.array(m) for p, m in found.items()}
    assert len({m.tobytes() for m in per_partition.values()}) == 4
    assert all(set(np.unique(m)) <= {0.0, 2.0} for m in per_partition.values())


def test_map_rows_refuses_a_random_op_on_the_driver_rather_than_repeat_one_draw_in_every_row(four_partitions):
    for df in (FRAME, four_partitions):
        with tf.Graph().as_default():
            x = tfs.row(df, "x")
            with pytest.raises(tf.InvalidArgumentError, match="the same numbers in every row"):
                tfs.map_rows(tf.add(x, tf.random_uniform([], seed=1, dtype=tf.float64), name="z"), df)
