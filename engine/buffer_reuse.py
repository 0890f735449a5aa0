"""Buffer reuse: a ufunc step may write its result into an input buffer that is dead after it.

As numpy's own temporary elision does for `a * b + c`, a plan (engine.plan)
lets an elementwise ufunc kernel write into the array of an input whose last
use it is, when that array is large, freshly made by another ufunc step and
read by nothing that could keep a view of it.

>>> double = reusing(np.multiply, 0)
>>> big, small = np.ones(REUSE_BYTES // 8), np.ones(4)
>>> double(big, 2.0) is big, double(small, 2.0) is small
(True, False)
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .graph import Operation, Tensor

#: From this size on (bytes) a dead input buffer is reused; below it a new array is as cheap.
REUSE_BYTES = 1 << 18


def is_ufunc_step(op: Operation) -> bool:
    """A numpy ufunc kernel, whose output is always a new array of its inputs' shape."""
    return isinstance(op.op_def.kernel, np.ufunc) and not op.attrs and len(op.outputs) == 1


def reusable_slots(ops: list[Operation], slot_of: dict, keep: set) -> set:
    """Slots a ufunc step may overwrite on their last use.

    Only an output of a ufunc step qualifies (a fresh array nobody else
    holds: not fed, fetched, a constant or a variable), only if every reader
    is a ufunc step of the same output dtype (readers that could keep a
    view or an alias are excluded).
    """
    readers: dict[Tensor, list[Operation]] = {}
    for op in ops:
        for t in op.data_inputs:
            readers.setdefault(t, []).append(op)
    return {slot_of[t] for op in ops if is_ufunc_step(op) for t in op.outputs
            if slot_of.get(t) not in keep and t in readers
            and all(is_ufunc_step(r) and r.outputs[0].dtype is t.dtype for r in readers[t])}


def reusing(ufunc: np.ufunc, position: int) -> Callable:
    """The ufunc, writing into its `position`-th argument when that is large and fits the result."""
    def run(*args):
        buffer = args[position]
        if buffer.nbytes >= REUSE_BYTES and np.broadcast_shapes(*[np.shape(a) for a in args]) == buffer.shape:
            return ufunc(*args, out=buffer)
        return ufunc(*args)
    return run
