"""Matrix products: `matmul` of rank-2 tensors, and of stacks of matrices
(rank > 2, equal leading dims) as `tf.matmul`."""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ..errors import ShapeError
from ..graph import OPERATORS, Tensor
from ..registry import TensorSpec, register_op
from ..shapes import format_dims, merge
from .toolkit import convert_pair, make, require, same_dtype


def _swap(x: np.ndarray, transpose: bool) -> np.ndarray:
    return np.swapaxes(x, -1, -2) if transpose else x


def _matmul_kernel(a: np.ndarray, b: np.ndarray, *, transpose_a: bool, transpose_b: bool) -> np.ndarray:
    return np.matmul(_swap(a, transpose_a), _swap(b, transpose_b))


def _operand(dims: tuple, transpose: bool) -> str:
    return format_dims(dims) + (".T" if transpose else "")


def _matmul_infer(inputs: Sequence[TensorSpec], *, transpose_a: bool, transpose_b: bool) -> TensorSpec:
    dtype = same_dtype(inputs)
    require(dtype, "fi")
    a, b = (s.shape for s in inputs)
    for dims in (a, b):
        if dims is not None and len(dims) < 2:
            raise ShapeError(f"operands must have rank >= 2, found {format_dims(dims)}")
    if a is None or b is None:
        return TensorSpec(dtype, None)
    if len(a) != len(b):
        raise ShapeError(f"operands must have the same rank: {format_dims(a)} @ {format_dims(b)}")
    m, k = (a[-1], a[-2]) if transpose_a else (a[-2], a[-1])
    k2, n = (b[-1], b[-2]) if transpose_b else (b[-2], b[-1])
    shown = f"{_operand(a, transpose_a)} @ {_operand(b, transpose_b)}"
    if k is not None and k2 is not None and k != k2:
        raise ShapeError(f"inner dimensions differ: {shown}")
    try:
        batch = merge(a[:-2], b[:-2])
    except ShapeError:
        raise ShapeError(f"batch dimensions differ: {shown}") from None
    return TensorSpec(dtype, batch + (m, n))


def _matmul_grad(op, g):
    a, b = op.inputs
    ta, tb = op.get_attr("transpose_a"), op.get_attr("transpose_b")
    if not ta and not tb:
        return [matmul(g, b, transpose_b=True), matmul(a, g, transpose_a=True)]
    if not ta and tb:
        return [matmul(g, b), matmul(g, a, transpose_a=True)]
    if ta and not tb:
        return [matmul(b, g, transpose_b=True), matmul(a, g)]
    return [matmul(b, g, transpose_a=True, transpose_b=True), matmul(g, a, transpose_a=True, transpose_b=True)]


# np.matmul broadcasts leading dims, so a batch axis on either operand (or both) just works.
register_op("MatMul", kernel=_matmul_kernel, infer=_matmul_infer,
            attrs={"transpose_a": "bool", "transpose_b": "bool"}, num_inputs=2, grad=_matmul_grad,
            batch=lambda args, batched, **attrs: _matmul_kernel(*args, **attrs))


def matmul(a: Any, b: Any, transpose_a: bool = False, transpose_b: bool = False,
           name: Optional[str] = None) -> Tensor:
    """The matrix product `a @ b` (of each matrix in a stack for rank > 2).

    >>> x = tf.placeholder(tf.float64, [None, 10])
    >>> matmul(x, tf.zeros([10, 4], tf.float64)).shape
    TensorShape((?, 4))
    """
    a, b = convert_pair(a, b)
    return make("MatMul", [a, b], name or "MatMul", transpose_a=bool(transpose_a), transpose_b=bool(transpose_b))


OPERATORS.update(matmul=matmul)
