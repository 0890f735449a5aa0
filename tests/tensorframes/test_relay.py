"""Errors found on the executors come to the driver as our own classes, same message, with the partition."""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.sql import functions as F

import engine as tf
import tensorframes as tfs
from engine.errors import InvalidArgumentError
from tensorframes.errors import NullValueError, TensorFramesError
from tensorframes.ml import GraphTransformer

NULL = "column 'x' has a null value in row 0"


@pytest.fixture(scope="module")
def nulls(spark):
    """x = 0.0 in partition 0, null in partition 1 (its row 0); aggregate names its shuffle partition."""
    return spark.range(2, numPartitions=2).select(
        F.when(F.col("id") == 1, F.lit(None)).otherwise(F.col("id").cast("double")).alias("x"),
        (F.col("id") % 2).alias("key"))


def _map_blocks(df):
    return tfs.map_blocks(tf.add(tfs.block(df, "x"), 1.0, name="z"), df, backend="arrow").collect()


def _map_rows(df):
    return tfs.map_rows(tf.add(tfs.row(df, "x"), 1.0, name="z"), df, backend="arrow").collect()


def _map_blocks_trim(df):
    return tfs.map_blocks(tf.add(tfs.block(df, "x"), 1.0, name="z"), df, trim=True, backend="arrow").collect()


def _reduce_blocks(df):
    return tfs.reduce_blocks(tf.reduce_sum(tfs.block(df, "x", tf_name="x_input"), [0], name="x"), df, backend="arrow")


def _reduce_rows(df):
    return tfs.reduce_rows(tf.add(tfs.row(df, "x", "x_1"), tfs.row(df, "x", "x_2"), name="x"), df, backend="arrow")


def _aggregate(df):
    x = tfs.block(df, "x", tf_name="x_input")
    return tfs.aggregate(tf.reduce_sum(x, [0], name="x"), df.groupBy("key"), backend="arrow").collect()


def _transformer(df):
    with tf.Graph().as_default() as g:
        tf.cumsum(tf.placeholder(tf.float64, [None], name="p"), name="z")  # no SQL rule: the Arrow path
    return GraphTransformer(graphDef=g, inputMapping={"x": "p"}, outputMapping={"z": "out"}).transform(df).collect()


@pytest.mark.parametrize("run", [_map_blocks, _map_rows, _map_blocks_trim, _reduce_blocks, _reduce_rows, _aggregate,
                                 _transformer])
def test_a_null_found_on_an_executor_is_a_null_value_error_naming_column_row_and_partition(spark, nulls, run):
    with tf.Graph().as_default(), pytest.raises(NullValueError, match=f"{NULL}.*in partition [01]") as caught:
        with tfs.relay_errors():
            run(nulls)
    assert (caught.value.column, caught.value.row) == ("x", 0)
    assert spark.range(3).count() == 3


def test_an_engine_error_on_an_executor_keeps_its_class_and_is_a_tensorframes_error(spark):
    df = spark.range(3, numPartitions=1).select(F.col("id").cast("double").alias("x"))
    with tf.Graph().as_default(), pytest.raises(InvalidArgumentError,
                                                match=r"^Reshape 'z': cannot reshape .*\(in partition 0\)$") \
            as caught, tfs.relay_errors():
        tfs.map_blocks(tf.reshape(tfs.block(df, "x"), [-1, 2], name="z"), df, trim=True, backend="arrow").collect()
    assert isinstance(caught.value, TensorFramesError)


def test_a_numpy_error_in_a_kernel_on_an_executor_is_relayed_as_an_invalid_argument_error_naming_the_op(spark):
    df = spark.range(2, numPartitions=1).select(F.col("id").cast("double").alias("x"))
    with tf.Graph().as_default(), pytest.raises(
            InvalidArgumentError, match=r"^Add 'z': ValueError: operands could not be broadcast together with shapes "
                                        r"\(2,\) \(3,\) .*\(inputs: float64 \(2,\), float64 \(3,\)\) \(in partition 0\)$") \
            as caught, tfs.relay_errors():
        tfs.map_blocks(tf.add(tfs.block(df, "x"), np.ones(3), name="z"), df, trim=True, backend="arrow").collect()
    assert isinstance(caught.value, TensorFramesError)
    assert spark.range(3).count() == 3


def test_without_the_context_manager_a_lazy_frame_raises_sparks_exception_holding_the_record(nulls):
    with tf.Graph().as_default(), pytest.raises(Exception, match="NullValueError") as caught:
        _map_blocks(nulls)
    assert not isinstance(caught.value, TensorFramesError)


def test_other_exceptions_pass_through_unchanged():
    with pytest.raises(KeyError, match="plain"):
        with tfs.relay_errors():
            raise KeyError("plain")
