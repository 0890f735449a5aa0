"""Comparisons, logical ops, where, maximum/minimum and clip_by_value:
values, dtypes, static shapes, batching and gradients against numpy."""
from __future__ import annotations

import re

import numpy as np
import pytest

import engine as tf
from engine.testing import case, op_test

COVERED_OPS = {"Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd", "LogicalOr",
               "LogicalNot", "SelectV2", "Maximum", "Minimum", "ClipByValue"}

M = np.array([[-2.3, -0.6, 0.7, 1.4], [3.2, -1.7, 0.4, -0.3], [2.6, -2.8, 1.1, 0.2]])
N = np.array([[0.5, -1.1, 0.9, 1.0], [-2.2, 1.3, -0.8, 0.1], [2.9, -2.1, 0.6, 1.6]])  # never ties with M
ROW = np.array([0.3, -0.4, 2.0, -1.0])
COL = np.array([[0.1], [-0.2], [1.5]])
I32 = np.array([[7, -7, 3], [-4, 9, 0]], dtype=np.int32)
J32 = np.array([7, 2, -1], dtype=np.int32)
B = np.array([[True, False, True], [False, False, True]])
B_ROW = np.array([True, False, False])


CASES = [
    case("Equal-float", tf.equal, [M, np.where(M > 0, M, N)], np.equal),
    case("Equal-int32-broadcast", tf.equal, [I32, J32], np.equal),
    case("Equal-bool", tf.equal, [B, B_ROW], np.equal),
    case("NotEqual-int64", tf.not_equal, [I32.astype(np.int64), J32.astype(np.int64)], np.not_equal),
    case("Less-operator", lambda x, y: x < y, [M, ROW], np.less),
    case("Less-python-scalar", lambda x: x < 0.5, [M], lambda x: x < 0.5),
    case("LessEqual-int32", lambda x, y: x <= y, [I32, J32], np.less_equal),
    case("Greater-operator-reflected", lambda x: 0.5 > x, [M], lambda x: 0.5 > x),
    case("Greater-float32", tf.greater, [M.astype(np.float32), N.astype(np.float32)], np.greater),
    case("GreaterEqual-int32", lambda x, y: x >= y, [I32, J32], np.greater_equal),
    case("LogicalAnd-operator", lambda x, y: x & y, [B, B_ROW], np.logical_and),
    case("LogicalAnd-xor", tf.logical_xor, [B, B_ROW], np.logical_xor),
    case("LogicalOr-operator", lambda x, y: x | y, [B, B_ROW], np.logical_or),
    case("LogicalNot-operator", lambda x: ~x, [B], np.logical_not),
    case("SelectV2-same-shape", lambda c, x, y: tf.where(c, x, y), [M > N, M, N], np.where),
    case("SelectV2-broadcast-condition", lambda c, x, y: tf.where(c, x, y), [COL > 0, M, N], np.where),
    case("SelectV2-broadcast-values", lambda c, x, y: tf.where(c, x, y), [M > 0, ROW, COL], np.where),
    case("SelectV2-python-scalar", lambda x: tf.where(x > 0, x, 0.0), [M], lambda x: np.where(x > 0, x, 0.0)),
    case("SelectV2-int32", tf.where_v2, [B, I32, J32], np.where),
    case("Maximum-same-shape", tf.maximum, [M, N], np.maximum),
    case("Maximum-broadcast", tf.maximum, [M, ROW], np.maximum),
    case("Maximum-int32", tf.maximum, [I32, J32], np.maximum),
    case("Minimum-broadcast", tf.minimum, [COL, M], np.minimum),
    case("Minimum-int64", tf.minimum, [I32.astype(np.int64), J32.astype(np.int64)], np.minimum),
    case("ClipByValue-scalars", lambda t: tf.clip_by_value(t, -1.0, 1.0), [M], lambda t: np.clip(t, -1, 1)),
    case("ClipByValue-broadcast-bounds", tf.clip_by_value, [M, ROW - 1.05, COL + 2.0],
         lambda t, lo, hi: np.clip(t, lo, hi)),
    case("ClipByValue-int32", lambda t: tf.clip_by_value(t, -3, 4), [I32], lambda t: np.clip(t, -3, 4)),
    case("ClipByValue-low-above-high-gives-low", tf.clip_by_value, [M, np.full(4, 0.5), np.full(4, -0.5)],
         lambda t, lo, hi: np.broadcast_to(lo, t.shape)),
]


test_op_matches_numpy = op_test(CASES)


def _grads(build, args):
    with tf.Graph().as_default() as g:
        xs = [tf.placeholder(tf.float64, np.shape(a)) for a in args]
        return tf.Session(g).run(tf.gradients(build(*xs), xs), dict(zip(xs, args)))


@pytest.mark.parametrize("build, expected", [
    (tf.maximum, [[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),
    (tf.minimum, [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]),
], ids=["Maximum-ties-go-to-x", "Minimum-ties-go-to-x"])
def test_ties_route_the_gradient_to_x(build, expected):
    gx, gy = _grads(build, [np.array([1.0, 2.0, 0.0]), np.array([1.0, 1.0, 3.0])])
    np.testing.assert_array_equal([gx, gy], expected)


def test_ClipByValue_gradient_goes_to_the_bound_that_was_used():
    gt, glo, ghi = _grads(tf.clip_by_value, [np.array([-2.0, 0.0, 2.0, 1.0]), np.array(-1.0), np.array(1.0)])
    np.testing.assert_array_equal(gt, [0.0, 1.0, 0.0, 1.0])  # 1.0 sits on the bound: still inside
    assert (glo, ghi) == (1.0, 1.0)


def test_where_gradient_reaches_both_branches_unbroadcast():
    c = np.array([[True], [False]])
    gx, gy = _grads(lambda x, y: tf.where(tf.constant(c), x, y), [np.zeros(3), np.zeros((2, 3))])
    np.testing.assert_array_equal(gx, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(gy, [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])


def test_comparisons_have_no_gradient():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [3])
        assert tf.gradients(tf.where(x > 0, 1.0, 2.0) * 3, x) == [None]


@pytest.mark.parametrize("build, dtypes, shapes, error, message", [
    (tf.logical_and, [tf.float32] * 2, [(2,)] * 2, tf.DTypeError,
     "LogicalAnd 'LogicalAnd': input must be bool, found float32"),
    (tf.less, [tf.bool] * 2, [(2,)] * 2, tf.DTypeError, "Less 'Less': input must be floating or integer, found bool"),
    (tf.equal, [tf.int32, tf.int64], [(2,)] * 2, tf.DTypeError,
     "Equal 'Equal': inputs must have the same dtype, found int32, int64"),
    (tf.greater, [tf.float32] * 2, [(2,), (3,)], tf.ShapeError,
     "Greater 'Greater': incompatible shapes for broadcasting: (2,), (3,)"),
    (tf.where, [tf.float32] * 3, [(2,)] * 3, tf.DTypeError,
     "SelectV2 'SelectV2': condition must be bool, found float32"),
    (tf.where, [tf.bool, tf.float32, tf.float64], [(2,)] * 3, tf.DTypeError,
     "SelectV2 'SelectV2': inputs must have the same dtype, found float32, float64"),
    (tf.where, [tf.bool, tf.float32, tf.float32], [(2,), (3,), (1,)], tf.ShapeError,
     "SelectV2 'SelectV2': incompatible shapes for broadcasting"),
    (tf.clip_by_value, [tf.float32] * 3, [(3,), (2, 1), ()], tf.ShapeError,
     "ClipByValue 'ClipByValue': clip values must broadcast to the shape of t (3,), they broadcast it to (2, 3)"),
    (tf.maximum, [tf.bool] * 2, [(2,)] * 2, tf.DTypeError, "Maximum 'Maximum': input must be floating or integer"),
], ids=["LogicalAnd-float", "Less-bool", "Equal-mixed-ints", "Greater-shapes", "SelectV2-float-condition",
        "SelectV2-mixed-values", "SelectV2-shapes", "ClipByValue-grows-t", "Maximum-bool"])
def test_build_errors(build, dtypes, shapes, error, message):
    with tf.Graph().as_default():
        with pytest.raises(error, match="^" + re.escape(message)):
            build(*[tf.placeholder(d, s) for d, s in zip(dtypes, shapes)])


def test_where_needs_both_x_and_y_or_neither():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="x and y must both be given, or both be None"):
            tf.where(tf.placeholder(tf.bool, [2]), 1.0)


def test_tensor_is_not_a_python_bool():
    with tf.Graph().as_default():
        with pytest.raises(TypeError, match="use engine.where"):
            bool(tf.placeholder(tf.float32, [2]) > 0)


@pytest.mark.parametrize("build, shapes, expected", [
    (tf.less, [(None, 3), (3,)], (None, 3)),
    (lambda c, x, y: tf.where(c > 0, x, y), [(None, 1), (1, 4), ()], (None, 4)),
    (lambda c, x, y: tf.where(c > 0, x, y), [None, (4,), ()], None),
    (tf.clip_by_value, [(None, 3), (), (3,)], (None, 3)),
], ids=["Less-unknown-dim", "SelectV2-unknown-dim", "SelectV2-unknown-rank", "ClipByValue-unknown-dim"])
def test_static_shape(build, shapes, expected):
    with tf.Graph().as_default():
        assert build(*[tf.placeholder(tf.float32, s) for s in shapes]).shape.dims == expected
