"""Draw a graph as text: a Mermaid flowchart or a Graphviz DOT digraph.

One node per operation (its name and type; placeholders, variables and
constants drawn in their own shapes), one edge per input labelled with the
tensor's dtype and static shape, dotted edges for control dependencies.
Paste the output into a Markdown file (GitHub renders ```mermaid blocks),
https://mermaid.live, or `dot -Tsvg`.

>>> x = tf.placeholder(tf.float64, [None], name="x")
>>> print(to_mermaid(tf.get_default_graph()))
flowchart TD
    n0(["x<br/>Placeholder"])
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

from .graph import Graph, Operation, get_default_graph
from .op_types import PLACEHOLDER, VARIABLE
from .shapes import format_dims

# Node shapes by op type: Mermaid's (open, close) brackets and DOT's shape.
_MERMAID_SHAPES = {PLACEHOLDER: ('(["', '"])'), VARIABLE: ('[("', '")]'), "Const": ('{{"', '"}}')}
_DOT_SHAPES = {PLACEHOLDER: "parallelogram", VARIABLE: "cylinder", "Const": "hexagon"}
_DOT_NEWLINE = "\\n"  # a line break inside a DOT label is the two characters \ and n


def _label(op: Operation, newline: str) -> str:
    """The op's name, and its type when the name doesn't already say it."""
    return op.name if op.name == op.type else f"{op.name}{newline}{op.type}"


class _Edge(NamedTuple):
    source: int
    target: int
    label: str  # "" for control dependencies
    control: bool


def _layout(graph: Optional[Graph], ops: Optional[Sequence[Operation]]) -> tuple[list[Operation], list[_Edge]]:
    """The ops to draw (all of the graph's by default) and the edges between them."""
    ops = list(ops) if ops is not None else (graph or get_default_graph()).get_operations()
    index = {op: i for i, op in enumerate(ops)}
    edges = []
    for i, op in enumerate(ops):
        edges += [_Edge(index[t.op], i, f"{t.dtype.name} {format_dims(t._dims)}", False)
                  for t in op.inputs if t.op in index]
        edges += [_Edge(index[c], i, "", True) for c in op.control_inputs if c in index]
    return ops, edges


def to_mermaid(graph: Optional[Graph] = None, ops: Optional[Sequence[Operation]] = None,
               direction: str = "TD") -> str:
    """The graph (default: the default graph), or only `ops` of it, as a Mermaid flowchart.

    >>> x = tf.placeholder(tf.float64, [None], name="x")
    >>> y = tf.square(x, name="y")
    >>> print(to_mermaid(ops=[x.op, y.op]))
    flowchart TD
        n0(["x<br/>Placeholder"])
        n1["y<br/>Square"]
        n0 -->|"float64 (?,)"| n1
    """
    ops, edges = _layout(graph, ops)
    lines = [f"flowchart {direction}"]
    for i, op in enumerate(ops):
        opening, closing = _MERMAID_SHAPES.get(op.type, ('["', '"]'))
        lines.append(f"    n{i}{opening}{_label(op, '<br/>')}{closing}")
    for e in edges:
        lines.append(f"    n{e.source} -.-> n{e.target}" if e.control
                     else f'    n{e.source} -->|"{e.label}"| n{e.target}')
    return "\n".join(lines)


def to_dot(graph: Optional[Graph] = None, ops: Optional[Sequence[Operation]] = None) -> str:
    """The graph (default: the default graph), or only `ops` of it, as a Graphviz DOT digraph.

    >>> x = tf.placeholder(tf.float64, [None], name="x")
    >>> print(to_dot(tf.get_default_graph()))
    digraph {
    ...
    }
    """
    ops, edges = _layout(graph, ops)
    lines = ["digraph {", "    node [shape=box];"]
    for i, op in enumerate(ops):
        shape = f", shape={_DOT_SHAPES[op.type]}" if op.type in _DOT_SHAPES else ""
        lines.append(f'    n{i} [label="{_label(op, _DOT_NEWLINE)}"{shape}];')
    for e in edges:
        lines.append(f"    n{e.source} -> n{e.target} [style=dotted];" if e.control
                     else f'    n{e.source} -> n{e.target} [label="{e.label}"];')
    lines.append("}")
    return "\n".join(lines)
