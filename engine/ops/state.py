"""Variable state ops: the variable itself and its assignments.

A `VariableV2` op outputs the value a Session holds for it, by op name. The
assign ops take the variable's output as input 0 (their ref) and store a new
array in the session; nothing is modified in place, so a value read earlier
in the same run keeps its value.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..dtypes import DType
from ..errors import DTypeError, FailedPreconditionError
from ..op_types import VARIABLE
from ..registry import NOT_DIFFERENTIABLE, KernelContext, TensorSpec, register_op
from ..shapes import merge


def _variable_kernel(ctx: KernelContext, *, dtype: DType, shape: tuple) -> np.ndarray:
    try:
        return ctx.variables[ctx.op_name]
    except KeyError:
        raise FailedPreconditionError(f"Attempting to use uninitialized value {ctx.op_name}; "
                                      "run engine.global_variables_initializer() first") from None


register_op(VARIABLE, kernel=_variable_kernel, infer=lambda inputs, *, dtype, shape: TensorSpec(dtype, shape),
            attrs={"dtype": "type", "shape": "shape"}, num_inputs=0, stateful=True, grad=NOT_DIFFERENTIABLE)


def _assign_infer(inputs: Sequence[TensorSpec]) -> TensorSpec:
    ref, value = inputs
    if ref.dtype is not value.dtype:
        raise DTypeError(f"cannot assign a {value.dtype.name} value to a {ref.dtype.name} variable")
    return TensorSpec(ref.dtype, merge(ref.shape, value.shape))


def _assigner(update):
    """A kernel that stores `update(old, value)`; input 0 is a ref, not read as data."""
    def kernel(ctx: KernelContext, value: np.ndarray) -> np.ndarray:
        new = update(ctx, value)
        ctx.variables[ctx.ref] = new
        return new
    return kernel


def _current(ctx: KernelContext) -> np.ndarray:
    return _variable_kernel(KernelContext(ctx.ref, ctx.variables), dtype=None, shape=None)


def _set(ctx: KernelContext, value: np.ndarray) -> np.ndarray:
    return np.array(value, copy=True)


def _add(ctx: KernelContext, value: np.ndarray) -> np.ndarray:
    return _current(ctx) + value


def _sub(ctx: KernelContext, value: np.ndarray) -> np.ndarray:
    return _current(ctx) - value


for _type, _update in (("Assign", _set), ("AssignAdd", _add), ("AssignSub", _sub)):
    register_op(_type, kernel=_assigner(_update), infer=_assign_infer, num_inputs=2, stateful=True,
                ref_input=True, grad=NOT_DIFFERENTIABLE)
