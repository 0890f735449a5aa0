"""The original TensorFrames' documented usage, with only the imports changed
(`import engine as tf`, `import tensorframes as tfs`): variables without a Session
(their initial values ship), feed_dict by placeholder name, map_rows with block-shaped
placeholders on a scalar column, trim, reduce_rows with a variable; pandas and Spark."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import engine as tf
import tensorframes as tfs

PANDAS = pd.DataFrame({"x": [float(x) for x in range(10)]})


def test_map_blocks_adds_3_as_in_the_readme():
    with tf.Graph().as_default():
        x = tfs.block(PANDAS, "x")
        z = tf.add(x, 3, name="z")
        df2 = tfs.map_blocks(z, PANDAS)
    assert list(df2["z"]) == [x + 3.0 for x in range(10)]


def test_map_blocks_with_a_variable_and_no_session():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.double, shape=[None], name="x")
        w = tf.Variable(np.float64(2.0), name="w")
        z = tf.multiply(x, w, name="z")
        df2 = tfs.map_blocks(z, PANDAS)
    assert list(df2["z"]) == [2.0 * x for x in range(10)]


def test_map_blocks_with_a_seeded_random_variable_is_reproducible():
    def run():
        with tf.Graph().as_default():
            x = tf.placeholder(tf.double, shape=[None], name="x")
            w = tf.Variable(tf.random_normal([], dtype=tf.float64, seed=4), name="w")
            return tfs.map_blocks(tf.add(x, w, name="z"), PANDAS)["z"].to_numpy()
    np.testing.assert_array_equal(run(), run())


def test_a_default_session_s_values_win_over_the_initial_values():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.double, shape=[None], name="x")
        w = tf.Variable(np.float64(2.0), name="w")
        z = tf.multiply(x, w, name="z")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(w.assign(10.0))
            df2 = tfs.map_blocks(z, PANDAS)
    assert df2["z"][1] == 10.0


def test_map_blocks_trim_with_a_variable_and_no_session():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.double, shape=[None], name="x")
        w = tf.Variable(np.array([1.0, -1.0]), name="w")
        total = tf.reshape(tf.reduce_sum(x) * w, [2], name="total")
        df2 = tfs.map_blocks(total, PANDAS, trim=True)
    assert list(df2.columns) == ["total"] and list(df2["total"]) == [45.0, -45.0]


def test_map_rows_with_a_variable_and_no_session():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.double, shape=[], name="x")
        b = tf.Variable(np.float64(0.5), name="b")
        df2 = tfs.map_rows(tf.add(x, b, name="z"), PANDAS)
    assert df2["z"][3] == 3.5


def test_map_rows_with_a_block_shaped_placeholder_on_a_scalar_column():
    """The original accepted shape=[None] in map_rows and ran the graph on the whole column."""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.double, shape=[None], name="x")
        z = tf.add(x, 3, name="z")
        df2 = tfs.map_rows(z, PANDAS)
    assert list(df2["z"]) == [x + 3.0 for x in range(10)]


def test_feed_dict_by_placeholder_name():
    with tf.Graph().as_default():
        a = tf.placeholder(tf.double, shape=[None], name="a")
        z = tf.add(a, 1.0, name="z")
        df2 = tfs.map_blocks(z, PANDAS, feed_dict={"a": "x"})
        df3 = tfs.map_blocks(z, PANDAS, feed_dict={"a:0": "x"})
    assert list(df2["z"]) == list(df3["z"]) == [x + 1.0 for x in range(10)]


# -- on Spark ---------------------------------------------------------------------------------------
def test_spark_map_blocks_and_map_rows_with_variables_and_no_session(spark):
    df = spark.createDataFrame(PANDAS)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.double, shape=[None], name="x")
        w = tf.Variable(np.float64(2.0), name="w")
        blocks = tfs.map_blocks(tf.multiply(x, w, name="z"), df)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.double, shape=[None], name="x")  # block-shaped, in map_rows
        rows = tfs.map_rows(tf.add(x, tf.Variable(np.float64(3.0), name="b"), name="z"), df)
    assert [r.z for r in blocks.orderBy("x").collect()] == [2.0 * x for x in range(10)]
    assert [r.z for r in rows.orderBy("x").collect()] == [x + 3.0 for x in range(10)]


def test_spark_reduce_rows_with_a_variable_in_the_graph(spark):
    df = spark.createDataFrame(PANDAS)
    with tf.Graph().as_default():
        x_1 = tf.placeholder(tf.double, shape=[], name="x_1")
        x_2 = tf.placeholder(tf.double, shape=[], name="x_2")
        scale = tf.Variable(np.float64(1.0), name="scale")
        x = tf.identity(tf.add(x_1, x_2) * scale, name="x")
        assert tfs.reduce_rows(x, df) == pytest.approx(45.0)
