"""reduce_blocks, reduce_rows and aggregate on Spark DataFrames."""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.sql import DataFrame, SparkSession

import engine as tf
import tensorframes as tfs
from tensorframes.errors import EmptyReductionError, UnboundPlaceholderError

ROWS = 41
RNG = np.random.default_rng(11)
X = RNG.normal(size=ROWS)
V = RNG.normal(size=(ROWS, 3))
KEYS = RNG.integers(0, 3, size=ROWS)


@pytest.fixture
def frame(spark: SparkSession, partitions: int) -> DataFrame:
    """k int, x double and v array<double> (shape recorded), over 1, 3 or 7 partitions."""
    rows = [(int(KEYS[i]), float(X[i]), V[i].tolist()) for i in range(ROWS)]
    df = spark.createDataFrame(rows, "k int, x double, v array<double>").repartition(partitions)
    return tfs.append_shape(df, "v", [None, 3])


def test_reduce_blocks_matches_numpy(frame):
    with tf.Graph().as_default():
        v = tf.reduce_sum(tfs.block(frame, "v", tf_name="v_input"), 0, name="v")
        x = tf.reduce_max(tfs.block(frame, "x", tf_name="x_input"), 0, name="x")
        total, largest = tfs.reduce_blocks([v, x], frame)
    np.testing.assert_allclose(total, V.sum(0))
    assert largest == X.max()


def test_reduce_rows_matches_numpy(frame):
    with tf.Graph().as_default():
        v = tf.add(tfs.row(frame, "v", tf_name="v_1"), tfs.row(frame, "v", tf_name="v_2"), name="v")
        x = tf.minimum(tfs.row(frame, "x", tf_name="x_1"), tfs.row(frame, "x", tf_name="x_2"), name="x")
        total, smallest = tfs.reduce_rows([v, x], frame)
    np.testing.assert_allclose(total, V.sum(0))
    assert smallest == X.min()


def test_aggregate_matches_numpy(frame):
    with tf.Graph().as_default():
        v = tf.reduce_sum(tfs.block(frame, "v", tf_name="v_input"), 0, name="v")
        out = tfs.aggregate(v, frame.groupBy("k"))
    got = {r.k: r.v for r in out.collect()}
    assert sorted(got) == sorted(set(KEYS.tolist()))
    for k, total in got.items():
        np.testing.assert_allclose(total, V[KEYS == k].sum(0))


def test_single_fetch_gives_a_value_and_a_list_gives_a_list(spark):
    df = spark.createDataFrame([(1.0,), (2.0,)], "x double")
    with tf.Graph().as_default():
        x = tf.reduce_sum(tfs.block(df, "x", tf_name="x_input"), 0, name="x")
        assert tfs.reduce_blocks(x, df) == 3.0
        assert tfs.reduce_blocks([x], df) == [3.0]


def test_explicit_inputs_and_columns_replace_the_naming_convention(spark):
    df = spark.createDataFrame([(1.0,), (2.0,), (4.0,)], "amount double")
    with tf.Graph().as_default():
        left = tf.placeholder(tf.float64, [], name="left")
        right = tf.placeholder(tf.float64, [], name="right")
        total = tf.add(left, right, name="total")
        result = tfs.reduce_rows(total, df, inputs={total: (left, right)}, feed_dict={left: "amount"})
    assert result == 7.0


def test_aggregate_keeps_expression_keys(spark):
    df = spark.createDataFrame([(float(i),) for i in range(6)], "x double")
    with tf.Graph().as_default():
        s = tf.reduce_sum(tfs.block(df, "x", tf_name="s_input"), 0, name="s")
        out = tfs.aggregate(s, df.groupBy((df.x % 2).alias("odd")), feed_dict={"s_input": "x"})
    assert sorted((r.odd, r.s) for r in out.collect()) == [(0.0, 6.0), (1.0, 9.0)]


def test_aggregate_sends_only_keys_and_fed_columns_to_python(spark, capsys):
    df = spark.createDataFrame([(1, 1.0, 2.0)], "k int, x double, unused double")
    with tf.Graph().as_default():
        x = tf.reduce_sum(tfs.block(df, "x", tf_name="x_input"), 0, name="x")
        out = tfs.aggregate(x, df.groupBy("k"), backend="arrow")
    out.explain()
    (udf_line,) = [line for line in capsys.readouterr().out.splitlines() if "FlatMapGroupsInArrow" in line]
    assert "x#" in udf_line and "unused#" not in udf_line


def test_reducing_an_empty_dataframe_is_an_error(spark):
    df = spark.createDataFrame([], "x double")
    with tf.Graph().as_default():
        x = tf.reduce_sum(tfs.block(df, "x", tf_name="x_input"), 0, name="x")
        with pytest.raises(EmptyReductionError, match="no rows to reduce"):
            tfs.reduce_blocks(x, df)


def test_reduce_binding_errors_come_before_any_job(spark):
    df = spark.createDataFrame([(1.0,)], "x double")
    tracker = spark.sparkContext.statusTracker()
    spark.sparkContext.setJobGroup("reduce-errors", "no job expected")
    try:
        with tf.Graph().as_default():
            y = tf.reduce_sum(tf.placeholder(tf.float64, [None], name="y_input"), 0, name="y")
            with pytest.raises(UnboundPlaceholderError, match="no column 'y'"):
                tfs.reduce_blocks(y, df)
    finally:
        spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)
    assert tracker.getJobIdsForGroup("reduce-errors") == []
