"""Elementwise arithmetic with numpy broadcasting, `cast`, `add_n`, and the
broadcasting pair `sum_like` / `broadcast_like` that gradients use to undo
broadcasting.

`binary_op` / `unary_op` register an elementwise op and return its builder;
the comparison and activation families (compare.py, nn.py) use them too.
Kernels follow TensorFlow where numpy differs: float `floordiv` is
floor(x / y), integer division by zero is an error, `truediv` of integers
gives float64.
"""
from __future__ import annotations

import functools
from typing import Any, Optional, Sequence

import numpy as np

from .. import dtypes
from ..dtypes import DType
from ..errors import InvalidArgumentError, ShapeError
from ..graph import OPERATORS, Tensor
from ..registry import NOT_DIFFERENTIABLE, TensorSpec, register_op
from ..shapes import merge
from ._util import (batch_elementwise, batched_args, convert_all, convert_pair, convert_to_tensor, elementwise, make,
                    require, same_dtype)
from .core import constant


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
    return broadcast_like(constant(0, dtype=g.dtype), g)


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


def unary_op(op_type: str, kernel, grad, allowed: str = "fi"):
    """Register an elementwise unary op and return its builder `(x, name=None)`."""
    register_op(op_type, kernel=kernel, infer=elementwise(allowed), num_inputs=1, grad=grad,
                batch=lambda args, batched: kernel(args[0]))

    def builder(x: Any, name: Optional[str] = None) -> Tensor:
        return make(op_type, [convert_to_tensor(x)], name or op_type)
    builder.__name__ = op_type.lower()
    return builder


# -- binary arithmetic -----------------------------------------------------------------------
def _check_divisor(y: np.ndarray) -> None:
    if y.dtype.kind == "i" and not np.all(y):
        raise InvalidArgumentError("integer division by zero")


def _floordiv_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if x.dtype.kind == "f":
        return np.floor(x / y)  # TensorFlow's floor(x / y); numpy's // is divmod-based (1 // 0.1 == 9)
    _check_divisor(y)
    return np.floor_divide(x, y)


def _floormod_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    _check_divisor(y)
    return np.mod(x, y)


def _pow_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if x.dtype.kind == "i" and np.any(y < 0):
        raise InvalidArgumentError("integers to negative integer powers are not allowed")
    return np.power(x, y)


def _pow_grad(op, g):
    from .compare import greater, where  # compare.py builds on this module
    x, y = op.inputs
    positive = greater(x, 0)
    log_x = where(positive, log(where(positive, x, 1)), 0)  # TensorFlow: no exponent gradient where x <= 0
    return binary_grads(op, g * y * pow(x, y - 1), g * op.outputs[0] * log_x)


def _squared_difference_grad(op, g):
    d = g * 2 * (op.inputs[0] - op.inputs[1])
    return binary_grads(op, d, -d)


add = binary_op("Add", np.add, lambda op, g: binary_grads(op, g, g))
subtract = binary_op("Sub", np.subtract, lambda op, g: binary_grads(op, g, -g))
multiply = binary_op("Mul", np.multiply, lambda op, g: binary_grads(op, g * op.inputs[1], g * op.inputs[0]))
realdiv = binary_op("RealDiv", np.true_divide, lambda op, g: binary_grads(
    op, g / op.inputs[1], -g * op.outputs[0] / op.inputs[1]), allowed="f")
floordiv = binary_op("FloorDiv", _floordiv_kernel, NOT_DIFFERENTIABLE)
floormod = binary_op("FloorMod", _floormod_kernel, lambda op, g: binary_grads(
    op, g, -g * floordiv(op.inputs[0], op.inputs[1])))
pow = binary_op("Pow", _pow_kernel, _pow_grad)  # noqa: A001  (TensorFlow's name)
squared_difference = binary_op("SquaredDifference", lambda x, y: np.square(x - y), _squared_difference_grad)
mod = floormod


def truediv(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    """x / y; integer operands are cast to float64 first, as TensorFlow does for int32 and int64.

    >>> truediv(constant([3, 4]), 2)  # doctest: +SKIP  (float64: [1.5, 2.0])
    """
    a, b = convert_pair(x, y)
    if a.dtype is b.dtype and a.dtype.is_integer:
        a, b = cast(a, dtypes.float64), cast(b, dtypes.float64)
    return realdiv(a, b, name)


def div(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    """Python 2 division as TensorFlow 1.x's `div`: floordiv for integers, realdiv for floats."""
    a, b = convert_pair(x, y)
    return floordiv(a, b, name) if a.dtype.is_integer else realdiv(a, b, name)


divide = truediv


# -- add_n -----------------------------------------------------------------------------------
def _add_n_kernel(*xs: np.ndarray) -> np.ndarray:
    return functools.reduce(np.add, xs)


def _add_n_infer(inputs: Sequence[TensorSpec]) -> TensorSpec:
    if not inputs:
        raise ShapeError("needs at least one input")
    dtype = same_dtype(inputs)
    require(dtype, "fi")
    return TensorSpec(dtype, functools.reduce(merge, [s.shape for s in inputs]))


register_op("AddN", kernel=_add_n_kernel, infer=_add_n_infer, grad=lambda op, g: [g] * len(op.inputs),
            batch=batch_elementwise(_add_n_kernel))


def add_n(inputs: Sequence[Any], name: Optional[str] = None) -> Tensor:
    """The elementwise sum of same-shaped, same-dtype tensors (no broadcasting)."""
    return make("AddN", convert_all(list(inputs)), name or "AddN")


# -- unary arithmetic ------------------------------------------------------------------------
def _rsqrt_kernel(x: np.ndarray) -> np.ndarray:
    return 1 / np.sqrt(x)


negative = unary_op("Neg", np.negative, lambda op, g: [-g])
abs = unary_op("Abs", np.abs, lambda op, g: [g * sign(op.inputs[0])])  # noqa: A001
sign = unary_op("Sign", np.sign, lambda op, g: [zeros_grad(g)])
square = unary_op("Square", np.square, lambda op, g: [g * (2 * op.inputs[0])])
sqrt = unary_op("Sqrt", np.sqrt, lambda op, g: [g * 0.5 / op.outputs[0]], allowed="f")
rsqrt = unary_op("Rsqrt", _rsqrt_kernel, lambda op, g: [g * -0.5 * op.outputs[0] * square(op.outputs[0])], allowed="f")
reciprocal = unary_op("Reciprocal", np.reciprocal, lambda op, g: [-g * square(op.outputs[0])], allowed="f")
exp = unary_op("Exp", np.exp, lambda op, g: [g * op.outputs[0]], allowed="f")
log = unary_op("Log", np.log, lambda op, g: [g / op.inputs[0]], allowed="f")
log1p = unary_op("Log1p", np.log1p, lambda op, g: [g / (1 + op.inputs[0])], allowed="f")
sin = unary_op("Sin", np.sin, lambda op, g: [g * cos(op.inputs[0])], allowed="f")
cos = unary_op("Cos", np.cos, lambda op, g: [-g * sin(op.inputs[0])], allowed="f")
# TensorFlow registers no gradient path through rounding (its gradient functions return None)
floor = unary_op("Floor", np.floor, NOT_DIFFERENTIABLE, allowed="f")
ceil = unary_op("Ceil", np.ceil, NOT_DIFFERENTIABLE, allowed="f")
round = unary_op("Round", np.round, NOT_DIFFERENTIABLE)  # noqa: A001  (half to even, as TensorFlow)


# -- cast ------------------------------------------------------------------------------------
def _cast_kernel(x: np.ndarray, *, DstT: DType) -> np.ndarray:
    return x.astype(DstT.np)


def _cast_grad(op, g):
    source = op.inputs[0].dtype
    return [cast(g, source) if source.is_floating and g.dtype.is_floating else None]


register_op("Cast", kernel=_cast_kernel, infer=lambda inputs, *, DstT: TensorSpec(DstT, inputs[0].shape),
            attrs={"DstT": "type"}, num_inputs=1, grad=_cast_grad,
            batch=lambda args, batched, *, DstT: _cast_kernel(args[0], DstT=DstT))


def cast(x: Any, dtype: Any, name: Optional[str] = None) -> Tensor:
    """`x` converted to `dtype` (floats to ints truncate toward zero); `x` itself if it has that dtype.

    >>> cast(constant([1.7, -1.7]), int32)  # doctest: +SKIP  ([1, -1])
    """
    x, dtype = convert_to_tensor(x), dtypes.as_dtype(dtype)
    return x if x.dtype is dtype else make("Cast", [x], name or "Cast", DstT=dtype)


OPERATORS.update(add=add, sub=subtract, mul=multiply, truediv=truediv, floordiv=floordiv, mod=floormod, pow=pow,
                 neg=negative, abs=abs)


# -- C-style (truncating) integer division -----------------------------------------------------
def _truncatediv_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if x.dtype.kind == "f":
        return np.trunc(x / y)
    _check_divisor(y)
    q = np.floor_divide(x, y)
    return q + ((np.mod(x, y) != 0) & ((x < 0) != (y < 0))).astype(q.dtype)


def _truncatemod_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    _check_divisor(y)
    return np.fmod(x, y)


truncatediv = binary_op("TruncateDiv", _truncatediv_kernel, NOT_DIFFERENTIABLE)
truncatemod = binary_op("TruncateMod", _truncatemod_kernel, lambda op, g: binary_grads(
    op, g, -g * truncatediv(op.inputs[0], op.inputs[1])))
