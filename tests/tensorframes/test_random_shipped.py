"""Seeded random ops in graphs shipped to executors: the seeds travel as attrs, so a map draws
the same numbers each time the same program runs, and other seeds draw others."""
from __future__ import annotations

import numpy as np
import pandas as pd

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
