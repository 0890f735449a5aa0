"""A typed expression DAG over DataFrame columns, emitted as ``pyspark.sql.Column`` s.

The compiler builds :class:`Node` s rather than Columns directly, for two
reasons. Every node carries the numpy dtype of its value, so the numeric
rules (:mod:`tensorframes.sql.numerics`) know when Spark would widen a
float to a double or raise under ANSI mode. And the nodes form a DAG:
a graph's intermediate values are read by several consumers (an MLP's
hidden units by every unit of the next layer), where nested Column trees
would copy them, growing exponentially with depth. :func:`emit` writes
every non-trivial node that has more than one reader once, as a column of
a ``select`` stage; later stages read it by name. Spark's optimizer keeps
such a projection (it does not inline an expression read twice) and
whole-stage code generation fuses the stages into one loop.

>>> x = column(F.col("x"), np.dtype("float64"))
>>> e = call(F.exp, [x], x.dtype)
>>> out = emit([call(lambda a, b: a + b, [e, e], x.dtype)])  # exp(x), read twice, is computed once
>>> [[name for name, _ in stage] for stage in out.stages], out.roots
([['__tfs_0']], [Column<'+(__tfs_0, __tfs_0)'>])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from pyspark.sql import Column
from pyspark.sql import functions as F

from tensorframes.column_spec import DTYPE_NAMES

#: Nodes that reading twice costs nothing: column references, literals, array items of a column.
_CHEAP = ("col", "lit", "item")


class Node:
    """One scalar expression; ``dtype`` is its numpy dtype (its Spark type is ``DTYPE_NAMES[dtype]``).

    ``kind`` is ``col`` (payload: a Column), ``lit`` (a Python value),
    ``item`` (an array index into args[0]) or ``call`` (payload: a
    function of the argument Columns). ``aggregate`` marks a node that is,
    or reads, an aggregate function.
    """

    __slots__ = ("kind", "payload", "args", "dtype", "aggregate")

    def __init__(self, kind: str, payload: Any, args: Sequence["Node"], dtype: np.dtype,
                 aggregate: bool = False) -> None:
        self.kind, self.payload, self.args, self.dtype = kind, payload, tuple(args), np.dtype(dtype)
        self.aggregate = aggregate or any(a.aggregate for a in self.args)

    def __repr__(self) -> str:
        return f"Node({self.kind}, {DTYPE_NAMES[self.dtype]})"


def column(ref: Column, dtype: np.dtype) -> Node:
    """A leaf: an input column (or an expression over one, such as ``vector_to_array``)."""
    return Node("col", ref, (), dtype)


def lit(value: Any, dtype: np.dtype) -> Node:
    """A literal of exactly ``dtype`` (Python floats are doubles to Spark; the cast keeps float32)."""
    dtype = np.dtype(dtype)
    value = np.asarray(value, dtype).item()
    return Node("lit", value, (), dtype)


def item(array: Node, index: int, dtype: np.dtype) -> Node:
    """Element ``index`` of an array-valued node."""
    return Node("item", index, (array,), dtype)


def call(fn: Callable[..., Column], args: Sequence[Node], dtype: np.dtype, aggregate: bool = False) -> Node:
    """``fn(*argument Columns)``, a Column of ``dtype``'s Spark type."""
    return Node("call", fn, args, dtype, aggregate)


def spark_name(dtype: np.dtype) -> str:
    """The Spark SQL type name of a numpy dtype (``float32`` -> ``float``)."""
    return DTYPE_NAMES[np.dtype(dtype)]


@dataclass(frozen=True)
class Emitted:
    """What :func:`emit` produced: ``stages`` of named columns, then the roots' Columns."""

    stages: list[list[tuple[str, Column]]]
    roots: list[Column]


def emit(roots: Sequence[Node], prefix: str = "__tfs_") -> Emitted:
    """The roots as Columns; shared non-trivial row-level nodes become named stage columns."""
    readers: dict[int, int] = {}
    order: list[Node] = []
    _count(roots, readers, order)
    shared = {id(n) for n in order if readers[id(n)] > 1 and n.kind not in _CHEAP and not n.aggregate}
    level: dict[int, int] = {}
    built: dict[int, Column] = {}
    literals: dict[tuple, Column] = {}
    stages: list[list[tuple[str, Column]]] = []
    for node in order:  # children first
        deps = [level[id(a)] for a in node.args]
        own = max(deps, default=0)
        value = _build(node, [built[id(a)] for a in node.args], literals)
        if id(node) in shared:
            name = f"{prefix}{sum(len(s) for s in stages)}"
            while len(stages) <= own:
                stages.append([])
            stages[own].append((name, value))
            built[id(node)], level[id(node)] = F.col(name), own + 1
        else:
            built[id(node)], level[id(node)] = value, own
    return Emitted(stages, [built[id(r)] for r in roots])


def _count(roots: Sequence[Node], readers: dict[int, int], order: list[Node]) -> None:
    """Readers per node, and the nodes children-first (iterative: graphs may be deep)."""
    stack: list[tuple[Node, bool]] = [(r, False) for r in reversed(roots)]
    for r in roots:
        readers[id(r)] = readers.get(id(r), 0) + 1
    expanded: set[int] = set()
    done: set[int] = set()
    while stack:
        node, children_done = stack.pop()
        if children_done:
            if id(node) not in done:
                done.add(id(node))
                order.append(node)
            continue
        if id(node) in done:
            continue
        stack.append((node, True))
        if id(node) not in expanded:
            expanded.add(id(node))
            for a in node.args:
                readers[id(a)] = readers.get(id(a), 0) + 1
        stack.extend((a, False) for a in node.args if id(a) not in done)


def _build(node: Node, args: list[Column], literals: dict[tuple, Column]) -> Column:
    if node.kind == "col":
        return node.payload
    if node.kind == "lit":  # one Column per distinct literal; a cast only where Spark's own type differs
        key = (node.dtype.str, repr(node.payload))
        if key not in literals:
            plain = node.dtype.kind == "b" or node.dtype == np.float64 or node.dtype == np.int32
            literals[key] = F.lit(node.payload) if plain else F.lit(node.payload).cast(spark_name(node.dtype))
        return literals[key]
    if node.kind == "item":
        return args[0].getItem(node.payload)
    return node.payload(*args)
