"""Image and training-dependent layers: Conv2D, MaxPooling2D, AveragePooling2D,
Flatten, Dropout, BatchNormalization, and a Sequential convnet that fits,
evaluates, predicts, saves and loads (in this process and a fresh one)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import engine as tf
from engine.layers import AveragePooling2D, BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from engine.models import Sequential, load_model

ROOT = Path(__file__).resolve().parents[2]
RNG = np.random.default_rng(3)
IMAGES = RNG.standard_normal((6, 8, 8, 2))


def _run(build, feed=IMAGES, extra=None):
    """build(x) on a placeholder shaped like `feed`, run once after initializing the variables."""
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float64, (None,) + feed.shape[1:])
        y = build(x)
        sess = tf.Session(g)
        sess.run(tf.global_variables_initializer())
        return sess.run(y, {x: feed, **(extra or {})}), sess


def test_conv2d_layer_is_conv_plus_bias_then_activation_with_named_variables():
    layer = Conv2D(4, (3, 2), strides=2, padding="same", activation="relu", seed=1)
    out, sess = _run(layer)
    kernel, bias = (sess.variables[v.op.name] for v in (layer.kernel, layer.bias))
    with tf.Graph().as_default() as g:
        want = tf.Session(g).run(tf.nn.relu(tf.nn.conv2d(IMAGES, kernel, 2, "SAME") + bias))
    np.testing.assert_allclose(out, want, rtol=1e-12)
    assert out.shape == (6, 4, 4, 4)
    assert [v.op.name for v in layer.variables] == ["conv2d/kernel", "conv2d/bias"]
    assert layer.kernel.shape.as_list() == [3, 2, 2, 4]


def test_conv2d_layer_seed_fixes_the_kernel():
    first, second = Conv2D(3, 3, seed=7), Conv2D(3, 3, seed=7)
    a, sess_a = _run(first)
    b, sess_b = _run(second)
    np.testing.assert_array_equal(a, b)


def test_conv2d_layer_reused_on_a_second_input_shares_its_variables():
    layer = Conv2D(3, 3, padding="same")
    with tf.Graph().as_default() as g:
        layer(tf.placeholder(tf.float32, [None, 8, 8, 2]))
        layer(tf.placeholder(tf.float32, [None, 5, 5, 2]))
        assert len(tf.global_variables(g)) == 2


@pytest.mark.parametrize("layer, reference", [
    (MaxPooling2D(2), lambda x: x.reshape(6, 4, 2, 4, 2, 2).max(axis=(2, 4))),
    (AveragePooling2D((2, 4)), lambda x: x.reshape(6, 4, 2, 2, 4, 2).mean(axis=(2, 4))),
    (Flatten(), lambda x: x.reshape(6, -1)),
], ids=["MaxPooling2D", "AveragePooling2D", "Flatten"])
def test_pooling_and_flatten_layers(layer, reference):
    np.testing.assert_allclose(_run(layer)[0], reference(IMAGES), rtol=1e-12)


@pytest.mark.parametrize("build, message", [
    (lambda x: Conv2D(2, 3)(tf.reshape(x, [-1, 128])), "Conv2D takes images of shape (batch, height, width, channels)"),
    (lambda x: Flatten()(tf.placeholder(tf.float32, [None, None, 3])), "Flatten needs inputs whose dims after"),
    (lambda x: MaxPooling2D(2)(tf.reshape(x, [-1, 128])), "MaxPooling2D takes images"),
])
def test_layers_refuse_inputs_of_the_wrong_shape(build, message):
    with tf.Graph().as_default():
        with pytest.raises(tf.ShapeError, match=re.escape(message)):
            build(tf.placeholder(tf.float32, [None, 8, 8, 2]))


@pytest.mark.parametrize("kwargs, message", [
    ({"filters": 0, "kernel_size": 3}, "filters must be a positive integer"),
    ({"filters": 2, "kernel_size": (3, 0)}, "kernel_size must be a positive int or a pair"),
    ({"filters": 2, "kernel_size": 3, "padding": "full"}, "padding must be 'valid' or 'same'"),
])
def test_conv2d_layer_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Conv2D(**kwargs)


# -- Dropout and BatchNormalization ------------------------------------------------------------
def test_dropout_layer_drops_in_training_only():
    layer = Dropout(0.5, seed=3)
    with tf.Graph().as_default() as g:
        x, flag = tf.constant(np.ones((50, 40))), tf.placeholder(tf.bool, [])
        y = layer(x, training=flag)
        sess = tf.Session(g)
        inference, training = sess.run(y, {flag: False}), sess.run(y, {flag: True})
    np.testing.assert_array_equal(inference, 1.0)
    assert set(np.unique(training)) == {0.0, 2.0}


def test_batch_normalization_uses_batch_moments_in_training_and_moving_averages_at_inference():
    layer = BatchNormalization(momentum=0.9, epsilon=1e-3)
    with tf.Graph().as_default() as g:
        x, flag = tf.constant(IMAGES), tf.placeholder(tf.bool, [])
        y = layer(x, training=flag)
        sess = tf.Session(g)
        sess.run(tf.global_variables_initializer())
        train = sess.run(y, {flag: True})
        before = sess.run(y, {flag: False})
        sess.run(layer.updates)
        moving = sess.run([layer.moving_mean, layer.moving_variance])
    mean, var = IMAGES.mean(axis=(0, 1, 2)), IMAGES.var(axis=(0, 1, 2))
    np.testing.assert_allclose(train, (IMAGES - mean) / np.sqrt(var + 1e-3), rtol=1e-10)
    np.testing.assert_allclose(before, IMAGES / np.sqrt(1 + 1e-3), rtol=1e-12)
    np.testing.assert_allclose(moving[0], 0.1 * mean, rtol=1e-12)
    np.testing.assert_allclose(moving[1], 0.9 + 0.1 * var, rtol=1e-12)
    assert [v.op.name for v in tf.trainable_variables(g)] == ["batch_normalization/beta", "batch_normalization/gamma"]


# -- a Sequential convnet ------------------------------------------------------------------
def _digits(n=120):
    from sklearn.datasets import load_digits
    digits = load_digits()
    return (digits.images[:n] / 16.0).astype(np.float32)[..., None], digits.target[:n].astype(np.int64)


def _convnet(seed=0):
    return Sequential([Conv2D(4, 3, padding="same", activation="relu"), BatchNormalization(momentum=0.9),
                       MaxPooling2D(2),
                       Conv2D(8, 3, activation="relu"), Flatten(), Dropout(0.25), Dense(10, activation="softmax")],
                      seed=seed)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    x, y = _digits()
    model = _convnet()
    model.compile(tf.train.AdamOptimizer(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=10, batch_size=20, verbose=0)
    path = str(tmp_path_factory.mktemp("convnet") / "model")
    model.save(path)
    return model, history, path, x, y


def test_convnet_fit_lowers_the_loss_and_learns_the_training_digits(trained):
    model, history, _, x, y = trained
    loss, accuracy = model.evaluate(x, y)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert accuracy > 0.9


def test_convnet_fit_moves_the_batch_norm_averages(trained):
    model = trained[0]
    norm = model.layers[1]
    moving_mean = model.session.variables[norm.moving_mean.op.name]
    assert np.all(moving_mean != 0) and norm.moving_mean not in model.weights


def test_convnet_is_deterministic_under_its_seed(trained):
    x, y = _digits(40)
    runs = []
    for _ in range(2):
        model = _convnet(seed=5)
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=1, batch_size=20, verbose=0)
        runs.append(model.predict(x))
    np.testing.assert_array_equal(*runs)


def test_convnet_predict_is_inference_mode(trained):
    model, _, _, x, _ = trained
    np.testing.assert_array_equal(model.predict(x), model.predict(x))


def test_saved_convnet_loads_and_predicts_the_same_and_keeps_training(trained):
    model, _, path, x, y = trained
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)
    loaded.fit(x, y, epochs=1, batch_size=40, verbose=0)  # the training stack and its moving-average updates came back
    assert not np.allclose(loaded.predict(x), model.predict(x))


def test_saved_convnet_predicts_the_same_classes_in_a_fresh_process(trained):
    model, _, path, x, _ = trained
    np.save(os.path.join(path, "..", "x.npy"), x)
    script = ("import json, sys, numpy as np; from engine.models import load_model; "
              "m = load_model(sys.argv[1]); print(json.dumps(m.predict(np.load(sys.argv[2])).argmax(1).tolist()))")
    out = subprocess.run([sys.executable, "-c", script, path, os.path.join(path, "..", "x.npy")], check=True,
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert json.loads(out.stdout) == model.predict(x).argmax(1).tolist()
