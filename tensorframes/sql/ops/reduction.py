"""SQL rules of ``engine/ops/reduction.py``: reductions over cell axes, and over the rows.

Over the axes of a cell, a reduction is an expression over the cell's
elements, in numpy's order, so float sums are bit for bit numpy's:
pairwise summation (numpy's unrolled blocks of 8) when the reduced axes
are the trailing ones (contiguous in memory), a running sum otherwise.
Max and min propagate NaN as numpy does (Spark's ``greatest`` treats NaN
as the largest number, ``least`` skips it).

Over the rows (axis 0 of a block, in ``reduce_blocks`` and ``aggregate``),
a reduction is Spark's native aggregate function of each element:
``sum`` (float32 accumulated in double; int64 in decimal, then wrapped
around as numpy does), ``avg``, ``max``/``min`` (NaN propagated), and
``bool_or``/``bool_and``. Spark adds in its own order, so sums agree with
the Arrow path (whose order depends on the batches) to rounding.
"""

from __future__ import annotations

from functools import reduce as fold
from typing import Callable, Sequence

import numpy as np
from pyspark.sql import functions as F
from pyspark.sql import types as T

from engine import importer
from tensorframes.program import Program
from tensorframes.sql import numerics as N
from tensorframes.sql.compiler import (Context, Translation, Value, as_node, as_objects, leaf_value, merged, sql_rule,
                                       unleafed)
from tensorframes.sql.expr import Node, call, lit


def _pairwise(xs: Sequence[Node], add: Callable[[Node, Node], Node]) -> Node:
    """numpy's pairwise_sum: a running sum from 0 below 8 elements, else 8 accumulators per block
    of up to 128, halves above."""
    n = len(xs)
    if n < 8:
        return fold(add, xs, lit(0, xs[0].dtype))
    if n <= 128:
        acc = list(xs[:8])
        end = n - n % 8
        for i in range(8, end, 8):
            acc = [add(acc[j], xs[i + j]) for j in range(8)]
        out = add(add(add(acc[0], acc[1]), add(acc[2], acc[3])), add(add(acc[4], acc[5]), add(acc[6], acc[7])))
        return fold(add, xs[end:], out)
    half = n // 2
    half -= half % 8
    return add(_pairwise(xs[:half], add), _pairwise(xs[half:], add))


def balanced(xs: Sequence[Node], op: Callable[[Node, Node], Node]) -> Node:
    """An associative op over xs as a balanced tree (shallow expressions)."""
    while len(xs) > 1:
        xs = [op(xs[i], xs[i + 1]) if i + 1 < len(xs) else xs[i] for i in range(0, len(xs), 2)]
    return xs[0]


def _sum(xs: Sequence[Node], contiguous: bool) -> Node:
    if xs[0].dtype.kind == "f":
        return _pairwise(xs, N.add) if contiguous else fold(N.add, xs)
    return balanced(xs, N.add)  # wrapping integer addition is associative


def _greatest(xs: Sequence[Node]) -> Node:
    return call(F.greatest, xs, xs[0].dtype) if len(xs) > 1 else xs[0]


def _last_zero(xs: Sequence[Node]) -> Node:
    """The last element equal to ±0.0: numpy's max and min keep the later of equal values."""
    return N.when([(N.spark_equal(x, lit(0, x.dtype)), x) for x in reversed(xs[1:])], xs[0])


def _extremum(xs: Sequence[Node], spark_fn: Callable) -> Node:
    """numpy's max or min: NaN if any element is NaN, a tie of zeros resolved to the later one."""
    if len(xs) == 1:
        return xs[0]
    best = call(spark_fn, xs, xs[0].dtype)
    if xs[0].dtype.kind != "f":
        return best
    nan = N.isnan(_greatest(xs))  # NaN is Spark's largest number
    return N.when([(nan, lit(np.nan, xs[0].dtype)), (N.spark_equal(best, lit(0, best.dtype)), _last_zero(xs))], best)


def _max(xs: Sequence[Node], contiguous: bool) -> Node:
    return _extremum(xs, F.greatest)


def _min(xs: Sequence[Node], contiguous: bool) -> Node:
    return _extremum(xs, F.least)


def _mean(xs: Sequence[Node], contiguous: bool) -> Node:
    total = _sum(xs, contiguous)
    count = lit(len(xs), total.dtype)
    if total.dtype.kind == "f":
        return N.realdiv(total, count)
    return N.multiply(N.sign(total), N.floordiv(N.absolute(total), count))  # the kernel: truncates toward 0


_CELL: dict[str, Callable[[Sequence[Node], bool], Node]] = {
    "Sum": _sum, "Mean": _mean, "Max": _max, "Min": _min,
    "Prod": lambda xs, contiguous: fold(N.multiply, xs),
    "Any": lambda xs, contiguous: balanced(xs, N.logical_or),
    "All": lambda xs, contiguous: balanced(xs, N.logical_and),
}
_EMPTY = {"Sum": 0, "Mean": np.nan, "Prod": 1, "Any": False, "All": True}


def _empty(kind: str, dtype: np.dtype) -> object:
    if kind in ("Max", "Min"):
        if dtype.kind == "f":
            return -np.inf if kind == "Max" else np.inf
        info = np.iinfo(dtype)
        return info.min if kind == "Max" else info.max
    return _EMPTY[kind]


def reduce_axes(ctx: Context, x: Value, axes: tuple, kind: str, keepdims: bool = False) -> Value:
    """``kind`` (Sum, Mean, ...) of x over cell ``axes`` (normalized), one expression per result."""
    elems = as_objects(x)
    ndim = elems.ndim
    kept = [a for a in range(ndim) if a not in axes]
    contiguous = sorted(axes) == list(range(ndim - len(axes), ndim))
    moved = np.transpose(elems, kept + sorted(axes))
    out_shape = moved.shape[:len(kept)]
    flat = moved.reshape(out_shape + (-1,))
    out = np.empty(out_shape, dtype=object)
    for index in np.ndindex(out_shape):
        xs = [as_node(e, x.dtype) for e in flat[index]]
        out[index] = _CELL[kind](xs, contiguous) if xs else lit(_empty(kind, x.dtype), x.dtype)
    if keepdims:
        out = out.reshape([1 if a in axes else s for a, s in enumerate(elems.shape)])
    return merged([unleafed(x)], out, x.dtype)


# -- over the rows ---------------------------------------------------------------------------
def _aggregate(fn: Callable, dtype: np.dtype) -> Callable[[Node], Node]:
    return lambda x: call(fn, [x], dtype, aggregate=True)


def _row_sum(x: Node) -> Node:
    if x.dtype == N.I64:  # exact in decimal(30,0), then wrapped as numpy's int64 sum
        return call(lambda c: N.decimal_wrap(F.sum(c.cast("decimal(20,0)"))), [x], N.I64, aggregate=True)
    wide = N.F64 if x.dtype.kind == "f" else N.I64
    total = call(F.sum, [x], wide, aggregate=True)
    return N.astype(total, x.dtype) if x.dtype.kind == "f" else N.wrap32(total)


def _row_min(x: Node) -> Node:
    low = _aggregate(F.min, x.dtype)(x)
    if x.dtype.kind != "f":
        return low
    return N.where(_aggregate(F.bool_or, N.BOOL)(N.isnan(x)), lit(np.nan, x.dtype), low)


def _row_mean(x: Node) -> Node:
    return N.astype(_aggregate(F.avg, N.F64)(x), x.dtype)


_ROWS: dict[str, Callable[[Node], Node]] = {
    "Sum": _row_sum, "Max": lambda x: _aggregate(F.max, x.dtype)(x), "Min": _row_min, "Mean": _row_mean,
    "Any": lambda x: _aggregate(F.bool_or, N.BOOL)(x), "All": lambda x: _aggregate(F.bool_and, N.BOOL)(x),
}


def reduce_rows(ctx: Context, x: Value, kind: str) -> Value:
    """A native aggregate function per element of the cell: one value for all the rows."""
    if not ctx.reduce:
        raise ctx.refuse("reduces over the rows of a block (axis 0); map_blocks keeps one value per row")
    if not x.leaf:
        raise ctx.refuse("the SQL path aggregates a placeholder's column directly; here the rows are "
                         "reduced after other ops")
    if kind not in _ROWS or (kind == "Mean" and x.dtype.kind != "f"):
        raise ctx.refuse(f"no native Spark aggregate for {kind} of {x.dtype} rows")
    cells = as_objects(x)[0, ...]
    out = np.empty(cells.shape, dtype=object)
    for index in np.ndindex(cells.shape):
        out[index] = _ROWS[kind](cells[index])
    return Value(out, x.dtype, aggregated=True)


@sql_rule("Sum", "Mean", "Max", "Min", "Prod", "Any", "All")
def _reduction(ctx: Context, inputs: Sequence[Value]) -> Value:
    x = inputs[0]
    ndim = x.elems.ndim
    axis = ctx.op.get_attr("axis")
    axes = tuple(range(ndim)) if axis is None else tuple(sorted({a % ndim for a in axis}))
    keepdims = ctx.op.get_attr("keepdims")
    if not ctx.row_axes(x, axes):
        return reduce_axes(ctx, x, axes, ctx.op.type, keepdims)
    if not ctx.reduce:
        raise ctx.refuse("reduces over the rows of a block (axis 0); a map keeps one value per row")
    if keepdims or axes != (0,) and not (ndim == 1 and axes == (0,)):
        raise ctx.refuse("reduces the rows together with cell axes (the SQL path reduces rows with "
                         "axis=[0], keepdims=False)")
    return reduce_rows(ctx, x, ctx.op.type)


@sql_rule("ArgMax", "ArgMin")
def _arg(ctx: Context, inputs: Sequence[Value]) -> Value:
    """numpy: the first NaN if there is one, else the first extremum."""
    x = inputs[0]
    elems = as_objects(x)
    axis = ctx.op.get_attr("axis") % elems.ndim
    if ctx.row_axes(x, (axis,)):
        raise ctx.refuse("an index over the rows of a block (axis 0)")
    dtype = ctx.op.get_attr("output_type").np
    moved = np.moveaxis(elems, axis, -1)
    out = np.empty(moved.shape[:-1], dtype=object)
    for index in np.ndindex(out.shape):
        xs = [as_node(e, x.dtype) for e in moved[index]]
        target = _max(xs, True) if ctx.op.type == "ArgMax" else _min(xs, True)
        # Spark's = holds for NaN = NaN, so the first element equal to a NaN target is the first NaN
        first = N.when([(N.spark_equal(e, target), lit(i, dtype)) for i, e in enumerate(xs[:-1])], lit(len(xs) - 1, dtype))
        out[index] = first
    return merged([unleafed(x)], out, dtype)


_PAIRWISE = {"Add": "Sum", "Maximum": "Max", "Minimum": "Min", "LogicalAnd": "All", "LogicalOr": "Any"}


def pairwise_rows(program: Program, schema: T.StructType) -> Translation:
    """A ``reduce_rows`` program whose fetches combine their two placeholders with one associative op
    (``x_1 + x_2``, maximum, minimum, and, or): that op's native aggregate of the column."""
    graph, _ = importer.load(program.graph_def)
    outputs = []
    for output, feed in zip(program.outputs, program.feeds):
        op = graph.get_tensor_by_name(output.tensor).op
        ctx = Context(op, block=True, reduce=True)
        kind = _PAIRWISE.get(op.type)
        if kind is None or sorted(t.name for t in op.inputs) != sorted(output.inputs):
            raise ctx.refuse("reduce_rows runs as SQL when a fetch is add, maximum, minimum, logical_and or "
                             "logical_or of its two placeholders")
        outputs.append(reduce_rows(ctx, leaf_value(feed, schema, rows=False), kind))
    return Translation(outputs, program)
