"""GraphDef: the versioned, safe wire format of a graph.

A GraphDef is plain JSON-compatible data: a list of nodes (name, op type,
inputs `"op:0"` / control inputs `"^op"`, attrs encoded by kind), the graph's
variables, and optionally variable values. Tensors are dtype + shape + raw
little-endian bytes, so values round-trip bit-exactly. Parsing checks the
structure and never evaluates code or unpickles.

A written GraphDef carries `"sha256"`: the digest of its contents in a
canonical form (compact JSON, keys sorted), checked when it is parsed, so a
flipped byte cannot silently change a weight or a node; whitespace or key
order may change freely. The field is optional: files written before it
existed load as they are. (TensorFlow's protobuf GraphDefs, read and written
by engine.tf_graphdef, are TensorFlow's format and carry none.)

This module is the format only: `engine.exporter` writes a graph as a
GraphDef (`Graph.as_graph_def`), `engine.importer` validates and builds one
into a graph (`import_graph_def`) or a new graph and Session (`load`).

>>> GraphDef.from_json('{"format": "engine.GraphDef", "version": 1, "nodes": []}').nodes
[]
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Optional

from . import attrs as attr_kinds
from .errors import EngineError, GraphDefError
from .node_def import NodeDef
from .registry import get_op

FORMAT = "engine.GraphDef"
VERSION = 1
_TOP_KEYS = {"format", "version", "nodes", "variables", "variable_values", "sha256"}
_NODE_KEYS = {"name", "op", "inputs", "attrs"}
_VAR_KEYS = {"name", "initializer", "initial_value", "trainable"}
_INPUT = re.compile(r"^(\^)?([^:^]+?)(?::(\d+))?$")


class GraphDef:
    """A serialized graph; build with `graph.as_graph_def()`, load with `import_graph_def`.

    As in TensorFlow, `GraphDef()` is empty and `ParseFromString(data)` fills
    it, from the engine's JSON or from a binary TensorFlow GraphDef (a
    frozen `.pb`, translated by engine.tf_graphdef).
    """

    def __init__(self, nodes: Optional[list] = None, variables: Optional[list] = None,
                 variable_values: Optional[dict] = None) -> None:
        self.nodes = nodes if nodes is not None else []
        self.variables = variables if variables is not None else []
        self.variable_values = variable_values or {}

    def ParseFromString(self, data: bytes) -> None:  # noqa: N802  (TensorFlow's name)
        """Replace this GraphDef's contents with `data` (engine JSON or a binary TensorFlow GraphDef)."""
        parsed = parse(bytes(data))
        self.nodes, self.variables, self.variable_values = parsed.nodes, parsed.variables, parsed.variable_values

    @classmethod
    def FromString(cls, data: bytes) -> "GraphDef":  # noqa: N802
        graph_def = cls()
        graph_def.ParseFromString(data)
        return graph_def

    def SerializeToString(self) -> bytes:  # noqa: N802
        """The engine's JSON bytes (`tf.train.write_graph` writes TensorFlow's format)."""
        return self.to_bytes()

    @property
    def node(self) -> list[NodeDef]:
        """Readable NodeDefs (attrs decoded)."""
        return [NodeDef(n["name"], n["op"], list(n["inputs"]),
                        {k: attr_kinds.decode(get_op(n["op"]).attrs[k], v) for k, v in n["attrs"].items()})
                for n in self.nodes]

    def to_dict(self) -> dict:
        """The JSON-able form, with the checksum of its contents."""
        data = {"format": FORMAT, "version": VERSION, "nodes": self.nodes, "variables": self.variables,
                "variable_values": {k: attr_kinds.encode_tensor(v) for k, v in self.variable_values.items()}}
        data["sha256"] = checksum(data)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    def to_bytes(self) -> bytes:
        return self.to_json().encode("utf-8")

    @classmethod
    def from_json(cls, text: str | bytes) -> "GraphDef":
        """Parse and validate structure; GraphDefError if malformed."""
        try:
            data = json.loads(text, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError, RecursionError) as e:
            raise GraphDefError(f"malformed GraphDef: not valid JSON ({e})") from None
        return cls.from_dict(data)

    from_bytes = from_json

    @classmethod
    def from_dict(cls, data: Any) -> "GraphDef":
        if not isinstance(data, dict) or not {"format", "version", "nodes"} <= set(data) <= _TOP_KEYS:
            raise GraphDefError(f"malformed GraphDef: expected an object with keys {sorted(_TOP_KEYS)}")
        if data["format"] != FORMAT:
            raise GraphDefError(f"not a GraphDef: format is {data['format']!r}, expected {FORMAT!r}")
        if type(data["version"]) is not int or data["version"] != VERSION:
            raise GraphDefError(f"GraphDef version {data['version']!r} is not supported (this engine reads {VERSION})")
        if "sha256" in data:  # after format and version, which say how to read the rest
            _verify(data)
        nodes, variables = data["nodes"], data.get("variables", [])
        if not isinstance(nodes, list) or not isinstance(variables, list):
            raise GraphDefError("malformed GraphDef: nodes and variables must be lists")
        for i, node in enumerate(nodes):
            _check_node_structure(i, node)
        for var in variables:
            _check_variable_structure(var)
        names = [var["name"] for var in variables]
        if len(set(names)) != len(names):
            raise GraphDefError(f"malformed GraphDef: variables {sorted(names)} list a variable twice")
        values = data.get("variable_values", {})
        if not isinstance(values, dict):
            raise GraphDefError("malformed GraphDef: variable_values must be an object")
        decoded = {}
        for name, record in values.items():
            try:
                decoded[name] = attr_kinds.decode_tensor(record)
            except (ValueError, EngineError) as e:
                raise GraphDefError(f"variable value '{name}': {e}") from None
        return cls(nodes, variables, decoded)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GraphDef) and self.to_json() == other.to_json()


def checksum(data: dict) -> str:
    """SHA-256 (hex) of a GraphDef's JSON-able form without its "sha256" entry, in canonical JSON."""
    body = {k: v for k, v in data.items() if k != "sha256"}
    text = json.dumps(body, separators=(",", ":"), sort_keys=True, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _verify(data: dict) -> None:
    """GraphDefError unless the recorded checksum is the contents' one."""
    recorded = data["sha256"]
    if not isinstance(recorded, str):
        raise GraphDefError(f"malformed GraphDef: sha256 must be a string of hex digits, found {recorded!r}")
    try:
        found = checksum(data)
    except (TypeError, ValueError) as e:  # not JSON-able after all (cannot happen with parsed JSON)
        raise GraphDefError(f"malformed GraphDef: {e}") from None
    if found != recorded:
        raise GraphDefError(f"GraphDef checksum mismatch: its contents have SHA-256 {found}, it records "
                            f"{recorded}: it was changed or corrupted after it was written (a changed byte can "
                            "change a weight); write it again from the graph")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _check_variable_structure(var: Any) -> None:
    if not isinstance(var, dict) or set(var) != _VAR_KEYS:
        raise GraphDefError(f"malformed GraphDef: variable entry {var!r} needs keys {sorted(_VAR_KEYS)}")
    if not all(isinstance(var[k], str) for k in ("name", "initializer", "initial_value")):
        raise GraphDefError(f"malformed GraphDef: variable entry {var!r}: names must be strings")
    if not isinstance(var["trainable"], bool):
        raise GraphDefError(f"malformed GraphDef: variable '{var['name']}': trainable must be true or false, "
                            f"found {var['trainable']!r}")


def _check_node_structure(index: int, node: Any) -> None:
    where = f"node {node.get('name', index)!r}" if isinstance(node, dict) else f"node #{index}"
    if not isinstance(node, dict) or set(node) != _NODE_KEYS:
        raise GraphDefError(f"malformed GraphDef: {where} must have exactly the keys {sorted(_NODE_KEYS)}")
    if not isinstance(node["name"], str) or not node["name"]:
        raise GraphDefError(f"malformed GraphDef: {where} has no valid name")
    if not isinstance(node["op"], str):
        raise GraphDefError(f"malformed GraphDef: {where}: op must be a string")
    if not isinstance(node["inputs"], list) or not all(isinstance(i, str) for i in node["inputs"]):
        raise GraphDefError(f"malformed GraphDef: {where}: inputs must be a list of strings")
    if not isinstance(node["attrs"], dict):
        raise GraphDefError(f"malformed GraphDef: {where}: attrs must be an object")


def parse_input(node: str, text: str) -> tuple[bool, str, int]:
    """An input string as (is a control input, source op name, output index)."""
    m = _INPUT.match(text)
    if not m:
        raise GraphDefError(f"node '{node}': malformed input {text!r}")
    return bool(m.group(1)), m.group(2), int(m.group(3) or 0)



def parse(graph_def: "GraphDef | str | bytes | dict") -> GraphDef:
    """A GraphDef from itself, its JSON text or bytes, its dict form, or TensorFlow's GraphDef
    (a protobuf message, or binary bytes: anything not JSON), translated by engine.tf_graphdef."""
    if isinstance(graph_def, GraphDef):
        return graph_def
    if isinstance(graph_def, (bytes, bytearray)) and graph_def.lstrip()[:1] not in (b"{", b""):
        from . import tf_graphdef  # not JSON: a binary TensorFlow GraphDef
        return tf_graphdef.parse(graph_def)
    if isinstance(graph_def, (str, bytes, bytearray)):
        return GraphDef.from_json(graph_def)
    if hasattr(graph_def, "DESCRIPTOR"):
        from . import tf_graphdef
        if tf_graphdef.is_message(graph_def):
            return tf_graphdef.from_message(graph_def)
    return GraphDef.from_dict(graph_def)
