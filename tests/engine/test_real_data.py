"""The issue's acceptance tests on real data (examples/data), through Sequential and our optimizers.

- Saratoga house prices: a linear model trained with L-BFGS reaches the
  coefficients of numpy.linalg.lstsq.
- Churn: logistic regression trained with our optimizers has the held-out
  accuracy of a reference logistic regression (Newton's method in numpy),
  and a 2-hidden-layer MLP beats the majority class by a wide margin.
"""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine.layers import Dense
from engine.models import Sequential


def _with_intercept(x: np.ndarray) -> np.ndarray:
    return np.hstack([x, np.ones((len(x), 1))])


def _coefficients(model: Sequential) -> np.ndarray:
    kernel, bias = model.get_weights()
    return np.append(kernel[:, 0], bias)


def newton_logistic_regression(x: np.ndarray, y: np.ndarray, steps: int = 50) -> np.ndarray:
    """Maximum-likelihood logistic regression coefficients (intercept last) by Newton's method."""
    a = _with_intercept(x)
    w = np.zeros(a.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-a @ w))
        step = np.linalg.solve((a * (p * (1 - p))[:, None]).T @ a, a.T @ (p - y))
        w -= step
        if np.max(np.abs(step)) < 1e-12:
            break
    return w


def test_linear_regression_reaches_the_least_squares_coefficients(saratoga):
    model = Sequential([Dense(1)], seed=0, dtype=tf.float64)
    model.compile(tf.train.LBFGSOptimizer(), "mse")
    model.fit(saratoga.x_train, saratoga.y_train, epochs=100, batch_size=None, shuffle=False, verbose=0)
    expected = np.linalg.lstsq(_with_intercept(saratoga.x_train), saratoga.y_train, rcond=None)[0]
    np.testing.assert_allclose(_coefficients(model), expected, rtol=1e-6)


OPTIMIZERS = [  # optimizer, epochs, batch size
    pytest.param(lambda: tf.train.LBFGSOptimizer(), 100, None, id="lbfgs-full-batch"),
    pytest.param(lambda: tf.train.GradientDescentOptimizer(0.5), 300, None, id="gradient-descent-full-batch"),
    pytest.param(lambda: tf.train.AdamOptimizer(0.05), 20, 200, id="adam-mini-batch"),
]


@pytest.mark.parametrize("optimizer, epochs, batch_size", OPTIMIZERS)
def test_logistic_regression_matches_newtons_held_out_accuracy(churn, optimizer, epochs, batch_size):
    model = Sequential([Dense(1, activation="sigmoid")], seed=0, dtype=tf.float64)
    model.compile(optimizer(), "binary_crossentropy", metrics=["accuracy"])
    model.fit(churn.x_train, churn.y_train, epochs=epochs, batch_size=batch_size, verbose=0)
    _, accuracy = model.evaluate(churn.x_test, churn.y_test)
    reference = np.mean((_with_intercept(churn.x_test) @ newton_logistic_regression(churn.x_train, churn.y_train) > 0)
                        == churn.y_test)
    assert abs(accuracy - reference) <= 0.005


def test_two_hidden_layer_mlp_beats_the_majority_class(churn):
    # The 50 state columns are left out: with about 80 customers per state they
    # let the network memorize noise (held-out accuracy drops to about 0.89).
    keep = [i for i, name in enumerate(churn.names) if not name.startswith("state=")]
    model = Sequential([Dense(32, activation="relu"), Dense(32, activation="relu"), Dense(1, activation="sigmoid")],
                       seed=0)
    model.compile(tf.train.AdamOptimizer(0.01), "binary_crossentropy", metrics=["accuracy"])
    model.fit(churn.x_train[:, keep], churn.y_train, epochs=15, batch_size=64, verbose=0)
    _, accuracy = model.evaluate(churn.x_test[:, keep], churn.y_test)
    assert max(churn.y_test.mean(), 1 - churn.y_test.mean()) < 0.84 and accuracy >= 0.92
