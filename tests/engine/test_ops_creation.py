"""fill, zeros, ones, zeros_like, ones_like and range: values, dtypes,
static shapes, batching and gradients against numpy."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine.testing import case, op_test

COVERED_OPS = {"Fill", "ZerosLike", "OnesLike", "Range"}

M = np.random.default_rng(4).standard_normal((2, 3))


CASES = [
    case("Fill-static-dims", lambda v: tf.fill([2, 3], v), [np.float64(1.5)], lambda v: np.full((2, 3), v)),
    case("Fill-dims-tensor", tf.fill, [np.array([3, 1], np.int32), np.float64(-2.0)], lambda d, v: np.full(d, v)),
    case("Fill-shape-of", lambda x: tf.fill(tf.shape(x), np.float64(7.0)) + x, [M], lambda x: 7.0 + x),
    case("Fill-zeros", lambda x: tf.zeros([2, 3], tf.float64) + x, [M], lambda x: x),
    case("Fill-ones-int32", lambda x: tf.ones([3], tf.int32) + x, [np.arange(3, dtype=np.int32)],
         lambda x: x + 1),
    case("Fill-zeros-default-float32", lambda x: tf.zeros([3]) + x, [np.ones(3, np.float32)], lambda x: x, grad=False),
    case("ZerosLike", tf.zeros_like, [M], np.zeros_like),
    case("ZerosLike-dtype", lambda x: tf.zeros_like(x, dtype=tf.int64), [M], lambda x: np.zeros(x.shape, np.int64)),
    case("OnesLike", tf.ones_like, [M], np.ones_like),
    case("OnesLike-bool", tf.ones_like, [M > 0], lambda x: np.ones(x.shape, bool)),
    case("Range-limit", lambda x: tf.range(4) + x, [np.int32(2)], lambda x: np.arange(4, dtype=np.int32) + x),
    case("Range-floats", lambda x: tf.range(1.0, 2.0, 0.25) + x, [np.float32(0)],
         lambda x: np.arange(1.0, 2.0, 0.25, dtype=np.float32), grad=False),
    case("Range-negative-delta", lambda x: tf.range(5, 0, -2) * x, [np.int32(1)],
         lambda x: np.array([5, 3, 1], np.int32)),
    case("Range-tensor-bounds", tf.range, [np.int64(2), np.int64(11), np.int64(3)], lambda *b: np.arange(*b)),
    case("Range-dtype", lambda x: tf.range(3, dtype=tf.float64) * x, [np.float64(2.0)], lambda x: np.arange(3.0) * x),
]


test_op_matches_numpy = op_test(CASES)


@pytest.mark.parametrize("build, expected, dtype", [
    (lambda: tf.zeros([2, 3]), (2, 3), tf.float32),
    (lambda: tf.ones((4,), dtype=tf.float64), (4,), tf.float64),
    (lambda: tf.fill(tf.placeholder(tf.int32, [2]), 1), (None, None), tf.int32),
    (lambda: tf.fill(tf.placeholder(tf.int32), 1), None, tf.int32),
    (lambda: tf.zeros([tf.shape(tf.placeholder(tf.float32, [None]))[0], 3]), (None, None), tf.float32),
    (lambda: tf.range(10), (10,), tf.int32),
    (lambda: tf.range(0, 1, 0.3), (4,), tf.float32),
    (lambda: tf.range(5, 5), (0,), tf.int32),
    (lambda: tf.range(tf.placeholder(tf.int64, [])), (None,), tf.int64),
], ids=["Fill-zeros", "Fill-ones", "Fill-dims-vector", "Fill-dims-unknown", "Fill-dims-list-with-tensor",
        "Range-int", "Range-float",
        "Range-empty", "Range-tensor-limit"])
def test_static_shape_and_dtype(build, expected, dtype):
    with tf.Graph().as_default():
        t = build()
        assert (t.shape.dims, t.dtype) == (expected, dtype)


def test_Fill_batching_with_batched_dims():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None])
        y = tf.zeros(tf.shape(x))
        assert tf.Session(g).run_batched(y, {x: np.ones((3, 2), np.float32)}).shape == (3, 2)


def test_Fill_batching_refuses_ragged_rows():
    with tf.Graph().as_default() as g:
        d = tf.placeholder(tf.int32, [1])
        with pytest.raises(tf.InvalidArgumentError, match="can't be ragged"):
            tf.Session(g).run_batched(tf.zeros(d), {d: np.array([[1], [2]], np.int32)})


@pytest.mark.parametrize("build, error, message", [
    (lambda: tf.range(0, 5, 0), tf.InvalidArgumentError, "non-zero delta"),
    (lambda: tf.range(5, 1), tf.InvalidArgumentError, "start <= limit when delta > 0"),
    (lambda: tf.range(tf.constant(1), 3.5), tf.DTypeError, "expected int32"),
    (lambda: tf.fill([2, 2], tf.zeros([2])), tf.ShapeError, "Fill 'Fill': value must be a scalar, found shape (2,)"),
    (lambda: tf.fill(tf.zeros([2]), 1.0), tf.DTypeError, "dims must be integer, found float32"),
    (lambda: tf.range(tf.zeros([2])), tf.ShapeError, "Range 'range': start, limit and delta must be scalars"),
], ids=["Range-zero-delta", "Range-wrong-direction", "Range-dtypes", "Fill-vector-value", "Fill-float-dims",
        "Range-vector"])
def test_build_errors(build, error, message):
    with tf.Graph().as_default():
        with pytest.raises(error) as info:
            build()
        assert message in str(info.value)


def test_Fill_with_negative_dims_fails_at_run_time():
    with tf.Graph().as_default() as g:
        d = tf.placeholder(tf.int32, [1])
        with pytest.raises(tf.InvalidArgumentError, match=r"dims must be non-negative, found \[-2\]"):
            tf.Session(g).run(tf.fill(d, 1.0), {d: np.array([-2], np.int32)})


@pytest.mark.parametrize("build, shape", [
    (lambda: tf.zeros([0, 2]), (0, 2)),
    (lambda: tf.ones([2, 0], tf.int32), (2, 0)),
    (lambda: tf.fill([0, 3], 7.0), (0, 3)),
    (lambda: tf.fill(tf.constant([3, 0]), 7), (3, 0)),
    (lambda: tf.zeros_like(np.empty((0, 2), np.int32)), (0, 2)),
    (lambda: tf.ones_like(tf.zeros([0, 4]), dtype=tf.int64), (0, 4)),
    (lambda: tf.range(5, 5), (0,)),
], ids=["zeros", "ones", "fill", "fill-dims-tensor", "zeros_like-numpy", "ones_like-dtype", "range"])
def test_empty_shapes_are_kept_statically_and_at_run_time(build, shape):
    with tf.Graph().as_default():
        t = build()
        value = tf.Session().run(t)
    assert t.shape.as_list() == list(shape) and value.shape == shape and value.dtype == t.dtype.np
