"""TF 1.x initializers: values and distributions (TF's formulas), dtypes, seeding, redraw per init run, errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine as tf
from engine import init_ops


def _init(initializer, shape, dtype=None, runs=1):
    with tf.Graph().as_default():
        v = tf.Variable(lambda: initializer(shape, dtype) if dtype else initializer(shape))
        with tf.Session() as sess:
            out = []
            for _ in range(runs):
                sess.run(v.initializer)
                out.append(sess.run(v))
    return out if runs > 1 else out[0]


@pytest.mark.parametrize("initializer, dtype, expected", [
    (tf.zeros_initializer(), None, np.zeros((2, 3), np.float32)),
    (tf.zeros_initializer(dtype=tf.int32), None, np.zeros((2, 3), np.int32)),
    (tf.ones_initializer(), tf.float64, np.ones((2, 3))),
    (tf.constant_initializer(2.5), None, np.full((2, 3), 2.5, np.float32)),
    (tf.constant_initializer([1, 2, 3, 4]), None, np.array([[1, 2, 3], [4, 4, 4]], np.float32)),
    (tf.constant_initializer(np.arange(6).reshape(2, 3), verify_shape=True), tf.int64,
     np.arange(6).reshape(2, 3)),
], ids=["zeros", "zeros-int", "ones-float64", "constant", "constant-padded-with-last", "constant-verified"])
def test_deterministic_initializers(initializer, dtype, expected):
    value = _init(initializer, [2, 3], dtype)
    assert value.dtype == expected.dtype
    np.testing.assert_array_equal(value, expected)


N = (400, 300)  # fan_in 400, fan_out 300


@pytest.mark.parametrize("initializer, mean, std, bound", [
    (tf.random_normal_initializer(1.0, 2.0, seed=1), 1.0, 2.0, None),
    (tf.truncated_normal_initializer(0.0, 1.0, seed=1), 0.0, 0.8796, 2.0),
    (tf.random_uniform_initializer(-1.0, 3.0, seed=1), 1.0, 4 / math.sqrt(12), 3.0),
    (tf.glorot_uniform_initializer(seed=1), 0.0, math.sqrt(6 / 700) / math.sqrt(3), math.sqrt(6 / 700)),
    (tf.glorot_normal_initializer(seed=1), 0.0, math.sqrt(2 / 700), 2 * math.sqrt(2 / 700) / 0.8796),
    (tf.variance_scaling_initializer(seed=1), 0.0, math.sqrt(1 / 400), 2 * math.sqrt(1 / 400) / 0.8796),
    (tf.variance_scaling_initializer(2.0, "fan_out", "untruncated_normal", seed=1), 0.0, math.sqrt(2 / 300), None),
    (tf.variance_scaling_initializer(3.0, "fan_avg", "uniform", seed=1), 0.0, math.sqrt(3 / 350), 3 / math.sqrt(350)),
    (init_ops.he_normal(seed=1), 0.0, math.sqrt(2 / 400), 2 * math.sqrt(2 / 400) / 0.8796),
    (init_ops.lecun_uniform(seed=1), 0.0, math.sqrt(1 / 400), math.sqrt(3 / 400)),
], ids=["random_normal", "truncated_normal", "random_uniform", "glorot_uniform", "glorot_normal", "variance_scaling",
        "variance_scaling-fan_out-untruncated", "variance_scaling-uniform", "he_normal", "lecun_uniform"])
def test_random_initializers_follow_tensorflows_formulas(initializer, mean, std, bound):
    value = _init(initializer, N)
    assert value.dtype == np.float32
    assert abs(value.mean() - mean) < 0.02 * max(std, 0.1) * 5
    assert value.std() == pytest.approx(std, rel=0.02)
    if bound is not None:
        assert np.abs(value).max() <= bound + 1e-6 and np.abs(value).max() > 0.95 * bound


def test_random_uniform_initializer_draws_ints_for_int_dtypes():
    value = _init(tf.random_uniform_initializer(0, 5, seed=1, dtype=tf.int32), [1000])
    assert value.dtype == np.int32 and set(np.unique(value)) == set(range(5))


def test_a_random_initializer_redraws_each_time_the_initializer_runs():
    first, second = _init(tf.random_normal_initializer(seed=3), [5], runs=2)
    assert not np.array_equal(first, second)


def test_a_seeded_initializer_gives_the_same_values_in_every_program_run():
    np.testing.assert_array_equal(_init(tf.glorot_uniform_initializer(seed=3), [4, 4]),
                                  _init(tf.glorot_uniform_initializer(seed=3), [4, 4]))


def test_the_call_dtype_overrides_the_initializer_dtype():
    assert _init(tf.random_normal_initializer(seed=1), [3], tf.float64).dtype == np.float64


@pytest.mark.parametrize("build, error, match", [
    (lambda: tf.random_normal_initializer(dtype=tf.int32), tf.DTypeError, "floating"),
    (lambda: tf.glorot_uniform_initializer()([2, 2], tf.int32), tf.DTypeError, "floating"),
    (lambda: tf.constant_initializer([1, 2, 3])([2]), tf.ShapeError, "3 values do not fit"),
    (lambda: tf.constant_initializer([1, 2], verify_shape=True)([2, 1]), tf.ShapeError, "value has shape"),
    (lambda: tf.variance_scaling_initializer(mode="fan"), ValueError, "mode must be one of"),
    (lambda: tf.variance_scaling_initializer(distribution="cauchy"), ValueError, "distribution must be one of"),
    (lambda: tf.variance_scaling_initializer(scale=0.0), ValueError, "scale must be positive"),
    (lambda: tf.zeros_initializer()([None, 2]), tf.ShapeError, "fully known shape"),
], ids=["int-normal", "int-glorot", "constant-too-many", "constant-verify", "bad-mode", "bad-distribution",
        "bad-scale", "unknown-shape"])
def test_errors(build, error, match):
    with tf.Graph().as_default(), pytest.raises(error, match=match):
        build()


def test_constant_initializer_matches_tensorflow():
    tf1 = pytest.importorskip("tensorflow").compat.v1
    with tf1.Graph().as_default():
        v = tf1.get_variable("v", [2, 3], initializer=tf1.constant_initializer([1, 2, 3, 4]))
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            expected = sess.run(v)
    np.testing.assert_array_equal(_init(tf.constant_initializer([1, 2, 3, 4]), [2, 3]), expected)


def test_variance_scaling_spread_matches_tensorflow():
    tf1 = pytest.importorskip("tensorflow").compat.v1
    for args in [(1.0, "fan_in", "truncated_normal"), (2.0, "fan_avg", "uniform")]:
        with tf1.Graph().as_default():
            value = tf1.Session().run(tf1.variance_scaling_initializer(*args, seed=1)(N))
        assert _init(tf.variance_scaling_initializer(*args, seed=1), N).std() == pytest.approx(value.std(), rel=0.02)
