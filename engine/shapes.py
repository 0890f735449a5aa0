"""Static shapes: a tuple of dims where None is an unknown dim, or None for an
unknown rank. `TensorShape` is the user-facing view (`tensor.shape`); shape
rules work on plain tuples through the helpers here.
"""
from __future__ import annotations

import numbers
from typing import Iterable, Iterator, Optional, Sequence

import numpy as np

from .errors import ShapeError

Dims = Optional[tuple]  # tuple of int|None, or None when the rank is unknown


def _is_dim(d: object) -> bool:
    """An int (or an integral float, as TensorFlow 1.x accepts), not a bool."""
    if isinstance(d, (bool, np.bool_)):
        return False
    return isinstance(d, numbers.Integral) or (isinstance(d, numbers.Real) and float(d).is_integer())


def as_dims(shape: object) -> Dims:
    """Normalize a user shape (None, int, list, tuple, array, TensorShape) to Dims.

    Dims are non-negative ints; None or -1 mark an unknown dim. Anything
    else (fractions, strings, bools) is a ShapeError.
    """
    if shape is None:
        return None
    if isinstance(shape, TensorShape):
        return shape.dims
    if _is_dim(shape):
        shape = (shape,)
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Iterable):
        raise ShapeError(f"a shape is a list of dims, found {shape!r}")
    dims = []
    for d in shape:
        if d is None or (_is_dim(d) and d == -1):
            dims.append(None)
        elif _is_dim(d) and d >= 0:
            dims.append(int(d))
        else:
            raise ShapeError(f"invalid dimension {d!r} in shape {shape!r}")
    return tuple(dims)


def format_dims(dims: Dims) -> str:
    """TensorFlow's notation: `(?, 2)`, `()` or `<unknown>`."""
    if dims is None:
        return "<unknown>"
    inner = ", ".join("?" if d is None else str(d) for d in dims)
    return f"({inner},)" if len(dims) == 1 else f"({inner})"


def is_compatible(dims: Dims, concrete: Sequence[int]) -> bool:
    """True when a concrete shape fits the (partially known) static dims."""
    if dims is None:
        return True
    return len(dims) == len(concrete) and all(d is None or d == c for d, c in zip(dims, concrete))


def merge(a: Dims, b: Dims) -> Dims:
    """The most specific dims compatible with both; ShapeError if none is."""
    if a is None:
        return b
    if b is None:
        return a
    if len(a) != len(b) or any(x is not None and y is not None and x != y for x, y in zip(a, b)):
        raise ShapeError(f"shapes {format_dims(a)} and {format_dims(b)} are incompatible")
    return tuple(x if x is not None else y for x, y in zip(a, b))


def broadcast(*shapes: Dims) -> Dims:
    """numpy broadcasting on static dims; None when a rank is unknown.

    Raises ShapeError (without op context; callers add it) for known,
    unequal, non-1 dims.
    """
    if any(s is None for s in shapes):
        return None
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(rank):
        dims = [s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0]
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ShapeError("incompatible shapes for broadcasting: " + ", ".join(map(format_dims, shapes)))
        if known:
            out.append(known.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def num_elements(dims: Dims) -> Optional[int]:
    """Number of elements, or None when any dim is unknown."""
    if dims is None or any(d is None for d in dims):
        return None
    n = 1
    for d in dims:
        n *= d
    return n


class TensorShape:
    """A static shape as users see it: `shape.as_list()`, `shape.ndims`, `shape[0]`."""

    __slots__ = ("dims",)

    def __init__(self, dims: object) -> None:
        self.dims = as_dims(dims)

    @property
    def ndims(self) -> Optional[int]:
        return None if self.dims is None else len(self.dims)

    rank = ndims

    def as_list(self) -> list:
        if self.dims is None:
            raise ShapeError("as_list() is not defined on an unknown TensorShape")
        return list(self.dims)

    def is_fully_defined(self) -> bool:
        return num_elements(self.dims) is not None

    def num_elements(self) -> Optional[int]:
        return num_elements(self.dims)

    def is_compatible_with(self, other: object) -> bool:
        try:
            merge(self.dims, as_dims(other))
        except ShapeError:
            return False
        return True

    def __len__(self) -> int:
        if self.dims is None:
            raise ShapeError("len() of a TensorShape of unknown rank")
        return len(self.dims)

    def __iter__(self) -> Iterator:
        if self.dims is None:
            raise ShapeError("cannot iterate over a TensorShape of unknown rank")
        return iter(self.dims)

    def __getitem__(self, key: int | slice):
        if self.dims is None:
            return None if isinstance(key, int) else TensorShape(None)
        item = self.dims[key]
        return TensorShape(item) if isinstance(key, slice) else item

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TensorShape):
            return self.dims == other.dims
        if isinstance(other, (list, tuple)):
            return self.dims == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.dims)

    def __repr__(self) -> str:
        return f"TensorShape({format_dims(self.dims)})"

    __str__ = lambda self: format_dims(self.dims)  # noqa: E731


def unknown_dims(rank: int) -> tuple:
    """A rank-`rank` shape of unknown dims."""
    return (None,) * rank
