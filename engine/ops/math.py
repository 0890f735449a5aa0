"""Elementwise arithmetic with numpy broadcasting, and the broadcasting pair
`sum_like` / `broadcast_like` that gradients use to undo broadcasting."""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ..graph import OPERATORS, Tensor
from ..registry import TensorSpec, register_op
from ._util import batch_elementwise, convert_pair, convert_to_tensor, elementwise, make, same_dtype


# -- broadcasting helpers (used by every broadcasting gradient) -----------------------------
def _sum_like(x: np.ndarray, like: np.ndarray) -> np.ndarray:
    extra = x.ndim - like.ndim
    axes = tuple(range(extra)) + tuple(i + extra for i, d in enumerate(like.shape) if d == 1 and x.shape[i + extra] != 1)
    return np.sum(x, axis=axes, dtype=x.dtype).reshape(like.shape) if axes else x.reshape(like.shape)


def _broadcast_like(x: np.ndarray, like: np.ndarray) -> np.ndarray:
    return np.broadcast_to(x, like.shape)


def _like_spec(inputs: Sequence[TensorSpec]) -> TensorSpec:
    return TensorSpec(same_dtype(inputs), inputs[1].shape)


register_op("SumLike", kernel=_sum_like, infer=_like_spec, num_inputs=2,
            grad=lambda op, g: [broadcast_like(g, op.inputs[0]), None])
register_op("BroadcastLike", kernel=_broadcast_like, infer=_like_spec, num_inputs=2,
            grad=lambda op, g: [sum_like(g, op.inputs[0]), None])


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


# -- binary arithmetic -----------------------------------------------------------------------
def _binary(op_type: str, kernel, grad, allowed: str = "fi"):
    """Register a broadcasting binary op and return its builder."""
    register_op(op_type, kernel=kernel, infer=elementwise(allowed), num_inputs=2, grad=grad,
                batch=batch_elementwise(kernel))

    def builder(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
        a, b = convert_pair(x, y)
        return make(op_type, [a, b], name or op_type)
    builder.__name__ = op_type.lower()
    return builder


add = _binary("Add", np.add, lambda op, g: [unbroadcast(g, op.inputs[0]), unbroadcast(g, op.inputs[1])])
subtract = _binary("Sub", np.subtract,
                   lambda op, g: [unbroadcast(g, op.inputs[0]), unbroadcast(-g, op.inputs[1])])
multiply = _binary("Mul", np.multiply, lambda op, g: [unbroadcast(g * op.inputs[1], op.inputs[0]),
                                                      unbroadcast(g * op.inputs[0], op.inputs[1])])
divide = _binary("RealDiv", np.true_divide, lambda op, g: [
    unbroadcast(g / op.inputs[1], op.inputs[0]),
    unbroadcast(-g * op.outputs[0] / op.inputs[1], op.inputs[1])], allowed="f")


# -- unary arithmetic ------------------------------------------------------------------------
def _unary(op_type: str, kernel, grad, allowed: str = "fi"):
    """Register an elementwise unary op and return its builder."""
    register_op(op_type, kernel=kernel, infer=elementwise(allowed), num_inputs=1, grad=grad,
                batch=lambda args, batched: kernel(args[0]))

    def builder(x: Any, name: Optional[str] = None) -> Tensor:
        return make(op_type, [convert_to_tensor(x)], name or op_type)
    builder.__name__ = op_type.lower()
    return builder


negative = _unary("Neg", np.negative, lambda op, g: [-g])

OPERATORS.update(add=add, sub=subtract, mul=multiply, truediv=divide, neg=negative)
