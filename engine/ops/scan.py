"""Cumulative sums and products along an axis: `cumsum`, `cumprod` (with TF's exclusive and reverse).

Gradients as TensorFlow defines them: the gradient of a cumsum is the
cumsum of the incoming gradient in the other direction; that of a cumprod
is `cumsum(g * y, reverse) / x` (defined where x is non-zero, as in TF).
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ..registry import TensorSpec, register_op
from .toolkit import check_axis, convert_to_tensor, make, require, shift_axis

_ATTRS = {"axis": "int", "exclusive": "bool", "reverse": "bool"}


def _scan(accumulate, identity: int):
    """A kernel running `accumulate` along an axis, optionally exclusive and/or reversed."""
    def kernel(x: np.ndarray, *, axis: int, exclusive: bool, reverse: bool) -> np.ndarray:
        if reverse:
            x = np.flip(x, axis)
        out = accumulate(x, axis=axis, dtype=x.dtype)
        if exclusive:
            out = np.concatenate([np.full_like(np.take(out, [0], axis=axis), identity),
                                  np.delete(out, -1, axis=axis)], axis=axis)
        return np.flip(out, axis) if reverse else out
    return kernel


def _infer(inputs: Sequence[TensorSpec], *, axis: int, exclusive: bool, reverse: bool) -> TensorSpec:
    require(inputs[0].dtype, "fi")
    check_axis(axis, None if inputs[0].shape is None else len(inputs[0].shape))
    return inputs[0]


def _cumsum_grad(op, g):
    return [cumsum(g, op.get_attr("axis"), op.get_attr("exclusive"), not op.get_attr("reverse"))]


def _cumprod_grad(op, g):
    x, y = op.inputs[0], op.outputs[0]
    return [cumsum(g * y, op.get_attr("axis"), op.get_attr("exclusive"), not op.get_attr("reverse")) / x]


def _register(op_type: str, kernel, grad) -> None:
    register_op(op_type, kernel=kernel, infer=_infer, attrs=_ATTRS, num_inputs=1, grad=grad,
                batch=lambda args, batched, *, axis, **kw: kernel(args[0], axis=shift_axis(axis), **kw))


_register("Cumsum", _scan(np.cumsum, 0), _cumsum_grad)
_register("Cumprod", _scan(np.cumprod, 1), _cumprod_grad)


def cumsum(x: Any, axis: int = 0, exclusive: bool = False, reverse: bool = False, name: Optional[str] = None):
    """Running sums along `axis`: `cumsum([a, b, c])` is [a, a+b, a+b+c]; exclusive [0, a, a+b]."""
    return make("Cumsum", [convert_to_tensor(x)], name or "Cumsum", axis=int(axis), exclusive=bool(exclusive),
                reverse=bool(reverse))


def cumprod(x: Any, axis: int = 0, exclusive: bool = False, reverse: bool = False, name: Optional[str] = None):
    """Running products along `axis`: `cumprod([a, b, c])` is [a, ab, abc]; exclusive [1, a, ab]."""
    return make("Cumprod", [convert_to_tensor(x)], name or "Cumprod", axis=int(axis), exclusive=bool(exclusive),
                reverse=bool(reverse))
