"""TF 1.x functions built from other ops (no registry entry of their own).

Each is what TensorFlow's Python layer composes too (`tensordot` as
transpose + reshape + matmul, `reduce_logsumexp` with the max taken out,
`clip_by_global_norm` over a list), so values, shapes and gradients follow
from the ops used. Where TF needs a static dim (the size of a split, the
side of a diagonal) so do these, and say so.

>>> a = tf.constant([[1.0, 2.0]])
>>> tf.Session().run(tf.tensordot(a, tf.transpose(a), axes=[[1], [0]]))
array([[5.]], dtype=float32)
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np

from .. import dtypes
from ..errors import ShapeError
from ..graph import Tensor
from .toolkit import convert_to_tensor, is_tensor_like, normalize_axis
from .array import expand_dims, reshape, squeeze, transpose
from .compare import maximum, not_equal, where
from .core import constant, identity, stop_gradient
from .creation import range as range_
from .indexing import gather, slice as slice_
from .linalg import matmul
from .math import add_n, cast, exp, log, multiply, sqrt
from .reduction import argmax, argmin, reduce_max, reduce_sum


# -- legacy names ---------------------------------------------------------------------------
def to_float(x: Any, name: str = "ToFloat") -> Tensor:
    return cast(x, dtypes.float32, name)


def to_double(x: Any, name: str = "ToDouble") -> Tensor:
    return cast(x, dtypes.float64, name)


def to_int32(x: Any, name: str = "ToInt32") -> Tensor:
    return cast(x, dtypes.int32, name)


def to_int64(x: Any, name: str = "ToInt64") -> Tensor:
    return cast(x, dtypes.int64, name)


def arg_max(input: Any, dimension: int, output_type: Any = dtypes.int64, name: Optional[str] = None) -> Tensor:
    """TF 1.x's older name of `argmax(input, axis=dimension)`."""
    return argmax(input, dimension, name=name, output_type=output_type)


def arg_min(input: Any, dimension: int, output_type: Any = dtypes.int64, name: Optional[str] = None) -> Tensor:
    """TF 1.x's older name of `argmin(input, axis=dimension)`."""
    return argmin(input, dimension, name=name, output_type=output_type)


def embedding_lookup(params: Any, ids: Any, partition_strategy: str = "mod", name: Optional[str] = None,
                     validate_indices: bool = True, max_norm: Any = None) -> Tensor:
    """Rows `ids` of `params` (a single tensor, or a list of one: sharded params are not supported)."""
    if isinstance(params, (list, tuple)):
        if len(params) != 1:
            raise ValueError(f"embedding_lookup: sharded params ({len(params)} shards) are not supported; "
                             "concatenate them")
        params = params[0]
    if max_norm is not None:
        raise ValueError("embedding_lookup: max_norm is not supported")
    return gather(params, ids, name=name or "embedding_lookup")


# -- reductions -----------------------------------------------------------------------------
def count_nonzero(input_tensor: Any, axis: Any = None, keepdims: bool = False, dtype: Any = dtypes.int64,
                  name: Optional[str] = None, reduction_indices: Any = None, keep_dims: Optional[bool] = None):
    """How many elements are non-zero (true), over `axis`, as `dtype` (int64)."""
    x = convert_to_tensor(input_tensor)
    with x.graph.as_default():
        nonzero = not_equal(x, np.zeros((), x.dtype.np)) if not x.dtype.is_bool else x
        return reduce_sum(cast(nonzero, dtype), axis, keepdims, name, reduction_indices, keep_dims)


def reduce_logsumexp(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: Optional[str] = None,
                     reduction_indices: Any = None, keep_dims: Optional[bool] = None) -> Tensor:
    """log(sum(exp(x))) over `axis`, computed as max + log(sum(exp(x - max))) so it does not overflow."""
    x = convert_to_tensor(input_tensor)
    axis = reduction_indices if axis is None else axis
    keepdims = keepdims if keep_dims is None else keep_dims
    with x.graph.as_default():
        top = stop_gradient(reduce_max(x, axis, keepdims=True))
        top = where(not_equal(top, top * 0), top * 0, top)  # an infinite max: use 0 (TF's rule), no NaN
        total = log(reduce_sum(exp(x - top), axis, keepdims=True)) + top
        if keepdims:
            return identity(total, name=name or "ReduceLogSumExp")
        return squeeze(total, normalize_axis(axis), name=name or "ReduceLogSumExp") if axis is not None else \
            reshape(total, [], name=name or "ReduceLogSumExp")


# -- products and shapes ----------------------------------------------------------------------
def _axes_pair(axes: Any, rank_a: int) -> tuple[list, list]:
    if isinstance(axes, (int, np.integer)):
        return list(range(rank_a - int(axes), rank_a)), list(range(int(axes)))
    a_axes, b_axes = axes
    as_list = lambda v: [int(v)] if np.ndim(v) == 0 else [int(i) for i in v]  # noqa: E731
    return as_list(a_axes), as_list(b_axes)


def tensordot(a: Any, b: Any, axes: Any, name: Optional[str] = None) -> Tensor:
    """Sum over `axes` of a and b (an int n: a's last n with b's first n; or [a_axes, b_axes]).

    The contracted and free dims must be known when the graph is built,
    except one free dim of `a` (a batch of rows, say).
    """
    a, b = convert_to_tensor(a), convert_to_tensor(b)
    if a._dims is None or b._dims is None:
        raise ShapeError("tensordot needs inputs of known rank")
    ra, rb = len(a._dims), len(b._dims)
    a_axes, b_axes = _axes_pair(axes, ra)
    a_axes, b_axes = [i % ra for i in a_axes], [i % rb for i in b_axes]
    if len(a_axes) != len(b_axes) or any(a._dims[i] != b._dims[j] for i, j in zip(a_axes, b_axes)):
        raise ShapeError(f"tensordot: axes {a_axes} of {a.shape} and {b_axes} of {b.shape} do not match")
    free_a = [i for i in range(ra) if i not in a_axes]
    free_b = [i for i in range(rb) if i not in b_axes]
    inner = math.prod(a._dims[i] for i in a_axes)
    dims_a, dims_b = [a._dims[i] for i in free_a], [b._dims[i] for i in free_b]
    if None in [a._dims[i] for i in a_axes] or None in dims_b or dims_a.count(None) > 1:
        raise ShapeError(f"tensordot: contracted dims, b's free dims and all but one of a's free dims must be "
                         f"known, found {a.shape} and {b.shape}")
    with a.graph.as_default():
        left = reshape(transpose(a, free_a + a_axes), [-1, inner])
        right = reshape(transpose(b, b_axes + free_b), [inner, -1])
        return reshape(matmul(left, right), [-1 if d is None else d for d in dims_a + dims_b],
                       name=name or "Tensordot")


def _static_side(x: Tensor, what: str) -> int:
    if x._dims is None or not x._dims or x._dims[-1] is None:
        raise ShapeError(f"{what} needs the last dim of its input to be known, found {x.shape}")
    return x._dims[-1]


def eye(num_rows: int, num_columns: Optional[int] = None, batch_shape: Optional[Sequence[int]] = None,
        dtype: Any = dtypes.float32, name: Optional[str] = None) -> Tensor:
    """The identity matrix (num_rows x num_columns), stacked to `batch_shape`."""
    value = np.eye(num_rows, num_columns, dtype=dtypes.as_dtype(dtype).np)
    if batch_shape:
        value = np.broadcast_to(value, tuple(batch_shape) + value.shape)
    return constant(value, name=name or "eye")


def matrix_diag(diagonal: Any, name: str = "MatrixDiag") -> Tensor:
    """Matrices whose diagonals are the last axis of `diagonal` (a stack of them for rank > 1)."""
    d = convert_to_tensor(diagonal)
    n = _static_side(d, "matrix_diag")
    with d.graph.as_default():
        return _times_eye(expand_dims(d, -1), n, name)


def _times_eye(x: Tensor, n: int, name: str) -> Tensor:
    return multiply(x, eye(n, dtype=x.dtype), name=name)


def matrix_diag_part(input: Any, name: str = "MatrixDiagPart") -> Tensor:
    """The diagonal of each (square) matrix in the last two axes."""
    x = convert_to_tensor(input)
    n = _static_side(x, "matrix_diag_part")
    with x.graph.as_default():
        return reduce_sum(_times_eye(x, n, f"{name}/masked"), axis=-1, name=name)


def diag(diagonal: Any, name: Optional[str] = None) -> Tensor:
    """TF's `diag`: a rank-k tensor d gives the rank-2k tensor with out[i..., i...] = d[i...]."""
    d = convert_to_tensor(diagonal)
    if d._dims is None or None in d._dims:
        raise ShapeError(f"diag needs an input of known shape, found {d.shape}")
    with d.graph.as_default():
        flat = matrix_diag(reshape(d, [-1]))
        return reshape(flat, list(d._dims) * 2, name=name or "Diag")


def diag_part(input: Any, name: Optional[str] = None) -> Tensor:
    """Inverse of `diag`: a rank-2k tensor of shape s + s gives its rank-k diagonal of shape s."""
    x = convert_to_tensor(input)
    dims = x._dims
    if dims is None or len(dims) % 2 or None in dims or dims[:len(dims) // 2] != dims[len(dims) // 2:]:
        raise ShapeError(f"diag_part needs a known shape of the form s + s, found {x.shape}")
    half = list(dims[:len(dims) // 2])
    with x.graph.as_default():
        side = math.prod(half)
        return reshape(matrix_diag_part(reshape(x, [side, side])), half, name=name or "DiagPart")


def trace(x: Any, name: Optional[str] = None) -> Tensor:
    """The sum of the diagonal of each matrix in the last two axes."""
    x = convert_to_tensor(x)
    with x.graph.as_default():
        return reduce_sum(matrix_diag_part(x), axis=-1, name=name or "Trace")


def split(value: Any, num_or_size_splits: Any, axis: int = 0, num: Optional[int] = None,
          name: str = "split") -> list[Tensor]:
    """`value` cut along `axis` into `num_or_size_splits` equal parts, or parts of the given sizes (one may be -1)."""
    x = convert_to_tensor(value)
    if x._dims is None:
        raise ShapeError("split needs an input of known rank")
    axis = axis % len(x._dims)
    length = x._dims[axis]
    sizes = _split_sizes(num_or_size_splits, length)
    out, begin = [], 0
    with x.graph.as_default(), x.graph.name_scope(name):
        for size in sizes:
            starts = [0] * len(x._dims)
            starts[axis] = begin
            extent = [-1] * len(x._dims)
            extent[axis] = size
            out.append(slice_(x, starts, extent))
            begin += size
    return out


def _split_sizes(num_or_size_splits: Any, length: Optional[int]) -> list[int]:
    if is_tensor_like(num_or_size_splits):
        raise TypeError("split: num_or_size_splits must be Python ints known when the graph is built")
    if length is None:
        raise ShapeError("split needs the size of the split axis to be known")
    if np.ndim(num_or_size_splits) == 0:
        parts = int(num_or_size_splits)
        if parts <= 0 or length % parts:
            raise ShapeError(f"split: {length} elements can't be cut into {parts} equal parts")
        return [length // parts] * parts
    sizes = [int(s) for s in num_or_size_splits]
    if sizes.count(-1) == 1:
        sizes[sizes.index(-1)] = length - (sum(sizes) + 1)
    if sum(sizes) != length or min(sizes) < 0:
        raise ShapeError(f"split: sizes {list(num_or_size_splits)} do not add up to the axis size {length}")
    return sizes


def linspace(start: Any, stop: Any, num: int, name: str = "LinSpace") -> Tensor:
    """`num` evenly spaced values from `start` to `stop` inclusive (float32 for Python numbers)."""
    start = convert_to_tensor(start)
    with start.graph.as_default(), start.graph.name_scope(name):
        stop = convert_to_tensor(stop, start.dtype)
        steps = cast(range_(int(num)), start.dtype)
        delta = (stop - start) / max(int(num) - 1, 1)
        return start + steps * delta


lin_space = linspace


# -- clipping by norm -------------------------------------------------------------------------
def clip_by_norm(t: Any, clip_norm: Any, axes: Any = None, name: Optional[str] = None) -> Tensor:
    """`t` scaled down so that its L2 norm (over `axes`) is at most `clip_norm`."""
    t = convert_to_tensor(t)
    with t.graph.as_default(), t.graph.name_scope(name or "clip_by_norm"):
        clip_norm = convert_to_tensor(clip_norm, t.dtype)
        norm = sqrt(reduce_sum(t * t, axes, keepdims=True))
        return t * clip_norm / maximum(norm, clip_norm)


def global_norm(t_list: Sequence[Any], name: Optional[str] = None) -> Tensor:
    """sqrt(sum of the squared L2 norms of the tensors); None entries are skipped."""
    ts = [convert_to_tensor(t) for t in t_list if t is not None]
    if not ts:
        raise ValueError("global_norm needs at least one tensor")
    with ts[0].graph.as_default(), ts[0].graph.name_scope(name or "global_norm"):
        return sqrt(add_n([reduce_sum(t * t) for t in ts]))


def clip_by_global_norm(t_list: Sequence[Any], clip_norm: Any, use_norm: Any = None,
                        name: Optional[str] = None) -> tuple[list, Tensor]:
    """(the tensors scaled by clip_norm / max(global_norm, clip_norm), the global norm); None stays None."""
    norm = global_norm(t_list) if use_norm is None else convert_to_tensor(use_norm)
    with norm.graph.as_default(), norm.graph.name_scope(name or "clip_by_global_norm"):
        clip_norm = convert_to_tensor(clip_norm, norm.dtype)
        scale = clip_norm / maximum(norm, clip_norm)
        return [None if t is None else convert_to_tensor(t) * scale for t in t_list], norm


def is_tensor(x: Any) -> bool:
    """True for a Tensor or a tensor-like object (a Variable)."""
    return is_tensor_like(x)
