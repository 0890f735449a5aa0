"""Pooling ops over NHWC images: max_pool and avg_pool with their gradients,
TensorFlow 1.x names, attrs and padding rules (SAME max pooling pads with
-inf; SAME average pooling leaves the padding out of each mean).

MaxPool is a running maximum over the taps' strided slices, AvgPool sums a
window view (no copy). MaxPoolGrad routes each
gradient to its window's first maximum (TensorFlow's choice among ties) by
one equality pass per tap against the pooled maxima; MaxPoolGradGrad reads
there, and each is the other's gradient. AvgPoolGrad spreads each gradient
evenly over its window's pixels; its gradient is avg_pool. No Python loop
over pixels or the batch: loops run over the kh * kw taps only. Leading
dims are free, so the batching rules broadcast and run the kernels.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ..graph import Tensor
from ..registry import TensorSpec, register_op
from .toolkit import convert_to_tensor, make, require, same_dtype
from .windows import (Window, check_attrs, check_images, check_out_backprop, nhwc, pad, padded_zeros, padding_attr,
                      quad, rank4, scatter_windows, sizes_of, sizes_tuple, tap_index, window, windows)

_POOL_ATTRS = {"ksize": "ints", "strides": "ints", "padding": "str"}


def _pool_window(ksize: tuple, strides: tuple, padding: str) -> Window:
    check_attrs(ksize, strides, padding)
    return window(ksize, strides, (1, 1, 1, 1), padding)


def _pool_dims(images: TensorSpec, ksize, strides, padding) -> tuple:
    dims = rank4(images, "input")
    return (dims[0],) + _pool_window(ksize, strides, padding).out_shape(dims[1], dims[2]) + (dims[3],)


def _pool_infer(allowed: str):
    def infer(inputs: Sequence[TensorSpec], *, ksize, strides, padding) -> TensorSpec:
        require(inputs[0].dtype, allowed)
        return TensorSpec(inputs[0].dtype, _pool_dims(inputs[0], ksize, strides, padding))
    return infer


def _lowest(dtype: np.dtype) -> Any:
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _pool_views(x: np.ndarray, ksize, strides, padding, fill: Any) -> np.ndarray:
    """The windows (..., OH, OW, C, kh, kw) of x (..., H, W, C), padding with `fill`."""
    w = _pool_window(ksize, strides, padding)
    return windows(pad(x, w, fill), w, w.out_shape(x.shape[-3], x.shape[-2]))


def _max_pool_kernel(x: np.ndarray, *, ksize, strides, padding) -> np.ndarray:
    """The running maximum over the taps' strided slices: ~3x faster than reducing the window view."""
    check_images(x, "input", "MaxPool")
    w = _pool_window(ksize, strides, padding)
    xp, out = pad(x, w, _lowest(x.dtype)), w.out_shape(x.shape[-3], x.shape[-2])
    y = xp[tap_index(w, 0, 0, out)].copy()
    for i, j in list(np.ndindex(*w.size))[1:]:
        np.maximum(y, xp[tap_index(w, i, j, out)], out=y)
    return y


def _first_maxima(x: np.ndarray, y: np.ndarray, w: Window):
    """For each filter tap: its index in padded x and where it holds its window's first maximum
    (TensorFlow's choice among ties), given the pooled maxima `y`; one pass per tap, no copies."""
    xp = pad(x, w, _lowest(x.dtype))
    free, hit = np.ones(y.shape, bool), np.empty(y.shape, bool)  # one buffer each: the caller uses hit at once
    for i, j in np.ndindex(*w.size):
        tap = tap_index(w, i, j, y.shape[-3:-1])
        np.logical_and(np.equal(xp[tap], y, out=hit), free, out=hit)
        np.logical_xor(free, hit, out=free)  # hit is a subset of free
        yield tap, hit


def _max_pool_grad_kernel(x: np.ndarray, y: np.ndarray, dy: np.ndarray, *, ksize, strides, padding) -> np.ndarray:
    """dy routed to the first maximum of each window (the rest get zero)."""
    w = _pool_window(ksize, strides, padding)
    tiled = _tiles(w, x.shape, y.shape)
    dxp, crop = padded_zeros(x.shape, w, dy.dtype, empty=tiled)
    for tap, hit in _first_maxima(x, y, w):
        if tiled:  # each pixel in one window: write, no zeros and no add
            np.multiply(dy, hit, out=dxp[tap])
        else:
            dxp[tap] += dy * hit  # faster than where= or np.where (measured)
    return dxp[crop]


def _tiles(w: Window, x_shape: tuple, y_shape: tuple) -> bool:
    """Whether the windows tile padded x exactly (ksize == strides, nothing left over, the usual 2x2/2 pool)."""
    return w.size == w.strides and all(
        y_shape[-3 + a] * w.size[a] == x_shape[-3 + a] + sum(w.pads(x_shape[-3 + a], a)) for a in (0, 1))


def _max_pool_grad_grad_kernel(x: np.ndarray, y: np.ndarray, ddx: np.ndarray, *, ksize, strides,
                               padding) -> np.ndarray:
    """ddx read at the first maximum of each window: the adjoint of MaxPoolGrad in its last input."""
    w = _pool_window(ksize, strides, padding)
    ddxp = pad(ddx, w)
    out = np.zeros(np.broadcast_shapes(y.shape, ddx.shape[:-3] + y.shape[-3:]), ddx.dtype)
    for tap, hit in _first_maxima(x, y, w):
        out += ddxp[tap] * hit
    return out


def _max_pool_grad_infer(inputs: Sequence[TensorSpec], *, ksize, strides, padding) -> TensorSpec:
    dtype = same_dtype(inputs)
    require(dtype, "f")
    return TensorSpec(dtype, inputs[0].shape)


def _max_pool_grad_grad_infer(inputs: Sequence[TensorSpec], *, ksize, strides, padding) -> TensorSpec:
    dtype = same_dtype(inputs)
    require(dtype, "f")
    return TensorSpec(dtype, _pool_dims(inputs[0], ksize, strides, padding))


def _leading_free(kernel):
    """Batching rule of a pooling kernel: leading dims are free, so broadcast and run."""
    def rule(args, batched, **attrs):
        n = next(a.shape[0] for a, b in zip(args, batched) if b)
        full = [a if b else np.broadcast_to(a, (n,) + a.shape) for a, b in zip(args, batched)]
        return kernel(*full, **attrs)
    return rule


register_op("MaxPool", kernel=_max_pool_kernel, infer=_pool_infer("fi"), attrs=_POOL_ATTRS, num_inputs=1,
            grad=lambda op, g: [make("MaxPoolGrad", [op.inputs[0], op.outputs[0], g], None, **op.attrs)],
            batch=_leading_free(_max_pool_kernel))
register_op("MaxPoolGrad", kernel=_max_pool_grad_kernel, infer=_max_pool_grad_infer, attrs=_POOL_ATTRS,
            num_inputs=3, batch=_leading_free(_max_pool_grad_kernel),
            grad=lambda op, g: [None, None, make("MaxPoolGradGrad", [op.inputs[0], op.inputs[1], g], None,
                                                 **op.attrs)])
register_op("MaxPoolGradGrad", kernel=_max_pool_grad_grad_kernel, infer=_max_pool_grad_grad_infer,
            attrs=_POOL_ATTRS, num_inputs=3, batch=_leading_free(_max_pool_grad_grad_kernel),
            grad=lambda op, g: [None, None, make("MaxPoolGrad", [op.inputs[0], op.inputs[1], g], None,
                                                 **op.attrs)])


def _pool_counts(shape: tuple, ksize, strides, padding) -> np.ndarray:
    """How many input pixels (not padding) each window covers, (OH, OW, 1): TensorFlow's SAME divisor."""
    w = _pool_window(ksize, strides, padding)
    ones = np.ones(shape[-3:-1] + (1,), np.int64)
    return windows(pad(ones, w), w, w.out_shape(*shape[-3:-1])).sum(axis=(-2, -1))


def _avg_pool_kernel(x: np.ndarray, *, ksize, strides, padding) -> np.ndarray:
    check_images(x, "input", "AvgPool")
    total = _pool_views(x, ksize, strides, padding, 0).sum(axis=(-2, -1), dtype=x.dtype)
    return (total / _pool_counts(x.shape, ksize, strides, padding).astype(x.dtype)).astype(x.dtype, copy=False)


def _avg_pool_grad_kernel(sizes: np.ndarray, dy: np.ndarray, *, ksize, strides, padding, shape=None) -> np.ndarray:
    """dy spread evenly over each window's input pixels."""
    sizes = sizes_tuple(sizes)
    w = _pool_window(ksize, strides, padding)
    share = (dy / _pool_counts(sizes, ksize, strides, padding).astype(dy.dtype)).astype(dy.dtype, copy=False)
    parts = np.broadcast_to(share[..., None, None, :], share.shape[:-1] + w.size + share.shape[-1:])
    return scatter_windows(parts, dy.shape[:-3] + sizes[-3:], w)


def _avg_pool_grad_infer(inputs: Sequence[TensorSpec], *, ksize, strides, padding, shape) -> TensorSpec:
    require(inputs[0].dtype, "i", "orig_input_shape")
    require(inputs[1].dtype, "f")
    expected = _pool_dims(TensorSpec(inputs[1].dtype, shape), ksize, strides, padding)
    check_out_backprop(expected, rank4(inputs[1], "grad"), shape)
    return TensorSpec(inputs[1].dtype, shape)


def _avg_pool_grad_batch(args, batched, **attrs):
    sizes, dy = args
    row = np.asarray(sizes[0] if batched[0] else sizes)
    n = next(a.shape[0] for a, b in zip(args, batched) if b)
    return _avg_pool_grad_kernel(row, dy if batched[1] else np.broadcast_to(dy, (n,) + dy.shape), **attrs)


register_op("AvgPool", kernel=_avg_pool_kernel, infer=_pool_infer("f"), attrs=_POOL_ATTRS, num_inputs=1,
            grad=lambda op, g: [make("AvgPoolGrad", [sizes_of(op.inputs[0]), g], None, shape=op.inputs[0]._dims
                                     or (None,) * 4, **op.attrs)],
            batch=_leading_free(_avg_pool_kernel))
register_op("AvgPoolGrad", kernel=_avg_pool_grad_kernel, infer=_avg_pool_grad_infer,
            attrs={**_POOL_ATTRS, "shape": "shape"}, num_inputs=2, batch=_avg_pool_grad_batch,
            grad=lambda op, g: [None, make("AvgPool", [g], None, **{k: op.attrs[k] for k in _POOL_ATTRS})])


def _pool_builder(op_type: str):
    def pool(value: Any = None, ksize: Any = None, strides: Any = None, padding: Any = None, data_format: str = "NHWC",
             name: Optional[str] = None, input: Any = None) -> Tensor:
        nhwc(data_format)
        x = convert_to_tensor(input if value is None else value)
        return make(op_type, [x], name or op_type, ksize=quad(ksize, "ksize"), strides=quad(strides, "strides"),
                    padding=padding_attr(padding))
    return pool


max_pool = _pool_builder("MaxPool")
max_pool.__name__ = "max_pool"
max_pool.__doc__ = """Maximum over each `ksize` window of NHWC `value`, moved by `strides` ("SAME" pads with -inf)."""
avg_pool = _pool_builder("AvgPool")
avg_pool.__name__ = "avg_pool"
avg_pool.__doc__ = """Mean over each `ksize` window of NHWC `value`; with "SAME", padding is left out of the mean."""


__all__ = ["avg_pool", "max_pool"]
