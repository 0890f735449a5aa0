"""engine.losses against the numpy formula in each docstring, for every reduction,
with gradients checked by finite differences and extreme logits kept finite."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine.losses import Reduction
from engine.testing import check_grads

RNG = np.random.default_rng(5)
P = RNG.uniform(0.1, 0.9, (4, 3))  # probabilities / positive predictions
L = RNG.uniform(0.1, 0.9, (4, 3))  # labels of the same shape
Z = RNG.standard_normal((4, 3)) * 2  # logits
BINARY = (RNG.random((4, 3)) < 0.5).astype(np.float64)
ONEHOT = np.eye(3)[[0, 2, 1, 2]]
CLASSES = np.array([0, 2, 1, 2], dtype=np.int32)
DIST_P = P / P.sum(axis=1, keepdims=True)
DIST_L = L / L.sum(axis=1, keepdims=True)
ALL = Reduction.all()


def log_softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def reduce(losses, weights, reduction):
    """TensorFlow 1.x's compute_weighted_loss in numpy."""
    w = np.broadcast_to(np.asarray(weights, dtype=np.float64), losses.shape)
    total = np.sum(losses * w)
    return {Reduction.NONE: losses * w, Reduction.SUM: total, Reduction.SUM_OVER_BATCH_SIZE: total / losses.size,
            Reduction.MEAN: total / w.sum() if w.sum() else 0.0,
            Reduction.SUM_BY_NONZERO_WEIGHTS: total / np.count_nonzero(w) if np.count_nonzero(w) else 0.0}[reduction]


# (loss function, labels, predictions, numpy elementwise / per-example loss, per-example weights)
LOSSES = {
    "mean_squared_error": (tf.losses.mean_squared_error, L, P, lambda l, p: (p - l) ** 2),
    "absolute_difference": (tf.losses.absolute_difference, L, P, lambda l, p: np.abs(p - l)),
    "log_loss": (tf.losses.log_loss, L, P, lambda l, p: -l * np.log(p + 1e-7) - (1 - l) * np.log(1 - p + 1e-7)),
    "sigmoid_cross_entropy": (tf.losses.sigmoid_cross_entropy, BINARY, Z,
                              lambda z, x: np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))),
    "softmax_cross_entropy": (tf.losses.softmax_cross_entropy, ONEHOT, Z, lambda z, x: -np.sum(z * log_softmax(x), -1)),
    "sparse_softmax_cross_entropy": (tf.losses.sparse_softmax_cross_entropy, CLASSES, Z,
                                     lambda c, x: -log_softmax(x)[np.arange(len(c)), c]),
    "hellinger_distance": (tf.losses.hellinger_distance, DIST_L, DIST_P,
                           lambda l, p: np.sqrt(0.5 * np.sum((np.sqrt(l) - np.sqrt(p)) ** 2, -1, keepdims=True))),
    "itakura_saito_divergence": (tf.losses.itakura_saito_divergence, L, P,
                                 lambda l, p: np.sum(l / p - np.log(l / p) - 1, -1, keepdims=True)),
}
PER_EXAMPLE = {"softmax_cross_entropy", "sparse_softmax_cross_entropy"}
WEIGHTS = {"scalar": 2.5, "zero": 0.0, "per-example": np.array([1.0, 0.0, 2.0, 0.5])}


def weights_for(loss_name, kind):
    """The weights of `kind` shaped for the loss (per-example weights broadcast over what remains)."""
    w = WEIGHTS[kind]
    if kind != "per-example" or loss_name in PER_EXAMPLE:
        return w
    return w[:, None]


CASES = [pytest.param(name, kind, reduction, id=f"{name}-{kind}-{reduction}")
         for name in LOSSES for kind in ("default", *WEIGHTS) for reduction in ALL
         if kind != "default" or reduction == Reduction.SUM_BY_NONZERO_WEIGHTS]


def evaluate(tensor):
    return tf.Session(tensor.graph).run(tensor)


@pytest.mark.parametrize("name, kind, reduction", CASES)
def test_loss_matches_numpy(name, kind, reduction):
    build, labels, predictions, formula = LOSSES[name]
    with tf.Graph().as_default():
        if kind == "default":
            got, weights = evaluate(build(labels, predictions)), 1.0
        else:
            weights = weights_for(name, kind)
            got = evaluate(build(labels, predictions, weights=weights, reduction=reduction))
    want = reduce(formula(labels, predictions), weights, reduction)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


GRAD_CASES = [pytest.param(name, id=name) for name in LOSSES]


@pytest.mark.parametrize("name", GRAD_CASES)
def test_gradient_matches_finite_differences(name):
    build, labels, predictions, _ = LOSSES[name]
    check_grads(lambda p: build(labels, p, weights=weights_for(name, "per-example")), [predictions])


@pytest.mark.parametrize("name", ["mean_squared_error", "absolute_difference", "hellinger_distance",
                                  "itakura_saito_divergence", "log_loss"])
def test_gradient_with_respect_to_labels(name):
    build, labels, predictions, _ = LOSSES[name]
    check_grads(lambda l: build(l, predictions), [labels])


@pytest.mark.parametrize("name", ["sigmoid_cross_entropy", "softmax_cross_entropy", "sparse_softmax_cross_entropy"])
def test_extreme_logits_give_finite_losses_and_gradients(name):
    build, labels, _, _ = LOSSES[name]
    logits = np.where(RNG.random((4, 3)) < 0.5, -1000.0, 1000.0)
    with tf.Graph().as_default():
        x = tf.constant(logits)
        loss = build(labels, x)
        value, grad = tf.Session().run([loss, tf.gradients(loss, x)[0]])
    assert np.isfinite(value) and np.all(np.isfinite(grad))


def test_sigmoid_label_smoothing_moves_labels_towards_one_half():
    with tf.Graph().as_default():
        got = evaluate(tf.losses.sigmoid_cross_entropy(BINARY, Z, label_smoothing=0.2))
    z = BINARY * 0.8 + 0.1
    np.testing.assert_allclose(got, np.mean(np.maximum(Z, 0) - Z * z + np.log1p(np.exp(-np.abs(Z)))), rtol=1e-12)


def test_softmax_label_smoothing_spreads_over_the_classes():
    with tf.Graph().as_default():
        got = evaluate(tf.losses.softmax_cross_entropy(ONEHOT, Z, label_smoothing=0.3))
    z = ONEHOT * 0.7 + 0.1
    np.testing.assert_allclose(got, np.mean(-np.sum(z * log_softmax(Z), -1)), rtol=1e-12)


def test_softmax_cross_entropy_does_not_differentiate_labels():
    with tf.Graph().as_default():
        labels = tf.constant(ONEHOT)
        assert tf.gradients(tf.losses.softmax_cross_entropy(labels, tf.constant(Z)), labels) == [None]


def test_hellinger_distance_of_equal_distributions_is_zero_with_zero_gradient():
    with tf.Graph().as_default():
        p = tf.constant(DIST_P)
        loss = tf.losses.hellinger_distance(DIST_P, p)
        value, grad = tf.Session().run([loss, tf.gradients(loss, p)[0]])
    assert value == 0.0 and np.all(grad == 0.0)


def test_integer_labels_are_cast_to_the_predictions_dtype():
    with tf.Graph().as_default():
        got = evaluate(tf.losses.sigmoid_cross_entropy(BINARY.astype(np.int32), Z))
    np.testing.assert_allclose(got, reduce(LOSSES["sigmoid_cross_entropy"][3](BINARY, Z), 1.0,
                                           Reduction.SUM_BY_NONZERO_WEIGHTS), rtol=1e-12)


def test_losses_join_the_losses_collection():
    with tf.Graph().as_default():
        first = tf.losses.mean_squared_error(L, P)
        tf.losses.absolute_difference(L, P, loss_collection=None)
        assert tf.losses.get_losses() == [first]


def test_seed_mean_squared_error_is_exact():
    with tf.Graph().as_default():
        sizes, prices = tf.constant(np.array([90.0, 120.0])), tf.constant(np.array([160000.0, 230000.0]))
        assert evaluate(tf.losses.mean_squared_error(prices, 1000.0 * sizes + 100.0)) == 8_482_010_000.0


@pytest.mark.parametrize("build, error, match", [
    pytest.param(lambda: tf.losses.mean_squared_error(np.ones(3), np.ones(4)), tf.ShapeError, "same shape",
                 id="shape-mismatch"),
    pytest.param(lambda: tf.losses.mean_squared_error(L, P, weights=np.ones(4)), tf.ShapeError, "broadcast",
                 id="weights-do-not-broadcast"),
    pytest.param(lambda: tf.losses.mean_squared_error(L, P, reduction="average"), ValueError, "invalid reduction",
                 id="unknown-reduction"),
    pytest.param(lambda: tf.losses.mean_squared_error(np.ones(3, np.int32), np.ones(3, np.int32)), TypeError,
                 "floating", id="integer-predictions"),
])
def test_errors(build, error, match):
    with tf.Graph().as_default():
        with pytest.raises(error, match=match):
            build()
