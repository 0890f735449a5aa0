"""A :class:`~tensorframes.program.Program` translated op by op into scalar SQL expressions.

Every tensor becomes a :class:`Value`: a numpy array holding, per element,
either a constant or an expression :class:`~tensorframes.sql.expr.Node`.
A cell of fixed shape ``(3, 2)`` is six expressions (``v[i][j]``), so
shape ops (reshape, transpose, concat, stack, gather, slicing) are numpy's
own kernels run on those object arrays, broadcasting is numpy's, and an
elementwise op is one scalar rule per element. In a block graph
(``map_blocks``, ``reduce_blocks``) a value read from the rows keeps a
leading axis of length 1 for the rows (``rowwise``); the shapes must then
agree with the graph's static shapes, which is how an op that mixes rows
(a sum over axis 0, a reshape across rows) is found and refused.

Each op type's translation is a rule registered with :func:`sql_rule`, in
one module per op family (``tensorframes/sql/ops/``); a user's own op gets
one the same way. An op without a rule, or whose rule refuses its inputs,
raises :class:`~tensorframes.errors.SqlTranslationError` naming it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Sequence

import numpy as np
from functools import reduce

from pyspark.ml.functions import vector_to_array
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

import engine as tf
from engine import importer
from engine.op_types import PLACEHOLDER
from engine.shapes import format_dims
from tensorframes.errors import SqlTranslationError
from tensorframes.spark_columns import column_ref
from tensorframes.column_spec import ColumnSpec, format_shape
from tensorframes.program import Feed, Program
from tensorframes.sql.expr import Node, call, column, item, lit

#: Cells larger than this many elements stay on the Arrow path (one expression per element).
MAX_ELEMENTS = 4096


@dataclass(frozen=True)
class Value:
    """A tensor as elements: a numeric array (a constant) or an object array of Nodes and constants.

    ``rowwise``: it depends on the rows (block graphs: axis 0 is the row,
    of length 1); ``leaf``: a placeholder's value as read from its column;
    ``aggregated``: one value for all rows (``reduce_*``, ``aggregate``).
    """

    elems: np.ndarray
    dtype: np.dtype
    rowwise: bool = False
    leaf: bool = False
    aggregated: bool = False

    @property
    def constant(self) -> bool:
        return self.elems.dtype != object

    def node(self, index: tuple) -> Node:
        """The element at ``index`` as a Node (a constant becomes a literal)."""
        return as_node(self.elems[index], self.dtype)


def as_node(element: object, dtype: np.dtype) -> Node:
    return element if isinstance(element, Node) else lit(element, dtype)


@dataclass(frozen=True)
class Context:
    """What a rule may ask: the op, whether the graph is a block graph, and for what it runs."""

    op: tf.Operation
    block: bool
    reduce: bool
    slow: list = field(default_factory=list)  # why the SQL path would be slower than Arrow (rules append)

    def refuse(self, reason: str) -> SqlTranslationError:
        """The error that keeps the graph on the Arrow path, naming the op."""
        return SqlTranslationError(self.op.type, self.op.name, reason)

    def row_axes(self, value: Value, axes: Iterable[int]) -> bool:
        """True when the (normalized) ``axes`` of ``value`` include the row axis of a block."""
        return self.block and value.rowwise and 0 in axes


SqlRule = Callable[[Context, Sequence[Value]], "Value | Sequence[Value]"]
_RULES: dict[str, SqlRule] = {}


def sql_rule(*op_types: str) -> Callable[[SqlRule], SqlRule]:
    """Register the SQL translation of op types (user ops too): ``rule(ctx, inputs) -> Value(s)``.

    >>> from engine import extend
    >>> from tensorframes.sql import numerics
    >>> cube = extend.unary_op("DocCube", lambda x: x ** 3, lambda op, g: [3 * g * op.inputs[0] ** 2])
    >>> _ = sql_rule("DocCube")(lambda ctx, inputs: elementwise(
    ...     inputs, lambda x: numerics.multiply(x, numerics.square(x))))
    >>> [r.c for r in tfs.map_blocks(cube(tfs.block(df, "x"), name="c"), df, backend="sql").collect()]
    [1.0, 8.0, 27.0, 64.0]
    >>> tf.registry.unregister_op("DocCube"); _RULES.pop("DocCube")  # doctest: +ELLIPSIS
    <function <lambda> at ...>
    """
    def register(rule: SqlRule) -> SqlRule:
        for t in op_types:
            _RULES[t] = rule
        return rule
    return register


def rule_for(op_type: str) -> SqlRule | None:
    from tensorframes.sql import ops  # noqa: F401  (registers the built-in rules)
    return _RULES.get(op_type)


# -- helpers for rules -----------------------------------------------------------------------
def merged(values: Sequence[Value], elems: np.ndarray, dtype: np.dtype) -> Value:
    """A value computed from ``values``: rowwise and aggregated if any of them is."""
    return Value(elems, np.dtype(dtype), rowwise=any(v.rowwise for v in values),
                 aggregated=any(v.aggregated for v in values))


def elementwise(values: Sequence[Value], fn: Callable[..., Node], dtype: np.dtype | None = None) -> Value:
    """``fn`` of the broadcast elements, one Node per output element."""
    arrays = np.broadcast_arrays(*[np.asarray(v.elems, dtype=object) for v in values])
    shape = arrays[0].shape if arrays else ()
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(shape):
        out[index] = fn(*[as_node(a[index], v.dtype) for a, v in zip(arrays, values)])
    return merged(values, out, dtype if dtype is not None else values[0].dtype)


def as_objects(value: Value) -> np.ndarray:
    return np.asarray(value.elems, dtype=object)


# -- translation -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Translation:
    """The program's outputs as Values, in order; ``slow``: why SQL may lose to Arrow (auto then picks Arrow)."""

    outputs: list[Value]
    program: Program
    slow: tuple = ()


def translate(program: Program, schema: T.StructType, reduce: bool = False) -> Translation:
    """Translate every op the outputs need; SqlTranslationError names the first op that can't be.

    ``schema`` is the DataFrame's: it tells which fed columns need checks for nulls.
    """
    graph, _ = importer.load(program.graph_def)
    values: dict[str, Value] = {f.placeholder: leaf_value(f, schema, program.rows) for f in program.feeds}
    fetches = [graph.get_tensor_by_name(o.tensor) for o in program.outputs]
    slow: list[str] = []
    for op in _needed(fetches, set(values)):
        ctx = Context(op, block=not program.rows, reduce=reduce, slow=slow)
        inputs = [values[t.name] for t in op.inputs]
        for t, v in zip(op.outputs, _apply(ctx, inputs)):
            _check_shape(ctx, t, v)
            values[t.name] = v
    return Translation([values[t.name] for t in fetches], program, tuple(slow))


def _needed(fetches: Sequence[tf.Tensor], fed: set[str]) -> list[tf.Operation]:
    """The ops between the feeds and the fetches, in graph (topological) order."""
    seen: set[str] = set()
    stack = [t.op for t in fetches]
    while stack:
        op = stack.pop()
        if op.name in seen or all(t.name in fed for t in op.outputs):
            continue
        seen.add(op.name)
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    return [op for op in fetches[0].graph.get_operations() if op.name in seen]


def _apply(ctx: Context, inputs: list[Value]) -> list[Value]:
    op = ctx.op
    if op.type == PLACEHOLDER:
        raise ctx.refuse("a placeholder that no column feeds")
    rule = rule_for(op.type)
    if rule is None:
        raise ctx.refuse("no SQL rule")
    if len(op.outputs) == 0:
        raise ctx.refuse("an op without outputs (SQL computes values only)")
    if all(v.constant for v in inputs) and not op.op_def.stateful:
        kernel = op.op_def.kernel
        out = kernel(*[v.elems for v in inputs], **op.attrs)
        outs = out if isinstance(out, tuple) else (out,)
        return [Value(np.asarray(o), np.asarray(o).dtype) for o in outs]
    out = rule(ctx, inputs)
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _check_shape(ctx: Context, t: tf.Tensor, v: Value) -> None:
    """The value's elements must have the tensor's static shape (with the row axis as 1)."""
    if v.elems.size > MAX_ELEMENTS:
        raise ctx.refuse(f"output '{t.name}' has {v.elems.size} elements per row; the SQL path writes one "
                         f"expression per element and stops at {MAX_ELEMENTS}")
    dims, shape = t._dims, v.elems.shape
    if v.dtype != t.dtype.np:
        raise ctx.refuse(f"its SQL rule gives {v.dtype}, the op {t.dtype.name}")  # a rule's bug, said plainly
    if dims is None:
        raise ctx.refuse(f"output '{t.name}' has an unknown rank")
    rows = ctx.block and v.rowwise
    if rows and (not dims or dims[0] is not None or shape[:1] != (1,)):
        raise ctx.refuse(f"output '{t.name}' of shape {format_dims(dims)} mixes the rows of a block "
                         "(SQL computes each row on its own)")
    fixed = dims[1:] if rows else dims
    cells = shape[1:] if rows else shape
    if len(fixed) != len(cells) or any(d is not None and d != s for d, s in zip(fixed, cells)):
        raise ctx.refuse(f"output '{t.name}': elements of shape {shape} for static shape {format_dims(dims)}")


def leaf_value(feed: Feed, schema: T.StructType, rows: bool) -> Value:
    """A placeholder fed by a column: one Node per element of the cell."""
    spec = feed.spec
    if None in spec.cell_shape:
        raise SqlTranslationError("Placeholder", feed.placeholder.split(":")[0],
                                  f"column {spec.name!r} has cells of unknown shape {spec.describe()}; "
                                  "record it with tfs.analyze(df) or tfs.append_shape")
    if math.prod(spec.cell_shape) > MAX_ELEMENTS:
        raise SqlTranslationError("Placeholder", feed.placeholder.split(":")[0],
                                  f"column {spec.name!r} has {math.prod(spec.cell_shape)} elements per cell; "
                                  f"the SQL path stops at {MAX_ELEMENTS}")
    ref = column_ref(spec.name)
    if spec.kind == "vector":
        ref = vector_to_array(ref)
    checks = _checks(ref, schema[spec.name], spec)
    leaf = column(ref, spec.dtype) if not checks else call(lambda c: _checked(c, checks), [column(ref, spec.dtype)],
                                                         spec.dtype)
    cells = np.empty(spec.cell_shape, dtype=object)
    for index in np.ndindex(spec.cell_shape):
        node = leaf
        for i in index:
            node = item(node, i, spec.dtype)
        cells[index] = node
    elems = cells if rows else cells[None]
    return Value(elems, spec.dtype, rowwise=True, leaf=True)


def _checks(ref: Column, field: T.StructField, spec: ColumnSpec) -> list[tuple[Column, str]]:
    """(condition, error) pairs that make a bad cell fail the task, as the Arrow path's checks do:
    nulls (where the schema allows them) and array lengths other than the cell shape."""
    where = f"column {spec.name!r}"
    checks = [(ref.isNull(), f"NullValueError: {where} has a null value; drop or fill it first")] \
        if field.nullable else []
    wrong = f"ShapeMismatchError: {where}: expected cells of shape {format_shape(spec.cell_shape)}, a row differs"
    if spec.kind == "vector":
        return checks + [(F.size(ref) != spec.cell_shape[0], wrong)]
    if spec.kind != "array":
        return checks
    dt = field.dataType
    for depth in range(spec.rank):
        for index in np.ndindex(spec.cell_shape[:depth]):
            part = ref
            for i in index:
                part = part.getItem(i)
            checks.append((F.size(part) != spec.cell_shape[depth], wrong))
            if dt.containsNull:
                inner = [part.getItem(i).isNull() for i in range(spec.cell_shape[depth])]
                checks.append((reduce(lambda a, b: a | b, inner),
                               f"NullValueError: {where} has a null value inside an array; drop or fill it first"))
        dt = dt.elementType
    return checks


def _checked(ref: Column, checks: list[tuple[Column, str]]) -> Column:
    out = F.when(checks[0][0], F.raise_error(F.lit(checks[0][1])))
    for condition, message in checks[1:]:
        out = out.when(condition, F.raise_error(F.lit(message)))
    return out.otherwise(ref)


def unleafed(value: Value) -> Value:
    return replace(value, leaf=False)
