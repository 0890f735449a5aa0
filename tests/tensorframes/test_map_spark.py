"""map_blocks and map_rows on Spark DataFrames: results, column types, plans and errors."""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.utils import PythonException

import engine as tf
import tensorframes as tfs
from tensorframes.errors import (PlaceholderTypeError, UnboundPlaceholderError,
                                 UnsupportedColumnTypeError)

ROWS = 40
RNG = np.random.default_rng(7)
X = RNG.normal(size=ROWS)
V = RNG.normal(size=(ROWS, 3))


@pytest.fixture
def frame(spark: SparkSession, partitions: int) -> DataFrame:
    """id, x double and v array<double> (shape recorded), spread over 1, 3 or 7 partitions."""
    rows = [(i, float(X[i]), V[i].tolist()) for i in range(ROWS)]
    df = spark.createDataFrame(rows, "id long, x double, v array<double>").repartition(partitions)
    return tfs.append_shape(df, "v", [None, 3])


def collected(df: DataFrame, *columns: str) -> list[np.ndarray]:
    """The columns as numpy arrays, rows in id order."""
    rows = sorted(df.select("id", *columns).collect())
    return [np.array([r[c] for r in rows]) for c in columns]


def test_map_blocks_matches_numpy(frame):
    with tf.Graph().as_default():
        x, v = tfs.block(frame, "x"), tfs.block(frame, "v")
        y = tf.add(x * 2.0, 1.0, name="y")
        z = tf.reduce_sum(v * v, 1, name="z")
        w = tf.multiply(v, tf.expand_dims(x, 1), name="w")
        out = tfs.map_blocks([y, z, w], frame)
    y, z, w = collected(out, "y", "z", "w")
    np.testing.assert_allclose(y, X * 2 + 1)
    np.testing.assert_allclose(z, (V * V).sum(1))
    np.testing.assert_allclose(w, V * X[:, None])


def test_map_rows_matches_numpy(frame):
    with tf.Graph().as_default():
        x, v = tfs.row(frame, "x"), tfs.row(frame, "v")
        z = tf.reduce_sum(v * v, name="z")
        w = tf.multiply(v, x, name="w")
        out = tfs.map_rows([z, w], frame)
    z, w = collected(out, "z", "w")
    np.testing.assert_allclose(z, (V * V).sum(1))
    np.testing.assert_allclose(w, V * X[:, None])


def test_trim_returns_only_the_fetches_with_their_own_rows(spark):
    df = spark.createDataFrame([(float(i),) for i in range(10)], "x double").repartition(2)
    with tf.Graph().as_default():
        x = tfs.block(df, "x")
        out = tfs.map_blocks(tf.reduce_sum(x, keepdims=True, name="s"), df, trim=True)
    assert out.columns == ["s"]
    assert sum(r.s for r in out.collect()) == 45.0 and out.count() <= 2


def test_output_columns_carry_their_shape_for_chained_calls(spark):
    df = tfs.append_shape(spark.createDataFrame([([1.0, 2.0],)], "v array<double>"), "v", [2])
    with tf.Graph().as_default():
        v = tfs.block(df, "v")
        df2 = tfs.map_blocks(tf.stack([v, v], axis=1, name="m"), df)
    with tf.Graph().as_default():
        assert tfs.block(df2, "m").shape == (None, 2, 2)


def test_several_fetches_run_the_graph_once(spark, capsys):
    df = spark.createDataFrame([(1.0, 2.0)], "x double, unused double")
    with tf.Graph().as_default():
        x = tfs.block(df, "x")
        out = tfs.map_blocks([tf.identity(x, name="a"), tf.negative(x, name="b")], df, backend="arrow")
    out.explain()
    plan = capsys.readouterr().out
    assert plan.count("ArrowEvalPython") == 1 and plan.count("pythonUDF") == 3  # 1 computed, 2 fields read
    assert out.collect()[0].asDict() == {"x": 1.0, "unused": 2.0, "a": 1.0, "b": -1.0}


def test_only_the_fed_columns_go_to_python(spark, capsys):
    df = spark.createDataFrame([(1.0, 2.0)], "x double, unused double")
    with tf.Graph().as_default():
        out = tfs.map_blocks(tf.identity(tfs.block(df, "x"), name="a"), df, backend="arrow")
    out.explain()
    (udf_line,) = [line for line in capsys.readouterr().out.splitlines() if "ArrowEvalPython" in line]
    assert "x#" in udf_line and "unused#" not in udf_line


def test_trim_sends_only_the_fed_columns_to_python(spark, capsys):
    df = spark.createDataFrame([(1.0, 2.0)], "x double, unused double")
    with tf.Graph().as_default():
        out = tfs.map_blocks(tf.reduce_sum(tfs.block(df, "x"), keepdims=True, name="s"), df, trim=True,
                             backend="arrow")
    out.explain()
    (udf_line,) = [line for line in capsys.readouterr().out.splitlines() if "MapInArrow" in line]
    assert "x#" in udf_line and "unused#" not in udf_line


def test_vector_columns_from_vector_assembler_feed_blocks(spark):
    df = spark.createDataFrame([(float(i), float(-i)) for i in range(5)], "a double, b double")
    df = VectorAssembler(inputCols=["a", "b"], outputCol="features").transform(df)
    with tf.Graph().as_default():
        features = tfs.block(df, "features")
        assert features.shape == (None, 2)
        out = tfs.map_blocks(tf.reduce_sum(features * features, 1, name="sq"), df)
    assert [r.sq for r in out.collect()] == [2.0 * i * i for i in range(5)]


def test_rank_3_cells_in_and_out(spark):
    cubes = np.arange(2 * 2 * 3 * 4, dtype=np.float64).reshape(2, 2, 3, 4)
    df = spark.createDataFrame([(c.tolist(),) for c in cubes], "t array<array<array<double>>>")
    df = tfs.analyze(df)
    with tf.Graph().as_default():
        t = tfs.block(df, "t")
        out = tfs.map_blocks(tf.negative(t, name="neg"), df)
    assert tfs.block(out, "neg").shape == (None, 2, 3, 4)
    np.testing.assert_array_equal(np.array([r.neg for r in out.collect()]), -cubes)


def test_variables_are_shipped_with_their_session_value(spark):
    df = spark.createDataFrame([(1.0,), (2.0,)], "x double")
    with tf.Graph().as_default():
        w = tf.Variable(np.array(10.0), name="w")
        z = tf.multiply(tfs.block(df, "x"), w, name="z")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(w.assign(3.0))
            out = tfs.map_blocks(z, df)
    assert [r.z for r in out.collect()] == [3.0, 6.0]


# --- errors


def test_binding_errors_are_raised_on_the_driver(spark):
    df = spark.createDataFrame([(1,)], "n int")
    with tf.Graph().as_default():
        n = tf.placeholder(tf.float64, [None], name="n")
        with pytest.raises(PlaceholderTypeError, match="'n' holds int values"):
            tfs.map_blocks(tf.identity(n, name="m"), df)


def test_placeholder_without_column_lists_the_columns(spark):
    df = spark.createDataFrame([(1.0, 2.0)], "a double, b double")
    with tf.Graph().as_default():
        q = tf.placeholder(tf.float64, [None], name="q")
        with pytest.raises(UnboundPlaceholderError, match="available: a, b"):
            tfs.map_blocks(tf.identity(q, name="m"), df)


def test_unsupported_column_type_is_named(spark):
    df = spark.createDataFrame([("a",)], "s string")
    with tf.Graph().as_default():
        s = tf.placeholder(tf.float64, [None], name="s")
        with pytest.raises(UnsupportedColumnTypeError, match="'s' has type string"):
            tfs.map_blocks(tf.identity(s, name="m"), df)


def test_null_cell_fails_naming_column_and_row(spark):
    df = spark.createDataFrame([(1.0,), (None,)], "x double").coalesce(1)
    with tf.Graph().as_default():
        out = tfs.map_blocks(tf.identity(tfs.block(df, "x"), name="y"), df, backend="arrow")
    with pytest.raises(PythonException, match="NullValueError.*column 'x' has a null value in row 1"):
        out.collect()


def test_fetch_with_other_rows_fails_naming_the_fetch(spark):
    df = spark.createDataFrame([(1.0,), (2.0,)], "x double").coalesce(1)
    with tf.Graph().as_default():
        out = tfs.map_blocks(tf.identity(tfs.block(df, "x")[1:], name="tail"), df)
    with pytest.raises(PythonException, match="fetch 'tail:0' gave 1 rows for a batch of 2 rows"):
        out.collect()


def test_array_of_the_wrong_length_fails_naming_column_and_row(spark):
    df = spark.createDataFrame([([1.0, 2.0],), ([1.0],)], "v array<double>").coalesce(1)
    with tf.Graph().as_default():
        v = tf.placeholder(tf.float64, [None, 2], name="v")
        out = tfs.map_blocks(tf.identity(v, name="w"), df, backend="arrow")
    with pytest.raises(PythonException, match=r"column 'v': expected cells of shape \[2\].*length 1.*row 1"):
        out.collect()


@pytest.fixture(scope="module")
def sparse_partitions(spark: SparkSession) -> DataFrame:
    """Two rows in three partitions (the first one empty): x double, v array<double> of shape [?, 2]."""
    df = spark.range(0, 2, 1, 3).select(F.col("id").cast("double").alias("x"),
                                         F.array(F.col("id").cast("double"), F.lit(1.0)).alias("v"))
    return tfs.append_shape(df, "v", [None, 2])


@pytest.mark.parametrize("empty", [False, True], ids=["empty-partitions", "empty-dataframe"])
def test_empty_partitions_and_frames_map_to_no_rows_with_the_schema_of_the_fetches(sparse_partitions, empty):
    df = sparse_partitions.filter("x < 0") if empty else sparse_partitions
    with tf.Graph().as_default():
        x, v = tfs.block(df, "x"), tfs.block(df, "v")
        appended = tfs.map_blocks([tf.identity(v * 2.0, name="w"), tf.fill(tf.shape(x), 3, name="f")], df)
        trimmed = tfs.map_blocks(tf.reduce_mean(v, 0, keepdims=True, name="m"), df, trim=True)
    with tf.Graph().as_default():
        rows = tfs.map_rows(tf.reduce_sum(tfs.row(df, "v"), name="s"), df)
    assert appended.schema.simpleString() == "struct<x:double,v:array<double>,w:array<double>,f:int>"
    assert trimmed.schema.simpleString() == "struct<m:array<double>>"
    assert sorted(map(tuple, appended.select("w", "f").collect())) == ([] if empty else [([0.0, 2.0], 3),
                                                                                         ([2.0, 2.0], 3)])
    # trim: a row per non-empty partition (one row each); an empty partition adds none (no NaN row)
    assert sorted(r.m for r in trimmed.collect()) == ([] if empty else [[0.0, 1.0], [1.0, 1.0]])
    assert sorted(r.s for r in rows.collect()) == ([] if empty else [1.0, 2.0])
