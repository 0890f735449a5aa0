"""Initializers and the Dense layer: values, names, shapes, seeds and errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine as tf
from engine import initializers
from engine.layers import Dense

SHAPE = (200, 300)


def _run(fetch, feed=None):
    with tf.Session(fetch.graph) as sess:
        sess.run(tf.variables_initializer(tf.global_variables(fetch.graph)))
        return sess.run(fetch, feed)


# -- initializers ------------------------------------------------------------------------------
STATS = [  # initializer, expected mean, expected std, (low, high) bounds
    pytest.param(initializers.glorot_uniform(seed=1), 0.0, math.sqrt(6 / 500) / math.sqrt(3),
                 (-math.sqrt(6 / 500), math.sqrt(6 / 500)), id="glorot_uniform"),
    pytest.param(initializers.random_normal(1.0, 2.0, seed=1), 1.0, 2.0, (-np.inf, np.inf), id="random_normal"),
    pytest.param(initializers.random_uniform(-3.0, 1.0, seed=1), -1.0, 4 / math.sqrt(12), (-3.0, 1.0),
                 id="random_uniform"),
    pytest.param(initializers.zeros(), 0.0, 0.0, (0.0, 0.0), id="zeros"),
    pytest.param(initializers.ones(), 1.0, 0.0, (1.0, 1.0), id="ones"),
    pytest.param(initializers.constant(2.5), 2.5, 0.0, (2.5, 2.5), id="constant"),
]


@pytest.mark.parametrize("init, mean, std, bounds", STATS)
def test_initializer_statistics(init, mean, std, bounds):
    values = init(SHAPE, tf.float64)
    assert values.shape == SHAPE and values.dtype == np.float64
    assert bounds[0] <= values.min() and values.max() <= bounds[1]
    tolerance = 5 * max(std, 1e-12) / math.sqrt(values.size)  # five standard errors
    assert abs(values.mean() - mean) <= tolerance
    assert values.std() == pytest.approx(std, rel=0.02, abs=1e-12)


@pytest.mark.parametrize("name", ["glorot_uniform", "random_normal", "random_uniform"])
def test_random_initializers_are_deterministic_under_a_seed(name):
    first, again, other = (initializers.get(name, seed=s)((4, 3)) for s in (7, 7, 8))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("shape, fans", [((), (1, 1)), ((5,), (5, 5)), ((3, 4), (3, 4)), ((2, 2, 3, 4), (12, 16))])
def test_fans_follow_keras(shape, fans):
    assert initializers.fans(shape) == fans


def test_initializer_keeps_float32():
    assert initializers.glorot_uniform(seed=0)((2, 2), tf.float32).dtype == np.float32


@pytest.mark.parametrize("make, error", [
    pytest.param(lambda: initializers.get("he_normal"), ValueError, id="unknown-name"),
    pytest.param(lambda: initializers.get(3), TypeError, id="not-callable"),
    pytest.param(lambda: initializers.zeros()((2,), tf.int32), tf.DTypeError, id="integer-dtype"),
    pytest.param(lambda: initializers.random_uniform(1.0, 1.0), ValueError, id="empty-range"),
])
def test_initializer_errors(make, error):
    with pytest.raises(error):
        make()


# -- Dense -------------------------------------------------------------------------------------
def _input(shape, dtype=tf.float64):
    """A placeholder in a graph of its own."""
    with tf.Graph().as_default():
        return tf.placeholder(dtype, shape, name="x")


def _x(width=3, dtype=tf.float64):
    return _input((None, width), dtype)


def _initial_kernel(layer):
    layer(_x())
    return _run(layer.kernel.value())


def test_dense_output_shape_and_variable_names():
    x = _x()
    layer = Dense(4)
    y = layer(x)
    assert y.shape.as_list() == [None, 4]
    assert (layer.kernel.op.name, layer.bias.op.name) == ("dense/kernel", "dense/bias")
    assert Dense(2, name="out")(y).op.name.startswith("out/")
    second = Dense(2)
    second(y)
    assert second.kernel.op.name == "dense_1/kernel"


def test_dense_reuses_its_variables_on_a_second_call():
    x = _x()
    layer = Dense(2)
    layer(x)
    layer(x)
    assert len(tf.global_variables(x.graph)) == 2


def test_dense_without_bias_has_only_a_kernel():
    layer = Dense(2, use_bias=False)
    layer(_x())
    assert layer.variables == [layer.kernel]


ACTIVATIONS = [
    pytest.param(None, lambda z: z, id="none"),
    pytest.param("linear", lambda z: z, id="linear"),
    pytest.param("relu", lambda z: np.maximum(z, 0), id="relu"),
    pytest.param("sigmoid", lambda z: 1 / (1 + np.exp(-z)), id="sigmoid"),
    pytest.param("tanh", np.tanh, id="tanh"),
    pytest.param("softmax", lambda z: np.exp(z) / np.exp(z).sum(axis=1, keepdims=True), id="softmax"),
    pytest.param(lambda t: t * t, np.square, id="callable"),
]


@pytest.mark.parametrize("activation, reference", ACTIVATIONS)
def test_dense_computes_activation_of_affine_map(activation, reference):
    x = _x()
    layer = Dense(3, activation=activation, bias_initializer=initializers.random_normal(seed=2), seed=1)
    y = layer(x)
    data = np.random.default_rng(0).normal(size=(5, 3))
    with tf.Session(x.graph) as sess:
        sess.run(tf.global_variables_initializer())
        got, kernel, bias = sess.run([y, layer.kernel, layer.bias], {x: data})
    np.testing.assert_allclose(got, reference(data @ kernel + bias), rtol=1e-12)


def test_dense_seed_fixes_initial_weights():
    first, again, other = (_initial_kernel(Dense(4, seed=s)) for s in (3, 3, 4))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_dense_bias_starts_at_zero_and_kernel_within_glorot_limit():
    layer = Dense(50, seed=0)
    layer(_x(width=30))
    kernel, bias = _run(layer.kernel.value()), _run(layer.bias.value())
    assert np.all(bias == 0) and np.abs(kernel).max() <= math.sqrt(6 / 80)


def test_dense_variables_take_the_input_dtype():
    layer = Dense(2)
    assert layer(_x(dtype=tf.float32)).dtype == tf.float32 and layer.kernel.dtype == tf.float32


@pytest.mark.parametrize("build, error", [
    pytest.param(lambda: Dense(0), ValueError, id="units-zero"),
    pytest.param(lambda: Dense(2.5), ValueError, id="units-float"),
    pytest.param(lambda: Dense(2, activation="swish"), ValueError, id="unknown-activation"),
    pytest.param(lambda: Dense(2, activation=3), TypeError, id="activation-type"),
    pytest.param(lambda: Dense(2)(_x(dtype=tf.int32)), tf.DTypeError, id="integer-inputs"),
    pytest.param(lambda: Dense(2)(_input((None,))), tf.ShapeError, id="rank-1-inputs"),
    pytest.param(lambda: Dense(2)(_input((None, None))), tf.ShapeError, id="unknown-width"),
])
def test_dense_errors(build, error):
    with pytest.raises(error):
        build()


def test_dense_refuses_inputs_of_another_width_on_reuse():
    layer = Dense(2)
    layer(_x(width=3))
    with pytest.raises(tf.GraphError):
        layer(_x(width=4))  # another graph
    x = layer.kernel.graph.get_tensor_by_name("x:0")
    with x.graph.as_default():
        wider = tf.placeholder(tf.float64, (None, 4))
    with pytest.raises(tf.ShapeError, match="width 3"):
        layer(wider)
