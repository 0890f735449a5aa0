"""tf.nn compositions: moments, batch_normalization, l2_normalize, leaky_relu
(against numpy, with gradients and batching) and dropout (TensorFlow 1.x's
keep_prob and the later rate=, seeded through engine.random_seed)."""
from __future__ import annotations

import re

import numpy as np
import pytest

import engine as tf
from engine.testing import check_op

RNG = np.random.default_rng(7)
X = RNG.standard_normal((4, 3, 2, 5))
C = RNG.standard_normal(5)
V = RNG.uniform(0.5, 2.0, 5)


def _np_moments(x, axes):
    return x.mean(axis=axes), x.var(axis=axes)


@pytest.mark.parametrize("build, args, reference, kw", [
    pytest.param(lambda x: tf.nn.moments(x, [0, 1, 2])[0], [X], lambda x: _np_moments(x, (0, 1, 2))[0], {},
                 id="moments-mean"),
    # order 1 only: as in TensorFlow, the mean is a constant inside the variance, which leaves the
    # gradient exact (sum(x - mean) = 0) but drops the mean's term from the second derivative
    pytest.param(lambda x: tf.nn.moments(x, [0, 1, 2])[1], [X], lambda x: _np_moments(x, (0, 1, 2))[1], {},
                 id="moments-variance"),
    pytest.param(lambda x: tf.nn.moments(x, [1], keep_dims=True)[1], [X], lambda x: x.var(axis=1, keepdims=True), {},
                 id="moments-keep-dims"),
    pytest.param(lambda x, m, v, b, s: tf.nn.batch_normalization(x, m, v, b, s, 1e-3), [X, C, V, C[::-1], V[::-1]],
                 lambda x, m, v, b, s: s * (x - m) / np.sqrt(v + 1e-3) + b, {"grad_order": 2},
                 id="batch_normalization"),
    pytest.param(lambda x, m, v: tf.nn.batch_normalization(x, m, v, None, None, 1e-3), [X, C, V],
                 lambda x, m, v: (x - m) / np.sqrt(v + 1e-3), {}, id="batch_normalization-no-offset-scale"),
    pytest.param(lambda x: tf.nn.l2_normalize(x, axis=-1), [X], lambda x: x / np.linalg.norm(x, axis=-1,
                                                                                              keepdims=True),
                 {"grad_order": 2}, id="l2_normalize"),
    pytest.param(lambda x: tf.nn.l2_normalize(x), [X[0]], lambda x: x / np.linalg.norm(x), {}, id="l2_normalize-all"),
    pytest.param(tf.nn.leaky_relu, [X + 0.05], lambda x: np.where(x > 0, x, 0.2 * x), {}, id="leaky_relu"),
    pytest.param(lambda x: tf.nn.leaky_relu(x, alpha=1.5), [X + 0.05], lambda x: np.where(x > 0, x, 1.5 * x), {},
                 id="leaky_relu-alpha-above-1"),
])
def test_matches_numpy(build, args, reference, kw):
    check_op(build, args, reference, **kw)


def test_l2_normalize_of_zero_is_zero_not_nan():
    with tf.Graph().as_default() as g:
        assert np.array_equal(tf.Session(g).run(tf.nn.l2_normalize(tf.zeros([3]))), np.zeros(3))


# -- dropout -------------------------------------------------------------------------------
def _dropout_values(build, seed=5, runs=1):
    with tf.Graph().as_default() as g:
        tf.random.set_random_seed(seed)
        y = build(tf.ones([200, 50], tf.float64))
        sess = tf.Session(g)
        return [sess.run(y) for _ in range(runs)]


def test_dropout_zeroes_about_rate_and_scales_the_rest():
    (y,) = _dropout_values(lambda x: tf.nn.dropout(x, rate=0.3))
    assert set(np.unique(y)) == {0.0, 1 / 0.7}
    assert abs((y == 0).mean() - 0.3) < 0.02  # 10,000 draws: sd 0.0046


def test_dropout_keep_prob_and_rate_are_the_same_mask():
    a = _dropout_values(lambda x: tf.nn.dropout(x, keep_prob=0.6))
    b = _dropout_values(lambda x: tf.nn.dropout(x, rate=0.4))
    np.testing.assert_array_equal(a, b)


def test_dropout_is_seeded_per_session_and_new_per_run():
    first, second = _dropout_values(lambda x: tf.nn.dropout(x, rate=0.5), runs=2)
    again, _ = _dropout_values(lambda x: tf.nn.dropout(x, rate=0.5), runs=2)
    other, _ = _dropout_values(lambda x: tf.nn.dropout(x, rate=0.5), seed=6, runs=2)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second) and not np.array_equal(first, other)


def test_dropout_noise_shape_shares_the_mask():
    (y,) = _dropout_values(lambda x: tf.nn.dropout(x, rate=0.5, noise_shape=[200, 1]))
    assert (y == y[:, :1]).all() and 0 < (y[:, 0] == 0).mean() < 1


def test_dropout_keep_prob_placeholder_fed_one_is_identity():
    with tf.Graph().as_default() as g:
        x, keep = tf.constant(X), tf.placeholder(tf.float64, [])
        y = tf.nn.dropout(x, keep_prob=keep, seed=1)
        np.testing.assert_array_equal(tf.Session(g).run(y, {keep: 1.0}), X)


def test_dropout_keep_prob_one_returns_the_input():
    with tf.Graph().as_default():
        x = tf.constant(X)
        assert tf.nn.dropout(x, rate=0.0) is x


def test_dropout_gradient_is_the_mask_over_keep_prob():
    with tf.Graph().as_default() as g:
        tf.random.set_random_seed(2)
        x = tf.constant(X)
        y = tf.nn.dropout(x, rate=0.25)
        y_value, grad = tf.Session(g).run([y, tf.gradients(tf.reduce_sum(y), x)[0]])
    np.testing.assert_allclose(grad, (y_value != 0) / 0.75)


@pytest.mark.parametrize("kwargs, message", [
    ({}, "dropout takes keep_prob or rate=, exactly one of them"),
    ({"keep_prob": 0.5, "rate": 0.5}, "exactly one of them"),
    ({"rate": 1.0}, "found rate=1.0"),
    ({"keep_prob": 0.0}, "found keep_prob=0.0"),
])
def test_dropout_bad_arguments(kwargs, message):
    with tf.Graph().as_default():
        with pytest.raises(tf.InvalidArgumentError, match=re.escape(message)):
            tf.nn.dropout(tf.constant(X), **kwargs)
