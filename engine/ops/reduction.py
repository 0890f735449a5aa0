"""Reductions over axes (sum, mean, max, min, prod, any, all) and argmax/argmin.

Every reduction takes `axis` (None for all axes, an int or a list; negative
axes count from the end) and `keepdims`, and keeps the input dtype as
TensorFlow does: the sum of int32 is int32, the mean of ints is an integer
division. Their gradients share the `Unreduce` op, which puts a reduced
gradient back into the input's shape (also when dims are only known at run
time).
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from .. import dtypes
from ..errors import DTypeError, GradientError, ShapeError
from ..graph import Tensor
from ..registry import NOT_DIFFERENTIABLE, TensorSpec, register_op
from ..shapes import num_elements
from .toolkit import (batched_args, check_axis, convert_to_tensor, make, normalize_axis, require, same_dtype,
                    shift_axis)
from .core import constant

_AXIS_ATTRS = {"axis": "ints?", "keepdims": "bool"}


# -- axes ----------------------------------------------------------------------------------
def _positive(axis: Optional[tuple], rank: int) -> tuple:
    """Sorted non-negative axes; None means all of them."""
    return tuple(range(rank)) if axis is None else tuple(sorted(a % rank for a in axis))


def _batched_axes(axis: Optional[tuple], ndim: int) -> tuple:
    """Row-level axes as axes of a batched array of `ndim` dims (None: every row axis)."""
    return tuple(range(1, ndim)) if axis is None else tuple(shift_axis(a) for a in axis)


def _reduced_shape(shape: Optional[tuple], axis: Optional[tuple], keepdims: bool) -> Optional[tuple]:
    if shape is None:
        return () if axis is None and not keepdims else None
    for a in axis or ():
        check_axis(a, len(shape))
    axes = _positive(axis, len(shape))
    if len(set(axes)) != len(axes):
        raise ShapeError(f"axis {list(axis)} names an axis twice")
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _expand(y: np.ndarray, axis: Optional[tuple], ndim: int, keepdims: bool) -> np.ndarray:
    """A reduced array with its reduced axes put back as size-1 dims."""
    return y if keepdims else np.expand_dims(y, _positive(axis, ndim))


# -- the reductions ------------------------------------------------------------------------
def _reduction(op_type: str, kernel, grad, allowed: str):
    """Register a reduction op (attrs axis, keepdims) and return its builder."""
    def infer(inputs: Sequence[TensorSpec], *, axis, keepdims) -> TensorSpec:
        require(inputs[0].dtype, allowed)
        return TensorSpec(inputs[0].dtype, _reduced_shape(inputs[0].shape, axis, keepdims))

    def batch(args, batched, *, axis, keepdims):
        return kernel(args[0], axis=_batched_axes(axis, args[0].ndim), keepdims=keepdims)

    register_op(op_type, kernel=kernel, infer=infer, attrs=_AXIS_ATTRS, num_inputs=1, grad=grad, batch=batch)

    def builder(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: Optional[str] = None,
                reduction_indices: Any = None, keep_dims: Optional[bool] = None) -> Tensor:
        axis = reduction_indices if axis is None else axis
        keepdims = keepdims if keep_dims is None else keep_dims
        return make(op_type, [convert_to_tensor(input_tensor)], name or op_type,
                    axis=normalize_axis(axis), keepdims=bool(keepdims))
    builder.__name__ = f"reduce_{op_type.lower()}"
    builder.__doc__ = f"The {op_type.lower()} of `input_tensor` over `axis` (None: all axes)."
    return builder


def _sum_kernel(x: np.ndarray, *, axis, keepdims) -> np.ndarray:
    return np.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)


def _mean_kernel(x: np.ndarray, *, axis, keepdims) -> np.ndarray:
    if x.dtype.kind == "f":
        if not x.size:  # NaN, as TF; without numpy's "Mean of empty slice" warning
            return np.full(np.sum(x, axis=axis, keepdims=keepdims).shape, np.nan, x.dtype)
        return np.mean(x, axis=axis, keepdims=keepdims, dtype=x.dtype)
    total = np.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)
    count = max(x.size // max(total.size, 1), 1)
    return (np.sign(total) * (np.abs(total) // count)).astype(x.dtype)  # C-style: truncates toward zero


def _extremum_kernel(reduce, float_start: float, int_start: str):
    """max/min whose empty reductions give -inf/+inf (int: the dtype's min/max), as TF."""
    def kernel(x: np.ndarray, *, axis, keepdims) -> np.ndarray:
        start = float_start if x.dtype.kind == "f" else getattr(np.iinfo(x.dtype), int_start)
        return reduce(x, axis=axis, keepdims=keepdims, initial=start)
    return kernel


def _prod_kernel(x: np.ndarray, *, axis, keepdims) -> np.ndarray:
    return np.prod(x, axis=axis, keepdims=keepdims, dtype=x.dtype)


def _sum_grad(op, g):
    return [unreduce(g, op.inputs[0], op.get_attr("axis"), op.get_attr("keepdims"))]


def _mean_grad(op, g):
    x, axis = op.inputs[0], op.get_attr("axis")
    # divide before broadcasting back: one division per result, not per input element
    return [unreduce(g / reduced_count(x, axis), x, axis, op.get_attr("keepdims"))]


def _extremum_grad(op, g):
    x, axis, keepdims = op.inputs[0], op.get_attr("axis"), op.get_attr("keepdims")
    weights = make("ExtremumWeights", [x, op.outputs[0]], None, axis=axis, keepdims=keepdims)
    return [unreduce(g, x, axis, keepdims) * weights]


def _prod_grad(op, g):
    x, axis = op.inputs[0], op.get_attr("axis")
    others = make("ProdOthers", [x], None, axis=axis)
    return [unreduce(g, x, axis, op.get_attr("keepdims")) * others]


reduce_sum = _reduction("Sum", _sum_kernel, _sum_grad, "fi")
reduce_mean = _reduction("Mean", _mean_kernel, _mean_grad, "fi")
reduce_max = _reduction("Max", _extremum_kernel(np.max, -np.inf, "min"), _extremum_grad, "fi")
reduce_min = _reduction("Min", _extremum_kernel(np.min, np.inf, "max"), _extremum_grad, "fi")
reduce_prod = _reduction("Prod", _prod_kernel, _prod_grad, "fi")
reduce_any = _reduction("Any", np.any, NOT_DIFFERENTIABLE, "b")
reduce_all = _reduction("All", np.all, NOT_DIFFERENTIABLE, "b")


# -- gradient helpers ----------------------------------------------------------------------
def _unreduce_kernel(g: np.ndarray, x: np.ndarray, *, axis, keepdims) -> np.ndarray:
    return np.broadcast_to(_expand(g, axis, x.ndim, keepdims), x.shape)


def _unreduce_batch(args, batched, *, axis, keepdims):
    g, x = batched_args(args, batched)
    return _unreduce_kernel(g, x, axis=_batched_axes(axis, x.ndim), keepdims=keepdims)


def _unreduce_infer(inputs: Sequence[TensorSpec], *, axis, keepdims) -> TensorSpec:
    return TensorSpec(same_dtype(inputs), inputs[1].shape)


register_op("Unreduce", kernel=_unreduce_kernel, infer=_unreduce_infer, attrs=_AXIS_ATTRS, num_inputs=2,
            shape_inputs=(1,),
            batch=_unreduce_batch,
            grad=lambda op, g: [reduce_sum(g, op.get_attr("axis"), op.get_attr("keepdims")), None])


def unreduce(g: Tensor, x: Tensor, axis: Optional[tuple], keepdims: bool, name: Optional[str] = None) -> Tensor:
    """`g`, the gradient of a reduction of `x` over `axis`, broadcast back to `x`'s shape."""
    return make("Unreduce", [g, x], name, axis=axis, keepdims=keepdims)


def _count(shape: tuple, axis: Optional[tuple]) -> int:
    return int(np.prod(shape if axis is None else [shape[a] for a in axis], dtype=np.int64))


def _count_kernel(x: np.ndarray, *, axis) -> np.ndarray:
    return np.asarray(_count(x.shape, axis), dtype=x.dtype)


def _count_batch(args, batched, *, axis):
    x = args[0]
    return np.full(x.shape[:1], _count(x.shape[1:], axis), dtype=x.dtype)


register_op("ReducedCount", kernel=_count_kernel, infer=lambda inputs, *, axis: TensorSpec(inputs[0].dtype, ()),
            attrs={"axis": "ints?"}, num_inputs=1, grad=NOT_DIFFERENTIABLE, batch=_count_batch, shape_inputs=(0,))


def reduced_count(x: Tensor, axis: Optional[tuple], name: Optional[str] = None) -> Tensor:
    """How many elements of `x` each result of a reduction over `axis` combines, as x's dtype.

    A constant when the dims are known statically, else an op evaluated at run time.
    """
    dims = x._dims if axis is None or x._dims is None else [x._dims[a] for a in axis]
    count = num_elements(dims)
    if count is not None:
        return constant(count, dtype=x.dtype)
    return make("ReducedCount", [x], name, axis=axis)


def _weights_kernel(x: np.ndarray, y: np.ndarray, *, axis, keepdims) -> np.ndarray:
    hits = x == _expand(y, axis, x.ndim, keepdims)
    return (hits / np.sum(hits, axis=axis, keepdims=True)).astype(x.dtype)


def _weights_batch(args, batched, *, axis, keepdims):
    x, y = batched_args(args, batched)
    return _weights_kernel(x, y, axis=_batched_axes(axis, x.ndim), keepdims=keepdims)


# Max/min gradients go to the positions equal to the result, split equally between ties (as TF).
register_op("ExtremumWeights", kernel=_weights_kernel, infer=lambda inputs, **_: inputs[0],
            attrs=_AXIS_ATTRS, num_inputs=2, grad=NOT_DIFFERENTIABLE, batch=_weights_batch)


def _prod_others_kernel(x: np.ndarray, *, axis) -> np.ndarray:
    if x.size == 0:
        return x.copy()
    axes = _positive(axis, x.ndim)
    kept = [i for i in range(x.ndim) if i not in axes]
    moved = np.transpose(x, kept + list(axes))
    flat = moved.reshape(moved.shape[:len(kept)] + (-1,))
    ones = np.ones(flat.shape[:-1] + (1,), dtype=x.dtype)
    before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1, dtype=x.dtype)
    after = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1, dtype=x.dtype)[..., ::-1]
    return np.transpose((before * after).reshape(moved.shape), np.argsort(kept + list(axes)))


def _prod_others_grad(op, g):
    raise GradientError(f"ProdOthers '{op.name}': second derivatives of reduce_prod are not implemented")


# For each element, the product of the other elements it is reduced with (exact with zeros).
register_op("ProdOthers", kernel=_prod_others_kernel, infer=lambda inputs, *, axis: inputs[0],
            attrs={"axis": "ints?"}, num_inputs=1, grad=_prod_others_grad,
            batch=lambda args, batched, *, axis: _prod_others_kernel(args[0], axis=_batched_axes(axis, args[0].ndim)))


# -- argmax / argmin -----------------------------------------------------------------------
def _arg_reduction(op_type: str, reduce):
    def kernel(x: np.ndarray, *, axis: int, output_type) -> np.ndarray:
        return reduce(x, axis=axis).astype(output_type.np)

    def infer(inputs: Sequence[TensorSpec], *, axis: int, output_type) -> TensorSpec:
        require(inputs[0].dtype, "fi")
        if output_type not in (dtypes.int32, dtypes.int64):
            raise DTypeError(f"output_type must be int32 or int64, found {output_type.name}")
        return TensorSpec(output_type, _reduced_shape(inputs[0].shape, (axis,), False))

    register_op(op_type, kernel=kernel, infer=infer, attrs={"axis": "int", "output_type": "type"}, num_inputs=1,
                grad=NOT_DIFFERENTIABLE,
                batch=lambda args, batched, *, axis, output_type: kernel(args[0], axis=shift_axis(axis),
                                                                          output_type=output_type))

    def builder(input: Any, axis: Optional[int] = None, name: Optional[str] = None, dimension: Optional[int] = None,
                output_type: Any = dtypes.int64) -> Tensor:
        axis = dimension if axis is None else axis  # `dimension`: TF 1.x's older name
        return make(op_type, [convert_to_tensor(input)], name or op_type, axis=int(axis or 0),
                    output_type=dtypes.as_dtype(output_type))
    builder.__name__ = op_type.lower()
    builder.__doc__ = f"The index of the {op_type[3:].lower()}imum along `axis` (default 0), as `output_type`."
    return builder


argmax = _arg_reduction("ArgMax", np.argmax)
argmin = _arg_reduction("ArgMin", np.argmin)
