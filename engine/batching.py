"""Running a graph written for one row over a whole batch of rows.

Each op's registry entry carries a batching rule: how to run it when some
inputs have an extra leading batch dimension. `bind_batched` turns an op into
a plan step that calls that rule; an op without one falls back to a loop over
rows (correct, slower) with one warning per op type.
"""
from __future__ import annotations

import functools
import warnings
from typing import Callable, Sequence

import numpy as np

from .errors import InvalidArgumentError
from .graph import Operation

_warned: set[str] = set()


def bind_batched(op: Operation, batched: Sequence[bool]) -> Callable:
    """A kernel over batched inputs (flags say which) whose outputs are all batched."""
    opdef = op.op_def
    if opdef.stateful:
        raise InvalidArgumentError(f"{op.type} '{op.name}' changes state and cannot run per row; "
                                   "run it with Session.run")
    flags = tuple(batched)
    if opdef.batch is not None:
        return functools.partial(_call_rule, opdef.batch, flags, op.attrs)
    if op.type not in _warned:
        _warned.add(op.type)
        warnings.warn(f"op type {op.type} has no batching rule; '{op.name}' runs in a Python loop over rows",
                      RuntimeWarning, stacklevel=2)
    return functools.partial(_row_loop, functools.partial(opdef.kernel, **op.attrs), flags, len(op.outputs))


def refuse_unbatched_draws(op: Operation) -> None:
    """A random op (stateful, seeded) whose inputs carry no batch would draw once for all the rows,
    so every row would get the same numbers: refuse it rather than repeat one draw silently."""
    if op.op_def.stateful and "seed2" in op.op_def.attrs:
        raise InvalidArgumentError(f"{op.type} '{op.name}' would draw once for the whole batch, the same numbers "
                                   "in every row: a graph run per row cannot hold a random op; draw in a block "
                                   "graph instead (map_blocks, e.g. random_uniform(tf.shape(x)))")


def _call_rule(rule: Callable, flags: tuple, attrs: dict, *args: np.ndarray):
    return rule(list(args), flags, **attrs)


def _row_loop(kernel: Callable, flags: tuple, num_outputs: int, *args: np.ndarray):
    n = next(a.shape[0] for a, b in zip(args, flags) if b)
    rows = [kernel(*[a[i] if b else a for a, b in zip(args, flags)]) for i in range(n)]
    if num_outputs == 1:
        return np.stack(rows) if rows else np.empty((0,))
    return tuple(np.stack(col) for col in zip(*rows))
