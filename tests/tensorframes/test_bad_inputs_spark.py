"""The bad-input matrix, Spark side: columns and programs, training settings, ML stages and their files.

Each case is (id, action, exception class, words the message must hold); every
case also checks that the SparkSession still runs a job afterwards. Errors found
on the executors are in test_relay.py, saves interrupted by failures in
test_atomic_saves.py.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from pyspark.sql import functions as F

import engine as tf
import tensorframes as tfs
from engine.errors import InvalidArgumentError
from tensorframes.errors import (CheckpointError, ColumnNotFoundError, EmptyReductionError, FetchShapeError,
                                 LossError, NonFiniteValueError, OutputNameError, PersistenceError,
                                 PlaceholderShapeError, PlaceholderTypeError, ProgramError, StageParamError,
                                 TrainingCancelledError, TrainingError,
                                 UnboundPlaceholderError, UnsupportedColumnTypeError)
from tensorframes.ml import GraphModel, GraphTransformer
from tensorframes.training.schedule import Schedule
from tensorframes.training.spec import TrainingSpec

MODES = ("driver", "barrier")


@pytest.fixture(scope="module")
def df(spark):
    """x double, v array<double>[2], name string, m map<string,double>, key long."""
    return tfs.append_shape(spark.range(4, numPartitions=1).select(
        F.col("id").cast("double").alias("x"), F.array(F.col("id").cast("double"), F.lit(1.0)).alias("v"),
        F.col("id").cast("string").alias("name"), F.create_map(F.lit("a"), F.lit(1.0)).alias("m"),
        (F.col("id") % 2).alias("key")), "v", [None, 2])


def _x(df):
    return tfs.block(df, "x")


COLUMNS = [
    ("string column", lambda df: tfs.block(df, "name"), UnsupportedColumnTypeError, "name"),
    ("map column", lambda df: tfs.block(df, "m"), UnsupportedColumnTypeError, "m"),
    ("missing column", lambda df: tfs.block(df, "nope"), ColumnNotFoundError, "nope"),
    ("placeholder of another dtype", lambda df: tfs.map_blocks(
        tf.identity(tf.placeholder(tf.float32, [None], name="x"), name="z"), df), PlaceholderTypeError, "float32"),
    ("placeholder of another shape", lambda df: tfs.map_blocks(
        tf.identity(tf.placeholder(tf.float64, [None, 3], name="v"), name="z"), df), PlaceholderShapeError, "v"),
    ("placeholder without a column", lambda df: tfs.map_blocks(
        tf.identity(tf.placeholder(tf.float64, [None], name="ghost"), name="z"), df), UnboundPlaceholderError,
     "ghost"),
    ("output named like an input", lambda df: tfs.map_blocks(tf.identity(_x(df), name="v"), df), OutputNameError,
     "v"),
    ("scalar fetch in map_blocks", lambda df: tfs.map_blocks(tf.reduce_sum(_x(df), name="s"), df), FetchShapeError,
     "scalar"),
    ("no fetches", lambda df: tfs.map_blocks([], df), ProgramError, "no fetches"),
    ("feed_dict key not a placeholder", lambda df: tfs.map_blocks(
        tf.identity(_x(df) + 1.0, name="z"), df, feed_dict={tf.constant(1.0, name="c"): "x"}), ProgramError,
     "not a placeholder"),
    ("aggregate without groupBy", lambda df: tfs.aggregate(
        tf.reduce_sum(tfs.block(df, "x", tf_name="x_input"), [0], name="x"), df), TypeError, "groupBy"),
    ("reduce of no rows", lambda df: tfs.reduce_blocks(
        tf.reduce_sum(tfs.block(df, "x", tf_name="x_input"), [0], name="x"), df.limit(0)), EmptyReductionError,
     "no rows"),
]


def _linear(df):
    """A linear model of x -> key, its loss and its initialized session."""
    x = tf.reshape(tfs.block(df, "x"), [-1, 1])
    w = tf.Variable(np.zeros((1, 1)), name="w")
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w)[:, 0] - tf.cast(tfs.block(df, "key"), tf.float64)))
    session = tf.Session()
    session.run(tf.global_variables_initializer())
    return loss, session


def _train(df, optimizer=None, **options):
    loss, session = _linear(df)
    return tfs.train(loss, df, optimizer or tf.train.GradientDescentOptimizer(0.1), session=session,
                     log_every=None, **{"steps": 1, **options})


def _nan_label(df, mode, **options):
    labelled = df.select("x", F.when(F.col("x") == 2.0, F.lit(float("nan"))).otherwise(F.col("x")).alias("key"))
    return _train(labelled, mode=mode, **options)


def _two_partitions(df, label=None, feature=None):
    """x double and key double over partitions 0 (ids 0, 1) and 1 (ids 2, 3), with the cells given replaced."""
    frame = df.sparkSession.range(4, numPartitions=2).select(
        "id", F.col("id").cast("double").alias("x"), (F.col("id") % 2).cast("double").alias("key"))
    for column, replaced in (("key", label), ("x", feature)):
        if replaced is not None:
            at, value = replaced
            frame = frame.withColumn(column, F.when(F.col("id") == at, F.lit(value)).otherwise(F.col(column)))
    return frame.drop("id")


def _refused(frame, mode, **options):
    """Train on ``frame``; the refused step must leave the session's variable as it was (zeros)."""
    loss, session = _linear(frame)
    try:
        return tfs.train(loss, frame, tf.train.GradientDescentOptimizer(0.1), session=session, log_every=None,
                         mode=mode, **{"steps": 1, **options})
    finally:
        np.testing.assert_array_equal(session.run("w:0"), np.zeros((1, 1)))


#: The row of partition 1 that the second mini-batch (2 rows of _two_partitions' 2 + 2) reads.
_SECOND_BATCH_ROW = int(Schedule((2, 2), batch_size=2).rows(1, 1)[0])


def _broken_checkpoint(df, path):
    (path / "checkpoint.npz").write_bytes(b"PK\x03\x04 truncated")
    return _train(df, checkpoint_dir=path)


def _cancelled(df, mode, cancel):
    """Trains under the caller's job group; the callback of step 1 cancels from a second thread."""
    def callback(info):
        if info.step == 1:
            thread = threading.Thread(target=cancel, args=(df.sparkSession,))
            thread.start()
            thread.join()
    sc = df.sparkSession.sparkContext
    sc.setJobGroup("matrix-group", "a cancelled training")
    try:
        return _train(df, mode=mode, steps=20_000, callback=callback)
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)
        sc.setLocalProperty("spark.job.description", None)
        sc.setLocalProperty("spark.job.interruptOnCancel", None)


TRAINING = [
    ("unknown mode", lambda df, p: _train(df, mode="cluster"), ValueError, "mode must be one of"),
    ("not an optimizer", lambda df, p: _train(df, optimizer="adam"), TypeError, "optimizer must be"),
    ("neither steps nor epochs", lambda df, p: _train(df, steps=None), ValueError, "say how long to train"),
    ("zero steps", lambda df, p: _train(df, steps=0), ValueError, "steps must be a positive int"),
    ("steps as a string", lambda df, p: _train(df, steps="5"), ValueError, "steps must be a positive int"),
    ("batch size of a float", lambda df, p: _train(df, batch_size=2.5), ValueError, "batch_size"),
    ("seed of a float", lambda df, p: _train(df, seed=0.5), ValueError, "seed must be an int"),
    ("negative tol", lambda df, p: _train(df, tol=-1.0), ValueError, "tol must be a number >= 0"),
    ("checkpoint_every of 0", lambda df, p: _train(df, checkpoint_dir=p, checkpoint_every=0), ValueError,
     "checkpoint_every"),
    ("NaN learning rate", lambda df, p: _train(df, tf.train.GradientDescentOptimizer(float("nan"))),
     InvalidArgumentError, "learning_rate"),
    *[(f"NaN label in partition 1, {mode} mode", lambda df, p, mode=mode: _refused(
        _two_partitions(df, label=(3, float("nan"))), mode), NonFiniteValueError,
       ("step 1: column 'key' holds NaN in row 1", "the loss is not finite", "(in partition 1)")) for mode in MODES],
    *[(f"inf feature in partition 1, {mode} mode", lambda df, p, mode=mode: _refused(
        _two_partitions(df, feature=(2, float("inf"))), mode), NonFiniteValueError,
       ("step 1: column 'x' holds inf in row 0", "(in partition 1)")) for mode in MODES],
    ("NaN label in the second mini-batch", lambda df, p: _refused(_two_partitions(
        df, label=(2 + _SECOND_BATCH_ROW, float("nan"))), "driver", batch_size=2, steps=2), NonFiniteValueError,
     (f"step 2: column 'key' holds NaN in row {_SECOND_BATCH_ROW} (the mini-batch of step 2 reads row "
      f"{_SECOND_BATCH_ROW} of this partition)", "(in partition 1)")),
    *[(f"too large a learning rate, {mode} mode", lambda df, p, mode=mode: _train(
        _two_partitions(df), tf.train.GradientDescentOptimizer(1e200), mode=mode, steps=3), TrainingError,
       ("step 2: the loss is not finite", "no value fed to the step is", "learning rate is too large"))
      for mode in MODES],
    ("truncated checkpoint", _broken_checkpoint, CheckpointError, "checkpoint.npz"),
    ("cancelAllJobs between two driver-mode steps", lambda df, p: _cancelled(
        df, "driver", lambda spark: spark.sparkContext.cancelAllJobs()), TrainingCancelledError,
     "cancelled (SparkContext.cancelAllJobs()) after 1 completed step:"),
    ("the user's job group cancelled in barrier mode", lambda df, p: _cancelled(
        df, "barrier", lambda spark: spark.sparkContext.cancelJobGroup("matrix-group")), TrainingCancelledError,
     "cancelled (SparkContext.cancelJobGroup('matrix-group'))"),
    ("loss that is not a scalar", lambda df, p: tfs.train(tfs.block(df, "x") * tf.Variable(np.float64(1.0), name="u"), df,
                                                          tf.train.GradientDescentOptimizer(0.1), steps=1),
     (LossError, TrainingError), "loss"),
]


def _stage(**params):
    with tf.Graph().as_default() as g:
        tf.multiply(tf.placeholder(tf.float64, [None], name="p"), 2.0, name="y")
    return GraphTransformer(**{"graphDef": g, "inputMapping": {"x": "p"}, "outputMapping": {"y": "out"}, **params})


def _saved(path):
    _stage().save(str(path / "t"))
    return str(path / "t")


def _flip_metadata(path):
    saved = _saved(path)
    part = next((path / "t" / "metadata").glob("part-*"))
    part.write_bytes(part.read_bytes().replace(b"{", b"#", 1))
    return GraphTransformer.load(saved)


STAGES = [
    ("no graphDef", lambda df, p: GraphTransformer(inputMapping={"x": "p"}, outputMapping={"y": "out"}).transform(df),
     StageParamError, "graphDef is not set"),
    ("outputMapping of a missing tensor", lambda df, p: _stage(outputMapping={"nope": "out"}).transform(df),
     StageParamError, "nope"),
    ("inputMapping of a missing column", lambda df, p: _stage(inputMapping={"zz": "p"}).transform(df),
     ColumnNotFoundError, "zz"),
    ("save over a stage", lambda df, p: _stage().save(_saved(p)), PersistenceError, "overwrite"),
    ("load as another class", lambda df, p: GraphModel.load(_saved(p)), PersistenceError, "load it with that class"),
    ("load a directory that is no stage", lambda df, p: (p / "empty").mkdir() or GraphTransformer.load(str(p / "empty")),
     PersistenceError, "not a saved tensorframes.ml stage"),
    ("load a stage with broken metadata", lambda df, p: _flip_metadata(p), PersistenceError,
     "metadata can't be read"),
]


def _ids(table):
    return [case[0] for case in table]


@pytest.mark.parametrize("name, action, error, words", COLUMNS, ids=_ids(COLUMNS))
def test_bad_columns_and_programs(spark, df, name, action, error, words):
    with tf.Graph().as_default(), pytest.raises(error) as caught:
        action(df)
    assert words in str(caught.value)
    assert spark.range(2).count() == 2


@pytest.mark.parametrize("name, action, error, words", TRAINING, ids=_ids(TRAINING))
def test_bad_training_settings(spark, df, tmp_path, name, action, error, words):
    with tf.Graph().as_default(), pytest.raises(error) as caught:
        action(df, tmp_path)
    for part in (words,) if isinstance(words, str) else words:
        assert part in str(caught.value)
    assert spark.range(2).count() == 2


@pytest.mark.parametrize("name, action, error, words", STAGES, ids=_ids(STAGES))
def test_bad_stages_and_stage_files(spark, df, tmp_path, name, action, error, words):
    with pytest.raises(error) as caught:
        action(df, tmp_path)
    assert words in str(caught.value)
    assert spark.range(2).count() == 2


def test_check_finite_false_trains_on_through_nan(df):
    with tf.Graph().as_default():
        result = _nan_label(df, "driver", check_finite=False, steps=2)
    assert len(result.losses) == 2 and np.isnan(result.losses).all()


def test_numpy_integers_count_as_ints():
    spec = TrainingSpec(steps=np.int64(5), batch_size=np.int32(2), seed=np.uint8(3))
    assert (spec.steps, spec.batch_size, spec.seed) == (5, 2, 3) and type(spec.steps) is int
