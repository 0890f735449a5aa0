"""Ops whose output size depends on the values: `boolean_mask` (on `where`'s coordinates),
`top_k`, `in_top_k`, and segment sums.

>>> x = tf.constant([-1.0, 2.0, 3.0])
>>> tf.Session().run(tf.boolean_mask(x, x > 0))
array([2., 3.], dtype=float32)
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from .. import dtypes
from ..errors import DTypeError, InvalidArgumentError, ShapeError
from ..graph import Tensor
from ..registry import NOT_DIFFERENTIABLE, TensorSpec, register_op
from ..shapes import format_dims
from .toolkit import convert_to_tensor, make, make_op, require
from .array import expand_dims, reshape
from .compare import maximum, where_indices
from .creation import ones_like
from .indexing import gather, one_hot
from .reduction import reduce_sum


def boolean_mask(tensor: Any, mask: Any, name: str = "boolean_mask", axis: Optional[int] = None) -> Tensor:
    """The elements (or rows) of `tensor` where `mask` is true; `mask` covers its leading dims (from `axis`)."""
    tensor, mask = convert_to_tensor(tensor), convert_to_tensor(mask)
    if mask.dtype is not dtypes.bool_:
        raise DTypeError(f"boolean_mask: mask must be bool, found {mask.dtype.name}")
    k, dims = (None if mask._dims is None else len(mask._dims)), tensor._dims
    if k is None or k == 0:
        raise ShapeError(f"boolean_mask: the mask needs a known rank of at least 1, found {mask.shape}")
    axis = axis or 0
    if dims is None or len(dims) < axis + k:
        raise ShapeError(f"boolean_mask: mask of shape {mask.shape} does not fit a tensor of shape {tensor.shape}")
    with tensor.graph.as_default(), tensor.graph.name_scope(name):
        leading, trailing = list(dims[:axis]), list(dims[axis + k:])
        if None in leading or None in trailing:
            raise ShapeError(f"boolean_mask: the dims outside the mask must be known, found {tensor.shape}")
        flat = reshape(tensor, leading + [-1] + trailing)
        rows = reshape(where_indices(reshape(mask, [-1])), [-1])
        return gather(flat, rows, axis=axis)


# -- top_k / in_top_k --------------------------------------------------------------------------
def _top_k_infer(inputs: Sequence[TensorSpec], *, k: int, sorted: bool) -> list:
    x = inputs[0]
    require(x.dtype, "fi")
    if x.shape is not None and (not x.shape or (x.shape[-1] is not None and x.shape[-1] < k)):
        raise ShapeError(f"input must have at least k={k} columns, found shape {format_dims(x.shape)}")
    out = None if x.shape is None else x.shape[:-1] + (k,)
    return [TensorSpec(x.dtype, out), TensorSpec(dtypes.int32, out)]


def _top_k_kernel(x: np.ndarray, *, k: int, sorted: bool) -> tuple:
    if x.shape[-1] < k:
        raise InvalidArgumentError(f"input must have at least k={k} columns, found shape {x.shape}")
    order = np.argsort(-x, axis=-1, kind="stable")[..., :k]  # ties: the lower index first, as TF
    return np.take_along_axis(x, order, axis=-1), order.astype(np.int32)


def _top_k_grad(op, g_values, g_indices):
    x, indices = op.inputs[0], op.outputs[1]
    n = x._dims[-1] if x._dims else None
    if n is None:
        raise InvalidArgumentError(f"TopKV2 '{op.name}': the gradient needs the last dim of the input to be known")
    spread = one_hot(indices, n, dtype=g_values.dtype)  # [..., k, n]
    return [reduce_sum(expand_dims(g_values, -1) * spread, axis=-2)]


register_op("TopKV2", kernel=_top_k_kernel, infer=_top_k_infer, attrs={"k": "int", "sorted": "bool"},
            num_inputs=1, grad=_top_k_grad,
            batch=lambda args, batched, **attrs: _top_k_kernel(args[0], **attrs))


def top_k(input: Any, k: int = 1, sorted: bool = True, name: Optional[str] = None) -> tuple[Tensor, Tensor]:
    """(values, indices) of the `k` largest entries along the last axis, largest first."""
    op = make_op("TopKV2", [convert_to_tensor(input)], name or "TopKV2", k=int(k), sorted=bool(sorted))
    return op.outputs[0], op.outputs[1]


def _in_top_k_infer(inputs: Sequence[TensorSpec], *, k: int) -> TensorSpec:
    predictions, targets = inputs
    require(predictions.dtype, "f", "predictions")
    require(targets.dtype, "i", "targets")
    if predictions.shape is not None and len(predictions.shape) != 2:
        raise ShapeError(f"predictions must be [batch, classes], found {format_dims(predictions.shape)}")
    if targets.shape is not None and len(targets.shape) != 1:
        raise ShapeError(f"targets must be a vector, found {format_dims(targets.shape)}")
    return TensorSpec(dtypes.bool_, None if predictions.shape is None else predictions.shape[:1])


def _in_top_k_kernel(predictions: np.ndarray, targets: np.ndarray, *, k: int) -> np.ndarray:
    if len(targets) != len(predictions) or ((targets < 0) | (targets >= predictions.shape[1])).any():
        raise InvalidArgumentError(f"targets must be one class index in [0, {predictions.shape[1]}) per row, "
                                   f"found {targets.tolist()}")
    target = predictions[np.arange(len(targets)), targets][:, None]
    better = (predictions > target).sum(axis=1)  # ties count in the target's favour, as in TF
    return (better < k) & np.isfinite(predictions).all(axis=1)


register_op("InTopKV2", kernel=_in_top_k_kernel, infer=_in_top_k_infer, attrs={"k": "int"}, num_inputs=2,
            grad=NOT_DIFFERENTIABLE)


def in_top_k(predictions: Any, targets: Any, k: int, name: Optional[str] = None) -> Tensor:
    """Whether each row's target class is among its `k` highest predictions."""
    return make("InTopKV2", [convert_to_tensor(predictions), convert_to_tensor(targets)], name or "InTopKV2", k=int(k))


# -- segment sums ------------------------------------------------------------------------------
def _segment_infer(inputs: Sequence[TensorSpec], *, num_segments: int) -> TensorSpec:
    data, ids = inputs
    require(data.dtype, "fi")
    require(ids.dtype, "i", "segment_ids")
    if data.shape is not None and ids.shape is not None and data.shape[:len(ids.shape)] != ids.shape \
            and None not in data.shape[:len(ids.shape)] + ids.shape:
        raise ShapeError(f"segment_ids of shape {format_dims(ids.shape)} must be a prefix of the data's shape "
                         f"{format_dims(data.shape)}")
    rest = None if data.shape is None or ids.shape is None else data.shape[len(ids.shape):]
    return TensorSpec(data.dtype, None if rest is None else (num_segments,) + rest)


def _segment_kernel(data: np.ndarray, ids: np.ndarray, *, num_segments: int) -> np.ndarray:
    out = np.zeros((num_segments,) + data.shape[ids.ndim:], data.dtype)
    keep = (ids >= 0) & (ids < num_segments)  # TF drops negative ids; larger ones are an error
    if (ids >= num_segments).any():
        raise InvalidArgumentError(f"segment_ids must be < num_segments={num_segments}, found {ids.max()}")
    np.add.at(out, ids[keep], data[keep])
    return out


def _segment_grad(op, g):
    ids = op.inputs[1]
    return [gather(g, ids), None]


register_op("UnsortedSegmentSum", kernel=_segment_kernel, infer=_segment_infer, attrs={"num_segments": "int"},
            num_inputs=2, grad=_segment_grad)


def unsorted_segment_sum(data: Any, segment_ids: Any, num_segments: int, name: Optional[str] = None) -> Tensor:
    """out[j] = sum of data[i] over the i with segment_ids[i] == j, for j < num_segments."""
    if isinstance(num_segments, Tensor):
        raise TypeError("unsorted_segment_sum: num_segments must be a Python int known when the graph is built")
    return make("UnsortedSegmentSum", [convert_to_tensor(data), convert_to_tensor(segment_ids)],
                name or "UnsortedSegmentSum", num_segments=int(num_segments))


def unsorted_segment_mean(data: Any, segment_ids: Any, num_segments: int, name: Optional[str] = None) -> Tensor:
    """The mean of each segment (0 for an empty one)."""
    data, ids = convert_to_tensor(data), convert_to_tensor(segment_ids)
    with data.graph.as_default():
        counts = unsorted_segment_sum(ones_like(ids, dtype=data.dtype), ids, num_segments)
        total = unsorted_segment_sum(data, ids, num_segments)
        extra = 0 if total._dims is None else len(total._dims) - 1
        return make("RealDiv", [total, reshape(maximum(counts, 1), [num_segments] + [1] * extra)],
                    name or "unsorted_segment_mean")
