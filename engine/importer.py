"""Loading a GraphDef: validated, then built into a graph or a new graph and Session.

`import_graph_def` adds a GraphDef's nodes to a graph (everything is first
built on a scratch graph, so a bad GraphDef leaves the target as it was);
`load` gives a fresh graph with a Session holding the shipped variable
values, which is how executors run a shipped program.
"""
from __future__ import annotations

from typing import Optional, Sequence

from . import attrs as attr_kinds
from .errors import GraphDefError, GraphError
from .graph import Graph, Operation, Tensor, get_default_graph
from .graphdef import GraphDef, parse, parse_input
from .op_types import PLACEHOLDER, VARIABLE
from .registry import get_op
from .session import Session
from .shapes import format_dims
from .variables import restore_variables


def _topological(nodes: list) -> list:
    """The nodes with every input before its consumer, otherwise in the given order."""
    by_name: dict[str, dict] = {}
    for node in nodes:
        if node["name"] in by_name:
            raise GraphDefError(f"node '{node['name']}': duplicate node name")
        by_name[node["name"]] = node
    deps = {}
    for node in nodes:
        sources = [src for _, src, _ in (parse_input(node["name"], i) for i in node["inputs"])]
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
                is_control, src, index = parse_input(name, text)
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


def _check_values(graph_def: GraphDef, built: dict[str, Operation]) -> None:
    for name, value in graph_def.variable_values.items():
        op = built.get(name)
        if op is None or op.type != VARIABLE:
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
    graph_def = parse(graph_def)
    graph = graph or get_default_graph()
    prefix = f"{name}/" if name else ""
    mapped = _input_map(graph, graph_def, input_map or {})
    _validate(graph_def, mapped, return_elements or ())
    clashes = [n["name"] for n in graph_def.nodes if prefix + n["name"] in graph._by_name]
    if clashes:
        raise GraphDefError(f"node '{clashes[0]}': the target graph already has an op named '{prefix}{clashes[0]}'")
    built = _build(graph_def, graph, prefix, mapped)
    restore_variables(graph_def.variables, graph, built)
    if return_elements is None:
        return None
    return [graph.as_graph_element(prefix + e) for e in return_elements]


def _input_map(graph: Graph, graph_def: GraphDef, input_map: dict) -> dict[str, Tensor]:
    """input_map with keys as 'op:index' and values checked to be tensors of `graph`."""
    read = {f"{src}:{index}" for node in graph_def.nodes for text in node["inputs"]
            for control, src, index in [parse_input(node["name"], text)] if not control}
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
        stand_ins = {k: scratch.create_op(PLACEHOLDER, [], {"dtype": v.dtype, "shape": v._dims},
                                          name=f"{scope}/{i}", exact_name=True).outputs[0]
                     for i, (k, v) in enumerate(mapped.items())}
        built = _build(graph_def, scratch, "", stand_ins)
        restore_variables(graph_def.variables, scratch, built)
        _check_values(graph_def, built)
    for element in return_elements:
        try:
            scratch.as_graph_element(element)
        except (GraphError, TypeError) as e:
            raise GraphDefError(f"return_elements: {element!r} is not in the GraphDef ({e})") from None


def load(graph_def: GraphDef | str | bytes | dict) -> tuple[Graph, Session]:
    """A new Graph holding `graph_def` and a Session with its variable values loaded.

    >>> import engine as tf
    >>> with tf.Graph().as_default() as g:
    ...     w = tf.Variable([1.0, 2.0], name="w")
    ...     y = tf.multiply(w, 3.0, name="y")
    >>> graph, sess = load(g.as_graph_def({"w": np.array([1.0, 2.0], np.float32)}).to_json())
    >>> sess.run("y:0")
    array([3., 6.], dtype=float32)
    """
    graph_def = parse(graph_def)
    graph = Graph()
    import_graph_def(graph_def, name="", graph=graph)
    session = Session(graph)
    session.load_variables(graph_def.variable_values)
    return graph, session
