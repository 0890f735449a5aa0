"""Reductions and argmax/argmin: values, dtypes, static shapes, batching and
gradients against numpy, through engine.testing.check_op."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine.ops.toolkit import make
from engine.ops.reduction import reduced_count, unreduce
from engine.testing import case, op_test, value_and_grad

COVERED_OPS = {"Sum", "Mean", "Max", "Min", "Prod", "Any", "All", "ArgMax", "ArgMin",
               "Unreduce", "ReducedCount", "ExtremumWeights", "ProdOthers"}

RNG = np.random.default_rng(0)
M = RNG.standard_normal((3, 4))
T = RNG.standard_normal((2, 3, 4))
INTS = np.array([[-7, 2, 5], [3, -1, -4]], dtype=np.int32)
TIES = np.array([[1.0, 3.0, 3.0], [2.0, -1.0, 0.5]])  # two tied maxima in row 0
WITH_ZEROS = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 1.5], [1.2, -0.7, 2.0]])
BOOLS = np.array([[True, False, True], [True, True, True]])


def _int_mean(x, axis=None, keepdims=False):
    """TensorFlow's integer mean: the sum divided by the count, truncated toward zero."""
    total = np.sum(x, axis=axis, keepdims=keepdims)
    return np.trunc(total / (x.size // max(np.size(total), 1))).astype(x.dtype)


def _weights(x):
    return make("ExtremumWeights", [x, tf.reduce_max(x, 1)], None, axis=(1,), keepdims=False)


def _prod_others(x, axis):
    return make("ProdOthers", [x], None, axis=axis)


CASES = [
    case("Sum-all", tf.reduce_sum, [M], np.sum),
    case("Sum-axis0", lambda x: tf.reduce_sum(x, 0), [M], lambda x: np.sum(x, 0)),
    case("Sum-negative-axis-keepdims", lambda x: tf.reduce_sum(x, -1, keepdims=True), [T],
         lambda x: np.sum(x, -1, keepdims=True)),
    case("Sum-axis-list", lambda x: tf.reduce_sum(x, [0, 2]), [T], lambda x: np.sum(x, (0, 2))),
    case("Sum-all-keepdims", lambda x: tf.reduce_sum(x, keepdims=True), [T], lambda x: np.sum(x, keepdims=True)),
    case("Sum-int32-keeps-dtype", lambda x: tf.reduce_sum(x, 1), [INTS], lambda x: np.sum(x, 1, dtype=np.int32)),
    case("Sum-reduction_indices", lambda x: tf.reduce_sum(x, reduction_indices=[1]), [M], lambda x: np.sum(x, 1)),
    case("Mean-all", tf.reduce_mean, [M], np.mean),
    case("Mean-axis1", lambda x: tf.reduce_mean(x, 1), [T], lambda x: np.mean(x, 1)),
    case("Mean-axes-keepdims", lambda x: tf.reduce_mean(x, [0, -1], keepdims=True), [T],
         lambda x: np.mean(x, (0, 2), keepdims=True)),
    case("Mean-int32-truncates", lambda x: tf.reduce_mean(x, 1), [INTS], lambda x: _int_mean(x, 1)),
    case("Mean-int32-all", tf.reduce_mean, [INTS], _int_mean),
    case("Max-all", tf.reduce_max, [M], np.max),
    case("Max-axis1", lambda x: tf.reduce_max(x, 1), [T], lambda x: np.max(x, 1)),
    case("Max-ties-split", lambda x: tf.reduce_max(x, 1), [TIES], lambda x: np.max(x, 1)),
    case("Max-keepdims", lambda x: tf.reduce_max(x, 0, keepdims=True), [M], lambda x: np.max(x, 0, keepdims=True)),
    case("Max-int32", lambda x: tf.reduce_max(x, 0), [INTS], lambda x: np.max(x, 0)),
    case("Min-all", tf.reduce_min, [M], np.min),
    case("Min-axes", lambda x: tf.reduce_min(x, [1, 2]), [T], lambda x: np.min(x, (1, 2))),
    case("Min-ties-split", lambda x: tf.reduce_min(-x, 1), [TIES], lambda x: np.min(-x, 1)),
    case("Prod-all", tf.reduce_prod, [M], np.prod),
    case("Prod-axis1", lambda x: tf.reduce_prod(x, 1), [T], lambda x: np.prod(x, 1)),
    case("Prod-zeros", lambda x: tf.reduce_prod(x, -1, keepdims=True), [WITH_ZEROS],
         lambda x: np.prod(x, -1, keepdims=True)),
    case("Prod-int32", lambda x: tf.reduce_prod(x, 0), [INTS], lambda x: np.prod(x, 0, dtype=np.int32)),
    case("Any-axis1", lambda x: tf.reduce_any(x, 1), [BOOLS], lambda x: np.any(x, 1)),
    case("Any-all", tf.reduce_any, [BOOLS], np.any),
    case("All-axis0-keepdims", lambda x: tf.reduce_all(x, 0, keepdims=True), [BOOLS],
         lambda x: np.all(x, 0, keepdims=True)),
    case("All-all", tf.reduce_all, [BOOLS], np.all),
    case("ArgMax-int64-default", lambda x: tf.argmax(x, 1), [M], lambda x: np.argmax(x, 1)),
    case("ArgMax-axis-default-0", tf.argmax, [T], lambda x: np.argmax(x, 0)),
    case("ArgMax-int32-negative-axis", lambda x: tf.argmax(x, -1, output_type=tf.int32), [INTS],
         lambda x: np.argmax(x, -1).astype(np.int32)),
    case("ArgMin-axis1", lambda x: tf.argmin(x, 1), [T], lambda x: np.argmin(x, 1)),
    case("Unreduce-axis1", lambda g, x: unreduce(g, x, (1,), False), [M[:, 0], M],
         lambda g, x: np.repeat(g[:, None], 4, 1)),
    case("Unreduce-all-keepdims", lambda g, x: unreduce(g, x, None, True), [M[:1, :1], M],
         lambda g, x: np.broadcast_to(g, x.shape)),
    case("ExtremumWeights-ties", _weights, [TIES],
         lambda x: np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]]), grad=False),
    case("ProdOthers-zeros", lambda x: _prod_others(x, (1,)), [WITH_ZEROS],
         lambda x: np.stack([[np.prod(np.delete(r, i)) for i in range(3)] for r in x]), grad=False),
    case("ProdOthers-all", lambda x: _prod_others(x, None), [M[:2, :3]],
         lambda x: np.array([np.prod(np.delete(x.ravel(), i)) for i in range(6)]).reshape(2, 3), grad=False),
]


test_op_matches_numpy = op_test(CASES)




def test_Max_gradient_splits_three_ties_equally():
    x = np.array([2.0, 5.0, 5.0, 5.0])
    np.testing.assert_allclose(value_and_grad(tf.reduce_max, x)[1], [0, 1 / 3, 1 / 3, 1 / 3])


def test_Mean_gradient_with_unknown_dims_counts_at_run_time():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float64, [None, 3])
        grad, = tf.gradients(tf.reduce_mean(x, 0), x)
        assert "ReducedCount" in {op.type for op in g.get_operations()}
        np.testing.assert_allclose(tf.Session(g).run(grad, {x: np.ones((4, 3))}), np.full((4, 3), 0.25))


def test_ReducedCount_is_constant_when_dims_are_known():
    with tf.Graph().as_default():
        assert reduced_count(tf.placeholder(tf.float32, [2, 5]), (1,)).op.type == "Const"


@pytest.mark.parametrize("shape, build, expected", [
    ((None, 3), lambda x: tf.reduce_sum(x, 1), (None,)),
    ((None, 3), lambda x: tf.reduce_sum(x, 0, keepdims=True), (1, 3)),
    ((None, 3), lambda x: tf.reduce_mean(x), ()),
    (None, lambda x: tf.reduce_sum(x), ()),
    (None, lambda x: tf.reduce_max(x, 1), None),
    ((None, 3, 2), lambda x: tf.argmax(x, -1), (None, 3)),
], ids=["Sum-unknown-dim", "Sum-unknown-keepdims", "Mean-unknown-all", "Sum-unknown-rank-all",
        "Max-unknown-rank-axis", "ArgMax-unknown-dim"])
def test_static_shape(shape, build, expected):
    with tf.Graph().as_default():
        assert build(tf.placeholder(tf.float32, shape)).shape.dims == expected


@pytest.mark.parametrize("build, dtype, error, message", [
    (lambda x: tf.reduce_sum(x, 2), tf.float32, tf.ShapeError,
     "Sum 'Sum': axis 2 is out of range for a tensor of rank 2"),
    (lambda x: tf.reduce_mean(x, [0, -2]), tf.float32, tf.ShapeError, "Mean 'Mean': axis [0, -2] names an axis twice"),
    (lambda x: tf.argmax(x, -3), tf.float32, tf.ShapeError, "ArgMax 'ArgMax': axis -3 is out of range"),
    (lambda x: tf.reduce_sum(x), tf.bool, tf.DTypeError, "Sum 'Sum': input must be floating or integer, found bool"),
    (lambda x: tf.reduce_any(x), tf.float32, tf.DTypeError, "Any 'Any': input must be bool, found float32"),
    (lambda x: tf.argmax(x, output_type=tf.float32), tf.float32, tf.DTypeError, "output_type must be int32 or int64"),
], ids=["Sum-axis-out-of-range", "Mean-duplicate-axis", "ArgMax-axis-out-of-range", "Sum-bool",
        "Any-float", "ArgMax-output-type"])
def test_build_errors(build, dtype, error, message):
    with tf.Graph().as_default():
        with pytest.raises(error, match=message.replace("[", r"\[").replace("(", r"\(")):
            build(tf.placeholder(dtype, [2, 3]))


def test_axis_must_be_static():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2, 3])
        with pytest.raises(TypeError, match="axis must be a Python int"):
            tf.reduce_sum(x, tf.constant(0))


def test_the_mean_of_no_values_is_nan_without_a_warning(recwarn):
    with tf.Graph().as_default():
        value = tf.Session().run(tf.reduce_mean(tf.zeros([0, 2], tf.float64), axis=0))
    np.testing.assert_array_equal(value, [np.nan, np.nan])  # TF 1.x: NaN
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
