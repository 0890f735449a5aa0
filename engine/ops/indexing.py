"""Selecting elements: slicing (`x[1:3, ..., None]`, `slice`, `strided_slice`),
`gather` and `one_hot`.

A slice is one `StridedSlice` op whose attrs are TensorFlow's: begin, end and
strides per index entry plus bit masks saying which entries are an open
begin or end, the ellipsis, a new axis, or a single index (which drops the
axis). Gradients scatter into zeros with dedicated ops (`StridedSliceGrad`,
`GatherGrad`), which read the input's shape at run time.
"""
from __future__ import annotations

import builtins
from typing import Any, Optional, Sequence

import numpy as np

from .. import dtypes
from ..errors import InvalidArgumentError, ShapeError
from ..graph import OPERATORS, Tensor
from ..registry import NOT_DIFFERENTIABLE, TensorSpec, register_op
from .toolkit import as_array, batched_args, check_axis, convert_to_tensor, make, require, same_dtype, shift_axis

_SLICE_ATTRS = {"begin": "ints", "end": "ints", "strides": "ints", "begin_mask": "int", "end_mask": "int",
                "ellipsis_mask": "int", "new_axis_mask": "int", "shrink_axis_mask": "int"}


# -- strided slices ------------------------------------------------------------------------
def _index(begin, end, strides, begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask) -> tuple:
    """The numpy index that a StridedSlice spec describes."""
    index = []
    for i, (b, e, s) in enumerate(zip(begin, end, strides)):
        bit = 1 << i
        if ellipsis_mask & bit:
            index.append(Ellipsis)
        elif new_axis_mask & bit:
            index.append(None)
        elif shrink_axis_mask & bit:
            index.append(b)
        else:
            index.append(builtins.slice(None if begin_mask & bit else b, None if end_mask & bit else e, s))
    return tuple(index)


def _sliced_dims(dims: Optional[tuple], index: tuple) -> Optional[tuple]:
    """The static shape of `x[index]` for x of shape `dims`."""
    consumed = sum(item is not None and item is not Ellipsis for item in index)
    if dims is None:
        return None
    if consumed > len(dims):
        raise ShapeError(f"{consumed} indices for a tensor of rank {len(dims)}")
    out, pos = [], 0
    for item in index if Ellipsis in index else index + (Ellipsis,):
        if item is Ellipsis:
            out.extend(dims[pos:pos + len(dims) - consumed])
            pos += len(dims) - consumed
        elif item is None:
            out.append(1)
        else:
            d, pos = dims[pos], pos + 1
            if isinstance(item, builtins.slice):
                out.append(None if d is None else len(builtins.range(*item.indices(d))))
            elif d is not None and not -d <= item < d:
                raise ShapeError(f"index {item} is out of range for axis {pos - 1} of size {d}")
    return tuple(out)


def _slice_infer(inputs: Sequence[TensorSpec], **spec) -> TensorSpec:
    if not len(spec["begin"]) == len(spec["end"]) == len(spec["strides"]):
        raise ShapeError("begin, end and strides must have the same length")
    if 0 in spec["strides"]:
        raise ShapeError("slice strides must not be zero")
    index = _index(**spec)
    if index.count(Ellipsis) > 1:
        raise ShapeError("a slice may hold one ellipsis only")
    return TensorSpec(inputs[0].dtype, _sliced_dims(inputs[0].shape, index))


def _slice_kernel(x: np.ndarray, **spec) -> np.ndarray:
    try:
        return np.asarray(x[_index(**spec)])
    except IndexError as e:
        raise InvalidArgumentError(f"slice of an array of shape {x.shape}: {e}") from None


def _slice_grad_kernel(g: np.ndarray, x: np.ndarray, **spec) -> np.ndarray:
    out = np.zeros(x.shape, dtype=g.dtype)
    out[_index(**spec)] = g
    return out


def _batched_spec(spec: dict) -> dict:
    """The spec with a leading open slice for the batch axis (every mask moves up a bit)."""
    masks = {k: v << 1 for k, v in spec.items() if k.endswith("mask")}
    masks["begin_mask"] |= 1
    masks["end_mask"] |= 1
    return dict(masks, begin=(0,) + spec["begin"], end=(0,) + spec["end"], strides=(1,) + spec["strides"])


register_op("StridedSlice", kernel=_slice_kernel, infer=_slice_infer, attrs=_SLICE_ATTRS, num_inputs=1,
            grad=lambda op, g: [make("StridedSliceGrad", [g, op.inputs[0]], None, **op.attrs)],
            batch=lambda args, batched, **spec: _slice_kernel(args[0], **_batched_spec(spec)))
register_op("StridedSliceGrad", kernel=_slice_grad_kernel,
            infer=lambda inputs, **spec: TensorSpec(same_dtype(inputs), inputs[1].shape),
            attrs=_SLICE_ATTRS, num_inputs=2, shape_inputs=(1,),
            grad=lambda op, g: [make("StridedSlice", [g], None, **op.attrs), None],
            batch=lambda args, batched, **spec: _slice_grad_kernel(*batched_args(args, batched),
                                                                   **_batched_spec(spec)))


def strided_slice(input_: Any, begin: Sequence[int], end: Sequence[int], strides: Optional[Sequence[int]] = None,
                  begin_mask: int = 0, end_mask: int = 0, ellipsis_mask: int = 0, new_axis_mask: int = 0,
                  shrink_axis_mask: int = 0, name: str = "strided_slice") -> Tensor:
    """TensorFlow's strided slice: `x[begin:end:strides]` per axis, shaped by the masks."""
    strides = [1] * len(begin) if strides is None else strides
    return make("StridedSlice", [convert_to_tensor(input_)], name, begin=_ints(begin), end=_ints(end),
                strides=_ints(strides), begin_mask=begin_mask, end_mask=end_mask, ellipsis_mask=ellipsis_mask,
                new_axis_mask=new_axis_mask, shrink_axis_mask=shrink_axis_mask)


def _ints(values: Sequence[Any]) -> tuple:
    if isinstance(values, Tensor) or not all(_is_index(v) for v in values):
        raise TypeError(f"slice bounds must be Python ints known when the graph is built, found {values!r}; "
                        "use engine.gather for indices computed at run time")
    return tuple(int(v) for v in values)


def _is_index(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def slice(input_: Any, begin: Sequence[int], size: Sequence[int], name: str = "Slice") -> Tensor:
    """`size[i]` elements from `begin[i]` along each axis i (-1: to the end).

    >>> x = tf.constant(np.arange(8.0).reshape(2, 4))
    >>> tf.Session().run(slice(x, [0, 1], [-1, 2]))  # x[:, 1:3]
    array([[1., 2.],
           [5., 6.]])
    """
    end_mask = sum(1 << i for i, s in enumerate(size) if s == -1)
    end = [b + s if s != -1 else 0 for b, s in zip(_ints(begin), _ints(size))]
    return strided_slice(input_, begin, end, end_mask=end_mask, name=name)


def _key_entry(item: Any) -> tuple[str, list]:
    """The mask an index item sets (if any) and its begin, end and stride."""
    if isinstance(item, builtins.slice):
        return "", [0 if v is None else v for v in (item.start, item.stop)] + [1 if item.step is None else item.step]
    if item is Ellipsis:
        return "ellipsis_mask", [0, 0, 1]
    if item is None:
        return "new_axis_mask", [0, 0, 1]
    if not _is_index(item):
        raise TypeError(f"tensors are indexed with ints, slices of ints, ... and None (newaxis), found {item!r}; "
                        "use engine.gather for indices computed at run time")
    return "shrink_axis_mask", [item, item + 1, 1]


def _getitem(tensor: Any, key: Any) -> Tensor:
    """`tensor[key]` for ints, slices of ints, `...` and None (`newaxis`)."""
    spec = dict.fromkeys(("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask"), 0)
    bounds = []
    for i, item in enumerate(key if isinstance(key, tuple) else (key,)):
        mask, entry = _key_entry(item)
        if mask:
            spec[mask] |= 1 << i
        if isinstance(item, builtins.slice):
            spec["begin_mask"] |= (item.start is None) << i
            spec["end_mask"] |= (item.stop is None) << i
        bounds.append(entry)
    begin, end, strides = zip(*bounds) if bounds else ((), (), ())
    return strided_slice(tensor, begin, end, strides, name="strided_slice", **spec)


# -- gather --------------------------------------------------------------------------------
def _take_rows(params: np.ndarray, indices: np.ndarray, axis: int) -> np.ndarray:
    """Row i of the result gathers params[i] at indices[i] along row axis `axis` (>= 0)."""
    size = params.shape[axis + 1]
    if indices.size and (indices.min() < 0 or indices.max() >= size):
        bad = indices[(indices < 0) | (indices >= size)].flat[0]
        raise InvalidArgumentError(f"gather index {bad} is not in [0, {size})")
    picked = np.moveaxis(params, axis + 1, 1)[_row_numbers(indices), indices]  # (n, I..., before..., after...)
    k = indices.ndim - 1
    return picked.transpose([0, *builtins.range(1 + k, 1 + k + axis), *builtins.range(1, 1 + k),
                             *builtins.range(1 + k + axis, picked.ndim)])


def _scatter_rows(grad: np.ndarray, indices: np.ndarray, params: np.ndarray, axis: int) -> np.ndarray:
    """The adjoint of _take_rows: grad added into zeros shaped like params."""
    out = np.zeros(params.shape, dtype=grad.dtype)
    k = indices.ndim - 1
    grad = grad.transpose([0, *builtins.range(1 + axis, 1 + axis + k), *builtins.range(1, 1 + axis),
                           *builtins.range(1 + axis + k, grad.ndim)])  # (n, I..., before..., after...)
    np.add.at(np.moveaxis(out, axis + 1, 1), (_row_numbers(indices), indices), grad)
    return out


def _row_numbers(indices: np.ndarray) -> np.ndarray:
    return np.arange(len(indices)).reshape((-1,) + (1,) * (indices.ndim - 1))


def _gather_infer(inputs: Sequence[TensorSpec], *, axis: int) -> TensorSpec:
    params, indices = inputs
    require(indices.dtype, "i", "indices")
    if params.shape is None or indices.shape is None:
        return TensorSpec(params.dtype, None)
    check_axis(axis, len(params.shape))
    a = axis % len(params.shape)
    return TensorSpec(params.dtype, params.shape[:a] + indices.shape + params.shape[a + 1:])


def _gather_kernel(params: np.ndarray, indices: np.ndarray, *, axis: int) -> np.ndarray:
    return _take_rows(params[None], indices[None], axis % params.ndim)[0]


def _gather_batch(args, batched, *, axis: int) -> np.ndarray:
    params, indices = batched_args(args, batched)
    return _take_rows(params, indices, axis % (params.ndim - 1))


def _gather_grad_kernel(grad: np.ndarray, indices: np.ndarray, params: np.ndarray, *, axis: int) -> np.ndarray:
    return _scatter_rows(grad[None], indices[None], params[None], axis % params.ndim)[0]


def _gather_grad_batch(args, batched, *, axis: int) -> np.ndarray:
    grad, indices, params = batched_args(args, batched)
    return _scatter_rows(grad, indices, params, axis % (params.ndim - 1))


register_op("GatherV2", kernel=_gather_kernel, infer=_gather_infer, attrs={"axis": "int"}, num_inputs=2,
            grad=lambda op, g: [make("GatherGrad", [g, op.inputs[1], op.inputs[0]], None, axis=op.get_attr("axis")),
                                None],
            batch=_gather_batch)
# The gradient of gather: the incoming gradient added up at the gathered positions of zeros like params.
register_op("GatherGrad", kernel=_gather_grad_kernel, attrs={"axis": "int"}, num_inputs=3, shape_inputs=(2,),
            infer=lambda inputs, *, axis: TensorSpec(same_dtype([inputs[0], inputs[2]]), inputs[2].shape),
            grad=lambda op, g: [gather(g, op.inputs[1], axis=op.get_attr("axis")), None, None],
            batch=_gather_grad_batch)


def gather(params: Any, indices: Any, validate_indices: Any = None, name: str = "GatherV2", axis: int = 0) -> Tensor:
    """The slices of `params` along `axis` at `indices` (ints in [0, size)).

    >>> embeddings = tf.constant(np.arange(6.0).reshape(3, 2))  # (V, d)
    >>> tf.Session().run(gather(embeddings, [2, 0, 2]))  # (n,) -> (n, d)
    array([[4., 5.],
           [0., 1.],
           [4., 5.]])
    """
    return make("GatherV2", [convert_to_tensor(params), convert_to_tensor(indices)], name, axis=int(axis))


# -- one_hot -------------------------------------------------------------------------------
def _one_hot_kernel(indices: np.ndarray, *, depth: int, on_value: float, off_value: float, dtype, axis: int):
    hot = indices[..., None] == np.arange(depth)
    out = np.where(hot, np.asarray(on_value, dtype.np), np.asarray(off_value, dtype.np))
    return out if axis == -1 else np.moveaxis(out, -1, axis)


def _one_hot_infer(inputs: Sequence[TensorSpec], *, depth: int, on_value, off_value, dtype, axis: int):
    require(inputs[0].dtype, "i", "indices")
    if depth < 0:
        raise ShapeError(f"depth must be non-negative, found {depth}")
    dims = inputs[0].shape
    if dims is None:
        return TensorSpec(dtype, None)
    if not -1 <= axis <= len(dims):
        raise ShapeError(f"axis {axis} is out of range: expected -1 to {len(dims)}")
    at = len(dims) if axis == -1 else axis
    return TensorSpec(dtype, dims[:at] + (depth,) + dims[at:])


register_op("OneHot", kernel=_one_hot_kernel, infer=_one_hot_infer, num_inputs=1, grad=NOT_DIFFERENTIABLE,
            attrs={"depth": "int", "on_value": "float", "off_value": "float", "dtype": "type", "axis": "int"},
            batch=lambda args, batched, *, axis, **attrs: _one_hot_kernel(args[0], axis=shift_axis(axis), **attrs))


def one_hot(indices: Any, depth: int, on_value: Any = None, off_value: Any = None, axis: Optional[int] = None,
            dtype: Any = None, name: str = "one_hot") -> Tensor:
    """`on_value` where the new axis (`axis`, default last) equals the index, else `off_value`.

    The dtype is `dtype`, else that of the given on/off values, else float32 (as TF).

    >>> tf.Session().run(one_hot([0, 2], depth=3))
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
    """
    given = [v for v in (on_value, off_value) if v is not None]
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
    else:
        dtype = dtypes.from_numpy(as_array(given[0])) if given else dtypes.float32
    return make("OneHot", [convert_to_tensor(indices)], name, depth=int(depth),
                on_value=float(1 if on_value is None else on_value), off_value=float(off_value or 0),
                dtype=dtype, axis=-1 if axis is None else int(axis))


OPERATORS.update(getitem=_getitem)
