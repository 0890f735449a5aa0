"""Elementwise arithmetic with numpy broadcasting, `cast` and `add_n`.

The ops are registered through the elementwise toolkit (engine.ops.elementwise:
`binary_op`, `unary_op`, `binary_grads`), as the comparison and activation
families are. Kernels follow TensorFlow where numpy differs: float `floordiv` is
floor(x / y), integer division by zero is an error, `truediv` of integers
gives float64.
"""
from __future__ import annotations

import functools
from typing import Any, Optional, Sequence

import numpy as np

from .. import dtypes
from ..dtypes import DType
from ..errors import DTypeError, InvalidArgumentError, ShapeError
from ..graph import OPERATORS, Tensor
from ..registry import NOT_DIFFERENTIABLE, TensorSpec, register_op
from ..shapes import merge
from .compare import greater, where
from .elementwise import binary_grads, binary_op, unary_op, zeros_grad
from .toolkit import batch_elementwise, convert_all, convert_pair, convert_to_tensor, make, require, same_dtype


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

    >>> tf.Session().run(truediv(tf.constant([3, 4]), 2))
    array([1.5, 2. ])
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


def _cast_infer(inputs: Sequence[TensorSpec], *, DstT: DType) -> TensorSpec:
    if inputs[0].dtype.is_string or DstT.is_string:  # TF needs string_to_number / as_string, not cast
        raise DTypeError(f"cannot cast {inputs[0].dtype.name} to {DstT.name}: strings and numbers do not cast")
    return TensorSpec(DstT, inputs[0].shape)


register_op("Cast", kernel=_cast_kernel, infer=_cast_infer,
            attrs={"DstT": "type"}, num_inputs=1, grad=_cast_grad,
            batch=lambda args, batched, *, DstT: _cast_kernel(args[0], DstT=DstT))


def cast(x: Any, dtype: Any, name: Optional[str] = None) -> Tensor:
    """`x` converted to `dtype` (floats to ints truncate toward zero); `x` itself if it has that dtype.

    >>> tf.Session().run(cast(tf.constant([1.7, -1.7]), tf.int32))
    array([ 1, -1], dtype=int32)
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
