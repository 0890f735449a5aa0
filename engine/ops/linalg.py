"""Matrix products: `matmul` of rank-2 tensors, and of stacks of matrices
(rank > 2, equal leading dims) as `tf.matmul`."""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ..errors import InvalidArgumentError, ShapeError
from ..graph import OPERATORS, Tensor
from ..registry import TensorSpec, register_op
from ..shapes import format_dims, merge
from .toolkit import convert_pair, convert_to_tensor, make, require, same_dtype


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


# -- inverse and determinant of (stacks of) square matrices ----------------------------------
def _square_infer(inputs: Sequence[TensorSpec], scalar: bool) -> TensorSpec:
    x = inputs[0]
    require(x.dtype, "f")
    if x.shape is not None and (len(x.shape) < 2 or None not in x.shape[-2:] and x.shape[-1] != x.shape[-2]):
        raise ShapeError(f"input must be a square matrix (or a stack of them), found {format_dims(x.shape)}")
    return TensorSpec(x.dtype, None if x.shape is None else (x.shape[:-2] if scalar else x.shape))


def _inverse_kernel(x: np.ndarray, *, adjoint: bool) -> np.ndarray:
    try:
        inv = np.linalg.inv(_swap(x, adjoint))
    except np.linalg.LinAlgError:
        raise InvalidArgumentError("Input is not invertible.") from None
    return inv.astype(x.dtype)


def _inverse_grad(op, g):
    inv = op.outputs[0]  # d(A^-1) = -A^-1 dA A^-1, so dA = -A^-T g A^-T
    grad = -matmul(inv, matmul(g, inv, transpose_b=True), transpose_a=True)
    return [matrix_transpose(grad) if op.get_attr("adjoint") else grad]


def matrix_transpose(a: Any, name: str = "matrix_transpose") -> Tensor:
    """`a` with its last two axes swapped."""
    from .array import transpose
    a = convert_to_tensor(a)
    if a._dims is None:
        raise ShapeError("matrix_transpose needs an input of known rank")
    rank = len(a._dims)
    return transpose(a, list(range(rank - 2)) + [rank - 1, rank - 2], name=name)


register_op("MatrixInverse", kernel=_inverse_kernel, infer=lambda inputs, *, adjoint: _square_infer(inputs, False),
            attrs={"adjoint": "bool"}, num_inputs=1, grad=_inverse_grad,
            batch=lambda args, batched, **attrs: _inverse_kernel(args[0], **attrs))


def matrix_inverse(input: Any, adjoint: bool = False, name: Optional[str] = None) -> Tensor:
    """The inverse of each square matrix (of its adjoint with `adjoint`); an error if singular."""
    x = convert_to_tensor(input)
    return make("MatrixInverse", [x], name or "MatrixInverse", adjoint=bool(adjoint))


def _det_kernel(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.linalg.det(x), dtype=x.dtype)


def _det_grad(op, g):
    from .array import expand_dims
    x, det = op.inputs[0], op.outputs[0]  # d det(A) = det(A) tr(A^-1 dA)
    return [expand_dims(expand_dims(g * det, -1), -1) * matrix_transpose(matrix_inverse(x))]


register_op("MatrixDeterminant", kernel=_det_kernel, infer=lambda inputs: _square_infer(inputs, True), num_inputs=1,
            grad=_det_grad, batch=lambda args, batched: _det_kernel(args[0]))


def matrix_determinant(input: Any, name: Optional[str] = None) -> Tensor:
    """The determinant of each square matrix."""
    return make("MatrixDeterminant", [convert_to_tensor(input)], name or "MatrixDeterminant")
