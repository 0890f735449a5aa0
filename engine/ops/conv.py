"""Convolution and pooling over NHWC images: conv2d with its two gradient ops
(conv2d_backprop_input is conv2d_transpose), bias_add, max_pool, avg_pool and
their gradients, with TensorFlow 1.x names, attrs and padding rules.

Every kernel is a window view (`sliding_window_view`, no copy) plus numpy
array operations: conv2d copies the windows once (im2col) and makes one
matmul of them; the input gradients scatter window contributions back with
one strided add per filter tap (kh * kw of them), never a Python loop over
pixels or over the batch. float32 stays float32.

The gradient ops are linear in the incoming gradient, so each one's gradient
is another op of this family and second derivatives come free:
conv2d -> backprop_input / backprop_filter -> conv2d; max_pool -> MaxPoolGrad
-> MaxPoolGradGrad -> MaxPoolGrad; avg_pool -> AvgPoolGrad -> avg_pool.

Batching rules (map_rows): an image op's row value is already a batch of
images, so a batched input gets a group axis in front; groups share one
matmul when only the images are batched, and use a stacked matmul when the
filters are too.
"""
from __future__ import annotations

from typing import Any, NamedTuple, Optional, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import InvalidArgumentError, ShapeError
from ..graph import Tensor
from ..registry import TensorSpec, register_op
from ..shapes import format_dims
from .toolkit import batch_elementwise, convert_to_tensor, make, require, same_dtype
from .array import shape as shape_of
from .elementwise import sum_like

PADDINGS = ("SAME", "VALID")


# -- window geometry -------------------------------------------------------------------------
class Window(NamedTuple):
    """Where a 2-D window slides over (height, width): sizes, strides, dilations, padding."""

    size: tuple
    strides: tuple
    dilations: tuple
    padding: str

    def effective(self, axis: int) -> int:
        """The span of the (dilated) window along spatial `axis`."""
        return (self.size[axis] - 1) * self.dilations[axis] + 1

    def out_dim(self, n: Optional[int], axis: int) -> Optional[int]:
        """TensorFlow's output size along `axis` for input size `n` (None if unknown)."""
        if n is None:
            return None
        s = self.strides[axis]
        if self.padding == "SAME":
            return -(-n // s)
        return -(-(n - self.effective(axis) + 1) // s)

    def pads(self, n: int, axis: int) -> tuple:
        """(before, after) zeros padding along `axis`: SAME puts the odd one after, as TensorFlow."""
        if self.padding == "VALID":
            return 0, 0
        total = max((self.out_dim(n, axis) - 1) * self.strides[axis] + self.effective(axis) - n, 0)
        return total // 2, total - total // 2

    def out_shape(self, height: Optional[int], width: Optional[int]) -> tuple:
        """(out height, out width); ShapeError when the window does not fit (VALID)."""
        out = (self.out_dim(height, 0), self.out_dim(width, 1))
        if any(o is not None and o < 1 for o in out):
            raise ShapeError(f"a window of {self.size[0]}x{self.size[1]} (dilations {list(self.dilations)}) does "
                             f"not fit an input of {height}x{width} with VALID padding: the output would be empty")
        return out


def _window(size: tuple, strides: tuple, dilations: tuple, padding: str) -> Window:
    return Window(tuple(size[1:3]), tuple(strides[1:3]), tuple(dilations[1:3]), padding)


def _pad(x: np.ndarray, w: Window, value: Any = 0) -> np.ndarray:
    """x (..., H, W, C) padded on H and W as `w` says."""
    widths = [(0, 0)] * (x.ndim - 3) + [w.pads(x.shape[-3], 0), w.pads(x.shape[-2], 1), (0, 0)]
    return np.pad(x, widths, constant_values=value) if any(p != (0, 0) for p in widths) else x


def _windows(xp: np.ndarray, w: Window, out: tuple) -> np.ndarray:
    """A view (..., OH, OW, C, kh, kw) of padded `xp` (..., H, W, C): every window, no copy."""
    view = sliding_window_view(xp, (w.effective(0), w.effective(1)), axis=(-3, -2))
    (sh, sw), (dh, dw) = w.strides, w.dilations
    return view[..., :out[0] * sh:sh, :out[1] * sw:sw, :, ::dh, ::dw]


def _scatter_windows(parts: np.ndarray, input_shape: tuple, w: Window) -> np.ndarray:
    """The adjoint of `_windows`: window values (..., OH, OW, kh, kw, C) summed back into an
    input of `input_shape` (..., H, W, C); one strided add per filter tap."""
    (h, wd), out = input_shape[-3:-1], parts.shape[-5:-3]
    (top, bottom), (left, right) = w.pads(h, 0), w.pads(wd, 1)
    padded = np.zeros(parts.shape[:-5] + (h + top + bottom, wd + left + right, parts.shape[-1]), parts.dtype)
    (sh, sw), (dh, dw) = w.strides, w.dilations
    for i in range(w.size[0]):
        for j in range(w.size[1]):
            padded[..., i * dh:i * dh + (out[0] - 1) * sh + 1:sh, j * dw:j * dw + (out[1] - 1) * sw + 1:sw, :] \
                += parts[..., i, j, :]
    return padded[..., top:top + h, left:left + wd, :]


def _check_images(x: np.ndarray, what: str, op_type: str) -> None:
    if x.ndim < 4:
        raise InvalidArgumentError(f"{op_type}: {what} must be rank 4 (batch, height, width, channels), "
                                   f"found shape {format_dims(x.shape)}")


# -- attrs from TensorFlow's arguments --------------------------------------------------------
def _quad(value: Any, what: str, default: Optional[int] = None) -> tuple:
    """TensorFlow's 1-, 2- or 4-int spatial arguments as (1, h, w, 1)."""
    if value is None and default is not None:
        value = default
    if isinstance(value, Tensor):
        raise TypeError(f"{what} must be Python ints known when the graph is built, found Tensor '{value.name}'")
    items = [value] if np.ndim(value) == 0 else list(value)
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items):
        raise TypeError(f"{what} must be an int or a list of 1, 2 or 4 ints, found {value!r}")
    items = [int(v) for v in items]
    if len(items) == 4:
        if items[0] != 1 or items[3] != 1:
            raise InvalidArgumentError(f"{what} {items}: only the height and width entries may differ from 1 "
                                       "(no striding or pooling over the batch or channels)")
        quad = tuple(items)
    elif len(items) in (1, 2):
        quad = (1, items[0], items[-1], 1)
    else:
        raise InvalidArgumentError(f"{what} must have 1, 2 or 4 entries, found {items}")
    if min(quad) < 1:
        raise InvalidArgumentError(f"{what} must be positive, found {list(quad)}")
    return quad


def _padding(padding: Any) -> str:
    if not isinstance(padding, str) or padding.upper() not in PADDINGS:
        raise InvalidArgumentError(f"padding must be 'SAME' or 'VALID', found {padding!r}")
    return padding.upper()


def _nhwc(data_format: str) -> None:
    if data_format not in ("NHWC", None):
        raise InvalidArgumentError(f"data_format {data_format!r} is not supported: images are NHWC "
                                   "(batch, height, width, channels), as TensorFlow's CPU kernels require; "
                                   "transpose NCHW data with tf.transpose(x, [0, 2, 3, 1])")


def _check_attrs(strides: tuple, dilations: tuple, padding: str) -> None:
    for what, quad in (("strides", strides), ("dilations", dilations)):
        if len(quad) != 4 or min(quad) < 1 or quad[0] != 1 or quad[3] != 1:
            raise InvalidArgumentError(f"{what} must be 4 positive ints [1, h, w, 1], found {list(quad)}")
    if padding not in PADDINGS:
        raise InvalidArgumentError(f"padding must be 'SAME' or 'VALID', found {padding!r}")


def _rank4(spec: TensorSpec, what: str) -> tuple:
    if spec.shape is None:
        return (None,) * 4
    if len(spec.shape) != 4:
        raise ShapeError(f"{what} must be rank 4, found shape {format_dims(spec.shape)}")
    return spec.shape


# -- conv2d ---------------------------------------------------------------------------------
_CONV_ATTRS = {"strides": "ints", "padding": "str", "dilations": "ints"}


def _conv_geometry(images: tuple, filt: tuple, strides: tuple, dilations: tuple, padding: str) -> tuple:
    """Output dims (N, OH, OW, O) of conv2d; ShapeError naming both shapes on a channel mismatch."""
    _check_attrs(strides, dilations, padding)
    if images[3] is not None and filt[2] is not None and images[3] != filt[2]:
        raise ShapeError(f"the input has {images[3]} channels but the filter expects {filt[2]} "
                         f"(input {format_dims(images)}, filter {format_dims(filt)} = "
                         "[height, width, in_channels, out_channels])")
    if filt[0] is None or filt[1] is None:
        return images[0], None, None, filt[3]
    w = _window((1, filt[0], filt[1], 1), strides, dilations, padding)
    return (images[0],) + w.out_shape(images[1], images[2]) + (filt[3],)


def _conv_infer(inputs: Sequence[TensorSpec], *, strides, padding, dilations) -> TensorSpec:
    dtype = same_dtype(inputs)
    require(dtype, "f")
    images, filt = _rank4(inputs[0], "input"), _rank4(inputs[1], "filter")
    return TensorSpec(dtype, _conv_geometry(images, filt, strides, dilations, padding))


def _conv_window(filt_shape: tuple, strides, dilations, padding) -> Window:
    return _window((1,) + tuple(filt_shape[:2]) + (1,), strides, dilations, padding)


def _im2col(x: np.ndarray, w: Window) -> tuple:
    """x (G, N, H, W, C) as one matrix per group (G, N*OH*OW, kh*kw*C) and the output size."""
    out = w.out_shape(x.shape[-3], x.shape[-2])
    view = _windows(_pad(x, w), w, out)  # (G, N, OH, OW, C, kh, kw)
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
    _check_images(x, "input", "Conv2D")
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
    return [conv2d_backprop_input(_sizes_of(x), f, g, static_shape=x._dims, **attrs),
            conv2d_backprop_filter(x, _sizes_of(f), g, static_shape=f._dims, **attrs)]


register_op("Conv2D", kernel=_conv_kernel, infer=_conv_infer, attrs=_CONV_ATTRS, num_inputs=2,
            grad=_conv_grad, batch=_conv_batch)


def conv2d(input: Any, filter: Any = None, strides: Any = None, padding: Any = None, use_cudnn_on_gpu: bool = True,
           data_format: str = "NHWC", dilations: Any = 1, name: Optional[str] = None, filters: Any = None) -> Tensor:
    """2-D convolution (cross-correlation, as TensorFlow) of NHWC `input` with
    `filter` [height, width, in_channels, out_channels].

    `strides` and `dilations` are an int, [h, w] or [1, h, w, 1]; `padding`
    "SAME" (output ceil(size / stride)) or "VALID" (windows inside the input).

    >>> y = conv2d(images, kernel, strides=[1, 1, 1, 1], padding="SAME")  # doctest: +SKIP
    """
    _nhwc(data_format)
    x = convert_to_tensor(input)
    f = convert_to_tensor(filters if filter is None else filter, x.dtype)
    return make("Conv2D", [x, f], name or "Conv2D", strides=_quad(strides, "strides"), padding=_padding(padding),
                dilations=_quad(dilations, "dilations"))


# -- conv2d_backprop_input (= conv2d_transpose) --------------------------------------------------
def _sizes_static(sizes: Any, given: Optional[tuple]) -> tuple:
    """The static `shape` attr of an op whose output shape is a sizes vector."""
    if given is not None:
        return tuple(given)
    if isinstance(sizes, Tensor):
        return (None,) * 4
    static = tuple(int(d) for d in sizes)
    if len(static) != 4:
        raise InvalidArgumentError(f"sizes must be 4 ints [batch, height, width, channels], found {list(static)}")
    return static


def _sizes_of(x: Tensor) -> Tensor:
    """The shape of `x` as an int32 vector: a constant when statically known, else a Shape op."""
    if x._dims is not None and None not in x._dims:
        with x.graph.as_default():
            return convert_to_tensor(np.asarray(x._dims, np.int32))
    return shape_of(x)


def _sizes(sizes: np.ndarray, batched: bool = False) -> tuple:
    """A sizes vector as ints (batched: the rows' common value)."""
    row = sizes[0] if batched else sizes
    return tuple(int(d) for d in row)


def _backprop_input_infer(inputs: Sequence[TensorSpec], *, strides, padding, dilations, shape) -> TensorSpec:
    sizes, filt, grads = inputs
    require(sizes.dtype, "i", "input_sizes")
    dtype = same_dtype([filt, grads])
    require(dtype, "f")
    filt_dims = _rank4(filt, "filter")
    out = _conv_geometry(shape, filt_dims, strides, dilations, padding)
    _check_out_backprop(out, _rank4(grads, "out_backprop"), shape)
    return TensorSpec(dtype, shape)


def _check_out_backprop(expected: tuple, found: tuple, sizes: tuple) -> None:
    if any(a is not None and b is not None and a != b for a, b in zip(expected, found)):
        raise ShapeError(f"out_backprop has shape {format_dims(found)}, but the convolution of an input of "
                         f"shape {format_dims(sizes)} gives {format_dims(expected)}")


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
    return _scatter_windows(parts, sizes, w)


def _backprop_input_kernel(sizes: np.ndarray, f: np.ndarray, dy: np.ndarray, **attrs) -> np.ndarray:
    _check_images(dy, "out_backprop", "Conv2DBackpropInput")
    return _backprop_input_groups(_sizes(sizes), f[None], dy[None], **attrs)[0]


def _backprop_input_batch(args, batched, **attrs):
    sizes, f, dy = args
    sizes = _sizes(sizes, batched[0])
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
    return [None, conv2d_backprop_filter(g, _sizes_of(f), dy, static_shape=f._dims, **attrs),
            make("Conv2D", [g, f], None, **attrs)]


register_op("Conv2DBackpropInput", kernel=_backprop_input_kernel, infer=_backprop_input_infer,
            attrs={**_CONV_ATTRS, "shape": "shape"}, num_inputs=3, grad=_backprop_input_grad,
            batch=_backprop_input_batch)


def conv2d_backprop_input(input_sizes: Any, filter: Any, out_backprop: Any, strides: Any, padding: Any,
                          use_cudnn_on_gpu: bool = True, data_format: str = "NHWC", dilations: Any = 1,
                          name: Optional[str] = None, static_shape: Optional[tuple] = None) -> Tensor:
    """The gradient of conv2d with respect to its input, an input of shape `input_sizes`
    (a list of 4 ints or an int vector tensor)."""
    _nhwc(data_format)
    dy = convert_to_tensor(out_backprop)
    static = _sizes_static(input_sizes, static_shape)
    sizes = input_sizes if isinstance(input_sizes, Tensor) else convert_to_tensor(np.asarray(input_sizes, np.int32))
    return make("Conv2DBackpropInput", [sizes, convert_to_tensor(filter, dy.dtype), dy], name or "Conv2DBackpropInput",
                strides=_quad(strides, "strides"), padding=_padding(padding), dilations=_quad(dilations, "dilations"),
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
    image_dims = _rank4(images, "input")
    out = _conv_geometry(image_dims, shape, strides, dilations, padding)
    _check_out_backprop(out, _rank4(grads, "out_backprop"), image_dims)
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
    _check_images(x, "input", "Conv2DBackpropFilter")
    return _backprop_filter_groups(x[None], _sizes(sizes), dy[None], **attrs)[0]


def _backprop_filter_batch(args, batched, **attrs):
    x, sizes, dy = args
    sizes = _sizes(sizes, batched[1])
    df = _backprop_filter_groups(x if batched[0] else x[None], sizes, dy if batched[2] else dy[None], **attrs)
    n = next(a.shape[0] for a, b in zip(args, batched) if b)
    return np.broadcast_to(df, (n,) + df.shape[1:])


def _backprop_filter_grad(op, g):
    x, _, dy = op.inputs
    attrs = {k: op.attrs[k] for k in _CONV_ATTRS}
    return [conv2d_backprop_input(_sizes_of(x), g, dy, static_shape=x._dims, **attrs), None,
            make("Conv2D", [x, g], None, **attrs)]


register_op("Conv2DBackpropFilter", kernel=_backprop_filter_kernel, infer=_backprop_filter_infer,
            attrs={**_CONV_ATTRS, "shape": "shape"}, num_inputs=3, grad=_backprop_filter_grad,
            batch=_backprop_filter_batch)


def conv2d_backprop_filter(input: Any, filter_sizes: Any, out_backprop: Any, strides: Any, padding: Any,
                           use_cudnn_on_gpu: bool = True, data_format: str = "NHWC", dilations: Any = 1,
                           name: Optional[str] = None, static_shape: Optional[tuple] = None) -> Tensor:
    """The gradient of conv2d with respect to its filter, of shape `filter_sizes`
    [height, width, in_channels, out_channels] (a list of 4 ints or an int vector tensor)."""
    _nhwc(data_format)
    x = convert_to_tensor(input)
    static = _sizes_static(filter_sizes, static_shape)
    sizes = filter_sizes if isinstance(filter_sizes, Tensor) else convert_to_tensor(np.asarray(filter_sizes, np.int32))
    return make("Conv2DBackpropFilter", [x, sizes, convert_to_tensor(out_backprop, x.dtype)],
                name or "Conv2DBackpropFilter", strides=_quad(strides, "strides"), padding=_padding(padding),
                dilations=_quad(dilations, "dilations"), shape=static)


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
    _nhwc(data_format)
    x = convert_to_tensor(value)
    return make("BiasAdd", [x, convert_to_tensor(bias, x.dtype)], name or "BiasAdd")


# -- pooling --------------------------------------------------------------------------------
_POOL_ATTRS = {"ksize": "ints", "strides": "ints", "padding": "str"}


def _pool_window(ksize: tuple, strides: tuple, padding: str) -> Window:
    _check_attrs(ksize, strides, padding)
    return _window(ksize, strides, (1, 1, 1, 1), padding)


def _pool_dims(images: TensorSpec, ksize, strides, padding) -> tuple:
    dims = _rank4(images, "input")
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
    return _windows(_pad(x, w, fill), w, w.out_shape(x.shape[-3], x.shape[-2]))


def _max_pool_kernel(x: np.ndarray, *, ksize, strides, padding) -> np.ndarray:
    _check_images(x, "input", "MaxPool")
    return _pool_views(x, ksize, strides, padding, _lowest(x.dtype)).max(axis=(-2, -1))


def _argmax(x: np.ndarray, ksize, strides, padding) -> np.ndarray:
    """Per window, the flat tap index (i * kw + j) of its first maximum, as TensorFlow picks."""
    view = _pool_views(x, ksize, strides, padding, _lowest(x.dtype))
    return view.reshape(view.shape[:-2] + (-1,)).argmax(axis=-1)


def _tap_mask(arg: np.ndarray, taps: int) -> np.ndarray:
    """One-hot (..., OH, OW, C) -> (..., OH, OW, kh*kw, C) boolean masks of the chosen taps."""
    return np.moveaxis(arg[..., None] == np.arange(taps), -1, -2)


def _max_pool_grad_kernel(x: np.ndarray, y: np.ndarray, dy: np.ndarray, *, ksize, strides, padding) -> np.ndarray:
    """dy routed to the first maximum of each window (the rest get zero)."""
    w = _pool_window(ksize, strides, padding)
    taps = w.size[0] * w.size[1]
    parts = _tap_mask(_argmax(x, ksize, strides, padding), taps) * dy[..., None, :]
    return _scatter_windows(parts.reshape(parts.shape[:-2] + w.size + parts.shape[-1:]), x.shape, w)


def _max_pool_grad_grad_kernel(x: np.ndarray, y: np.ndarray, ddx: np.ndarray, *, ksize, strides,
                               padding) -> np.ndarray:
    """ddx read at the first maximum of each window: the adjoint of MaxPoolGrad in its last input."""
    arg = _argmax(x, ksize, strides, padding)
    view = _pool_views(ddx, ksize, strides, padding, 0)
    return np.take_along_axis(view.reshape(view.shape[:-2] + (-1,)), arg[..., None], axis=-1)[..., 0]


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
            num_inputs=3, shape_inputs=(1,), batch=_leading_free(_max_pool_grad_kernel),
            grad=lambda op, g: [None, None, make("MaxPoolGradGrad", [op.inputs[0], op.inputs[1], g], None,
                                                 **op.attrs)])
register_op("MaxPoolGradGrad", kernel=_max_pool_grad_grad_kernel, infer=_max_pool_grad_grad_infer,
            attrs=_POOL_ATTRS, num_inputs=3, shape_inputs=(1,), batch=_leading_free(_max_pool_grad_grad_kernel),
            grad=lambda op, g: [None, None, make("MaxPoolGrad", [op.inputs[0], op.inputs[1], g], None,
                                                 **op.attrs)])


def _pool_counts(shape: tuple, ksize, strides, padding) -> np.ndarray:
    """How many input pixels (not padding) each window covers, (OH, OW, 1): TensorFlow's SAME divisor."""
    w = _pool_window(ksize, strides, padding)
    ones = np.ones(shape[-3:-1] + (1,), np.int64)
    return _windows(_pad(ones, w), w, w.out_shape(*shape[-3:-1])).sum(axis=(-2, -1))


def _avg_pool_kernel(x: np.ndarray, *, ksize, strides, padding) -> np.ndarray:
    _check_images(x, "input", "AvgPool")
    total = _pool_views(x, ksize, strides, padding, 0).sum(axis=(-2, -1), dtype=x.dtype)
    return (total / _pool_counts(x.shape, ksize, strides, padding).astype(x.dtype)).astype(x.dtype, copy=False)


def _avg_pool_grad_kernel(sizes: np.ndarray, dy: np.ndarray, *, ksize, strides, padding, shape=None) -> np.ndarray:
    """dy spread evenly over each window's input pixels."""
    sizes = _sizes(sizes)
    w = _pool_window(ksize, strides, padding)
    share = (dy / _pool_counts(sizes, ksize, strides, padding).astype(dy.dtype)).astype(dy.dtype, copy=False)
    parts = np.broadcast_to(share[..., None, None, :], share.shape[:-1] + w.size + share.shape[-1:])
    return _scatter_windows(parts, dy.shape[:-3] + sizes[-3:], w)


def _avg_pool_grad_infer(inputs: Sequence[TensorSpec], *, ksize, strides, padding, shape) -> TensorSpec:
    require(inputs[0].dtype, "i", "orig_input_shape")
    require(inputs[1].dtype, "f")
    expected = _pool_dims(TensorSpec(inputs[1].dtype, shape), ksize, strides, padding)
    _check_out_backprop(expected, _rank4(inputs[1], "grad"), shape)
    return TensorSpec(inputs[1].dtype, shape)


def _avg_pool_grad_batch(args, batched, **attrs):
    sizes, dy = args
    row = np.asarray(sizes[0] if batched[0] else sizes)
    n = next(a.shape[0] for a, b in zip(args, batched) if b)
    return _avg_pool_grad_kernel(row, dy if batched[1] else np.broadcast_to(dy, (n,) + dy.shape), **attrs)


register_op("AvgPool", kernel=_avg_pool_kernel, infer=_pool_infer("f"), attrs=_POOL_ATTRS, num_inputs=1,
            grad=lambda op, g: [make("AvgPoolGrad", [_sizes_of(op.inputs[0]), g], None, shape=op.inputs[0]._dims
                                     or (None,) * 4, **op.attrs)],
            batch=_leading_free(_avg_pool_kernel))
register_op("AvgPoolGrad", kernel=_avg_pool_grad_kernel, infer=_avg_pool_grad_infer,
            attrs={**_POOL_ATTRS, "shape": "shape"}, num_inputs=2, batch=_avg_pool_grad_batch,
            grad=lambda op, g: [None, make("AvgPool", [g], None, **{k: op.attrs[k] for k in _POOL_ATTRS})])


def _pool_builder(op_type: str):
    def pool(value: Any = None, ksize: Any = None, strides: Any = None, padding: Any = None, data_format: str = "NHWC",
             name: Optional[str] = None, input: Any = None) -> Tensor:
        _nhwc(data_format)
        x = convert_to_tensor(input if value is None else value)
        return make(op_type, [x], name or op_type, ksize=_quad(ksize, "ksize"), strides=_quad(strides, "strides"),
                    padding=_padding(padding))
    return pool


max_pool = _pool_builder("MaxPool")
max_pool.__name__ = "max_pool"
max_pool.__doc__ = """Maximum over each `ksize` window of NHWC `value`, moved by `strides` ("SAME" pads with -inf)."""
avg_pool = _pool_builder("AvgPool")
avg_pool.__name__ = "avg_pool"
avg_pool.__doc__ = """Mean over each `ksize` window of NHWC `value`; with "SAME", padding is left out of the mean."""

__all__ = ["avg_pool", "bias_add", "conv2d", "conv2d_backprop_filter", "conv2d_backprop_input", "conv2d_transpose",
           "max_pool"]
