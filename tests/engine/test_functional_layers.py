"""tf.layers.dense / dropout / flatten, tf.contrib.layers helpers and the regularization losses."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf


@pytest.fixture(autouse=True)
def graph():
    with tf.Graph().as_default() as g:
        yield g


def _run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


def test_dense_computes_activation_of_x_kernel_plus_bias():
    x = tf.placeholder(tf.float64, [None, 3])
    y = tf.layers.dense(x, 2, activation=tf.nn.relu, kernel_initializer=tf.constant_initializer([1, -1]),
                        bias_initializer=tf.constant_initializer(0.5))
    data = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 0.0]])
    kernel = np.array([[1.0, -1.0], [-1.0, -1.0], [-1.0, -1.0]])  # TF 1.x pads a short list with its last value
    np.testing.assert_allclose(_run(y, {x: data}), np.maximum(data @ kernel + 0.5, 0))
    assert y.shape.as_list() == [None, 2] and y.dtype is tf.float64


def test_dense_names_variables_like_tensorflow_and_reuses_them():
    x = tf.placeholder(tf.float32, [None, 4])
    tf.layers.dense(x, 3, name="hidden1")
    tf.layers.dense(x, 3)
    tf.layers.dense(x, 3)
    again = tf.layers.dense(x, 3, name="hidden1", reuse=True)
    assert [v.name for v in tf.global_variables()] == [
        "hidden1/kernel:0", "hidden1/bias:0", "dense/kernel:0", "dense/bias:0", "dense_1/kernel:0", "dense_1/bias:0"]
    assert again.name.startswith("hidden1_1/")


def test_dense_multiplies_rank_3_inputs_along_the_last_axis():
    x = tf.placeholder(tf.float32, [None, 5, 3])
    y = tf.layers.dense(x, 2, use_bias=False, kernel_initializer=tf.ones_initializer())
    assert y.shape.as_list() == [None, 5, 2] and len(tf.trainable_variables()) == 1
    data = np.ones((2, 5, 3), np.float32)
    np.testing.assert_array_equal(_run(y, {x: data}), np.full((2, 5, 2), 3.0))


def test_dense_regularizers_fill_the_regularization_losses():
    x = tf.placeholder(tf.float32, [None, 2])
    tf.layers.dense(x, 2, kernel_initializer=tf.ones_initializer(),
                    kernel_regularizer=tf.contrib.layers.l2_regularizer(0.5),
                    bias_regularizer=tf.contrib.layers.l1_regularizer(2.0),
                    bias_initializer=tf.constant_initializer(-1.0))
    assert len(tf.losses.get_regularization_losses()) == 2
    assert _run(tf.losses.get_regularization_loss()) == pytest.approx(0.5 * 4 / 2 + 2.0 * 2)


def test_get_total_loss_adds_the_regularization_losses():
    w = tf.get_variable("w", initializer=np.float32(3.0), regularizer=lambda v: v * 2.0)
    tf.losses.mean_squared_error(labels=tf.constant([1.0]), predictions=tf.reshape(w, [1]))
    assert _run(tf.losses.get_total_loss()) == pytest.approx(4.0 + 6.0)
    assert _run(tf.losses.get_total_loss(add_regularization_losses=False)) == pytest.approx(4.0)


def test_no_regularization_loss_is_zero():
    assert _run(tf.losses.get_regularization_loss()) == 0.0


def test_dropout_drops_only_while_training():
    x = tf.ones([2000])
    training = tf.placeholder_with_default(False, [])
    y = tf.layers.dropout(x, rate=0.25, training=training, seed=1)
    with tf.Session() as sess:
        assert (sess.run(y) == 1.0).all()
        kept = sess.run(y, {training: True})
    assert set(np.unique(kept)) == {0.0, np.float32(1 / 0.75)} and abs((kept == 0).mean() - 0.25) < 0.03
    assert tf.layers.dropout(x, training=False).name.startswith("dropout")


def test_flatten_keeps_the_batch_axis():
    x = tf.placeholder(tf.float32, [None, 2, 3, 4])
    y = tf.layers.flatten(x)
    assert y.shape.as_list() == [None, 24]
    data = np.arange(48, dtype=np.float32).reshape(2, 2, 3, 4)
    np.testing.assert_array_equal(_run(y, {x: data}), data.reshape(2, 24))


def test_contrib_fully_connected_defaults_to_relu():
    x = tf.placeholder(tf.float32, [None, 2])
    y = tf.contrib.layers.fully_connected(x, 3, weights_initializer=tf.constant_initializer(-1.0))
    assert y.op.type == "Relu" and [v.name for v in tf.global_variables()][0] == "fully_connected/kernel:0"
    assert (_run(y, {x: np.ones((1, 2), np.float32)}) == 0).all()


def test_xavier_initializer_is_glorot_uniform():
    w = tf.get_variable("w", [200, 300], initializer=tf.contrib.layers.xavier_initializer(seed=1))
    values = _run(w)
    limit = np.sqrt(6 / 500)
    assert np.abs(values).max() <= limit and values.std() == pytest.approx(limit / np.sqrt(3), rel=0.02)


@pytest.mark.parametrize("build, error, match", [
    (lambda: tf.layers.dense(tf.placeholder(tf.float32, [None, None]), 2), tf.ShapeError, "last dimension"),
    (lambda: tf.layers.dense(tf.placeholder(tf.int32, [None, 2]), 2), tf.DTypeError, "floating"),
    (lambda: tf.layers.dense(tf.placeholder(tf.float32, [None, 2]), 0), ValueError, "positive integer"),
    (lambda: tf.layers.flatten(tf.placeholder(tf.float32, [None, None])), tf.ShapeError, "known"),
    (lambda: tf.contrib.layers.l2_regularizer(-1.0), ValueError, ">= 0"),
    (lambda: tf.losses.get_total_loss(), ValueError, "No losses"),
], ids=["unknown-width", "int-inputs", "zero-units", "flatten-unknown", "negative-scale", "no-losses"])
def test_errors(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_dense_matches_tensorflow_names_and_values():
    tf1 = pytest.importorskip("tensorflow").compat.v1
    data = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)

    def program(t):
        x = t.placeholder(t.float32, [None, 4])
        h = t.layers.dense(x, 3, activation=t.nn.relu, kernel_initializer=t.constant_initializer(0.1), name="h")
        y = t.layers.dense(h, 2, kernel_initializer=t.constant_initializer(-0.2))
        return x, y, [v.name for v in t.global_variables()]
    with tf1.Graph().as_default():
        try:
            x, y, names = program(tf1)
        except AttributeError as e:  # TensorFlow 2 with Keras 3 has no tf.compat.v1.layers.dense
            pytest.skip(f"this TensorFlow has no TF 1.x layers: {e}")
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            expected = sess.run(y, {x: data})
    x, y, got_names = program(tf)
    assert got_names == names
    np.testing.assert_allclose(_run(y, {x: data}), expected, rtol=1e-6)


def test_conv2d_and_pooling_functional_forms():
    x = tf.placeholder(tf.float64, [None, 4, 4, 1])
    c = tf.layers.conv2d(x, 2, 3, padding="same", kernel_initializer=tf.ones_initializer(),
                         bias_initializer=tf.constant_initializer(1.0), name="conv")
    p = tf.layers.max_pooling2d(c, 2, 2)
    a = tf.layers.average_pooling2d(c, [2, 2], 2)
    assert [v.name for v in tf.global_variables()] == ["conv/kernel:0", "conv/bias:0"]
    assert (c.shape.as_list(), p.shape.as_list()) == ([None, 4, 4, 2], [None, 2, 2, 2])
    image = np.arange(16.0).reshape(1, 4, 4, 1)
    padded = np.pad(image[0, :, :, 0], 1)
    sums = np.array([[padded[i:i + 3, j:j + 3].sum() for j in range(4)] for i in range(4)]) + 1.0
    got_c, got_p, got_a = _run([c, p, a], {x: image})
    np.testing.assert_allclose(got_c[0, :, :, 0], sums)
    np.testing.assert_allclose(got_p[0, :, :, 1], sums.reshape(2, 2, 2, 2).max(axis=(1, 3)))
    np.testing.assert_allclose(got_a[0, :, :, 0], sums.reshape(2, 2, 2, 2).mean(axis=(1, 3)))


@pytest.mark.parametrize("build, match", [
    (lambda: tf.layers.conv2d(tf.placeholder(tf.float32, [None, 4, 4]), 2, 3), "NHWC"),
    (lambda: tf.layers.conv2d(tf.placeholder(tf.float32, [None, 4, 4, 1]), 2, 0), "kernel_size"),
    (lambda: tf.layers.max_pooling2d(tf.placeholder(tf.float32, [None, 4, 4, 1]), 2, 2,
                                     data_format="channels_first"), "channels_last"),
], ids=["rank-3", "zero-kernel", "channels-first"])
def test_conv_forms_errors(build, match):
    with pytest.raises((tf.ShapeError, ValueError), match=match):
        build()
