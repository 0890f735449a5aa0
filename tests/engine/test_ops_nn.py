"""tf.nn: activations, softmax / log_softmax, l2_loss and cross-entropies:
values, dtypes, batching and gradients against numpy, and stability at
logits of +-1000."""
from __future__ import annotations

import re

import numpy as np
import pytest

import engine as tf
from engine.testing import case, check_grads, op_test, value_and_grad

COVERED_OPS = {"Sigmoid", "Tanh", "Relu", "Elu", "Softplus", "Softmax", "LogSoftmax", "L2Loss",
               "SigmoidCrossEntropyWithLogits", "SoftmaxCrossEntropyWithLogits",
               "SparseSoftmaxCrossEntropyWithLogits", "SparseSoftmaxCrossEntropyGrad"}

RNG = np.random.default_rng(2)
M = np.array([[-2.3, -0.6, 0.7, 1.4], [3.2, -1.7, 0.4, -0.3], [2.6, -2.8, 1.1, 0.2]])  # away from kinks at 0
T = RNG.standard_normal((2, 3, 4))
I32 = np.array([[7, -7, 3], [-4, 9, 0]], dtype=np.int32)
PROBS = RNG.dirichlet(np.ones(4), size=3)
UNNORMALIZED = RNG.uniform(0.1, 1.0, (3, 4))
CLASSES = np.array([3, 0, 1], dtype=np.int32)
HUGE = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]])


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _log_softmax(x, axis=-1):
    z = x - x.max(axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis, keepdims=True))


def _softmax(x, axis=-1):
    return np.exp(_log_softmax(x, axis))


def _sigmoid_xent(z, x):
    return np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))


def _sparse_xent(labels, logits):
    return -np.take_along_axis(_log_softmax(logits), labels[..., None], -1)[..., 0]


def _sparse_backprop(labels, logits):
    return _softmax(logits) - np.eye(logits.shape[-1])[labels]


def _softmax_xent(labels, logits, axis=-1):
    return -np.sum(labels * _log_softmax(logits, axis), axis)


CASES = [
    case("Sigmoid", tf.sigmoid, [M], _sigmoid, grad_order=2),
    case("Sigmoid-float32", tf.nn.sigmoid, [M.astype(np.float32)], _sigmoid),
    case("Tanh", tf.tanh, [M], np.tanh, grad_order=2),
    case("Relu", tf.nn.relu, [M], lambda x: np.maximum(x, 0)),
    case("Relu-int32", tf.nn.relu, [I32], lambda x: np.maximum(x, 0)),
    case("Elu", tf.nn.elu, [M], lambda x: np.where(x > 0, x, np.exp(x) - 1), grad_order=2),
    case("Softplus", tf.nn.softplus, [M], lambda x: np.log1p(np.exp(x)), grad_order=2),
    case("Softmax-last-axis", tf.nn.softmax, [M], _softmax, grad_order=2),
    case("Softmax-axis0", lambda x: tf.nn.softmax(x, axis=0), [M], lambda x: _softmax(x, 0)),
    case("Softmax-rank3-middle-axis", lambda x: tf.nn.softmax(x, 1), [T], lambda x: _softmax(x, 1)),
    case("Softmax-float32", tf.nn.softmax, [M.astype(np.float32)], _softmax, rtol=1e-5),
    case("LogSoftmax-last-axis", tf.nn.log_softmax, [M], _log_softmax, grad_order=2),
    case("LogSoftmax-negative-axis", lambda x: tf.nn.log_softmax(x, -2), [T], lambda x: _log_softmax(x, -2)),
    case("L2Loss", tf.nn.l2_loss, [M], lambda x: np.sum(x * x) / 2, grad_order=2),
    case("L2Loss-float32", tf.nn.l2_loss, [T.astype(np.float32)], lambda x: np.sum(x * x) / 2, rtol=1e-5),
    case("SigmoidCrossEntropyWithLogits",
         lambda z, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x), [PROBS, M], _sigmoid_xent,
         grad_order=2),
    case("SoftmaxCrossEntropyWithLogits-v2",
         lambda z, x: tf.nn.softmax_cross_entropy_with_logits_v2(labels=z, logits=x), [PROBS, M], _softmax_xent,
         grad_order=2),
    case("SoftmaxCrossEntropyWithLogits-unnormalized-labels",
         lambda z, x: tf.nn.softmax_cross_entropy_with_logits_v2(labels=z, logits=x), [UNNORMALIZED, M],
         _softmax_xent),
    case("SoftmaxCrossEntropyWithLogits-axis0",
         lambda z, x: tf.nn.softmax_cross_entropy_with_logits_v2(labels=z, logits=x, axis=0), [PROBS, M],
         lambda z, x: _softmax_xent(z, x, 0)),
    case("SoftmaxCrossEntropyWithLogits-rank3", lambda z, x: tf.nn.softmax_cross_entropy_with_logits(
        labels=z, logits=x), [np.abs(T), T], _softmax_xent, grad=False),
    case("SparseSoftmaxCrossEntropyWithLogits",
         lambda y, x: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x), [CLASSES, M],
         _sparse_xent, grad_order=2),
    case("SparseSoftmaxCrossEntropyWithLogits-int64-rank3",
         lambda y, x: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x),
         [np.array([[0, 3, 1], [2, 2, 0]], dtype=np.int64), T], _sparse_xent),
    case("SparseSoftmaxCrossEntropyGrad",
         lambda y, x: tf.gradients(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x), x)[0],
         [CLASSES, M], _sparse_backprop),
]


test_op_matches_numpy = op_test(CASES)




@pytest.mark.parametrize("build, value, grad", [
    (tf.nn.sigmoid, [[1, 0, 0.5], [0, 0, 1]], [[0, 0, 0.25], [0, 0, 0]]),
    (tf.nn.softplus, [[1000, 0, np.log(2)], [0, 0, 1000]], [[1, 0, 0.5], [0, 0, 1]]),
    (tf.nn.softmax, [[1, 0, 0], [0, 0, 1]], np.zeros((2, 3))),
    (tf.nn.log_softmax, [[0, -2000, -1000], [-2000, -2000, 0]], [[-2, 1, 1], [1, 1, -2]]),
    (lambda x: tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.constant(np.full((2, 3), 0.5)), logits=x),
     [[500, 500, np.log(2)], [500, 500, 500]], [[0.5, -0.5, 0], [-0.5, -0.5, 0.5]]),
    (lambda x: tf.nn.softmax_cross_entropy_with_logits(labels=np.array([[0.0, 1, 0], [1, 0, 0]]), logits=x),
     [2000, 2000], [[1, -1, 0], [-1, 0, 1]]),
    (lambda x: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant([1, 2]), logits=x),
     [2000, 0], [[1, -1, 0], [0, 0, 0]]),
], ids=["Sigmoid-huge", "Softplus-huge", "Softmax-huge", "LogSoftmax-huge", "SigmoidCrossEntropyWithLogits-huge",
        "SoftmaxCrossEntropyWithLogits-huge", "SparseSoftmaxCrossEntropyWithLogits-huge"])
def test_stable_at_huge_logits(build, value, grad):
    got_value, got_grad = value_and_grad(build, HUGE)
    np.testing.assert_allclose(got_value, value, atol=1e-12)
    np.testing.assert_allclose(got_grad, grad, atol=1e-12)


def _label_grad(build):
    with tf.Graph().as_default():
        z, x = tf.placeholder(tf.float64, [3, 4]), tf.placeholder(tf.float64, [3, 4])
        return tf.gradients(build(labels=z, logits=x), z)[0]


def test_softmax_cross_entropy_v1_does_not_backprop_into_labels():
    assert _label_grad(tf.nn.softmax_cross_entropy_with_logits) is None


def test_softmax_cross_entropy_v2_backprops_into_labels():
    check_grads(lambda z, x: tf.nn.softmax_cross_entropy_with_logits_v2(labels=z, logits=x), [PROBS, M], wrt=[0])
    assert _label_grad(tf.nn.softmax_cross_entropy_with_logits_v2) is not None


def test_cross_entropies_take_keyword_arguments_only():
    with tf.Graph().as_default():
        with pytest.raises(TypeError):
            tf.nn.softmax_cross_entropy_with_logits(tf.constant(PROBS), tf.constant(M))


def test_sparse_labels_out_of_range_fail_at_run_time():
    with tf.Graph().as_default() as g:
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant([0, 4]), logits=tf.constant(M[:2]))
        with pytest.raises(tf.InvalidArgumentError, match=re.escape("label value of 4 which is outside the valid "
                                                                    "range of [0, 4)")):
            tf.Session(g).run(loss)


def test_relu_gradient_at_zero_is_zero_as_TensorFlow():
    np.testing.assert_array_equal(value_and_grad(tf.nn.relu, np.array([-1.0, 0.0, 2.0]))[1], [0, 0, 1])


@pytest.mark.parametrize("build, specs, error, message", [
    (tf.nn.softmax, [(tf.int32, (2, 3))], tf.DTypeError, "Softmax 'Softmax': logits must be floating, found int32"),
    (lambda x: tf.nn.log_softmax(x, 2), [(tf.float32, (2, 3))], tf.ShapeError,
     "LogSoftmax 'LogSoftmax': axis 2 is out of range for a tensor of rank 2"),
    (tf.nn.softmax, [(tf.float32, ())], tf.ShapeError, "Softmax 'Softmax': axis -1 is out of range"),
    (tf.nn.sigmoid, [(tf.int32, (2,))], tf.DTypeError, "Sigmoid 'Sigmoid': input must be floating, found int32"),
    (tf.nn.l2_loss, [(tf.int64, (2,))], tf.DTypeError, "L2Loss 'L2Loss': input must be floating, found int64"),
    (lambda z, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x), [(tf.float32, (2, 3)),
                                                                                (tf.float32, (3,))],
     tf.ShapeError, "SigmoidCrossEntropyWithLogits 'SigmoidCrossEntropyWithLogits': labels and logits must have "
                    "the same shape"),
    (lambda y, x: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x),
     [(tf.float32, (2,)), (tf.float32, (2, 3))], tf.DTypeError,
     "SparseSoftmaxCrossEntropyWithLogits 'SparseSoftmaxCrossEntropyWithLogits': labels must be integer"),
    (lambda y, x: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x),
     [(tf.int32, (3,)), (tf.float32, (2, 3))], tf.ShapeError,
     "SparseSoftmaxCrossEntropyWithLogits 'SparseSoftmaxCrossEntropyWithLogits': labels must have the shape of "
     "logits without its last (class) dimension"),
    (lambda y, x: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x),
     [(tf.int32, ()), (tf.float32, ())], tf.ShapeError, "logits must have rank >= 1"),
], ids=["Softmax-int", "LogSoftmax-axis", "Softmax-scalar", "Sigmoid-int", "L2Loss-int",
        "SigmoidCrossEntropyWithLogits-shapes",
        "SparseSoftmaxCrossEntropyWithLogits-float-labels", "SparseSoftmaxCrossEntropyWithLogits-shapes",
        "SparseSoftmaxCrossEntropyWithLogits-scalar-logits"])
def test_build_errors(build, specs, error, message):
    with tf.Graph().as_default():
        with pytest.raises(error, match=re.escape(message)):
            build(*[tf.placeholder(d, s) for d, s in specs])


@pytest.mark.parametrize("build, shapes, expected", [
    (tf.nn.softmax, [(None, 3)], (None, 3)),
    (lambda z, x: tf.nn.softmax_cross_entropy_with_logits_v2(labels=z, logits=x), [(None, 3), (2, None)], (2,)),
    (lambda z, x: tf.nn.softmax_cross_entropy_with_logits_v2(labels=z, logits=x, axis=0), [None, None], None),
    (lambda z, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x), [(None, 3), (2, None)], (2, 3)),
    (tf.nn.l2_loss, [None], ()),
], ids=["Softmax-unknown-dim", "SoftmaxCrossEntropyWithLogits-merged", "SoftmaxCrossEntropyWithLogits-unknown-rank",
        "SigmoidCrossEntropyWithLogits-merged", "L2Loss-unknown-rank"])
def test_static_shape(build, shapes, expected):
    with tf.Graph().as_default():
        assert build(*[tf.placeholder(tf.float32, s) for s in shapes]).shape.dims == expected


def test_sparse_static_shape_merges_labels_and_logits():
    with tf.Graph().as_default():
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.placeholder(tf.int64, [None, 5]),
                                                              logits=tf.placeholder(tf.float32, [4, None, 3]))
        assert loss.shape.dims == (4, 5)
