"""The elementwise-op toolkit the op families build on (below all of them but core).

`binary_op` / `unary_op` register a broadcasting elementwise op (kernel,
inference rule, gradient and batching rule) and return its builder; the
math, comparison and activation families and users' ops (through
engine.extend) use them. A broadcasting op's gradient reduces back to each
input's shape with `unbroadcast`, through the op pair `SumLike` /
`BroadcastLike` registered here.

>>> import engine as tf
>>> cube = unary_op("DocCube", lambda x: x ** 3, lambda op, g: [g * 3 * tf.square(op.inputs[0])])
>>> with tf.Graph().as_default() as g:
...     y = cube(tf.constant([1.0, 2.0]))
...     tf.Session(g).run(y)
array([1., 8.], dtype=float32)
>>> tf.registry.unregister_op("DocCube")
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ..dtypes import DType
from ..graph import Tensor
from ..registry import TensorSpec, register_op
from .toolkit import (batch_elementwise, batched_args, convert_pair, convert_to_tensor, elementwise, make,
                      same_dtype)


# -- broadcasting helpers (used by every broadcasting gradient) -----------------------------
def _sum_to(x: np.ndarray, shape: tuple) -> np.ndarray:
    extra = x.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(i + extra for i, d in enumerate(shape) if d == 1 and x.shape[i + extra] != 1)
    return np.sum(x, axis=axes, dtype=x.dtype).reshape(shape) if axes else x.reshape(shape)


def _sum_like(x: np.ndarray, like: np.ndarray) -> np.ndarray:
    return _sum_to(x, like.shape)


def _sum_like_batch(args: Sequence[np.ndarray], batched: Sequence[bool]) -> np.ndarray:
    x, like = batched_args(args, batched)
    return _sum_to(x, like.shape[:1] + (1,) * (x.ndim - like.ndim) + like.shape[1:]).reshape(like.shape)


def _broadcast_like(x: np.ndarray, like: np.ndarray) -> np.ndarray:
    return np.broadcast_to(x, like.shape)


def _broadcast_against(x: np.ndarray, like: np.ndarray) -> np.ndarray:
    """x broadcast to like's shape, or in a batch to like's row shape with the batch axis in front."""
    return np.broadcast_to(x, np.broadcast_shapes(x.shape, like.shape))


def _like_spec(inputs: Sequence[TensorSpec]) -> TensorSpec:
    return TensorSpec(same_dtype(inputs), inputs[1].shape)


register_op("SumLike", kernel=_sum_like, infer=_like_spec, num_inputs=2, shape_inputs=(1,),
            grad=lambda op, g: [broadcast_like(g, op.inputs[0]), None], batch=_sum_like_batch)
register_op("BroadcastLike", kernel=_broadcast_like, infer=_like_spec, num_inputs=2, shape_inputs=(1,),
            grad=lambda op, g: [sum_like(g, op.inputs[0]), None], batch=batch_elementwise(_broadcast_against))


def sum_like(x: Tensor, like: Tensor, name: Optional[str] = None) -> Tensor:
    """`x` summed over the axes along which `like` was broadcast to `x`'s shape."""
    return make("SumLike", [x, like], name)


def broadcast_like(x: Tensor, like: Tensor, name: Optional[str] = None) -> Tensor:
    """`x` broadcast to the shape of `like` (numpy rules)."""
    return make("BroadcastLike", [x, like], name)


def unbroadcast(grad: Optional[Tensor], x: Tensor) -> Optional[Tensor]:
    """Reduce a gradient of a broadcast result back to the shape of input `x`.

    Static shapes skip the op when nothing was broadcast.
    """
    if grad is None:
        return None
    if x._dims is not None and grad._dims == x._dims and None not in x._dims:
        return grad
    return sum_like(grad, x)


def binary_grads(op: Any, gx: Optional[Tensor], gy: Optional[Tensor]) -> list:
    """The gradients of a broadcasting binary op, each reduced to its input's shape."""
    return [unbroadcast(gx, op.inputs[0]), unbroadcast(gy, op.inputs[1])]


def zeros_grad(g: Tensor) -> Tensor:
    """A zero gradient shaped like `g` (TensorFlow's answer for piecewise-constant ops)."""
    return broadcast_like(convert_to_tensor(0, g.dtype), g)


# -- registration helpers --------------------------------------------------------------------
def binary_op(op_type: str, kernel, grad, allowed: str = "fi", out_dtype: Optional[DType] = None):
    """Register a broadcasting binary op and return its builder `(x, y, name=None)`."""
    register_op(op_type, kernel=kernel, infer=elementwise(allowed, out_dtype), num_inputs=2, grad=grad,
                batch=batch_elementwise(kernel))

    def builder(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
        a, b = convert_pair(x, y)
        return make(op_type, [a, b], name or op_type)
    builder.__name__ = op_type.lower()
    return builder


def unary_op(op_type: str, kernel, grad, allowed: str = "fi", attrs: Optional[dict] = None):
    """Register an elementwise unary op and return its builder `(x, name=None, **attrs)`.

    `attrs` maps attr names to kinds (engine.attrs.KINDS); the kernel and the
    builder take them as keyword arguments.
    """
    register_op(op_type, kernel=kernel, infer=elementwise(allowed), attrs=dict(attrs or {}), num_inputs=1,
                grad=grad, batch=lambda args, batched, **values: kernel(args[0], **values))

    def builder(x: Any, name: Optional[str] = None, **values: Any) -> Tensor:
        return make(op_type, [convert_to_tensor(x)], name or op_type, **values)
    builder.__name__ = op_type.lower()
    return builder
