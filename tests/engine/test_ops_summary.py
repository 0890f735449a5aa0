"""Summary ops (tf.summary.scalar/histogram/merge/merge_all): serialized Summary protos as TensorFlow writes them."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf

summary_pb2 = pytest.importorskip("tensorboard.compat.proto.summary_pb2")

COVERED_OPS = {"ScalarSummary", "HistogramSummary", "MergeSummary"}

# TensorFlow 2.21's tf.compat.v1.summary.histogram of HISTOGRAM_VALUES (float32), recorded
HISTOGRAM_VALUES = np.array([0.0, 1.0, 2.0, -1.5, 1.0, 1e-13, 3e5], np.float32)
TF_BUCKET_LIMITS = [-1.624957930213695, -1.47723448201245, 0.0, 1e-12, 0.917246389039776, 1.0089710279437536,
                    1.9661990955585713, 2.1628190051144287, 293570.989576614, 322928.0885342754,
                    1.7976931348623157e+308]
TF_BUCKETS = [0.0, 1.0, 0.0, 2.0, 0.0, 2.0, 0.0, 1.0, 0.0, 1.0, 0.0]


def values_of(serialized) -> dict:
    assert type(serialized) is bytes  # a fetched string scalar, as TF returns it
    summary = summary_pb2.Summary.FromString(serialized)
    return {v.tag: v for v in summary.value}


def test_scalar_summary_holds_the_value_under_the_scoped_name():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [], name="x")
        with tf.name_scope("train"):
            s = tf.summary.scalar("loss", x * 2.0)
        with tf.Session() as sess:
            value = values_of(sess.run(s, {x: 1.25}))
    assert s.dtype == tf.dtypes.string and list(value) == ["train/loss"]
    assert value["train/loss"].simple_value == 2.5


def test_scalar_summary_refuses_a_non_scalar():
    with tf.Graph().as_default():
        with pytest.raises(tf.ShapeError, match="scalar"):
            tf.summary.scalar("v", tf.constant([1.0, 2.0]))


def test_histogram_summary_matches_tensorflows_buckets():
    with tf.Graph().as_default():
        s = tf.summary.histogram("h", tf.constant(HISTOGRAM_VALUES))
        with tf.Session() as sess:
            histo = values_of(sess.run(s))["h"].histo
    assert list(histo.bucket_limit) == TF_BUCKET_LIMITS and list(histo.bucket) == TF_BUCKETS
    assert (histo.min, histo.max, histo.num, histo.sum) == (-1.5, 3e5, 7.0, 300002.5)


def test_histogram_of_nan_is_an_invalid_argument():
    with tf.Graph().as_default():
        s = tf.summary.histogram("h", tf.constant([1.0, np.nan]))
        with tf.Session() as sess, pytest.raises(tf.InvalidArgumentError, match="'h'.*NaN"):
            sess.run(s)


def test_merge_all_merges_the_summaries_collection():
    with tf.Graph().as_default():
        tf.summary.scalar("a", tf.constant(1.0))
        tf.summary.histogram("b", tf.constant([1.0, 2.0]))
        tf.summary.scalar("other", tf.constant(3.0), collections=["elsewhere"])
        merged = tf.summary.merge_all()
        with tf.Session() as sess:
            assert sorted(values_of(sess.run(merged))) == ["a", "b"]


def test_merge_all_without_summaries_is_none():
    with tf.Graph().as_default():
        assert tf.summary.merge_all() is None


def test_merge_refuses_tensors_that_are_not_summaries():
    with tf.Graph().as_default():
        with pytest.raises(tf.DTypeError, match="summaries"):
            tf.summary.merge([tf.constant(1.0)])
