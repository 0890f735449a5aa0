"""Joining and splitting along an axis: concat, stack and unstack.

`SplitLike` cuts a tensor into pieces shaped like given tensors at run time;
it is the gradient of concat, so that works with unknown dims too.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ..errors import InvalidArgumentError, ShapeError
from ..graph import Tensor
from ..registry import TensorSpec, register_op
from ..shapes import format_dims, merge
from .toolkit import batched_args, check_axis, convert_all, convert_to_tensor, make, make_op, same_dtype, shift_axis


def _outputs(parts: Sequence[np.ndarray]):
    """A kernel result: one array for a single output, else a tuple."""
    return parts[0] if len(parts) == 1 else tuple(parts)


def _merged(shapes: Sequence[Optional[tuple]], what: str, shown: Sequence[Optional[tuple]] = ()) -> Optional[tuple]:
    """The merged static shape of `shapes`; ShapeError naming all of them (or `shown`) otherwise."""
    try:
        out = None
        for dims in shapes:
            out = merge(out, dims)
        return out
    except ShapeError:
        raise ShapeError(f"{what}: " + ", ".join(map(format_dims, shown or shapes))) from None


# -- concat --------------------------------------------------------------------------------
def _concat_infer(inputs: Sequence[TensorSpec], *, axis: int) -> TensorSpec:
    dtype = same_dtype(inputs)
    shapes = [s.shape for s in inputs]
    known = [d for d in shapes if d is not None]
    if not known:
        return TensorSpec(dtype, None)
    if len({len(d) for d in known}) > 1:
        raise ShapeError("cannot concatenate tensors of different ranks: " + ", ".join(map(format_dims, shapes)))
    rank = len(known[0])
    if rank == 0:
        raise ShapeError("cannot concatenate scalars; use stack")
    check_axis(axis, rank)
    a = axis % rank
    others = _merged([d[:a] + (None,) + d[a + 1:] for d in known], f"shapes differ outside axis {axis}", known)
    sizes = [None if d is None else d[a] for d in shapes]
    total = None if None in sizes else sum(sizes)
    return TensorSpec(dtype, others[:a] + (total,) + others[a + 1:])


register_op("ConcatV2", kernel=lambda *values, axis: np.concatenate(values, axis=axis), infer=_concat_infer,
            attrs={"axis": "int"}, grad=lambda op, g: split_like(g, op.inputs, op.get_attr("axis")),
            batch=lambda args, batched, *, axis: np.concatenate(batched_args(args, batched), axis=shift_axis(axis)))


def concat(values: Sequence[Any], axis: int, name: str = "concat") -> Tensor:
    """The tensors `values` joined along an existing `axis`.

    >>> concat([tf.zeros([2, 3]), tf.ones([2, 4])], axis=1).shape
    TensorShape((2, 7))
    """
    if not values:
        raise ValueError("concat needs at least one tensor")
    return make("ConcatV2", convert_all(values), name, axis=int(axis))


def _split_like_kernel(x: np.ndarray, *likes: np.ndarray, axis: int):
    sizes = [like.shape[axis] for like in likes]
    return _outputs(np.split(x, np.cumsum(sizes)[:-1], axis=axis))


def _split_like_grad(op, *grads):
    return [concat(list(grads), op.get_attr("axis"))] + [None] * len(grads)


register_op("SplitLike", kernel=_split_like_kernel, attrs={"axis": "int"},
            infer=lambda inputs, *, axis: [TensorSpec(inputs[0].dtype, like.shape) for like in inputs[1:]],
            grad=_split_like_grad,
            batch=lambda args, batched, *, axis: _split_like_kernel(*batched_args(args, batched),
                                                                    axis=shift_axis(axis)))


def split_like(x: Tensor, likes: Sequence[Tensor], axis: int, name: Optional[str] = None) -> list[Tensor]:
    """`x` cut along `axis` into pieces as long as each of `likes` there (read at run time)."""
    return make_op("SplitLike", [x, *likes], name, axis=axis).outputs


# -- stack / unstack -----------------------------------------------------------------------
def _stack_infer(inputs: Sequence[TensorSpec], *, axis: int) -> TensorSpec:
    dtype = same_dtype(inputs)
    dims = _merged([s.shape for s in inputs], "cannot stack tensors of different shapes")
    if dims is None:
        return TensorSpec(dtype, None)
    check_axis(axis, len(dims), extra=1)
    at = axis if axis >= 0 else len(dims) + 1 + axis
    return TensorSpec(dtype, dims[:at] + (len(inputs),) + dims[at:])


register_op("Pack", kernel=lambda *values, axis: np.stack(values, axis=axis), infer=_stack_infer,
            attrs={"axis": "int"},
            grad=lambda op, g: unstack(g, num=len(op.inputs), axis=op.get_attr("axis")),
            batch=lambda args, batched, *, axis: np.stack(batched_args(args, batched), axis=shift_axis(axis)))


def stack(values: Sequence[Any], axis: int = 0, name: str = "stack") -> Tensor:
    """The same-shaped tensors `values` joined along a new `axis`."""
    if not values:
        raise ValueError("stack needs at least one tensor")
    return make("Pack", convert_all(values), name, axis=int(axis))


def _unstack_infer(inputs: Sequence[TensorSpec], *, num: int, axis: int) -> list[TensorSpec]:
    dims = inputs[0].shape
    if dims is None:
        return [TensorSpec(inputs[0].dtype, None)] * num
    check_axis(axis, len(dims))
    if dims[axis] not in (None, num):
        raise ShapeError(f"cannot unstack axis {axis} of size {dims[axis]} into {num} tensors")
    row = dims[:axis % len(dims)] + dims[axis % len(dims) + 1:]
    return [TensorSpec(inputs[0].dtype, row)] * num


def _unstack_kernel(x: np.ndarray, *, num: int, axis: int):
    if x.shape[axis] != num:
        raise InvalidArgumentError(f"cannot unstack axis {axis} of size {x.shape[axis]} into {num} tensors")
    return _outputs(list(np.moveaxis(x, axis, 0)))


register_op("Unpack", kernel=_unstack_kernel, infer=_unstack_infer, attrs={"num": "int", "axis": "int"},
            num_inputs=1, grad=lambda op, *grads: [stack(list(grads), op.get_attr("axis"))],
            batch=lambda args, batched, *, num, axis: _unstack_kernel(args[0], num=num, axis=shift_axis(axis)))


def unstack(value: Any, num: Optional[int] = None, axis: int = 0, name: str = "unstack") -> list[Tensor]:
    """The tensors along `axis` of `value`, as a list (`num` is needed if that dim is unknown)."""
    value = convert_to_tensor(value)
    if num is None:
        dims = value._dims
        num = None if dims is None or not -len(dims) <= axis < len(dims) else dims[axis]
        if num is None:
            raise ValueError(f"cannot infer num from shape {format_dims(dims)} at axis {axis}; pass num")
    return make_op("Unpack", [value], name, num=int(num), axis=int(axis)).outputs
