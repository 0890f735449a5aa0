"""SQL rules of the shape ops (``engine/ops/array.py``, ``joining.py``, ``indexing.py``, ``core.py``).

A value's elements are a numpy object array, so reshape, transpose,
concat, stack, slicing and gather with constant indices are the ops' own
numpy kernels run on it: no new code, the same semantics. The compiler
then checks the result against the op's static shape, which refuses
whatever moves elements across the rows of a block.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from tensorframes.sql import numerics as N
from tensorframes.sql.compiler import Context, Value, as_objects, merged, sql_rule, unleafed
from tensorframes.sql.expr import lit

_SHAPE_OPS = ("Identity", "StopGradient", "Reshape", "Transpose", "ExpandDims", "Squeeze", "Tile",
              "ConcatV2", "Pack", "Unpack", "StridedSlice")


@sql_rule(*_SHAPE_OPS)
def _shape_op(ctx: Context, inputs: Sequence[Value]) -> list[Value]:
    # constants stay numeric: gather's indices, and numpy makes the result an object array anyway
    out = ctx.op.op_def.kernel(*[v.elems if v.constant else as_objects(v) for v in inputs], **ctx.op.attrs)
    outs = out if isinstance(out, tuple) else (out,)
    return [merged([unleafed(v) for v in inputs], np.asarray(o, dtype=object), inputs[0].dtype) for o in outs]


@sql_rule("GatherV2")
def _gather(ctx: Context, inputs: Sequence[Value]) -> Value:
    params, indices = inputs
    if not indices.constant:
        raise ctx.refuse("indices computed from the rows (the SQL path gathers with constant indices)")
    return _shape_op(ctx, [params, indices])[0]


@sql_rule("OneHot")
def _one_hot(ctx: Context, inputs: Sequence[Value]) -> Value:
    """The kernel: on_value where index == position, off_value elsewhere (out of range: all off)."""
    a = ctx.op.attrs
    dtype = a["dtype"].np
    indices = as_objects(inputs[0])
    on, off = lit(a["on_value"], dtype), lit(a["off_value"], dtype)
    out = np.empty(indices.shape + (a["depth"],), dtype=object)
    for index in np.ndindex(indices.shape):
        i = inputs[0].node(index)
        for d in range(a["depth"]):
            out[index + (d,)] = N.where(N.equal(i, lit(d, i.dtype)), on, off)
    if a["axis"] != -1:
        out = np.moveaxis(out, -1, a["axis"])
    return merged([unleafed(inputs[0])], out, dtype)


@sql_rule("ZerosLike", "OnesLike")
def _like(ctx: Context, inputs: Sequence[Value]) -> Value:
    out = np.asarray(ctx.op.op_def.kernel(np.zeros(inputs[0].elems.shape, inputs[0].dtype), **ctx.op.attrs))
    return Value(out, out.dtype)


@sql_rule("Const")
def _const(ctx: Context, inputs: Sequence[Value]) -> Value:
    value = np.asarray(ctx.op.get_attr("value"), ctx.op.get_attr("dtype").np)
    return Value(value, value.dtype)
