"""Tensors made from a shape or a range: fill, zeros, ones, zeros_like,
ones_like and range.

`Fill` and `Range` take their dims and bounds as tensors (so they may be
computed at run time, e.g. `zeros(shape(x))`); the builder records the static
shape it can see in the `shape` attr, and the kernel checks the result
against it.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from .. import dtypes
from ..errors import InvalidArgumentError, ShapeError
from ..graph import Tensor
from ..registry import NOT_DIFFERENTIABLE, TensorSpec, register_op
from ..shapes import as_dims, format_dims, is_compatible, unknown_dims
from .toolkit import batched_args, convert_to_tensor, is_tensor_like, make, require, same_dtype
from .joining import stack
from .reduction import reduce_sum


def _checked(out: np.ndarray, shape: Optional[tuple]) -> np.ndarray:
    if not is_compatible(shape, out.shape):
        raise InvalidArgumentError(f"result of shape {out.shape} does not fit the static shape {format_dims(shape)}")
    return out


def _all_equal_rows(x: np.ndarray, what: str) -> np.ndarray:
    """Row 0 of a batched argument whose rows must agree (the result can't be ragged)."""
    if len(x) and (x != x[:1]).any():
        raise InvalidArgumentError(f"rows ask for {what} of different shapes; results can't be ragged")
    return x[0] if len(x) else np.zeros(x.shape[1:], x.dtype)


# -- fill ----------------------------------------------------------------------------------
def _fill_infer(inputs: Sequence[TensorSpec], *, shape: Optional[tuple]) -> TensorSpec:
    dims, value = inputs
    require(dims.dtype, "i", "dims")
    if dims.shape is not None and len(dims.shape) != 1:
        raise ShapeError(f"dims must be a vector, found shape {format_dims(dims.shape)}")
    if value.shape not in (None, ()):
        raise ShapeError(f"value must be a scalar, found shape {format_dims(value.shape)}")
    return TensorSpec(value.dtype, shape)


def _fill_kernel(dims: np.ndarray, value: np.ndarray, *, shape: Optional[tuple]) -> np.ndarray:
    if (dims < 0).any():
        raise InvalidArgumentError(f"dims must be non-negative, found {dims.tolist()}")
    return _checked(np.full(tuple(dims), value, dtype=value.dtype), shape)


def _fill_batch(args, batched, *, shape):
    dims, value = batched_args(args, batched)
    row = _fill_kernel(_all_equal_rows(dims, "fills"), np.zeros((), value.dtype), shape=shape)
    return np.broadcast_to(value.reshape(value.shape + (1,) * row.ndim), value.shape + row.shape)


register_op("Fill", kernel=_fill_kernel, infer=_fill_infer, attrs={"shape": "shape?"}, num_inputs=2,
            grad=lambda op, g: [None, reduce_sum(g)], batch=_fill_batch)


def fill(dims: Any, value: Any, name: str = "Fill") -> Tensor:
    """A tensor of shape `dims` (ints, or an int tensor) whose elements all equal `value`.

    >>> tf.Session().run(fill([2, 3], 9.0))
    array([[9., 9., 9.],
           [9., 9., 9.]], dtype=float32)
    """
    dims, static = shape_argument(dims)
    return make("Fill", [dims, convert_to_tensor(value)], name, shape=static)


def shape_argument(dims: Any) -> tuple[Tensor, Optional[tuple]]:
    """A shape given as ints, an int tensor or a list mixing both: (int vector tensor, static dims).

    The static dims are what the graph can see when it is built (None where
    a dim is computed at run time), for the `shape` attr of ops like Fill.
    """
    if not is_tensor_like(dims) and any(is_tensor_like(d) for d in dims):
        dims = stack(list(dims))  # [tf.shape(x)[0], 3], as TF packs it
    if is_tensor_like(dims):
        dims = convert_to_tensor(dims)
        if dims.op.type == "Const":
            return dims, as_dims(dims.op.get_attr("value").reshape(-1).tolist())
        return dims, None if dims._dims is None or dims._dims[0] is None else unknown_dims(dims._dims[0])
    static = as_dims(dims)
    return convert_to_tensor(np.asarray(list(static), dtype=np.int32).reshape(-1)), static


def zeros(shape: Any, dtype: Any = dtypes.float32, name: str = "zeros") -> Tensor:
    """A tensor of `shape` full of zeros."""
    return fill(shape, np.zeros((), dtypes.as_dtype(dtype).np), name=name)


def ones(shape: Any, dtype: Any = dtypes.float32, name: str = "ones") -> Tensor:
    """A tensor of `shape` full of ones."""
    return fill(shape, np.ones((), dtypes.as_dtype(dtype).np), name=name)


# -- zeros_like / ones_like ----------------------------------------------------------------
def _filled_like(op_type: str, value: int):
    """Register an op giving a tensor shaped like its input, full of `value`; return its builder."""
    def kernel(x: np.ndarray, *, dtype) -> np.ndarray:
        return np.full(x.shape, value, dtype=dtype.np)

    register_op(op_type, kernel=kernel, infer=lambda inputs, *, dtype: TensorSpec(dtype, inputs[0].shape),
                attrs={"dtype": "type"}, num_inputs=1, grad=NOT_DIFFERENTIABLE, shape_inputs=(0,),
                batch=lambda args, batched, *, dtype: kernel(args[0], dtype=dtype))

    def builder(tensor: Any, dtype: Any = None, name: Optional[str] = None) -> Tensor:
        tensor = convert_to_tensor(tensor)
        return make(op_type, [tensor], name or op_type, dtype=dtypes.as_dtype(dtype or tensor.dtype))
    builder.__name__ = f"{'zeros' if value == 0 else 'ones'}_like"
    builder.__doc__ = f"A tensor shaped like `tensor` full of {value}s (of `dtype`, default tensor's)."
    return builder


zeros_like = _filled_like("ZerosLike", 0)
ones_like = _filled_like("OnesLike", 1)


# -- range ---------------------------------------------------------------------------------
def _range_rows(start: np.ndarray, limit: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Row i is [start[i], start[i] + delta[i], ...) up to limit[i]; all rows as long."""
    if (delta == 0).any():
        raise InvalidArgumentError("range needs a non-zero delta")
    if ((limit - start) * np.sign(delta) < 0).any():
        raise InvalidArgumentError(f"range needs start <= limit when delta > 0 (and >= when < 0), "
                                   f"found start {start.tolist()}, limit {limit.tolist()}, delta {delta.tolist()}")
    if start.dtype.kind == "f":
        lengths = np.ceil((limit - start) / delta).astype(np.int64)
    else:
        lengths = -((start - limit) // delta)
    length = int(_all_equal_rows(lengths, "ranges"))
    return (start[:, None] + delta[:, None] * np.arange(length, dtype=start.dtype)).astype(start.dtype)


def _range_infer(inputs: Sequence[TensorSpec], *, shape: tuple) -> TensorSpec:
    dtype = same_dtype(inputs)
    require(dtype, "fi")
    if any(s.shape not in (None, ()) for s in inputs):
        raise ShapeError("start, limit and delta must be scalars")
    return TensorSpec(dtype, shape)


def _range_kernel(start: np.ndarray, limit: np.ndarray, delta: np.ndarray, *, shape: tuple) -> np.ndarray:
    return _checked(_range_rows(start[None], limit[None], delta[None])[0], shape)


register_op("Range", kernel=_range_kernel, infer=_range_infer, attrs={"shape": "shape"}, num_inputs=3,
            grad=NOT_DIFFERENTIABLE, batch=lambda args, batched, *, shape: _range_rows(*batched_args(args, batched)))


def range(start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None, name: str = "range") -> Tensor:
    """The numbers from `start` (inclusive) to `limit` (exclusive) in steps of `delta`.

    With one argument it is the limit: `range(3)` is [0, 1, 2]. The dtype is
    `dtype`, else the tensors' one, else float32 if a bound is a float, else int32.
    """
    bounds = [0, start, delta] if limit is None else [start, limit, delta]
    tensors = [b for b in bounds if is_tensor_like(b)]
    if dtype is None:
        dtype = convert_to_tensor(tensors[0]).dtype if tensors else (
            dtypes.float32 if any(isinstance(b, float) for b in bounds) else dtypes.int32)
    dtype = dtypes.as_dtype(dtype)
    length = None if tensors else len(_range_rows(*[np.array([b], dtype=dtype.np) for b in bounds])[0])
    return make("Range", [convert_to_tensor(b, dtype) for b in bounds], name, shape=(length,))
