"""GraphDef rewriting, as TensorFlow 1.x's `tf.graph_util`: pruning and freezing.

`convert_variables_to_constants` turns a graph plus a session's variable
values into a self-contained GraphDef: only the nodes the outputs need, each
variable replaced by a constant holding its current value. That is the form
in which a graph is shipped to run elsewhere (no state, nothing to initialize).

>>> with tf.Graph().as_default() as graph:
...     y = tf.multiply(tf.Variable(2.0, name="w"), tf.placeholder(tf.float32, name="x"), name="y")
...     sess = tf.Session(graph)
...     sess.run(tf.global_variables_initializer())
>>> frozen = convert_variables_to_constants(sess, graph.as_graph_def(), ["y"])
>>> [(n["name"], n["op"]) for n in frozen.nodes]
[('w', 'Const'), ('x', 'Placeholder'), ('y', 'Mul')]
"""
from __future__ import annotations

from typing import Any, Sequence

from . import attrs as attr_kinds
from .dtypes import from_numpy
from .errors import FailedPreconditionError, GraphError
from .graphdef import GraphDef, parse_input
from .op_types import VARIABLE
from .registry import get_op


def extract_sub_graph(graph_def: GraphDef, dest_nodes: Sequence[str]) -> GraphDef:
    """The nodes `dest_nodes` depend on (data and control inputs), in their order.

    Variables stay declared only if their value, initializer and initial
    value nodes are all kept; values are kept for the variables kept.
    """
    by_name = {node["name"]: node for node in graph_def.nodes}
    missing = [name for name in dest_nodes if name not in by_name]
    if missing:
        raise GraphError(f"extract_sub_graph: {missing[0]!r} is not a node of the graph")
    keep: set[str] = set()
    stack = list(dest_nodes)
    while stack:
        name = stack.pop()
        if name in keep:
            continue
        keep.add(name)
        stack.extend(parse_input(name, text)[1] for text in by_name[name]["inputs"])
    nodes = [node for node in graph_def.nodes if node["name"] in keep]
    variables = [v for v in graph_def.variables
                 if {v["name"], v["initializer"], v["initial_value"].rsplit(":", 1)[0]} <= keep]
    values = {k: v for k, v in graph_def.variable_values.items() if k in keep}
    return GraphDef(nodes, variables, values)


def convert_variables_to_constants(sess: Any, input_graph_def: GraphDef,
                                   output_node_names: Sequence[str]) -> GraphDef:
    """The subgraph `output_node_names` need, with variables replaced by constants.

    Each variable becomes a `Const` holding its value in `sess`;
    FailedPreconditionError names a variable the session has no value for.
    Ops that change variables (assignments) cannot be frozen: GraphError.
    Random ops can: their seeds are attrs, so the frozen graph draws the same numbers.
    """
    sub = extract_sub_graph(input_graph_def, output_node_names)
    nodes = []
    for node in sub.nodes:
        if node["op"] == VARIABLE:
            node = _as_constant(node, sess)
        elif get_op(node["op"]).ref_input:  # an assignment; random ops (stateful, no ref) freeze fine
            raise GraphError(f"cannot freeze {node['op']} '{node['name']}': it changes state; "
                             "a frozen graph computes values only")
        nodes.append(node)
    return GraphDef(nodes, [], {})


def _as_constant(node: dict, sess: Any) -> dict:
    name = node["name"]
    if name not in sess.variables:
        raise FailedPreconditionError(f"Attempting to use uninitialized value {name}; run "
                                      "engine.global_variables_initializer() in the session first")
    value = sess.variables[name]
    return {"name": name, "op": "Const", "inputs": [],
            "attrs": {"value": attr_kinds.encode("tensor", value),
                      "dtype": attr_kinds.encode("type", from_numpy(value))}}
