"""A user-defined op for 05_custom_op.py: the Huber loss of residuals.

``huber(r, delta)`` is ½r² where |r| ≤ delta and delta·(|r| - ½delta)
beyond: squared near zero, linear for large residuals, so outliers pull a
fit far less than with the squared error. The engine has no such op; this
module adds one with ``engine.register_op``, everything about it in one
place: numpy kernel, shape and dtype rule, gradient and batching rule.

The op lives in a module of its own, not in the script, because Spark
executors must import it too: they load shipped graphs by op type.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

import engine as tf
from engine.errors import DTypeError, InvalidArgumentError


def _kernel(r: np.ndarray, *, delta: float) -> np.ndarray:
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


def _infer(inputs: Sequence[tf.TensorSpec], *, delta: float) -> tf.TensorSpec:
    """Runs when the graph is built: the output has the input's dtype and shape."""
    (r,) = inputs
    if not r.dtype.is_floating:
        raise DTypeError(f"residuals must be floating, found {r.dtype.name}")
    if not delta > 0:
        raise InvalidArgumentError(f"delta must be positive, found {delta}")
    return tf.TensorSpec(r.dtype, r.shape)


def _grad(op: tf.Operation, g: tf.Tensor) -> list[tf.Tensor]:
    """d huber / dr is r clipped to [-delta, delta]; built from ops, so it has a gradient too."""
    delta = op.get_attr("delta")
    return [g * tf.clip_by_value(op.inputs[0], -delta, delta)]


def _batch(args: Sequence[np.ndarray], batched: Sequence[bool], *, delta: float) -> np.ndarray:
    """Elementwise: a leading batch dimension changes nothing, so the kernel runs as is."""
    return _kernel(args[0], delta=delta)


tf.register_op("Huber", kernel=_kernel, infer=_infer, attrs={"delta": "float"}, num_inputs=1,
               grad=_grad, batch=_batch)


def huber(residuals: Any, delta: float = 1.0, name: Optional[str] = None) -> tf.Tensor:
    """The Huber loss of each residual (same shape).

    >>> loss = tf.reduce_mean(huber(prediction - label, delta=1.0))    # doctest: +SKIP
    """
    r = tf.convert_to_tensor(residuals)
    return r.graph.create_op("Huber", [r], {"delta": float(delta)}, name=name or "Huber").outputs[0]
