"""Comparisons, logical ops and ops that select elements: `where`,
`maximum` / `minimum` and `clip_by_value`.

Comparisons give bool tensors and have no gradient. Selecting ops route
the incoming gradient to the input each element was taken from (ties as
TensorFlow: `maximum` and `minimum` pick x).
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from .. import dtypes
from ..errors import ShapeError
from ..graph import OPERATORS, Tensor
from ..registry import NOT_DIFFERENTIABLE, TensorSpec, register_op
from ..shapes import format_dims, merge
from .toolkit import (batch_elementwise, broadcast_specs, convert_all, convert_pair, convert_to_tensor, make, require,
                    same_dtype)
from .elementwise import binary_grads, binary_op, unary_op, unbroadcast


# -- comparisons and logic -------------------------------------------------------------------
def _comparison(op_type: str, kernel, allowed: str = "fi"):
    return binary_op(op_type, kernel, NOT_DIFFERENTIABLE, allowed, out_dtype=dtypes.bool_)


equal = _comparison("Equal", np.equal, "fibs")
not_equal = _comparison("NotEqual", np.not_equal, "fibs")
less = _comparison("Less", np.less)
less_equal = _comparison("LessEqual", np.less_equal)
greater = _comparison("Greater", np.greater)
greater_equal = _comparison("GreaterEqual", np.greater_equal)
logical_and = _comparison("LogicalAnd", np.logical_and, "b")
logical_or = _comparison("LogicalOr", np.logical_or, "b")
logical_not = unary_op("LogicalNot", np.logical_not, NOT_DIFFERENTIABLE, allowed="b")


def logical_xor(x: Any, y: Any, name: str = "LogicalXor") -> Tensor:
    """x XOR y on bool tensors, built as TensorFlow does: (x | y) & ~(x & y)."""
    return logical_and(logical_or(x, y), logical_not(logical_and(x, y)), name=name)


# -- where -----------------------------------------------------------------------------------
def _select_infer(inputs: Sequence[TensorSpec]) -> TensorSpec:
    require(inputs[0].dtype, "b", "condition")
    return TensorSpec(same_dtype(inputs[1:]), broadcast_specs(inputs))


def _select_grad(op, g):
    condition, x, y = op.inputs
    return [None, unbroadcast(where(condition, g, 0), x), unbroadcast(where(condition, 0, g), y)]


register_op("SelectV2", kernel=np.where, infer=_select_infer, num_inputs=3, grad=_select_grad,
            batch=batch_elementwise(np.where))


# -- where(condition): the coordinates of the true elements ------------------------------------
def _where_infer(inputs: Sequence[TensorSpec]) -> TensorSpec:
    rank = None if inputs[0].shape is None else len(inputs[0].shape)
    return TensorSpec(dtypes.int64, (None, rank))


register_op("Where", kernel=lambda c: np.argwhere(c).astype(np.int64), infer=_where_infer, num_inputs=1,
            grad=NOT_DIFFERENTIABLE)


def where_indices(condition: Any, name: Optional[str] = None) -> Tensor:
    """The coordinates (int64, [num_true, rank]) of the true (non-zero) elements, in row-major order."""
    return make("Where", [convert_to_tensor(condition)], name or "Where")


def where(condition: Any, x: Any = None, y: Any = None, name: Optional[str] = None) -> Tensor:
    """Elements of `x` where `condition` is true, else of `y`; all three broadcast (numpy rules).

    Without x and y: the coordinates of the true elements (int64, [num_true, rank]).

    >>> x = tf.constant([-1.0, 2.0])
    >>> tf.Session().run(where(x > 0, x, 0.0))
    array([0., 2.], dtype=float32)
    """
    if x is None and y is None:  # TF 1.x: the coordinates of the true elements
        return where_indices(condition, name)
    if x is None or y is None:
        raise ValueError("where: x and y must both be given, or both be None (for the coordinates of true elements)")
    a, b = convert_pair(x, y)
    return make("SelectV2", [convert_to_tensor(condition), a, b], name or "SelectV2")


where_v2 = where


# -- maximum, minimum, clip_by_value ---------------------------------------------------------
def _routed(op, g, x_wins: Tensor) -> list:
    """g routed to x where `x_wins`, to y elsewhere."""
    return binary_grads(op, where(x_wins, g, 0), where(x_wins, 0, g))


maximum = binary_op("Maximum", np.maximum,
                    lambda op, g: _routed(op, g, greater_equal(op.inputs[0], op.inputs[1])))
minimum = binary_op("Minimum", np.minimum,
                    lambda op, g: _routed(op, g, less_equal(op.inputs[0], op.inputs[1])))


def _clip_kernel(t: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return np.maximum(np.minimum(t, high), low)  # TensorFlow's order: low wins when low > high


def _clip_infer(inputs: Sequence[TensorSpec]) -> TensorSpec:
    dtype = same_dtype(inputs)
    require(dtype, "fi")
    shape = broadcast_specs(inputs)
    try:
        return TensorSpec(dtype, merge(shape, inputs[0].shape))
    except ShapeError:
        raise ShapeError(f"clip values must broadcast to the shape of t {format_dims(inputs[0].shape)}, "
                         f"they broadcast it to {format_dims(shape)}") from None


def _clip_grad(op, g):
    t, low, high = op.inputs
    floored = logical_or(less(t, low), less(high, low))  # min(t, high) < low: the result is low
    capped = logical_and(greater(t, high), logical_not(floored))
    return [where(logical_or(floored, capped), 0, g), unbroadcast(where(floored, g, 0), low),
            unbroadcast(where(capped, g, 0), high)]


register_op("ClipByValue", kernel=_clip_kernel, infer=_clip_infer, num_inputs=3, grad=_clip_grad,
            batch=batch_elementwise(_clip_kernel))


def clip_by_value(t: Any, clip_value_min: Any, clip_value_max: Any, name: Optional[str] = None) -> Tensor:
    """`t` with values below `clip_value_min` / above `clip_value_max` replaced by them.

    The gradient passes to `t` where it lies inside the range, else to the bound.
    """
    return make("ClipByValue", convert_all([t, clip_value_min, clip_value_max]), name or "ClipByValue")


OPERATORS.update({"lt": less, "le": less_equal, "gt": greater, "ge": greater_equal, "and": logical_and,
                  "or": logical_or, "invert": logical_not})
