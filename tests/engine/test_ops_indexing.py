"""Slicing (Python indexing, slice, strided_slice), gather and one_hot:
values, dtypes, static shapes, batching and gradients against numpy."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine.ops.toolkit import make
from engine.testing import case, op_test

COVERED_OPS = {"StridedSlice", "StridedSliceGrad", "GatherV2", "GatherGrad", "OneHot"}

RNG = np.random.default_rng(3)
M = RNG.standard_normal((4, 3))
T = RNG.standard_normal((2, 3, 4))
IDX = np.array([2, 0, 2], dtype=np.int32)
IDX2 = np.array([[1, 0], [3, 3]], dtype=np.int64)
LABELS = np.array([0, 2, 1, 2], dtype=np.int32)


CASES = [
    case("StridedSlice-column", lambda x: x[:, 0], [M], lambda x: x[:, 0]),
    case("StridedSlice-rows", lambda x: x[1:3], [M], lambda x: x[1:3]),
    case("StridedSlice-negative-index", lambda x: x[-1], [M], lambda x: x[-1]),
    case("StridedSlice-scalar", lambda x: x[1, -2], [M], lambda x: x[1, -2]),
    case("StridedSlice-step", lambda x: x[::2, 1:], [M], lambda x: x[::2, 1:]),
    case("StridedSlice-reverse", lambda x: x[::-1], [M], lambda x: x[::-1]),
    case("StridedSlice-negative-bounds", lambda x: x[-3:-1, :-1], [M], lambda x: x[-3:-1, :-1]),
    case("StridedSlice-ellipsis-newaxis", lambda x: x[..., None], [T], lambda x: x[..., None]),
    case("StridedSlice-newaxis-middle", lambda x: x[:, tf.newaxis, 1], [T], lambda x: x[:, None, 1]),
    case("StridedSlice-ellipsis-last", lambda x: x[..., 2], [T], lambda x: x[..., 2]),
    case("StridedSlice-ellipsis-middle", lambda x: x[1, ..., 1:3], [T], lambda x: x[1, ..., 1:3]),
    case("StridedSlice-clamped", lambda x: x[2:10], [M], lambda x: x[2:10]),
    case("StridedSlice-empty", lambda x: x[3:1], [M], lambda x: x[3:1]),
    case("StridedSlice-int32", lambda x: x[:, 1], [np.arange(12, dtype=np.int32).reshape(4, 3)], lambda x: x[:, 1]),
    case("StridedSlice-slice-builder", lambda x: tf.slice(x, [1, 0], [2, -1]), [M], lambda x: x[1:3, :]),
    case("StridedSlice-strided_slice-builder", lambda x: tf.strided_slice(x, [0, 2], [4, 0], [2, -1]), [M],
         lambda x: x[0:4:2, 2:0:-1]),
    case("StridedSliceGrad", lambda g, x: make("StridedSliceGrad", [g, x], None, begin=(1,), end=(3,), strides=(1,),
                                               begin_mask=0, end_mask=0, ellipsis_mask=0, new_axis_mask=0,
                                               shrink_axis_mask=0),
         [M[:2], M], lambda g, x: np.concatenate([np.zeros((1, 3)), g, np.zeros((1, 3))])),
    case("GatherV2-rows", lambda p, i: tf.gather(p, i), [M, IDX], lambda p, i: p[i]),
    case("GatherV2-axis1", lambda p, i: tf.gather(p, i, axis=1), [T, IDX], lambda p, i: p[:, i]),
    case("GatherV2-axis-negative-2d-indices", lambda p, i: tf.gather(p, i, axis=-1), [T, IDX2],
         lambda p, i: np.take(p, i, axis=-1)),
    case("GatherV2-scalar-index", lambda p, i: tf.gather(p, i), [M, np.int32(3)], lambda p, i: p[3]),
    case("GatherV2-int32-params", lambda p, i: tf.gather(p, i), [IDX, np.array([1, 1], np.int32)],
         lambda p, i: p[i]),
    case("GatherGrad-repeated-indices", lambda g, i, p: make("GatherGrad", [g, i, p], None, axis=0),
         [M[:3], IDX, M], lambda g, i, p: np.stack([g[1], np.zeros(3), g[0] + g[2], np.zeros(3)])),
    case("OneHot-default-float32", lambda i: tf.one_hot(i, 3), [LABELS], lambda i: np.eye(3, dtype=np.float32)[i]),
    case("OneHot-axis0-values", lambda i: tf.one_hot(i, 3, on_value=5.0, off_value=-1.0, axis=0, dtype=tf.float64),
         [LABELS], lambda i: np.where(np.eye(3)[i].T == 1, 5.0, -1.0)),
    case("OneHot-int-values-give-int32", lambda i: tf.one_hot(i, 4, on_value=7), [IDX2.astype(np.int32)],
         lambda i: 7 * np.eye(4, dtype=np.int32)[i]),
    case("OneHot-out-of-range-is-off", lambda i: tf.one_hot(i, 2), [np.array([-1, 0, 5], np.int64)],
         lambda i: np.array([[0, 0], [1, 0], [0, 0]], np.float32)),
]


test_op_matches_numpy = op_test(CASES)


def test_GatherV2_batching_rule_with_only_the_indices_batched():
    with tf.Graph().as_default() as g:
        i = tf.placeholder(tf.int32, [2])
        y = tf.gather(tf.constant(T), i, axis=1)
        rows = np.array([[0, 2], [1, 1], [2, 0]], np.int32)
        expected = np.stack([T[:, r] for r in rows])
        np.testing.assert_allclose(tf.Session(g).run_batched(y, {i: rows}), expected)


@pytest.mark.parametrize("build, shape, expected", [
    (lambda x: x[:, 0], (None, 3), (None,)),
    (lambda x: x[1:3], (None, 3), (None, 3)),
    (lambda x: x[..., None], None, None),
    (lambda x: x[0], (5,), ()),
    (lambda x: tf.gather(x, [0, 1]), (None, 3), (2, 3)),
    (lambda x: tf.gather(x, tf.placeholder(tf.int32, [None]), axis=1), (None, 3), (None, None)),
    (lambda x: tf.one_hot(tf.cast(x, tf.int32), 4), (None, 3), (None, 3, 4)),
    (lambda x: tf.one_hot(tf.cast(x, tf.int32), 4, axis=1), (None, 3), (None, 4, 3)),
], ids=["StridedSlice-unknown-dim", "StridedSlice-unknown-sliced-dim", "StridedSlice-unknown-rank",
        "StridedSlice-scalar", "GatherV2-unknown-params-dim", "GatherV2-unknown-indices", "OneHot-last",
        "OneHot-axis1"])
def test_static_shape(build, shape, expected):
    with tf.Graph().as_default():
        assert build(tf.placeholder(tf.float32, shape)).shape.dims == expected


def test_StridedSlice_gradient_with_unknown_dims():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float64, [None, 3])
        grad, = tf.gradients(tf.reduce_sum(x[1:, ::2] * 2.0), x)
        np.testing.assert_allclose(tf.Session(g).run(grad, {x: np.ones((3, 3))}),
                                   [[0, 0, 0], [2, 0, 2], [2, 0, 2]])


@pytest.mark.parametrize("build, shape, error, message", [
    (lambda x: x[3], (2, 3), tf.ShapeError,
     "StridedSlice 'strided_slice': index 3 is out of range for axis 0 of size 2"),
    (lambda x: x[0, 0, 0], (2, 3), tf.ShapeError, "3 indices for a tensor of rank 2"),
    (lambda x: x[..., 0, ...], (2, 3), tf.ShapeError, "one ellipsis only"),
    (lambda x: x[::0], (2, 3), tf.ShapeError, "strides must not be zero"),
    (lambda x: x[tf.constant(0)], (2, 3), TypeError, "use engine.gather"),
    (lambda x: x[0.5], (2, 3), TypeError, "indexed with ints"),
    (lambda x: tf.gather(x, [0.5]), (2, 3), tf.DTypeError,
     "GatherV2 'GatherV2': indices must be integer, found float32"),
    (lambda x: tf.gather(x, [0], axis=2), (2, 3), tf.ShapeError, "axis 2 is out of range for a tensor of rank 2"),
    (lambda x: tf.one_hot(x, 3), (2,), tf.DTypeError, "OneHot 'one_hot': indices must be integer"),
    (lambda x: tf.one_hot(tf.cast(x, tf.int32), 3, axis=3), (2,), tf.ShapeError, "axis 3 is out of range"),
], ids=["StridedSlice-index-range", "StridedSlice-too-many", "StridedSlice-two-ellipses", "StridedSlice-zero-step",
        "StridedSlice-tensor-index", "StridedSlice-float-index", "GatherV2-float-indices", "GatherV2-axis",
        "OneHot-float-indices", "OneHot-axis"])
def test_build_errors(build, shape, error, message):
    with tf.Graph().as_default():
        with pytest.raises(error) as info:
            build(tf.placeholder(tf.float32, shape))
        assert message in str(info.value)


@pytest.mark.parametrize("build, feed, message", [
    (lambda x: tf.gather(tf.constant(M), x), np.array([4], np.int32), r"gather index 4 is not in \[0, 4\)"),
    (lambda x: tf.gather(tf.constant(M), x), np.array([-1], np.int32), r"gather index -1 is not in \[0, 4\)"),
    (lambda x: x[5], np.zeros(3, np.int32), "slice of an array of shape"),
], ids=["GatherV2-index-too-large", "GatherV2-negative-index", "StridedSlice-index-at-run-time"])
def test_run_time_errors(build, feed, message):
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.int32, [None])
        with pytest.raises(tf.InvalidArgumentError, match=message):
            tf.Session(g).run(build(x), {x: feed})
