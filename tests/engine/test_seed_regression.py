"""The seed talk's linear regression: price = w * size + b on two houses.

The talk's learning loop (initialise w and b, compute the error, optimise w
and b, repeat) with its numbers: the MSE at w = 1000, b = 100 and the line
through both points that training must reach, stopping when the error no
longer drops significantly.
"""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf

SIZES = np.array([90.0, 120.0])
PRICES = np.array([160000.0, 230000.0])
W_LINE, B_LINE = 7000.0 / 3.0, -50000.0  # the line through (90, 160000) and (120, 230000)


def linear_model(w0=1000.0, b0=100.0):
    """(graph, size placeholder, price placeholder, w, b, MSE) of the talk's model."""
    graph = tf.Graph()
    with graph.as_default():
        size = tf.placeholder(tf.float64, [None], name="size")
        price = tf.placeholder(tf.float64, [None], name="price")
        w = tf.Variable(np.float64(w0), name="w")
        b = tf.Variable(np.float64(b0), name="b")
        error = tf.losses.mean_squared_error(labels=price, predictions=w * size + b)
    return graph, size, price, w, b, error


def started(graph):
    with graph.as_default():
        init = tf.global_variables_initializer()
    sess = tf.Session(graph)
    sess.run(init)
    return sess


def test_error_at_the_talks_starting_point_is_exact():
    graph, size, price, w, b, error = linear_model()
    assert started(graph).run(error, {size: SIZES, price: PRICES}) == 8_482_010_000.0


def test_gradient_descent_with_feature_scaling_reaches_the_line_and_stops_by_itself():
    mean, scale = SIZES.mean(), SIZES.std()
    graph, size, price, w, b, error = linear_model(w0=1000.0 * scale, b0=100.0 + 1000.0 * mean)  # same line
    with graph.as_default():
        train_op = tf.train.GradientDescentOptimizer(0.1).minimize(error)
    sess = started(graph)
    feed = {size: (SIZES - mean) / scale, price: PRICES}
    assert sess.run(error, feed) == pytest.approx(8_482_010_000.0)
    history = tf.train.train_until_converged(sess, train_op, error, feed, tol=1e-6, patience=3, max_steps=10_000)
    assert len(history) < 10_000 and history[-1] < history[0]
    w_scaled, b_scaled = sess.run([w, b])
    assert w_scaled / scale == pytest.approx(W_LINE, rel=1e-3)
    assert b_scaled - w_scaled * mean / scale == pytest.approx(B_LINE, rel=1e-3)


def test_lbfgs_reaches_the_line_on_the_raw_graph():
    graph, size, price, w, b, error = linear_model()
    with graph.as_default():
        train_op = tf.train.LBFGSOptimizer().minimize(error)
    sess = started(graph)
    history = tf.train.train_until_converged(sess, train_op, error, {size: SIZES, price: PRICES}, tol=1e-9,
                                             patience=5, max_steps=200)
    assert len(history) < 100
    assert sess.run(w) == pytest.approx(W_LINE, rel=1e-6)
    assert sess.run(b) == pytest.approx(B_LINE, rel=1e-6)


@pytest.mark.parametrize("losses, stops_after", [
    pytest.param([10.0, 5.0, 2.5, 1.25], None, id="halving-keeps-going"),
    pytest.param([10.0, 5.0, 5.0, 5.0, 5.0], 5, id="flat-stops-after-patience"),
    pytest.param([10.0, 9.9999999, 9.9999998, 9.9999997], 4, id="insignificant-drops-stop"),
    pytest.param([10.0, 11.0, 12.0, 13.0], 4, id="rising-stops"),
    pytest.param([10.0, float("nan"), float("nan"), float("nan")], 4, id="nan-stops"),
    pytest.param([10.0, 10.0, 10.0, 9.0, 9.0, 9.0, 9.0], 7, id="an-improvement-resets-patience"),
])
def test_early_stopping_rule(losses, stops_after):
    rule = tf.train.EarlyStopping(tol=1e-6, patience=3)
    decisions = [rule.update(loss) for loss in losses]
    assert decisions.index(True) + 1 == stops_after if stops_after else not any(decisions)


def test_early_stopping_settings_are_checked():
    with pytest.raises(ValueError, match="patience"):
        tf.train.EarlyStopping(tol=1e-6, patience=0)


def test_training_loop_stops_at_max_steps():
    graph, size, price, w, b, error = linear_model()
    with graph.as_default():
        train_op = tf.train.GradientDescentOptimizer(1e-5).minimize(error)
    history = tf.train.train_until_converged(started(graph), train_op, error, {size: SIZES, price: PRICES},
                                             max_steps=7)
    assert len(history) == 7 and history[0] == 8_482_010_000.0
