"""Columns whose names hold a dot, a space or a backtick work through every public entry point.

Spark parses ``"a.b"`` as a field reference, and ``mapInArrow`` /
``applyInArrow`` cannot resolve such input columns at all, so tensorframes
refers to columns through one escaping helper and feeds the Arrow paths
under internal names; the user only ever sees their own names.
"""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.ml.linalg import Vectors

import engine as tf
import tensorframes as tfs
from tensorframes.ml import GraphEstimator, GraphTransformer
from tensorframes.spark_columns import column_ref

NAMES = pytest.mark.parametrize("name", ["a.b", "a b", "a`b"])
X = [1.0, 2.0, 3.0, 4.0]


@pytest.fixture
def frame(spark, name):
    """Column ``name`` (double) and ``<name>_k`` (a group key), four rows."""
    rows = [(x, x % 2) for x in X]
    return spark.createDataFrame(rows, [name, f"{name}_k"])  # local[2]: two partitions


def column(df, name):
    return [r[0] for r in df.select(column_ref(name)).collect()]


@NAMES
def test_map_blocks(frame, name):
    with tf.Graph().as_default():
        x = tfs.block(frame, name, tf_name="x")
        out = tfs.map_blocks(tf.multiply(x, 2.0, name="y"), frame, feed_dict={x: name})
    assert sorted(zip(column(out, name), column(out, "y"))) == [(x, 2 * x) for x in X]


@NAMES
def test_map_blocks_trim(frame, name):
    with tf.Graph().as_default():
        x = tfs.block(frame, name, tf_name="x")
        out = tfs.map_blocks(tf.reduce_sum(x, keepdims=True, name="s"), frame, feed_dict={x: name}, trim=True)
    assert out.columns == ["s"] and sum(column(out, "s")) == sum(X)


@NAMES
def test_map_rows(frame, name):
    with tf.Graph().as_default():
        x = tfs.row(frame, name, tf_name="x")
        out = tfs.map_rows(tf.square(x, name="y"), frame, feed_dict={x: name})
    assert sorted(column(out, "y")) == [x * x for x in X]


@NAMES
def test_reduce_blocks(frame, name):
    with tf.Graph().as_default():
        s = tf.reduce_sum(tfs.block(frame, name, tf_name="s_input"), 0, name="s")
        assert tfs.reduce_blocks(s, frame, feed_dict={"s_input": name}) == sum(X)


@NAMES
def test_reduce_rows(frame, name):
    with tf.Graph().as_default():
        s = tf.add(tfs.row(frame, name, tf_name="s_1"), tfs.row(frame, name, tf_name="s_2"), name="s")
        assert tfs.reduce_rows(s, frame, feed_dict={"s_1": name}) == sum(X)


@NAMES
def test_aggregate(frame, name):
    key = f"{name}_k"
    with tf.Graph().as_default():
        s = tf.reduce_sum(tfs.block(frame, name, tf_name="s_input"), 0, name="s")
        out = tfs.aggregate(s, frame.groupBy(column_ref(key)), feed_dict={"s_input": name})
    assert out.columns == [key, "s"]
    assert sorted(tuple(r) for r in out.collect()) == [(0.0, 6.0), (1.0, 4.0)]


@NAMES
@pytest.mark.parametrize("mode", ["driver", "barrier"])
def test_train(frame, name, mode):
    """One gradient step on mean((w x - 1)^2) from w = 0: w = 0.1 * mean(2 x)."""
    with tf.Graph().as_default():
        x = tfs.block(frame, name, tf_name="x")
        w = tf.Variable(np.float64(0.0), name="w")
        loss = tf.reduce_mean(tf.square(w * x - 1.0))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            result = tfs.train(loss, frame, tf.train.GradientDescentOptimizer(0.1), feed_dict={x: name},
                               steps=1, mode=mode, log_every=None)
    assert result.variables["w"] == pytest.approx(0.1 * np.mean(2 * np.array(X)))


@NAMES
def test_graph_transformer(spark, name):
    df = spark.createDataFrame([(Vectors.dense([x, -x]),) for x in X], [name])
    with tf.Graph().as_default() as g:
        tf.multiply(tf.placeholder(tf.float64, (None, 2), name="x"), 2.0, name="y")
    out_name = f"{name}_out"
    t = GraphTransformer(graphDef=tf.Session(g), inputMapping={name: "x"}, outputMapping={"y": out_name},
                         vectorOutput=True)
    out = t.transform(df)
    assert sorted(v.toArray().tolist() for v in column(out, out_name)) == [[2 * x, -2 * x] for x in X]


@NAMES
def test_graph_estimator(spark, name):
    """A regression on features column ``name`` with an integer label column ``<name>_y`` (cast on the way)."""
    df = spark.createDataFrame([([x], int(3 * x)) for x in X], [name, f"{name}_y"])

    def linear(features):
        return tf.matmul(features, tf.Variable(tf.zeros([1, 1], tf.float64), name="w"))[:, 0]

    est = GraphEstimator(modelFn=linear, objective="regression", featuresCol=name, labelCol=f"{name}_y",
                         predictionCol=f"{name}_p", optimizer="sgd", learningRate=0.01, steps=1, mode="driver")
    out = est.fit(df).transform(df)
    w = 0.01 * np.mean(2 * 3 * np.square(X))  # one step on mean((w x - 3 x)^2) from w = 0
    assert sorted(column(out, f"{name}_p")) == pytest.approx([w * x for x in X])
