"""Params shared by the graph stages, with their type converters.

Spark ML stages keep their whole state in Params, so that ``copy()``,
``ParamGridBuilder`` and persistence work on them. A graph is held as its
GraphDef JSON text (:mod:`engine.graphdef`: nodes plus variable values as
raw bytes; never pickle), set from a Session, a GraphDef, a Graph without
variables or the JSON text itself.
"""

from __future__ import annotations

from typing import Any

from pyspark.ml.param import Param, Params, TypeConverters

import engine as tf
from engine import tf_graphdef
from engine.graphdef import GraphDef
from engine.op_types import VARIABLE


def to_graph_def_json(value: Any) -> str:
    """GraphDef JSON of a Session (graph + variable values), a GraphDef (ours or TensorFlow's message),
    a Graph or JSON text."""
    if isinstance(value, tf.Session):
        return value.graph.as_graph_def(value.export_variables()).to_json()
    if isinstance(value, GraphDef):
        return value.to_json()
    if tf_graphdef.is_message(value):  # a TensorFlow GraphDef, e.g. a frozen .pb parsed by protobuf
        return tf_graphdef.from_message(value).to_json()
    if isinstance(value, tf.Graph):
        if any(op.type == VARIABLE for op in value.get_operations()):
            raise TypeError("the graph has variables, whose values live in a Session: pass the Session")
        return value.as_graph_def().to_json()
    if isinstance(value, str):
        GraphDef.from_json(value)  # structure only; the stage builds it when it runs
        return value
    raise TypeError(f"a graph is given as a Session, a GraphDef, a Graph or GraphDef JSON text, "
                    f"found {type(value).__name__}")


def to_name_map(value: Any) -> dict[str, str]:
    """A dict of non-empty strings to non-empty strings (a column <-> tensor mapping)."""
    if not isinstance(value, dict):
        raise TypeError(f"expected a dict of names, found {type(value).__name__}")
    for key, name in value.items():
        if not (isinstance(key, str) and key and isinstance(name, str) and name):
            raise TypeError(f"mapping entries must map non-empty strings to non-empty strings, found "
                            f"{key!r}: {name!r}")
    return dict(value)


class HasGraphDef(Params):
    """The graph to run, as GraphDef JSON."""

    graphDef: Param[str] = Param(
        Params._dummy(), "graphDef",
        "the graph as GraphDef JSON (engine.graphdef); set it from a Session (graph and variable values), "
        "a GraphDef, a Graph without variables or the JSON text",
        typeConverter=to_graph_def_json)

    def getGraphDef(self) -> str:
        return self.getOrDefault(self.graphDef)


class HasMappings(Params):
    """Which column feeds which placeholder, and which tensor becomes which column."""

    inputMapping: Param[dict] = Param(
        Params._dummy(), "inputMapping",
        "column name -> placeholder of the graph that the column feeds (op name 'x' or tensor name 'x:0')",
        typeConverter=to_name_map)
    outputMapping: Param[dict] = Param(
        Params._dummy(), "outputMapping",
        "tensor of the graph (op name 'y' or tensor name 'y:1') -> the output column it is written to",
        typeConverter=to_name_map)

    def __init__(self) -> None:
        super().__init__()
        self._setDefault(inputMapping={}, outputMapping={})

    def getInputMapping(self) -> dict[str, str]:
        return self.getOrDefault(self.inputMapping)

    def getOutputMapping(self) -> dict[str, str]:
        return self.getOrDefault(self.outputMapping)


class HasVectorOutput(Params):
    """Whether one-dimensional outputs become ml Vectors."""

    vectorOutput: Param[bool] = Param(
        Params._dummy(), "vectorOutput",
        "write outputs with one value array per row as pyspark.ml Vectors (what Spark ML stages and "
        "evaluators consume) instead of array<double> columns",
        typeConverter=TypeConverters.toBoolean)

    def getVectorOutput(self) -> bool:
        return self.getOrDefault(self.vectorOutput)
