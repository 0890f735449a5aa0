"""TensorFlow 1.x initializers: callables that build a variable's initial value as graph ops.

`init(shape, dtype=None, partition_info=None)` returns a Tensor, so a random
initializer draws new values each time the variable's initializer runs
(seeded the TF 1.x way through engine.random_seed), as in TensorFlow. They
are what `get_variable(initializer=...)` and `tf.layers.dense` take; defaults
and formulas follow TensorFlow 1.x's init_ops (`variance_scaling` with a
truncated normal divides the stddev by .8796, the truncated stddev).

(`engine.initializers` holds the Keras-style numpy initializers of
engine.layers.Dense and Sequential.)

>>> w = tf.get_variable("w", [3, 2], initializer=tf.glorot_uniform_initializer(seed=1))
>>> sess = tf.Session(); sess.run(w.initializer)
>>> bool(abs(sess.run(w)).max() <= (6 / 5) ** 0.5)
True
"""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from . import dtypes
from .errors import DTypeError, ShapeError
from .graph import Tensor
from .initializers import fans
from .ops.core import constant
from .ops.creation import zeros
from .ops.random import random_normal, random_uniform, truncated_normal
from .shapes import as_dims


class Initializer:
    """Base class: `init(shape, dtype=None, partition_info=None) -> Tensor` (dtype: the initializer's)."""

    dtype: dtypes.DType = dtypes.float32

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
        dims = as_dims(shape)
        if dims is None or None in dims:
            raise ShapeError(f"{type(self).__name__} needs a fully known shape, found {shape!r}")
        return self._build(tuple(dims), dtypes.as_dtype(dtype or self.dtype))

    def _build(self, shape: tuple, dtype: dtypes.DType) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {vars(self)}>"


def _floating(dtype: Any, who: str) -> dtypes.DType:
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise DTypeError(f"{who} initializes floating variables, found {dtype.name}")
    return dtype


class Zeros(Initializer):
    """All zeros (any dtype)."""

    def __init__(self, dtype: Any = dtypes.float32) -> None:
        self.dtype = dtypes.as_dtype(dtype)

    def _build(self, shape: tuple, dtype: dtypes.DType) -> Tensor:
        return zeros(shape, dtype)


class Ones(Zeros):
    """All ones (any dtype)."""

    def _build(self, shape: tuple, dtype: dtypes.DType) -> Tensor:
        return constant(np.ones(shape, dtype.np))


class Constant(Initializer):
    """`value` broadcast to the shape; a shorter list is padded with its last element (TF 1.x).

    With `verify_shape=True` the value's shape must equal the variable's.
    """

    def __init__(self, value: Any = 0, dtype: Any = dtypes.float32, verify_shape: bool = False) -> None:
        self.value, self.dtype, self.verify_shape = value, dtypes.as_dtype(dtype), verify_shape

    def _build(self, shape: tuple, dtype: dtypes.DType) -> Tensor:
        value = np.asarray(self.value)
        size = math.prod(shape)
        if self.verify_shape and value.shape != shape:
            raise ShapeError(f"constant_initializer: value has shape {value.shape}, the variable {shape}")
        if value.size > size or value.size == 0:
            raise ShapeError(f"constant_initializer: {value.size} values do not fit a variable of shape {shape} "
                             f"({size} elements)")
        flat = value.reshape(-1)
        padded = np.concatenate([flat, np.repeat(flat[-1:], size - flat.size)])
        return constant(padded.astype(dtype.np).reshape(shape))


class RandomNormal(Initializer):
    """Normal(mean, stddev) samples."""

    def __init__(self, mean: float = 0.0, stddev: float = 1.0, seed: Optional[int] = None,
                 dtype: Any = dtypes.float32) -> None:
        self.mean, self.stddev, self.seed = mean, stddev, seed
        self.dtype = _floating(dtype, "random_normal_initializer")

    def _build(self, shape: tuple, dtype: dtypes.DType) -> Tensor:
        return random_normal(shape, self.mean, self.stddev, _floating(dtype, "random_normal_initializer"),
                             seed=self.seed)


class TruncatedNormal(RandomNormal):
    """Normal(mean, stddev) samples redrawn beyond 2 stddev."""

    def _build(self, shape: tuple, dtype: dtypes.DType) -> Tensor:
        return truncated_normal(shape, self.mean, self.stddev, _floating(dtype, "truncated_normal_initializer"),
                                seed=self.seed)


class RandomUniform(Initializer):
    """Uniform samples in [minval, maxval) (maxval defaults to 1 for floats); int dtypes too."""

    def __init__(self, minval: Any = 0, maxval: Any = None, seed: Optional[int] = None,
                 dtype: Any = dtypes.float32) -> None:
        self.minval, self.maxval, self.seed, self.dtype = minval, maxval, seed, dtypes.as_dtype(dtype)

    def _build(self, shape: tuple, dtype: dtypes.DType) -> Tensor:
        return random_uniform(shape, self.minval, self.maxval, dtype, seed=self.seed)


class VarianceScaling(Initializer):
    """Samples with variance `scale / n`, n = fan_in, fan_out or their mean (`mode`).

    `distribution`: "truncated_normal" (TF 1.x's default; "normal" is the same),
    "untruncated_normal" or "uniform" (in ±sqrt(3 * scale / n)).
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("normal", "truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal",
                 seed: Optional[int] = None, dtype: Any = dtypes.float32) -> None:
        if scale <= 0.0:
            raise ValueError(f"variance_scaling_initializer: scale must be positive, found {scale}")
        if mode not in self._MODES:
            raise ValueError(f"variance_scaling_initializer: mode must be one of {self._MODES}, found {mode!r}")
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(f"variance_scaling_initializer: distribution must be one of {self._DISTRIBUTIONS}, "
                             f"found {distribution!r}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed
        self.dtype = _floating(dtype, "variance_scaling_initializer")

    def _build(self, shape: tuple, dtype: dtypes.DType) -> Tensor:
        dtype = _floating(dtype, "variance_scaling_initializer")
        fan_in, fan_out = fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        if self.distribution in ("normal", "truncated_normal"):
            return truncated_normal(shape, 0.0, math.sqrt(scale) / .87962566103423978, dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return random_normal(shape, 0.0, math.sqrt(scale), dtype, seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return random_uniform(shape, -limit, limit, dtype, seed=self.seed)


def glorot_uniform_initializer(seed: Optional[int] = None, dtype: Any = dtypes.float32) -> VarianceScaling:
    """Uniform in ±sqrt(6 / (fan_in + fan_out)) (the default of get_variable and tf.layers)."""
    return VarianceScaling(1.0, "fan_avg", "uniform", seed, dtype)


def glorot_normal_initializer(seed: Optional[int] = None, dtype: Any = dtypes.float32) -> VarianceScaling:
    """Truncated normal with stddev sqrt(2 / (fan_in + fan_out))."""
    return VarianceScaling(1.0, "fan_avg", "truncated_normal", seed, dtype)


def he_normal(seed: Optional[int] = None) -> VarianceScaling:
    return VarianceScaling(2.0, "fan_in", "truncated_normal", seed)


def he_uniform(seed: Optional[int] = None) -> VarianceScaling:
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def lecun_normal(seed: Optional[int] = None) -> VarianceScaling:
    return VarianceScaling(1.0, "fan_in", "truncated_normal", seed)


def lecun_uniform(seed: Optional[int] = None) -> VarianceScaling:
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


# TensorFlow 1.x's lower-case names
zeros_initializer = Zeros
ones_initializer = Ones
constant_initializer = Constant
random_normal_initializer = RandomNormal
truncated_normal_initializer = TruncatedNormal
random_uniform_initializer = RandomUniform
variance_scaling_initializer = VarianceScaling
