"""Shape manipulation, shape queries, concat/stack/unstack: values, dtypes,
static shapes, batching and gradients against numpy (engine.testing.check_op)."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine.ops.toolkit import make
from engine.ops.array import reshape_like
from engine.ops.joining import split_like
from engine.testing import case, numerical_gradient, op_test

COVERED_OPS = {"Reshape", "ReshapeLike", "Transpose", "ExpandDims", "Squeeze", "Tile", "TileGrad", "Shape", "Size",
               "Rank", "ConcatV2", "SplitLike", "Pack", "Unpack"}

RNG = np.random.default_rng(2)
M = RNG.standard_normal((2, 3))
T = RNG.standard_normal((2, 3, 4))
COLUMN = RNG.standard_normal((3, 1))
INTS = np.arange(6, dtype=np.int32).reshape(2, 3)


def _tile_grad(g, x):
    return make("TileGrad", [g, x], None, multiples=(2, 1))


CASES = [
    case("Reshape-flat", lambda x: tf.reshape(x, [-1]), [T], lambda x: x.reshape(-1)),
    case("Reshape-infer-dim", lambda x: tf.reshape(x, [4, -1]), [T], lambda x: x.reshape(4, -1)),
    case("Reshape-to-scalar", lambda x: tf.reshape(x, []), [np.array([2.5])], lambda x: x.reshape(())),
    case("Reshape-int32", lambda x: tf.reshape(x, (3, 2)), [INTS], lambda x: x.reshape(3, 2)),
    case("ReshapeLike", reshape_like, [M.reshape(-1), M], lambda x, like: x.reshape(like.shape)),
    case("Transpose-default-reverses", tf.transpose, [T], np.transpose),
    case("Transpose-perm", lambda x: tf.transpose(x, [1, 0, 2]), [T], lambda x: x.transpose(1, 0, 2)),
    case("Transpose-2d", lambda x: tf.transpose(x, [1, 0]), [M], lambda x: x.T),
    case("ExpandDims-front", lambda x: tf.expand_dims(x, 0), [M], lambda x: x[None]),
    case("ExpandDims-negative", lambda x: tf.expand_dims(x, -1), [M], lambda x: x[..., None]),
    case("ExpandDims-middle", lambda x: tf.expand_dims(x, 1), [M], lambda x: x[:, None]),
    case("Squeeze-all", tf.squeeze, [T[:1, :, :1]], np.squeeze),
    case("Squeeze-axis", lambda x: tf.squeeze(x, [-1]), [COLUMN], lambda x: x[:, 0]),
    case("Squeeze-keeps-other-ones", lambda x: tf.squeeze(x, 2), [T[:1, :, :1]], lambda x: x[:, :, 0]),
    case("Tile-rows", lambda x: tf.tile(x, [2, 1]), [M], lambda x: np.tile(x, (2, 1))),
    case("Tile-3d", lambda x: tf.tile(x, [1, 2, 3]), [T], lambda x: np.tile(x, (1, 2, 3))),
    case("Tile-int32", lambda x: tf.tile(x, [2, 2]), [INTS], lambda x: np.tile(x, (2, 2))),
    case("TileGrad", _tile_grad, [np.tile(M, (2, 1)), M], lambda g, x: g[:2] + g[2:]),
    case("Shape", tf.shape, [T], lambda x: np.array(x.shape, np.int32)),
    case("Shape-int64", lambda x: tf.shape(x, out_type=tf.int64), [M], lambda x: np.array(x.shape)),
    case("Size", tf.size, [T], lambda x: np.int32(x.size)),
    case("Rank", tf.rank, [M], lambda x: np.int32(x.ndim)),
    case("ConcatV2-axis0", lambda x, y: tf.concat([x, y], 0), [M, T[:, :, 0]], lambda x, y: np.concatenate([x, y], 0)),
    case("ConcatV2-negative-axis", lambda x, y: tf.concat([x, y], -1), [M, T[:, :, 0]],
         lambda x, y: np.concatenate([x, y], -1)),
    case("ConcatV2-three", lambda x, y, z: tf.concat([x, y, z], 1), [M, M * 2, T[:, :, 0]],
         lambda x, y, z: np.concatenate([x, y, z], 1)),
    case("ConcatV2-python-values", lambda x: tf.concat([x, [[1.0, 2.0, 3.0]]], 0), [M],
         lambda x: np.concatenate([x, [[1.0, 2.0, 3.0]]], 0)),
    case("ConcatV2-one-tensor", lambda x: tf.concat([x], 1), [M], lambda x: x),
    case("SplitLike", lambda x, a, b: split_like(x, [a, b], 1)[1], [T[:, :3, 0], M[:, :1], M[:, :2]],
         lambda x, a, b: x[:, 1:]),
    case("Pack-axis0", lambda x, y: tf.stack([x, y]), [M, M * 3], lambda x, y: np.stack([x, y])),
    case("Pack-last-axis", lambda x, y: tf.stack([x, y], axis=-1), [M, M * 3], lambda x, y: np.stack([x, y], -1)),
    case("Pack-int32", lambda x: tf.stack([x, x], 1), [INTS], lambda x: np.stack([x, x], 1)),
    case("Unpack-axis0", lambda x: tf.unstack(x)[1], [T], lambda x: x[1]),
    case("Unpack-axis-negative", lambda x: tf.unstack(x, axis=-1)[3], [T], lambda x: x[..., 3]),
    case("Unpack-sum-of-parts", lambda x: tf.add_n(tf.unstack(x, axis=1)), [T], lambda x: x.sum(1)),
]


test_op_matches_numpy = op_test(CASES)


@pytest.mark.parametrize("build, shape, expected", [
    (lambda x: tf.reshape(x, [-1, 2]), (None, 4), (None, 2)),
    (lambda x: tf.reshape(x, [3, 4]), None, (3, 4)),
    (lambda x: tf.transpose(x), (None, 3), (3, None)),
    (lambda x: tf.transpose(x, [1, 0]), None, (None, None)),
    (lambda x: tf.expand_dims(x, 1), (None, 3), (None, 1, 3)),
    (lambda x: tf.squeeze(x, [1]), (None, 1), (None,)),
    (lambda x: tf.squeeze(x), (None, 1), None),
    (lambda x: tf.tile(x, [2, 3]), (None, 3), (None, 9)),
    (lambda x: tf.shape(x), (None, 3), (2,)),
    (lambda x: tf.shape(x), None, (None,)),
    (lambda x: tf.concat([x, x], 0), (None, 3), (None, 3)),
    (lambda x: tf.concat([x, x], 1), (None, 3), (None, 6)),
    (lambda x: tf.concat([x, tf.placeholder(tf.float32)], 1), (None, 3), (None, None)),
    (lambda x: tf.stack([x, x], 1), (None, 3), (None, 2, 3)),
    (lambda x: tf.unstack(x, axis=1)[0], (None, 3), (None,)),
], ids=["Reshape-unknown-dim", "Reshape-unknown-rank", "Transpose-unknown-dim", "Transpose-unknown-rank",
        "ExpandDims-unknown-dim", "Squeeze-unknown-dim", "Squeeze-all-unknown", "Tile-unknown-dim",
        "Shape-known-rank", "Shape-unknown-rank", "ConcatV2-unknown-rows", "ConcatV2-known-axis",
        "ConcatV2-unknown-rank-operand", "Pack-unknown-dim", "Unpack-unknown-dim"])
def test_static_shape(build, shape, expected):
    with tf.Graph().as_default():
        assert build(tf.placeholder(tf.float32, shape)).shape.dims == expected


@pytest.mark.parametrize("build, feed", [
    (lambda x: tf.reduce_sum(tf.reshape(x, [-1]) ** 2), np.arange(6.0).reshape(3, 2)),
    (lambda x: tf.reduce_sum(tf.squeeze(x) * 3.0), np.ones((4, 1))),
    (lambda x: tf.reduce_sum(tf.concat([x, 2.0 * x], 0)), np.ones((4, 2))),
    (lambda x: tf.reduce_sum(tf.tile(x, [3, 1])), np.ones((4, 2))),
], ids=["Reshape-grad-unknown-dim", "Squeeze-grad-unknown-dim", "ConcatV2-grad-unknown-dim", "Tile-grad-unknown-dim"])
def test_gradient_with_unknown_dims(build, feed):
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float64, (None,) + feed.shape[1:])
        y = build(x)
        grad, = tf.gradients(y, x)
        sess = tf.Session(g)
        numeric = numerical_gradient(lambda v: float(sess.run(y, {x: v[0]})), [feed], 0, 1e-6)
        np.testing.assert_allclose(sess.run(grad, {x: feed}), numeric, rtol=1e-6)


def test_Shape_batching_reports_the_row_shape():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 3])
        rows = np.zeros((4, 2, 3), np.float32)
        np.testing.assert_array_equal(tf.Session(g).run_batched(tf.shape(x), {x: rows}), [[2, 3]] * 4)


def test_Squeeze_batching_keeps_a_batch_of_one():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float64, [1, 3])
        assert tf.Session(g).run_batched(tf.squeeze(x), {x: np.ones((1, 1, 3))}).shape == (1, 3)


def test_Unpack_has_one_output_per_slice():
    with tf.Graph().as_default():
        parts = tf.unstack(tf.placeholder(tf.float32, [4, 2]))
        assert len(parts) == 4 and {p.op for p in parts} == {parts[0].op}


@pytest.mark.parametrize("build, shape, error, message", [
    (lambda x: tf.reshape(x, [4, 2]), (2, 3), tf.ShapeError,
     "Reshape 'Reshape': cannot reshape a tensor of shape (2, 3) (6 elements) into shape [4, 2]"),
    (lambda x: tf.reshape(x, [4, -1]), (2, 3), tf.ShapeError, "cannot reshape a tensor of shape (2, 3)"),
    (lambda x: tf.reshape(x, [-1, -1]), (2, 3), tf.ShapeError, "at most one -1"),
    (lambda x: tf.transpose(x, [0, 0]), (2, 3), tf.ShapeError,
     "Transpose 'transpose': perm [0, 0] is not a permutation of the 2 axes"),
    (lambda x: tf.expand_dims(x, 3), (2, 3), tf.ShapeError, "ExpandDims 'ExpandDims': axis 3 is out of range"),
    (lambda x: tf.squeeze(x, [1]), (2, 3), tf.ShapeError, "Squeeze 'Squeeze': cannot squeeze axis 1 of size 3"),
    (lambda x: tf.tile(x, [2]), (2, 3), tf.ShapeError, "Tile 'Tile': multiples [2] must hold one"),
    (lambda x: tf.concat([x, tf.placeholder(tf.float32, [3])], 0), (2, 3), tf.ShapeError,
     "ConcatV2 'concat': cannot concatenate tensors of different ranks: (2, 3), (3,)"),
    (lambda x: tf.concat([x, tf.placeholder(tf.float32, [2, 4])], 0), (2, 3), tf.ShapeError,
     "shapes differ outside axis 0: (2, 3), (2, 4)"),
    (lambda x: tf.concat([x, x], 2), (2, 3), tf.ShapeError, "ConcatV2 'concat': axis 2 is out of range"),
    (lambda x: tf.concat([x, tf.placeholder(tf.float64, [2, 3])], 0), (2, 3), tf.DTypeError,
     "inputs must have the same dtype, found float32, float64"),
    (lambda x: tf.stack([x, tf.placeholder(tf.float32, [3, 2])]), (2, 3), tf.ShapeError,
     "Pack 'stack': cannot stack tensors of different shapes: (2, 3), (3, 2)"),
    (lambda x: tf.unstack(x, num=3), (2, 3), tf.ShapeError, "cannot unstack axis 0 of size 2 into 3 tensors"),
    (lambda x: tf.unstack(x), (None, 3), ValueError, "cannot infer num from shape (?, 3)"),
    (lambda x: tf.shape(x, out_type=tf.float32), (2, 3), tf.DTypeError, "out_type must be int32 or int64"),
    (lambda x: tf.reshape(x, tf.shape(x)), (2, 3), TypeError, "must be Python ints known when the graph is built"),
], ids=["Reshape-sizes", "Reshape-indivisible", "Reshape-two-unknowns", "Transpose-perm", "ExpandDims-axis",
        "Squeeze-not-one", "Tile-multiples", "ConcatV2-ranks", "ConcatV2-dims", "ConcatV2-axis", "ConcatV2-dtypes",
        "Pack-shapes", "Unpack-num", "Unpack-unknown-num", "Shape-out-type", "Reshape-tensor-shape"])
def test_build_errors(build, shape, error, message):
    with tf.Graph().as_default():
        with pytest.raises(error) as info:
            build(tf.placeholder(tf.float32, shape))
        assert message in str(info.value)


def test_Reshape_of_unknown_dims_fails_at_run_time_with_the_shapes():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None])
        message = r"cannot reshape an array of shape \(5,\) into shape \[2, 2\]"
        with pytest.raises(tf.InvalidArgumentError, match=message):
            tf.Session(g).run(tf.reshape(x, [2, 2]), {x: np.ones(5, np.float32)})
