"""Image layers, Keras-style: Conv2D, MaxPooling2D, AveragePooling2D, Flatten.

Images are NHWC (batch, height, width, channels). Arguments follow Keras:
`padding` "valid" (default) or "same", sizes and strides as an int or a
pair; a pooling layer's strides default to its pool size.

>>> model = tf.Sequential([Conv2D(16, 3, activation="relu"), MaxPooling2D(2), Flatten(), tf.layers.Dense(10)])
"""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from . import initializers
from .errors import DTypeError, ShapeError
from .graph import Tensor
from .initializers import derived_seed
from .layer_base import Layer, activation_name, get_activation
from .ops.array import reshape
from .ops.conv import bias_add, conv2d
from .ops.pooling import avg_pool, max_pool
from .shapes import format_dims
from .variables import Variable


def _pair(value: Any, what: str) -> tuple:
    """An int or a pair of positive ints as a pair."""
    items = (value, value) if np.ndim(value) == 0 else tuple(value)
    if len(items) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0
                                  for v in items):
        raise ValueError(f"{what} must be a positive int or a pair of them, found {value!r}")
    return tuple(int(v) for v in items)


def _keras_padding(padding: str) -> str:
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', found {padding!r}")
    return padding.upper()


def _images(layer: Layer, x: Tensor) -> tuple:
    """x's static dims, checked to be NHWC images of a floating dtype with known channels."""
    dims = x._dims
    if dims is None or len(dims) != 4 or dims[3] is None:
        raise ShapeError(f"{type(layer).__name__} takes images of shape (batch, height, width, channels) with "
                         f"known channels, found {format_dims(dims)}")
    if not x.dtype.is_floating:
        raise DTypeError(f"{type(layer).__name__} takes floating images, found {x.dtype.name}; cast them first")
    return dims


class Conv2D(Layer):
    """`activation(conv2d(inputs, kernel) + bias)` with `filters` output channels.

    `kernel` has shape (kh, kw, in_channels, filters) and is initialized like
    Dense's (glorot_uniform, seeded from `seed`); `bias` starts at zero.
    """

    default_name = "conv2d"

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 dilation_rate: Any = 1, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 name: Optional[str] = None, seed: Optional[int] = None) -> None:
        super().__init__(name, seed)
        if not isinstance(filters, (int, np.integer)) or isinstance(filters, bool) or filters < 1:
            raise ValueError(f"Conv2D: filters must be a positive integer, found {filters!r}")
        self.filters = int(filters)
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.strides = _pair(strides, "strides")
        self.dilation_rate = _pair(dilation_rate, "dilation_rate")
        self.padding = _keras_padding(padding)
        self.activation = get_activation(activation)
        self.activation_name = activation_name(activation)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel: Optional[Variable] = None
        self.bias: Optional[Variable] = None

    def build(self, x: Tensor) -> None:
        channels = _images(self, x)[3]
        kernel_init = initializers.get(self.kernel_initializer, derived_seed(self.seed, 0))
        self.kernel = Variable(kernel_init(self.kernel_size + (channels, self.filters), x.dtype), name="kernel")
        if self.use_bias:
            bias_init = initializers.get(self.bias_initializer, derived_seed(self.seed, 1))
            self.bias = Variable(bias_init((self.filters,), x.dtype), name="bias")

    def call(self, x: Tensor) -> Tensor:
        if _images(self, x)[3] != self.kernel.shape[2]:
            raise ShapeError(f"Conv2D '{self._scope[:-1]}' expects {self.kernel.shape[2]} input channels, "
                             f"found images of shape {x.shape}")
        y = conv2d(x, self.kernel, self.strides, self.padding, dilations=self.dilation_rate)
        if self.bias is not None:
            y = bias_add(y, self.bias)
        return y if self.activation is None else self.activation(y)

    def __repr__(self) -> str:
        return (f"{super().__repr__()[:-1]} filters={self.filters} kernel_size={self.kernel_size} "
                f"padding={self.padding.lower()} activation={self.activation_name}>")


class _Pooling2D(Layer):
    """A window reduction over height and width; strides default to the pool size."""

    pool: Any = None

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 name: Optional[str] = None) -> None:
        super().__init__(name)
        self.pool_size = _pair(pool_size, "pool_size")
        self.strides = self.pool_size if strides is None else _pair(strides, "strides")
        self.padding = _keras_padding(padding)

    def call(self, x: Tensor) -> Tensor:
        _images(self, x)
        return type(self).pool(x, self.pool_size, self.strides, self.padding)


class MaxPooling2D(_Pooling2D):
    """The maximum of each `pool_size` window."""

    default_name = "max_pooling2d"
    pool = staticmethod(max_pool)


class AveragePooling2D(_Pooling2D):
    """The mean of each `pool_size` window ("same" padding leaves the padding out of the mean)."""

    default_name = "average_pooling2d"
    pool = staticmethod(avg_pool)


class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1 * d2 * ...); the non-batch dims must be known."""

    default_name = "flatten"

    def call(self, x: Tensor) -> Tensor:
        dims = x._dims
        if dims is None or len(dims) < 2 or None in dims[1:]:
            raise ShapeError(f"Flatten needs inputs whose dims after the batch are known, found {format_dims(dims)}")
        return reshape(x, [-1, math.prod(dims[1:])])
