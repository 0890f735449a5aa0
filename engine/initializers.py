"""Seedable initializers: numpy initial values for Variables.

An initializer is called with a shape (and optionally a dtype) and returns a
numpy array; random ones draw from `numpy.random.default_rng(seed)`, so the
same seed always gives the same values. Semantics follow TensorFlow 1.x /
Keras (`glorot_uniform`: U(-limit, limit) with limit = sqrt(6 / (fan_in + fan_out))).

>>> w = glorot_uniform(seed=0)((3, 2))
>>> w.shape, bool(np.all(np.abs(w) <= np.sqrt(6 / 5))), np.array_equal(w, glorot_uniform(seed=0)((3, 2)))
((3, 2), True, True)
"""
from __future__ import annotations

import math
from typing import Any, Callable, Optional, Sequence

import numpy as np

from . import dtypes
from .errors import DTypeError

Shape = Sequence[int]


class Initializer:
    """Base class: `init(shape, dtype=float32) -> numpy array`."""

    def __call__(self, shape: Shape, dtype: Any = dtypes.float32) -> np.ndarray:
        dtype = dtypes.as_dtype(dtype)
        if not dtype.is_floating:
            raise DTypeError(f"{type(self).__name__} initializes floating variables, found {dtype.name}")
        return np.asarray(self._values(tuple(int(d) for d in shape)), dtype=dtype.np)

    def _values(self, shape: tuple) -> np.ndarray:
        raise NotImplementedError


class Constant(Initializer):
    """Every element equal to `value`."""

    def __init__(self, value: float = 0.0) -> None:
        self.value = float(value)

    def _values(self, shape: tuple) -> np.ndarray:
        return np.full(shape, self.value)


class _Random(Initializer):
    """An initializer drawing from its own Generator, created from `seed`."""

    def __init__(self, seed: Optional[int] = None) -> None:
        self.seed = seed
        self._rng = np.random.default_rng(seed)


class RandomNormal(_Random):
    """Normal(mean, stddev) samples."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: Optional[int] = None) -> None:
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def _values(self, shape: tuple) -> np.ndarray:
        return self._rng.normal(self.mean, self.stddev, shape)


class RandomUniform(_Random):
    """Uniform samples in [minval, maxval)."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: Optional[int] = None) -> None:
        super().__init__(seed)
        if not minval < maxval:
            raise ValueError(f"random_uniform needs minval < maxval, found {minval} and {maxval}")
        self.minval, self.maxval = float(minval), float(maxval)

    def _values(self, shape: tuple) -> np.ndarray:
        return self._rng.uniform(self.minval, self.maxval, shape)


class GlorotUniform(_Random):
    """Uniform in ±sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""

    def _values(self, shape: tuple) -> np.ndarray:
        fan_in, fan_out = fans(shape)
        limit = math.sqrt(6.0 / max(1.0, fan_in + fan_out))
        return self._rng.uniform(-limit, limit, shape)


def fans(shape: tuple) -> tuple[int, int]:
    """(fan_in, fan_out) as Keras computes them: a kernel (in, out), a scalar or vector alike."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def zeros() -> Initializer:
    """All zeros (Keras' default bias initializer)."""
    return Constant(0.0)


def ones() -> Initializer:
    """All ones."""
    return Constant(1.0)


def constant(value: float = 0.0) -> Initializer:
    """Every element `value`."""
    return Constant(value)


def random_normal(mean: float = 0.0, stddev: float = 0.05, seed: Optional[int] = None) -> Initializer:
    """Normal(mean, stddev) samples (Keras' defaults)."""
    return RandomNormal(mean, stddev, seed)


def random_uniform(minval: float = -0.05, maxval: float = 0.05, seed: Optional[int] = None) -> Initializer:
    """Uniform samples in [minval, maxval) (Keras' defaults)."""
    return RandomUniform(minval, maxval, seed)


def glorot_uniform(seed: Optional[int] = None) -> Initializer:
    """Uniform in ±sqrt(6 / (fan_in + fan_out)) (Keras' default kernel initializer)."""
    return GlorotUniform(seed)


def derived_seed(seed: Optional[int], *path: int) -> Optional[int]:
    """A seed for one part of a seeded whole (None stays None: nondeterministic)."""
    if seed is None:
        return None
    return int(np.random.SeedSequence([seed, *path]).generate_state(1)[0])


_BY_NAME: dict[str, Callable[..., Initializer]] = {
    "zeros": zeros, "ones": ones, "constant": constant, "random_normal": random_normal,
    "random_uniform": random_uniform, "glorot_uniform": glorot_uniform,
}
_SEEDED = {"random_normal", "random_uniform", "glorot_uniform"}


def get(identifier: Any, seed: Optional[int] = None) -> Initializer:
    """An initializer from a name (seeded with `seed` if random) or an initializer/callable."""
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"unknown initializer {identifier!r}; known: {', '.join(sorted(_BY_NAME))}")
        factory = _BY_NAME[identifier]
        return factory(seed=seed) if identifier in _SEEDED else factory()
    if callable(identifier):
        return identifier
    raise TypeError(f"an initializer is a name or a callable(shape, dtype), found {identifier!r}")
