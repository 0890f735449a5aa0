"""Shape-only inputs: run-time shapes derived from the feeds, and zero-stride stand-ins.

An op may read an input only for its shape and dtype (`shape_inputs` in
`register_op`, e.g. `like` in `broadcast_like(g, like)`). When that shape
follows from the fed values through the shape rules of the input's
producers, a plan (engine.plan) passes a read-only stand-in of that shape
instead of computing the input's value, and prunes the producers.

>>> import engine as tf
>>> x = tf.placeholder(tf.float64, [None, 3])
>>> y = tf.exp(x)
>>> shape_of = ShapeSources([x]).source(y)
>>> shape_of([np.zeros((5, 3))])
(5, 3)
>>> stand_in(shape_of, np.float64, np.zeros((2, 3))).strides
(0, 0)
"""
from __future__ import annotations

import functools
from typing import Callable, Optional, Sequence

import numpy as np

from .errors import EngineError
from .graph import Tensor
from .op_types import PLACEHOLDER
from .registry import TensorSpec


#: Stands for every unknown dim of the feeds while checking that a shape can be derived from
#: them: a prime, so that a shape rule that happens to hold only for some sizes (a reshape to
#: (-1, 2), a fixed dim it compares with) is unlikely to pass for it by chance.
PROBE_DIM = 7919


class ShapeSources:
    """Run-time shapes of tensors derived from the fed values alone.

    A gradient op like `broadcast_like(g, x)` needs only x's shape. When that
    shape follows from the feeds (through the shape rules of x's producers),
    the plan passes a zero-stride stand-in and skips computing x's value,
    e.g. the loss value in a training step that only applies gradients.
    """

    def __init__(self, feeds: Sequence[Tensor]) -> None:
        self.index = {t: i for i, t in enumerate(feeds)}
        self.memo: dict[Tensor, Optional[Callable]] = {}
        self.probe = None if any(t._dims is None for t in feeds) else [
            np.broadcast_to(np.zeros((), t.dtype.np), [PROBE_DIM if d is None else d for d in t._dims]) for t in feeds]

    def derivable(self, t: Tensor) -> bool:
        return self.source(t) is not None

    def source(self, t: Tensor) -> Optional[Callable]:
        """feeds -> t's shape, or None when it needs more than the feeds and static shapes."""
        if t not in self.memo:
            self.memo[t] = None  # a cycle finds None
            fn = self._build(t)
            self.memo[t] = fn if fn is not None and self._checked(fn) else None
        return self.memo[t]

    def _build(self, t: Tensor) -> Optional[Callable]:
        if t in self.index:
            return functools.partial(_fed_shape, self.index[t])
        if t._dims is not None and None not in t._dims:
            return functools.partial(_static_shape, t._dims)
        op = t.op
        if op.op_def.stateful or op.op_def.ref_input or op.type == PLACEHOLDER or self.probe is None:
            return None
        sources = [self.source(u) for u in op.inputs]
        if any(src is None for src in sources):
            return None
        return functools.partial(_derived_shape, op.op_def.infer, op.attrs, [u.dtype for u in op.inputs],
                                 sources, t.value_index)

    def _checked(self, fn: Callable) -> bool:
        """True when the shape rules give a fully known shape for probe feeds."""
        try:
            shape = fn(self.probe)
        except EngineError:
            return False  # not derivable this way: the plan computes the value instead
        return shape is not None and None not in shape


def _fed_shape(index: int, feeds: Sequence[np.ndarray]) -> tuple:
    return feeds[index].shape


def _static_shape(dims: tuple, feeds: Sequence[np.ndarray]) -> tuple:
    return dims


def _derived_shape(infer: Callable, attrs: dict, dtypes: list, sources: list, index: int,
                   feeds: Sequence[np.ndarray]) -> Optional[tuple]:
    out = infer([TensorSpec(d, src(feeds)) for d, src in zip(dtypes, sources)], **attrs)
    return (out if isinstance(out, list) else [out])[index].shape


def stand_in(shape_of: Callable, dtype: np.dtype, *feeds: np.ndarray) -> np.ndarray:
    """A read-only array of the right shape and dtype that holds no data."""
    return np.broadcast_to(np.zeros((), dtype), shape_of(feeds))
