"""A user-defined op for 05_custom_op.py: the Huber loss of residuals.

``huber(r, delta)`` is ½r² where |r| ≤ delta and delta·(|r| - ½delta)
beyond: squared near zero, linear for large residuals, so outliers pull a
fit far less than with the squared error. The engine has no such op; this
module adds one through ``engine.extend`` exactly as the built-in
elementwise ops are added: ``unary_op`` registers the numpy kernel with the
elementwise shape/dtype rule and batching rule, next to its gradient.

The op lives in a module of its own, not in the script, because Spark
executors must import it too: they load shipped graphs by op type.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

import engine as tf
from engine import extend
from engine.errors import InvalidArgumentError


def _check_delta(delta: float) -> None:
    if not delta > 0:
        raise InvalidArgumentError(f"Huber: delta must be positive, found {delta}")


def _kernel(r: np.ndarray, *, delta: float) -> np.ndarray:
    _check_delta(delta)  # also guards graphs loaded from a GraphDef
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


def _grad(op: tf.Operation, g: tf.Tensor) -> list[tf.Tensor]:
    """d huber / dr is r clipped to [-delta, delta]; built from ops, so it has a gradient too."""
    delta = op.get_attr("delta")
    return [g * tf.clip_by_value(op.inputs[0], -delta, delta)]


_huber = extend.unary_op("Huber", _kernel, _grad, allowed="f", attrs={"delta": "float"})


def huber(residuals: Any, delta: float = 1.0, name: Optional[str] = None) -> tf.Tensor:
    """The Huber loss of each residual (same shape and dtype; residuals must be floating).

    >>> with tf.Graph().as_default() as g:
    ...     tf.Session(g).run(huber(tf.constant([0.5, -3.0]), delta=1.0))
    array([0.125, 2.5  ], dtype=float32)
    """
    _check_delta(delta)
    return _huber(residuals, name, delta=float(delta))
