"""GraphDef: the versioned, safe wire format of a graph.

A GraphDef is plain JSON-compatible data: a list of nodes (name, op type,
inputs `"op:0"` / control inputs `"^op"`, attrs encoded by kind), the graph's
variables, and optionally variable values. Tensors are dtype + shape + raw
little-endian bytes, so values round-trip bit-exactly. Loading validates
everything before anything is built and never evaluates code or unpickles.
"""
from __future__ import annotations

import json
import re
from typing import Any, Optional, Sequence

import numpy as np

from . import attrs as attr_kinds
from .errors import EngineError, GraphDefError, GraphError
from .graph import Graph, NodeDef, Operation, Tensor, get_default_graph
from .registry import get_op

FORMAT = "engine.GraphDef"
VERSION = 1
_TOP_KEYS = {"format", "version", "nodes", "variables", "variable_values"}
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
        parsed = _parse(bytes(data))
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
        return {"format": FORMAT, "version": VERSION, "nodes": self.nodes, "variables": self.variables,
                "variable_values": {k: attr_kinds.encode_tensor(v) for k, v in self.variable_values.items()}}

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


def graph_to_graph_def(graph: Graph, variable_values: Optional[dict] = None) -> GraphDef:
    """Serialize `graph` (and optionally variable values by variable op name)."""
    nodes = []
    for op in graph.get_operations():
        inputs = [t.name for t in op.inputs] + [f"^{c.name}" for c in op.control_inputs]
        attrs = {k: attr_kinds.encode(op.op_def.attrs[k], v) for k, v in op.attrs.items()}
        nodes.append({"name": op.name, "op": op.type, "inputs": inputs, "attrs": attrs})
    from .variables import global_variables, trainable_variables
    trainable = set(trainable_variables(graph))
    variables = [{"name": v.op.name, "initializer": v.initializer.name, "initial_value": v.initial_value.name,
                  "trainable": v in trainable} for v in global_variables(graph)]
    values = {k: np.asarray(v) for k, v in (variable_values or {}).items()}
    return GraphDef(nodes, variables, values)


def _parse_input(node: str, text: str) -> tuple[bool, str, int]:
    m = _INPUT.match(text)
    if not m:
        raise GraphDefError(f"node '{node}': malformed input {text!r}")
    return bool(m.group(1)), m.group(2), int(m.group(3) or 0)


def _topological(nodes: list) -> list:
    """The nodes with every input before its consumer, otherwise in the given order."""
    by_name: dict[str, dict] = {}
    for node in nodes:
        if node["name"] in by_name:
            raise GraphDefError(f"node '{node['name']}': duplicate node name")
        by_name[node["name"]] = node
    deps = {}
    for node in nodes:
        sources = [src for _, src, _ in (_parse_input(node["name"], i) for i in node["inputs"])]
        for src in sources:
            if src not in by_name:
                raise GraphDefError(f"node '{node['name']}': input '{src}' is not a node of the GraphDef")
        deps[node["name"]] = list(dict.fromkeys(sources))
    order: list = []
    state: dict[str, int] = {}  # 1 = being visited, 2 = placed
    for root in by_name:
        stack = [(root, 0)]
        while stack:
            name, next_dep = stack.pop()
            if next_dep == 0:
                if state.get(name) == 2:
                    continue
                state[name] = 1
            if next_dep < len(deps[name]):
                stack.append((name, next_dep + 1))
                dep = deps[name][next_dep]
                if state.get(dep) == 1:
                    raise GraphDefError(f"node '{dep}': the GraphDef has a cycle through it")
                if state.get(dep) != 2:
                    stack.append((dep, 0))
            else:
                state[name] = 2
                order.append(by_name[name])
    return order


def _build(graph_def: GraphDef, graph: Graph, prefix: str, input_map: dict) -> dict[str, Operation]:
    built: dict[str, Operation] = {}
    for node in _topological(graph_def.nodes):
        name = node["name"]
        try:
            opdef = get_op(node["op"])
            if set(node["attrs"]) != set(opdef.attrs):
                raise GraphDefError(f"attrs {sorted(node['attrs'])} do not match op {opdef.type}'s "
                                    f"{sorted(opdef.attrs)}")
            attrs = {k: attr_kinds.decode(kind, node["attrs"][k]) for k, kind in opdef.attrs.items()}
            inputs, controls = [], []
            for text in node["inputs"]:
                is_control, src, index = _parse_input(name, text)
                if is_control:
                    controls.append(built[src])
                elif f"{src}:{index}" in input_map:
                    inputs.append(input_map[f"{src}:{index}"])
                else:
                    outputs = built[src].outputs
                    if index >= len(outputs):
                        raise GraphDefError(f"input {text!r} does not exist: '{src}' has {len(outputs)} output(s)")
                    inputs.append(outputs[index])
            built[name] = graph.create_op(opdef.type, inputs, attrs, name=prefix + name,
                                          control_inputs=controls, exact_name=True)
        except GraphDefError as e:
            raise GraphDefError(f"node '{name}': {e}") from None
        except Exception as e:  # untrusted data may trip any op's rules; report it as this node's fault
            raise GraphDefError(f"node '{name}' ({node['op']}): {e}") from None
    return built


def _rebuild_variables(graph_def: GraphDef, graph: Graph, built: dict[str, Operation]) -> None:
    from .variables import Variable, GLOBAL_VARIABLES, TRAINABLE_VARIABLES
    for entry in graph_def.variables:
        try:
            op = built[entry["name"]]
            init = built[entry["initializer"]]
            value = built[entry["initial_value"].rsplit(":", 1)[0]].outputs[0]
        except (KeyError, AttributeError):
            raise GraphDefError(f"variable '{entry.get('name')}': its ops are missing from the GraphDef") from None
        if op.type != "VariableV2" or init.type != "Assign" or init.inputs[0].op is not op:
            raise GraphDefError(f"variable '{entry['name']}': expected a VariableV2 op with its Assign initializer")
        var = Variable(_op=op, _initializer=init, _initial_value=value, trainable=bool(entry["trainable"]))
        graph.add_to_collection(GLOBAL_VARIABLES, var)
        if var.trainable:
            graph.add_to_collection(TRAINABLE_VARIABLES, var)


def _check_values(graph_def: GraphDef, built: dict[str, Operation]) -> None:
    from .shapes import format_dims
    for name, value in graph_def.variable_values.items():
        op = built.get(name)
        if op is None or op.type != "VariableV2":
            raise GraphDefError(f"variable value '{name}': the GraphDef has no variable of that name")
        spec = op.outputs[0]
        if value.dtype != spec.dtype.np or tuple(value.shape) != spec._dims:
            raise GraphDefError(f"variable value '{name}': found {value.dtype} {format_dims(value.shape)}, "
                                f"the variable is {spec.dtype.name} {format_dims(spec._dims)}")


def import_graph_def(graph_def: GraphDef | str | bytes | dict, input_map: Optional[dict] = None,
                     return_elements: Optional[Sequence[str]] = None, name: Optional[str] = "import",
                     graph: Optional[Graph] = None) -> Optional[list]:
    """Add the nodes of `graph_def` to `graph` (default graph), names prefixed `name/`.

    Everything is validated on a scratch graph first, so a bad GraphDef
    raises GraphDefError naming the node and leaves the target graph as it
    was. `input_map` maps GraphDef tensor names to existing tensors.
    """
    if not isinstance(graph_def, GraphDef):
        graph_def = _parse(graph_def)
    graph = graph or get_default_graph()
    prefix = f"{name}/" if name else ""
    mapped = _input_map(graph, graph_def, input_map or {})
    _validate(graph_def, mapped, return_elements or ())
    clashes = [n["name"] for n in graph_def.nodes if prefix + n["name"] in graph._by_name]
    if clashes:
        raise GraphDefError(f"node '{clashes[0]}': the target graph already has an op named '{prefix}{clashes[0]}'")
    built = _build(graph_def, graph, prefix, mapped)
    _rebuild_variables(graph_def, graph, built)
    if return_elements is None:
        return None
    return [graph.as_graph_element(prefix + e) for e in return_elements]


def _parse(graph_def: Any) -> GraphDef:
    """A GraphDef from engine JSON (text or bytes), its dict, or TensorFlow's GraphDef (message or bytes)."""
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


def _input_map(graph: Graph, graph_def: GraphDef, input_map: dict) -> dict[str, Tensor]:
    """input_map with keys as 'op:index' and values checked to be tensors of `graph`."""
    read = {f"{src}:{index}" for node in graph_def.nodes for text in node["inputs"]
            for control, src, index in [_parse_input(node["name"], text)] if not control}
    mapped = {}
    for key, value in input_map.items():
        if not isinstance(key, str):
            raise TypeError(f"input_map keys are tensor names of the GraphDef, found {key!r}")
        element = graph.as_graph_element(value)
        if not isinstance(element, Tensor):
            raise TypeError(f"input_map[{key!r}] must be a Tensor, found operation '{element.name}'")
        mapped[key if ":" in key else f"{key}:0"] = element
    unused = sorted(set(mapped) - read)
    if unused:
        raise GraphDefError(f"input_map names tensors no node of the GraphDef reads: {unused}")
    return mapped


def _validate(graph_def: GraphDef, mapped: dict, return_elements: Sequence[str]) -> None:
    """Build everything on a scratch graph, so errors surface before the target graph changes."""
    scope = "input_map"  # stand-ins for mapped tensors, in a name scope no node uses
    while any(n["name"].split("/")[0] == scope for n in graph_def.nodes):
        scope += "_"
    scratch = Graph()
    with scratch.as_default():
        stand_ins = {k: scratch.create_op("Placeholder", [], {"dtype": v.dtype, "shape": v._dims},
                                          name=f"{scope}/{i}", exact_name=True).outputs[0]
                     for i, (k, v) in enumerate(mapped.items())}
        built = _build(graph_def, scratch, "", stand_ins)
        _rebuild_variables(graph_def, scratch, built)
        _check_values(graph_def, built)
    for element in return_elements:
        try:
            scratch.as_graph_element(element)
        except (GraphError, TypeError) as e:
            raise GraphDefError(f"return_elements: {element!r} is not in the GraphDef ({e})") from None


def load(graph_def: GraphDef | str | bytes | dict, session_factory: Any = None) -> tuple[Graph, Any]:
    """A new Graph holding `graph_def` and a Session with its variable values loaded."""
    from .session import Session
    if not isinstance(graph_def, GraphDef):
        graph_def = _parse(graph_def)
    graph = Graph()
    import_graph_def(graph_def, name="", graph=graph)
    session = (session_factory or Session)(graph)
    session.load_variables(graph_def.variable_values)
    return graph, session


def tensor_of(graph: Graph, name: str) -> Tensor:
    """A tensor by name, accepting `op` for `op:0`."""
    return graph.get_tensor_by_name(name if ":" in name else f"{name}:0")
