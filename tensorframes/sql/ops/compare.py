"""SQL rules of ``engine/ops/compare.py``: comparisons, logic, ``where``, max/min and clipping."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from tensorframes.sql import numerics as N
from tensorframes.sql.compiler import Context, Value, elementwise, sql_rule

_BOOL = np.dtype(np.bool_)
_COMPARISONS = {"Equal": N.equal, "NotEqual": N.not_equal, "Less": N.less, "LessEqual": N.less_equal,
                "Greater": N.greater, "GreaterEqual": N.greater_equal,
                "LogicalAnd": N.logical_and, "LogicalOr": N.logical_or}

for _type, _fn in _COMPARISONS.items():
    sql_rule(_type)(lambda ctx, inputs, _fn=_fn: elementwise(inputs, _fn, _BOOL))


@sql_rule("LogicalNot")
def _not(ctx: Context, inputs: Sequence[Value]) -> Value:
    return elementwise(inputs, N.logical_not)


@sql_rule("SelectV2")
def _where(ctx: Context, inputs: Sequence[Value]) -> Value:
    condition, x, y = inputs
    out = elementwise(inputs, N.where, x.dtype)
    return out


@sql_rule("Maximum")
def _maximum(ctx: Context, inputs: Sequence[Value]) -> Value:
    return elementwise(inputs, N.maximum)


@sql_rule("Minimum")
def _minimum(ctx: Context, inputs: Sequence[Value]) -> Value:
    return elementwise(inputs, N.minimum)


@sql_rule("ClipByValue")
def _clip(ctx: Context, inputs: Sequence[Value]) -> Value:
    return elementwise(inputs, lambda t, low, high: N.maximum(N.minimum(t, high), low))  # the kernel's order
