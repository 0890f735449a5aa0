"""Window geometry shared by the convolution and pooling ops (engine.ops.conv, engine.ops.pooling).

A `Window` says where a 2-D window slides over NHWC images: sizes, strides,
dilations, padding, with TensorFlow's output sizes and SAME padding (the
odd pixel after). `windows` is every window of an image as a view (no copy);
`tap` indexes one filter tap of every window; `scatter_windows` is the
adjoint of `windows` (gradients). The rest turns TensorFlow's arguments
(`strides=2`, `[1, 2, 2, 1]`, "SAME") into attrs and checks them, and
handles the int `sizes` vectors that gradient ops take for their output
shape (TensorFlow's `input_sizes` / `orig_input_shape`).
"""
from __future__ import annotations

from typing import Any, NamedTuple, Optional

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import InvalidArgumentError, ShapeError
from ..graph import Tensor
from ..registry import TensorSpec
from ..shapes import format_dims
from .toolkit import convert_to_tensor
from .array import shape as shape_of

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


def window(size: tuple, strides: tuple, dilations: tuple, padding: str) -> Window:
    return Window(tuple(size[1:3]), tuple(strides[1:3]), tuple(dilations[1:3]), padding)


def pad(x: np.ndarray, w: Window, value: Any = 0) -> np.ndarray:
    """x (..., H, W, C) padded on H and W as `w` says."""
    widths = [(0, 0)] * (x.ndim - 3) + [w.pads(x.shape[-3], 0), w.pads(x.shape[-2], 1), (0, 0)]
    return np.pad(x, widths, constant_values=value) if any(p != (0, 0) for p in widths) else x


def windows(xp: np.ndarray, w: Window, out: tuple) -> np.ndarray:
    """A view (..., OH, OW, C, kh, kw) of padded `xp` (..., H, W, C): every window, no copy."""
    view = sliding_window_view(xp, (w.effective(0), w.effective(1)), axis=(-3, -2))
    (sh, sw), (dh, dw) = w.strides, w.dilations
    return view[..., :out[0] * sh:sh, :out[1] * sw:sw, :, ::dh, ::dw]


def tap_index(w: Window, i: int, j: int, out: tuple) -> tuple:
    """The index of filter tap (i, j) of every window in a padded (..., H, W, C) array: a strided slice."""
    (sh, sw), (dh, dw) = w.strides, w.dilations
    return (Ellipsis, slice(i * dh, i * dh + (out[0] - 1) * sh + 1, sh),
            slice(j * dw, j * dw + (out[1] - 1) * sw + 1, sw), slice(None))


def padded_zeros(input_shape: tuple, w: Window, dtype: np.dtype, empty: bool = False) -> tuple:
    """Zeros (uninitialized if `empty`: the caller writes every element) shaped like `input_shape`
    (..., H, W, C) once padded, and the index cropping the padding off."""
    (h, wd) = input_shape[-3:-1]
    (top, bottom), (left, right) = w.pads(h, 0), w.pads(wd, 1)
    zeros = (np.empty if empty else np.zeros)(tuple(input_shape[:-3]) + (h + top + bottom, wd + left + right, input_shape[-1]), dtype)
    return zeros, (Ellipsis, slice(top, top + h), slice(left, left + wd), slice(None))


def _clipped(w: Window, axis: int, tap: int, out: int, n: int) -> tuple:
    """(the window positions, the input pixels) where filter `tap` along `axis` lands inside an
    input of size `n` (not in its padding): two slices, the second strided."""
    before, s, offset = w.pads(n, axis)[0], w.strides[axis], tap * w.dilations[axis]
    first = max(0, -(-(before - offset) // s))
    last = min(out - 1, (n - 1 + before - offset) // s)
    start = offset + first * s - before
    return slice(first, last + 1), slice(start, start + (last - first) * s + 1 if last >= first else start, s)


def scatter_windows(parts: np.ndarray, input_shape: tuple, w: Window) -> np.ndarray:
    """The adjoint of `windows`: window values (..., OH, OW, kh, kw, C) summed back into an
    input of `input_shape` (..., H, W, C); one strided add per filter tap, each clipped to the
    input, so no padded buffer and a contiguous result."""
    (h, wd), out = tuple(input_shape[-3:-1]), parts.shape[-5:-3]
    total = np.zeros(parts.shape[:-5] + tuple(input_shape[-3:]), parts.dtype)
    for i, j in np.ndindex(*w.size):
        (rows, ys), (cols, xs) = _clipped(w, 0, i, out[0], h), _clipped(w, 1, j, out[1], wd)
        total[..., ys, xs, :] += parts[..., rows, cols, i, j, :]
    return total


def check_images(x: np.ndarray, what: str, op_type: str) -> None:
    if x.ndim < 4:
        raise InvalidArgumentError(f"{op_type}: {what} must be rank 4 (batch, height, width, channels), "
                                   f"found shape {format_dims(x.shape)}")


# -- attrs from TensorFlow's arguments --------------------------------------------------------
def quad(value: Any, what: str, default: Optional[int] = None) -> tuple:
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


def padding_attr(padding: Any) -> str:
    if not isinstance(padding, str) or padding.upper() not in PADDINGS:
        raise InvalidArgumentError(f"padding must be 'SAME' or 'VALID', found {padding!r}")
    return padding.upper()


def nhwc(data_format: str) -> None:
    if data_format not in ("NHWC", None):
        raise InvalidArgumentError(f"data_format {data_format!r} is not supported: images are NHWC "
                                   "(batch, height, width, channels), as TensorFlow's CPU kernels require; "
                                   "transpose NCHW data with tf.transpose(x, [0, 2, 3, 1])")


def check_attrs(strides: tuple, dilations: tuple, padding: str) -> None:
    for what, quad in (("strides", strides), ("dilations", dilations)):
        if len(quad) != 4 or min(quad) < 1 or quad[0] != 1 or quad[3] != 1:
            raise InvalidArgumentError(f"{what} must be 4 positive ints [1, h, w, 1], found {list(quad)}")
    if padding not in PADDINGS:
        raise InvalidArgumentError(f"padding must be 'SAME' or 'VALID', found {padding!r}")


def rank4(spec: TensorSpec, what: str) -> tuple:
    if spec.shape is None:
        return (None,) * 4
    if len(spec.shape) != 4:
        raise ShapeError(f"{what} must be rank 4, found shape {format_dims(spec.shape)}")
    return spec.shape



# -- sizes vectors ---------------------------------------------------------------------------
def sizes_input(sizes: Any, given: Optional[tuple]) -> tuple:
    """(sizes tensor, static `shape` attr) for an op whose output shape is a sizes vector: 4 ints or
    an int vector tensor; `given` is the static shape when known (gradients know their input's)."""
    if isinstance(sizes, Tensor):
        return sizes, tuple(given) if given is not None else (None,) * 4
    static = tuple(int(d) for d in sizes)
    if len(static) != 4:
        raise InvalidArgumentError(f"sizes must be 4 ints [batch, height, width, channels], found {list(static)}")
    return convert_to_tensor(np.asarray(static, np.int32)), tuple(given) if given is not None else static


def sizes_of(x: Tensor) -> Tensor:
    """The shape of `x` as an int32 vector: a constant when statically known, else a Shape op."""
    if x._dims is not None and None not in x._dims:
        with x.graph.as_default():
            return convert_to_tensor(np.asarray(x._dims, np.int32))
    return shape_of(x)


def sizes_tuple(sizes: np.ndarray, batched: bool = False) -> tuple:
    """A sizes vector as ints (batched: the rows' common value)."""
    row = sizes[0] if batched else sizes
    return tuple(int(d) for d in row)


def check_out_backprop(expected: tuple, found: tuple, sizes: tuple) -> None:
    if any(a is not None and b is not None and a != b for a, b in zip(expected, found)):
        raise ShapeError(f"out_backprop has shape {format_dims(found)}, but the convolution of an input of "
                         f"shape {format_dims(sizes)} gives {format_dims(expected)}")
