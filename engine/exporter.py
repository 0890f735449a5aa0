"""Writing a graph as a GraphDef (`Graph.as_graph_def`): its nodes, its variables' section, values."""
from __future__ import annotations

from typing import Optional

import numpy as np

from . import attrs as attr_kinds
from .graph import Graph
from .graphdef import GraphDef
from .variables import graph_def_entries


def graph_to_graph_def(graph: Graph, variable_values: Optional[dict] = None) -> GraphDef:
    """Serialize `graph` (and optionally variable values by variable op name)."""
    nodes = []
    for op in graph.get_operations():
        inputs = [t.name for t in op.inputs] + [f"^{c.name}" for c in op.control_inputs]
        attrs = {k: attr_kinds.encode(op.op_def.attrs[k], v) for k, v in op.attrs.items()}
        nodes.append({"name": op.name, "op": op.type, "inputs": inputs, "attrs": attrs})
    values = {k: np.asarray(v) for k, v in (variable_values or {}).items()}
    return GraphDef(nodes, graph_def_entries(graph), values)
