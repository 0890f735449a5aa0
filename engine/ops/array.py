"""Shape manipulation (reshape, transpose, expand_dims, squeeze, tile) and
the shape queries shape, size and rank.

Gradients that must restore an input's shape use `ReshapeLike`, which reads
that shape at run time, so they work with unknown dims.
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np

from .. import dtypes
from ..errors import DTypeError, InvalidArgumentError, ShapeError
from ..graph import Tensor
from ..registry import NOT_DIFFERENTIABLE, TensorSpec, register_op
from ..shapes import format_dims, num_elements, unknown_dims
from .toolkit import batched_args, check_axis, convert_to_tensor, make, normalize_axis, shift_axis


def _static_ints(value: Any, what: str) -> tuple:
    """A list of Python ints known when the graph is built, as a tuple."""
    if isinstance(value, Tensor):
        raise TypeError(f"{what} must be Python ints known when the graph is built, found Tensor '{value.name}'")
    return tuple(-1 if d is None else int(d) for d in value)


# -- reshape -------------------------------------------------------------------------------
def _reshape_infer(inputs: Sequence[TensorSpec], *, shape: tuple) -> TensorSpec:
    if sum(d == -1 for d in shape) > 1 or any(d < -1 for d in shape):
        raise ShapeError(f"shape {list(shape)} may hold non-negative dims and at most one -1")
    dims, n = inputs[0].shape, num_elements(inputs[0].shape)
    known = math.prod(d for d in shape if d != -1)
    fits = n is None or (n == known if -1 not in shape else known > 0 and n % known == 0)
    if not fits:
        raise ShapeError(f"cannot reshape a tensor of shape {format_dims(dims)} ({n} elements) "
                         f"into shape {list(shape)}")
    fill = None if n is None or -1 not in shape else n // known
    return TensorSpec(inputs[0].dtype, tuple(fill if d == -1 else d for d in shape))


def _reshape_kernel(x: np.ndarray, *, shape: tuple) -> np.ndarray:
    try:
        return np.reshape(x, shape)
    except ValueError:
        raise InvalidArgumentError(f"cannot reshape an array of shape {x.shape} into shape {list(shape)}") from None


def _batched_shape(x: np.ndarray, shape: tuple) -> tuple:
    """The target shape of each row with the batch dim in front; -1 resolved (numpy can't for 0 rows)."""
    known = math.prod(d for d in shape if d != -1)
    fill = math.prod(x.shape[1:]) // known if known else 0
    return x.shape[:1] + tuple(fill if d == -1 else d for d in shape)


register_op("Reshape", kernel=_reshape_kernel, infer=_reshape_infer, attrs={"shape": "ints"}, num_inputs=1,
            grad=lambda op, g: [reshape_like(g, op.inputs[0])],
            batch=lambda args, batched, *, shape: _reshape_kernel(args[0], shape=_batched_shape(args[0], shape)))


def reshape(tensor: Any, shape: Any, name: str = "Reshape") -> Tensor:
    """`tensor` with its elements in a new shape; one dim may be -1 (inferred).

    >>> reshape(tf.placeholder(tf.float32, [None, 784]), [-1, 28, 28, 1]).shape
    TensorShape((?, 28, 28, 1))
    """
    return make("Reshape", [convert_to_tensor(tensor)], name, shape=_static_ints(shape, "reshape's shape"))


def _reshape_like_batch(args, batched):
    x, like = batched_args(args, batched)
    return np.reshape(x, like.shape)


register_op("ReshapeLike", kernel=lambda x, like: np.reshape(x, like.shape),
            infer=lambda inputs: TensorSpec(inputs[0].dtype, inputs[1].shape), num_inputs=2, shape_inputs=(1,),
            grad=lambda op, g: [reshape_like(g, op.inputs[0]), None], batch=_reshape_like_batch)


def reshape_like(x: Tensor, like: Tensor, name: Optional[str] = None) -> Tensor:
    """`x` reshaped to the run-time shape of `like` (gradients use it to undo reshapes)."""
    return make("ReshapeLike", [x, like], name)


# -- transpose -----------------------------------------------------------------------------
def _transpose_infer(inputs: Sequence[TensorSpec], *, perm: Optional[tuple]) -> TensorSpec:
    dims = inputs[0].shape
    if perm is None:
        return TensorSpec(inputs[0].dtype, None if dims is None else dims[::-1])
    if dims is None:
        dims = unknown_dims(len(perm))
    if sorted(perm) != list(range(len(dims))):
        raise ShapeError(f"perm {list(perm)} is not a permutation of the {len(dims)} axes")
    return TensorSpec(inputs[0].dtype, tuple(dims[p] for p in perm))


def _batched_perm(perm: Optional[tuple], ndim: int) -> tuple:
    row = tuple(range(ndim - 2, -1, -1)) if perm is None else perm
    return (0,) + tuple(p + 1 for p in row)


register_op("Transpose", kernel=lambda x, *, perm: np.transpose(x, perm), infer=_transpose_infer,
            attrs={"perm": "ints?"}, num_inputs=1,
            grad=lambda op, g: [transpose(g, _inverse(op.get_attr("perm")))],
            batch=lambda args, batched, *, perm: np.transpose(args[0], _batched_perm(perm, args[0].ndim)))


def _inverse(perm: Optional[tuple]) -> Optional[tuple]:
    return None if perm is None else tuple(int(i) for i in np.argsort(perm))


def transpose(a: Any, perm: Any = None, name: str = "transpose") -> Tensor:
    """`a` with its axes permuted by `perm` (default: reversed)."""
    perm = None if perm is None else _static_ints(perm, "perm")
    return make("Transpose", [convert_to_tensor(a)], name, perm=perm)


# -- expand_dims / squeeze -----------------------------------------------------------------
def _expand_dims_infer(inputs: Sequence[TensorSpec], *, axis: int) -> TensorSpec:
    dims = inputs[0].shape
    if dims is None:
        return TensorSpec(inputs[0].dtype, None)
    check_axis(axis, len(dims), extra=1)
    at = axis if axis >= 0 else len(dims) + 1 + axis
    return TensorSpec(inputs[0].dtype, dims[:at] + (1,) + dims[at:])


register_op("ExpandDims", kernel=lambda x, *, axis: np.expand_dims(x, axis), infer=_expand_dims_infer,
            attrs={"axis": "int"}, num_inputs=1, grad=lambda op, g: [squeeze(g, [op.get_attr("axis")])],
            batch=lambda args, batched, *, axis: np.expand_dims(args[0], shift_axis(axis)))


def expand_dims(input: Any, axis: int, name: str = "ExpandDims") -> Tensor:
    """`input` with a new axis of size 1 at `axis` (negative: counted from the end)."""
    return make("ExpandDims", [convert_to_tensor(input)], name, axis=int(axis))


def _squeeze_infer(inputs: Sequence[TensorSpec], *, axis: Optional[tuple]) -> TensorSpec:
    dims = inputs[0].shape
    if dims is None or (axis is None and None in dims):
        return TensorSpec(inputs[0].dtype, None)
    for a in axis or ():
        check_axis(a, len(dims))
        if dims[a] not in (1, None):
            raise ShapeError(f"cannot squeeze axis {a} of size {dims[a]}")
    drop = {i for i, d in enumerate(dims) if d == 1} if axis is None else {a % len(dims) for a in axis}
    return TensorSpec(inputs[0].dtype, tuple(d for i, d in enumerate(dims) if i not in drop))


def _squeeze_batch(args, batched, *, axis):
    x = args[0]
    axes = tuple(i for i in range(1, x.ndim) if x.shape[i] == 1) if axis is None else tuple(map(shift_axis, axis))
    return np.squeeze(x, axes)


register_op("Squeeze", kernel=lambda x, *, axis: np.squeeze(x, axis), infer=_squeeze_infer,
            attrs={"axis": "ints?"}, num_inputs=1, grad=lambda op, g: [reshape_like(g, op.inputs[0])],
            batch=_squeeze_batch)


def squeeze(input: Any, axis: Any = None, name: str = "Squeeze", squeeze_dims: Any = None) -> Tensor:
    """`input` without the size-1 axes listed in `axis` (default: all of them)."""
    axis = squeeze_dims if axis is None else axis
    return make("Squeeze", [convert_to_tensor(input)], name, axis=normalize_axis(axis))


# -- tile ----------------------------------------------------------------------------------
def _tile_infer(inputs: Sequence[TensorSpec], *, multiples: tuple) -> TensorSpec:
    dims = inputs[0].shape or unknown_dims(len(multiples))
    if len(dims) != len(multiples) or min(multiples, default=0) < 0:
        raise ShapeError(f"multiples {list(multiples)} must hold one non-negative int per axis "
                         f"of a tensor of rank {len(dims)}")
    return TensorSpec(inputs[0].dtype, tuple(None if d is None else d * m for d, m in zip(dims, multiples)))


def _tile_grad_kernel(g: np.ndarray, x: np.ndarray, *, multiples: tuple) -> np.ndarray:
    split = [n for m, d in zip(multiples, x.shape) for n in (m, d)]
    return np.sum(g.reshape(split), axis=tuple(range(0, len(split), 2)), dtype=g.dtype)


def _tile_grad_batch(args, batched, *, multiples):
    return _tile_grad_kernel(*batched_args(args, batched), multiples=(1,) + multiples)


register_op("Tile", kernel=lambda x, *, multiples: np.tile(x, multiples), infer=_tile_infer,
            attrs={"multiples": "ints"}, num_inputs=1,
            grad=lambda op, g: [make("TileGrad", [g, op.inputs[0]], None, multiples=op.get_attr("multiples"))],
            batch=lambda args, batched, *, multiples: np.tile(args[0], (1,) + multiples))
# The gradient of Tile: the sum of the tiled copies of each element of the input (input 1).
register_op("TileGrad", kernel=_tile_grad_kernel, infer=lambda inputs, *, multiples: inputs[1],
            attrs={"multiples": "ints"}, num_inputs=2, shape_inputs=(1,),
            grad=lambda op, g: [tile(g, op.get_attr("multiples")), None],
            batch=_tile_grad_batch)


def tile(input: Any, multiples: Any, name: str = "Tile") -> Tensor:
    """`input` repeated `multiples[i]` times along each axis i."""
    return make("Tile", [convert_to_tensor(input)], name, multiples=_static_ints(multiples, "multiples"))


# -- shape queries -------------------------------------------------------------------------
def _shape_query(op_type: str, measure, vector: bool):
    """Register an op reporting a property of its input's shape; per row when batched."""
    def kernel(x: np.ndarray, *, out_type) -> np.ndarray:
        return np.asarray(measure(x.shape), dtype=out_type.np)

    def infer(inputs: Sequence[TensorSpec], *, out_type) -> TensorSpec:
        if out_type not in (dtypes.int32, dtypes.int64):
            raise DTypeError(f"out_type must be int32 or int64, found {out_type.name}")
        dims = inputs[0].shape
        return TensorSpec(out_type, (None if dims is None else len(dims),) if vector else ())

    def batch(args, batched, *, out_type):
        x = args[0]
        row = np.asarray(measure(x.shape[1:]), dtype=out_type.np)
        return np.broadcast_to(row, x.shape[:1] + row.shape)

    register_op(op_type, kernel=kernel, infer=infer, attrs={"out_type": "type"}, num_inputs=1,
                grad=NOT_DIFFERENTIABLE, batch=batch)


_shape_query("Shape", tuple, vector=True)
_shape_query("Size", math.prod, vector=False)
_shape_query("Rank", len, vector=False)


def shape(input: Any, name: str = "Shape", out_type: Any = dtypes.int32) -> Tensor:
    """The run-time shape of `input` as a vector."""
    return make("Shape", [convert_to_tensor(input)], name, out_type=dtypes.as_dtype(out_type))


def size(input: Any, name: str = "Size", out_type: Any = dtypes.int32) -> Tensor:
    """The run-time number of elements of `input`."""
    return make("Size", [convert_to_tensor(input)], name, out_type=dtypes.as_dtype(out_type))


def rank(input: Any, name: str = "Rank") -> Tensor:
    """The number of axes of `input`, as int32."""
    return make("Rank", [convert_to_tensor(input)], name, out_type=dtypes.int32)
