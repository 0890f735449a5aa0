"""Convolution ops over NHWC images: conv2d with its two gradient ops
(conv2d_backprop_input is conv2d_transpose) and bias_add, with TensorFlow
1.x names, attrs and padding rules.

conv2d copies the windows of its input once (im2col, over a
`sliding_window_view`) and makes one matmul of them; the filter gradient is
one matmul of the same matrix, the input gradient one matmul and one
strided add per filter tap (kh * kw of them): never a Python loop over
pixels or over the batch. float32 stays float32. The gradient ops are
linear in their last input, so each one's gradient is another op of the
family and second derivatives come free: conv2d -> backprop_input /
backprop_filter -> conv2d.

Batching rules (map_rows): an image op's row value is already a batch of
images, so a batched input gets a group axis in front; groups share one
matmul when only the images are batched, and use a stacked matmul when the
filters are too.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ..errors import InvalidArgumentError, ShapeError
from ..graph import Tensor
from ..registry import TensorSpec, register_op
from ..shapes import format_dims
from .toolkit import batch_elementwise, convert_to_tensor, make, require, same_dtype
from .elementwise import sum_like
from .windows import (Window, check_attrs, check_images, check_out_backprop, nhwc, pad, padding_attr, quad, rank4,
                      scatter_windows, sizes_input, sizes_of, sizes_tuple, window, windows)

# -- conv2d ---------------------------------------------------------------------------------
_CONV_ATTRS = {"strides": "ints", "padding": "str", "dilations": "ints"}


def _conv_attrs(strides: Any, padding: Any, dilations: Any) -> dict:
    """The attrs of a conv op from TensorFlow's arguments (see windows.quad)."""
    return {"strides": quad(strides, "strides"), "padding": padding_attr(padding),
            "dilations": quad(dilations, "dilations")}


def _conv_geometry(images: tuple, filt: tuple, strides: tuple, dilations: tuple, padding: str) -> tuple:
    """Output dims (N, OH, OW, O) of conv2d; ShapeError naming both shapes on a channel mismatch."""
    check_attrs(strides, dilations, padding)
    if images[3] is not None and filt[2] is not None and images[3] != filt[2]:
        raise ShapeError(f"the input has {images[3]} channels but the filter expects {filt[2]} "
                         f"(input {format_dims(images)}, filter {format_dims(filt)} = "
                         "[height, width, in_channels, out_channels])")
    if filt[0] is None or filt[1] is None:
        return images[0], None, None, filt[3]
    w = window((1, filt[0], filt[1], 1), strides, dilations, padding)
    return (images[0],) + w.out_shape(images[1], images[2]) + (filt[3],)


def _conv_infer(inputs: Sequence[TensorSpec], *, strides, padding, dilations) -> TensorSpec:
    dtype = same_dtype(inputs)
    require(dtype, "f")
    images, filt = rank4(inputs[0], "input"), rank4(inputs[1], "filter")
    return TensorSpec(dtype, _conv_geometry(images, filt, strides, dilations, padding))


def _conv_window(filt_shape: tuple, strides, dilations, padding) -> Window:
    return window((1,) + tuple(filt_shape[:2]) + (1,), strides, dilations, padding)


def _im2col(x: np.ndarray, w: Window) -> tuple:
    """x (G, N, H, W, C) as one matrix per group (G, N*OH*OW, kh*kw*C) and the output size."""
    out = w.out_shape(x.shape[-3], x.shape[-2])
    view = windows(pad(x, w), w, out)  # (G, N, OH, OW, C, kh, kw)
    cols = np.ascontiguousarray(np.moveaxis(view, -3, -1))  # the one copy: (G, N, OH, OW, kh, kw, C)
    return cols.reshape(x.shape[0], -1, w.size[0] * w.size[1] * x.shape[-1]), out


def _check_channels(op_type: str, x_shape: tuple, f_shape: tuple) -> None:
    if x_shape[-1] != f_shape[2]:
        raise InvalidArgumentError(f"{op_type}: the input has {x_shape[-1]} channels but the filter expects "
                                   f"{f_shape[2]} (input {format_dims(x_shape)}, filter {format_dims(f_shape)})")


def _conv_groups(x: np.ndarray, f: np.ndarray, *, strides, padding, dilations) -> np.ndarray:
    """conv2d per group: x (G|1, N, H, W, C), f (G|1, kh, kw, C, O) -> (G, N, OH, OW, O)."""
    _check_channels("Conv2D", x.shape[1:], f.shape[1:])
    w = _conv_window(f.shape[1:], strides, dilations, padding)
    cols, out = _im2col(x, w)
    y = np.matmul(cols, f.reshape(f.shape[0], -1, f.shape[-1]))
    return y.reshape((y.shape[0], x.shape[1]) + out + (f.shape[-1],))


def _conv_kernel(x: np.ndarray, f: np.ndarray, **attrs) -> np.ndarray:
    check_images(x, "input", "Conv2D")
    return _conv_groups(x[None], f[None], **attrs)[0]


def _conv_batch(args, batched, **attrs):
    x, f = args
    if batched[0] and not batched[1]:  # images only: all rows in one matmul
        y = _conv_kernel(x.reshape((-1,) + x.shape[2:]), f, **attrs)
        return y.reshape(x.shape[:2] + y.shape[1:])
    return _conv_groups(x if batched[0] else x[None], f if batched[1] else f[None], **attrs)


def _conv_grad(op, g):
    x, f = op.inputs
    attrs = op.attrs
    return [conv2d_backprop_input(sizes_of(x), f, g, static_shape=x._dims, **attrs),
            conv2d_backprop_filter(x, sizes_of(f), g, static_shape=f._dims, **attrs)]


register_op("Conv2D", kernel=_conv_kernel, infer=_conv_infer, attrs=_CONV_ATTRS, num_inputs=2,
            grad=_conv_grad, batch=_conv_batch)


def conv2d(input: Any, filter: Any = None, strides: Any = None, padding: Any = None, use_cudnn_on_gpu: bool = True,
           data_format: str = "NHWC", dilations: Any = 1, name: Optional[str] = None, filters: Any = None) -> Tensor:
    """2-D convolution (cross-correlation, as TensorFlow) of NHWC `input` with
    `filter` [height, width, in_channels, out_channels].

    `strides` and `dilations` are an int, [h, w] or [1, h, w, 1]; `padding`
    "SAME" (output ceil(size / stride)) or "VALID" (windows inside the input).

    >>> images = tf.placeholder(tf.float32, [None, 28, 28, 1])
    >>> kernel = tf.constant(np.ones((3, 3, 1, 8), np.float32))
    >>> conv2d(images, kernel, strides=[1, 1, 1, 1], padding="SAME").shape
    TensorShape((?, 28, 28, 8))
    """
    nhwc(data_format)
    x = convert_to_tensor(input)
    f = convert_to_tensor(filters if filter is None else filter, x.dtype)
    return make("Conv2D", [x, f], name or "Conv2D", **_conv_attrs(strides, padding, dilations))


# -- conv2d_backprop_input (= conv2d_transpose) --------------------------------------------------
def _backprop_input_infer(inputs: Sequence[TensorSpec], *, strides, padding, dilations, shape) -> TensorSpec:
    sizes, filt, grads = inputs
    require(sizes.dtype, "i", "input_sizes")
    dtype = same_dtype([filt, grads])
    require(dtype, "f")
    filt_dims = rank4(filt, "filter")
    out = _conv_geometry(shape, filt_dims, strides, dilations, padding)
    check_out_backprop(out, rank4(grads, "out_backprop"), shape)
    return TensorSpec(dtype, shape)


def _backprop_input_groups(sizes: tuple, f: np.ndarray, dy: np.ndarray, *, strides, padding, dilations,
                           shape=None) -> np.ndarray:
    """The input gradient per group: f (G|1, kh, kw, C, O), dy (G|1, N, OH, OW, O) -> (G, N, H, W, C)."""
    w = _conv_window(f.shape[1:], strides, dilations, padding)
    expected = (sizes[0],) + w.out_shape(sizes[1], sizes[2]) + (f.shape[-1],)
    if dy.shape[1:] != expected:
        raise InvalidArgumentError(f"Conv2DBackpropInput: out_backprop has shape {format_dims(dy.shape[1:])}, "
                                   f"but the convolution of an input of shape {format_dims(sizes)} with a filter "
                                   f"of shape {format_dims(f.shape[1:])} gives {format_dims(expected)}")
    _check_channels("Conv2DBackpropInput", sizes, f.shape[1:])
    rows = np.matmul(dy.reshape(dy.shape[0], -1, dy.shape[-1]), np.swapaxes(f.reshape(f.shape[0], -1, f.shape[-1]),
                                                                             -1, -2))
    parts = rows.reshape((rows.shape[0],) + dy.shape[1:4] + f.shape[1:4])  # (G, N, OH, OW, kh, kw, C)
    return scatter_windows(parts, sizes, w)


def _backprop_input_kernel(sizes: np.ndarray, f: np.ndarray, dy: np.ndarray, **attrs) -> np.ndarray:
    check_images(dy, "out_backprop", "Conv2DBackpropInput")
    return _backprop_input_groups(sizes_tuple(sizes), f[None], dy[None], **attrs)[0]


def _backprop_input_batch(args, batched, **attrs):
    sizes, f, dy = args
    sizes = sizes_tuple(sizes, batched[0])
    if batched[2] and not batched[1]:  # gradients only: all rows in one matmul
        merged = (dy.shape[0] * sizes[0],) + sizes[1:]
        dx = _backprop_input_groups(merged, f[None], dy.reshape((1, -1) + dy.shape[2:]), **attrs)[0]
        return dx.reshape(dy.shape[:1] + sizes)
    dx = _backprop_input_groups(sizes, f if batched[1] else f[None], dy if batched[2] else dy[None], **attrs)
    n = next(a.shape[0] for a, b in zip(args, batched) if b)
    return np.broadcast_to(dx, (n,) + dx.shape[1:])


def _backprop_input_grad(op, g):
    _, f, dy = op.inputs
    attrs = {k: op.attrs[k] for k in _CONV_ATTRS}
    return [None, conv2d_backprop_filter(g, sizes_of(f), dy, static_shape=f._dims, **attrs),
            make("Conv2D", [g, f], None, **attrs)]


register_op("Conv2DBackpropInput", kernel=_backprop_input_kernel, infer=_backprop_input_infer,
            attrs={**_CONV_ATTRS, "shape": "shape"}, num_inputs=3, grad=_backprop_input_grad,
            batch=_backprop_input_batch)


def conv2d_backprop_input(input_sizes: Any, filter: Any, out_backprop: Any, strides: Any, padding: Any,
                          use_cudnn_on_gpu: bool = True, data_format: str = "NHWC", dilations: Any = 1,
                          name: Optional[str] = None, static_shape: Optional[tuple] = None) -> Tensor:
    """The gradient of conv2d with respect to its input, an input of shape `input_sizes`
    (a list of 4 ints or an int vector tensor)."""
    nhwc(data_format)
    dy = convert_to_tensor(out_backprop)
    sizes, static = sizes_input(input_sizes, static_shape)
    return make("Conv2DBackpropInput", [sizes, convert_to_tensor(filter, dy.dtype), dy], name or "Conv2DBackpropInput",
                **_conv_attrs(strides, padding, dilations),
                shape=static)


def conv2d_transpose(value: Any, filter: Any, output_shape: Any, strides: Any, padding: Any = "SAME",
                     data_format: str = "NHWC", name: Optional[str] = None, dilations: Any = 1) -> Tensor:
    """The transpose of conv2d (sometimes called deconvolution): `value` [N, OH, OW, out_channels]
    spread over an output of `output_shape` [N, H, W, in_channels] through `filter`
    [height, width, in_channels, out_channels]; this is conv2d's input gradient."""
    return conv2d_backprop_input(output_shape, filter, value, strides, padding, data_format=data_format,
                                 dilations=dilations, name=name or "conv2d_transpose")


# -- conv2d_backprop_filter -------------------------------------------------------------------
def _backprop_filter_infer(inputs: Sequence[TensorSpec], *, strides, padding, dilations, shape) -> TensorSpec:
    images, sizes, grads = inputs
    require(sizes.dtype, "i", "filter_sizes")
    dtype = same_dtype([images, grads])
    require(dtype, "f")
    image_dims = rank4(images, "input")
    out = _conv_geometry(image_dims, shape, strides, dilations, padding)
    check_out_backprop(out, rank4(grads, "out_backprop"), image_dims)
    return TensorSpec(dtype, shape)


def _backprop_filter_groups(x: np.ndarray, sizes: tuple, dy: np.ndarray, *, strides, padding, dilations,
                            shape=None) -> np.ndarray:
    """The filter gradient per group: x (G|1, N, H, W, C), dy (G|1, N, OH, OW, O) -> (G, kh, kw, C, O)."""
    _check_channels("Conv2DBackpropFilter", x.shape[1:], sizes)
    w = _conv_window(sizes, strides, dilations, padding)
    cols, out = _im2col(x, w)
    expected = x.shape[1:2] + out + sizes[3:]
    if dy.shape[1:] != expected:
        raise InvalidArgumentError(f"Conv2DBackpropFilter: out_backprop has shape {format_dims(dy.shape[1:])}, "
                                   f"but the convolution of an input of shape {format_dims(x.shape[1:])} with a "
                                   f"filter of shape {format_dims(sizes)} gives {format_dims(expected)}")
    df = np.matmul(np.swapaxes(cols, -1, -2), dy.reshape(dy.shape[0], -1, dy.shape[-1]))
    return df.reshape((df.shape[0],) + sizes)


def _backprop_filter_kernel(x: np.ndarray, sizes: np.ndarray, dy: np.ndarray, **attrs) -> np.ndarray:
    check_images(x, "input", "Conv2DBackpropFilter")
    return _backprop_filter_groups(x[None], sizes_tuple(sizes), dy[None], **attrs)[0]


def _backprop_filter_batch(args, batched, **attrs):
    x, sizes, dy = args
    sizes = sizes_tuple(sizes, batched[1])
    df = _backprop_filter_groups(x if batched[0] else x[None], sizes, dy if batched[2] else dy[None], **attrs)
    n = next(a.shape[0] for a, b in zip(args, batched) if b)
    return np.broadcast_to(df, (n,) + df.shape[1:])


def _backprop_filter_grad(op, g):
    x, _, dy = op.inputs
    attrs = {k: op.attrs[k] for k in _CONV_ATTRS}
    return [conv2d_backprop_input(sizes_of(x), g, dy, static_shape=x._dims, **attrs), None,
            make("Conv2D", [x, g], None, **attrs)]


register_op("Conv2DBackpropFilter", kernel=_backprop_filter_kernel, infer=_backprop_filter_infer,
            attrs={**_CONV_ATTRS, "shape": "shape"}, num_inputs=3, grad=_backprop_filter_grad,
            batch=_backprop_filter_batch)


def conv2d_backprop_filter(input: Any, filter_sizes: Any, out_backprop: Any, strides: Any, padding: Any,
                           use_cudnn_on_gpu: bool = True, data_format: str = "NHWC", dilations: Any = 1,
                           name: Optional[str] = None, static_shape: Optional[tuple] = None) -> Tensor:
    """The gradient of conv2d with respect to its filter, of shape `filter_sizes`
    [height, width, in_channels, out_channels] (a list of 4 ints or an int vector tensor)."""
    nhwc(data_format)
    x = convert_to_tensor(input)
    sizes, static = sizes_input(filter_sizes, static_shape)
    return make("Conv2DBackpropFilter", [x, sizes, convert_to_tensor(out_backprop, x.dtype)],
                name or "Conv2DBackpropFilter", **_conv_attrs(strides, padding, dilations), shape=static)


# -- bias_add ---------------------------------------------------------------------------------
def _bias_add_infer(inputs: Sequence[TensorSpec]) -> TensorSpec:
    value, bias = inputs
    dtype = same_dtype(inputs)
    require(dtype, "fi")
    if value.shape is not None and len(value.shape) < 2:
        raise ShapeError(f"value must have rank >= 2 (channels last), found shape {format_dims(value.shape)}")
    if bias.shape is not None and len(bias.shape) != 1:
        raise ShapeError(f"bias must be a vector, found shape {format_dims(bias.shape)}")
    if value.shape is not None and bias.shape is not None and None not in (value.shape[-1], bias.shape[0]) \
            and value.shape[-1] != bias.shape[0]:
        raise ShapeError(f"bias has {bias.shape[0]} entries but value has {value.shape[-1]} channels (last dim)")
    return TensorSpec(dtype, value.shape)


def _bias_add_kernel(value: np.ndarray, bias: np.ndarray) -> np.ndarray:
    if bias.ndim != 1 or value.ndim < 2 or value.shape[-1] != bias.shape[0]:
        raise InvalidArgumentError(f"BiasAdd: bias of shape {format_dims(bias.shape)} must match the last "
                                   f"dimension of value of shape {format_dims(value.shape)}")
    return np.add(value, bias)


register_op("BiasAdd", kernel=_bias_add_kernel, infer=_bias_add_infer, num_inputs=2,
            grad=lambda op, g: [g, sum_like(g, op.inputs[1])], batch=batch_elementwise(np.add))


def bias_add(value: Any, bias: Any, data_format: str = "NHWC", name: Optional[str] = None) -> Tensor:
    """`value + bias` with `bias` a vector over the last (channels) dimension."""
    nhwc(data_format)
    x = convert_to_tensor(value)
    return make("BiasAdd", [x, convert_to_tensor(bias, x.dtype)], name or "BiasAdd")


__all__ = ["bias_add", "conv2d", "conv2d_backprop_filter", "conv2d_backprop_input", "conv2d_transpose"]
