"""Graphs, operations and tensors (TensorFlow 1.x semantics).

A `Graph` is an append-only list of `Operation`s with unique names. Each op
has a registry type, input tensors, control inputs, attrs and output tensors
whose static dtype and shape come from the op's inference rule at creation.
"""
from __future__ import annotations

import contextlib
import re
import threading
from typing import Any, Iterator, Optional, Sequence

from . import attrs as attr_kinds
from .defaults import default_session, graph_stack
from .dtypes import DType
from .errors import DTypeError, EngineError, GraphError, ShapeError
from .node_def import NodeDef
from .op_types import VARIABLE
from .registry import OpDef, TensorSpec, get_op
from .shapes import TensorShape, format_dims

_VALID_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\-/]*$")

# Filled by engine.ops.math: operator name -> builder taking (x, y) or (x,).
OPERATORS: dict[str, Any] = {}


def _operator(name: str) -> Any:
    """The builder behind a Python operator; TypeError if no op family provides it."""
    try:
        return OPERATORS[name]
    except KeyError:
        raise TypeError(f"no op implements the Python operator {name!r} on tensors "
                        f"(engine.graph.OPERATORS has {sorted(OPERATORS)})") from None


def _binary(name: str, reverse: bool = False):
    def method(self, other):
        return _operator(name)(other, self) if reverse else _operator(name)(self, other)
    method.__name__ = f"__{'r' if reverse else ''}{name}__"
    return method


class TensorOperators:
    """Python operators for tensor-like objects (Tensor, Variable)."""

    __slots__ = ()
    __array_ufunc__ = None  # `ndarray + tensor` defers to Tensor.__radd__ instead of looping over the array
    __add__, __radd__ = _binary("add"), _binary("add", True)
    __sub__, __rsub__ = _binary("sub"), _binary("sub", True)
    __mul__, __rmul__ = _binary("mul"), _binary("mul", True)
    __truediv__, __rtruediv__ = _binary("truediv"), _binary("truediv", True)
    __floordiv__, __rfloordiv__ = _binary("floordiv"), _binary("floordiv", True)
    __mod__, __rmod__ = _binary("mod"), _binary("mod", True)
    __pow__, __rpow__ = _binary("pow"), _binary("pow", True)
    __matmul__, __rmatmul__ = _binary("matmul"), _binary("matmul", True)
    __and__, __rand__ = _binary("and"), _binary("and", True)
    __or__, __ror__ = _binary("or"), _binary("or", True)
    __lt__, __le__ = _binary("lt"), _binary("le")
    __gt__, __ge__ = _binary("gt"), _binary("ge")

    def __neg__(self):
        return _operator("neg")(self)

    def __abs__(self):
        return _operator("abs")(self)

    def __invert__(self):
        return _operator("invert")(self)

    def __getitem__(self, key):
        return _operator("getitem")(self, key)

    def __bool__(self) -> bool:
        raise TypeError("using a Tensor as a Python bool is not allowed: the value is only known "
                        "when the graph runs; use engine.where or engine.cond-like ops instead")

    def __iter__(self):
        raise TypeError("a Tensor is not iterable; index it (x[0]) or use engine.unstack")


class Tensor(TensorOperators):
    """The `value_index`-th output of an Operation; named `op_name:index`."""

    __slots__ = ("op", "value_index", "dtype", "_dims")

    def __init__(self, op: "Operation", value_index: int, spec: TensorSpec) -> None:
        self.op = op
        self.value_index = value_index
        self.dtype: DType = spec.dtype
        self._dims = spec.shape

    @property
    def name(self) -> str:
        return f"{self.op.name}:{self.value_index}"

    @property
    def shape(self) -> TensorShape:
        return TensorShape(self._dims)

    def get_shape(self) -> TensorShape:
        return self.shape

    @property
    def spec(self) -> TensorSpec:
        return TensorSpec(self.dtype, self._dims)

    @property
    def graph(self) -> "Graph":
        return self.op.graph

    def consumers(self) -> list["Operation"]:
        return [op for op in self.graph.get_operations() if self in op.inputs]

    def eval(self, feed_dict: Optional[dict] = None, session: Any = None) -> Any:
        """The tensor's value in `session` (default: the current default session)."""
        return (session or default_session()).run(self, feed_dict)

    def __repr__(self) -> str:
        return f"<tf.Tensor '{self.name}' shape={format_dims(self._dims)} dtype={self.dtype.name}>"

    __hash__ = object.__hash__


class Operation:
    """A node of the graph; create it through op builders, not directly."""

    def __init__(self, graph: "Graph", name: str, opdef: OpDef, inputs: Sequence[Tensor],
                 control_inputs: Sequence["Operation"], attrs: dict, specs: Sequence[TensorSpec]) -> None:
        self.graph = graph
        self.name = name
        self.op_def = opdef
        self.inputs = tuple(inputs)
        self.control_inputs = tuple(control_inputs)
        self.attrs = attrs
        self.outputs = [Tensor(self, i, spec) for i, spec in enumerate(specs)]

    @property
    def type(self) -> str:
        return self.op_def.type

    def get_attr(self, name: str) -> Any:
        if name not in self.attrs:
            raise GraphError(f"op '{self.name}' of type {self.type} has no attr {name!r}; "
                             f"it has {sorted(self.attrs)}")
        return self.attrs[name]

    @property
    def data_inputs(self) -> tuple:
        """The inputs whose values the kernel reads (a ref input is written, not read)."""
        return self.inputs[1:] if self.op_def.ref_input else self.inputs

    @property
    def node_def(self) -> NodeDef:
        inputs = [t.name for t in self.inputs] + [f"^{c.name}" for c in self.control_inputs]
        return NodeDef(self.name, self.type, inputs, dict(self.attrs))

    def run(self, feed_dict: Optional[dict] = None, session: Any = None) -> None:
        """Run this op in `session` (default: the current default session)."""
        (session or default_session()).run(self, feed_dict)

    def __repr__(self) -> str:
        return f"<tf.Operation '{self.name}' type={self.type}>"


class Graph:
    """A dataflow graph: `with g.as_default():` makes builders add ops to it."""

    def __init__(self) -> None:
        self._ops: list[Operation] = []
        self._by_name: dict[str, Operation] = {}
        self._names_in_use: dict[str, int] = {}
        self._name_stack = ""
        self._control_stack: list[list[Operation]] = []
        self._collections: dict[str, list] = {}
        self.seed: Optional[int] = None  # graph-level random seed (engine.random_seed.set_random_seed)
        self._lock = threading.Lock()

    # -- lookup ---------------------------------------------------------------
    def get_operations(self) -> list[Operation]:
        return list(self._ops)

    def get_operation_by_name(self, name: str) -> Operation:
        if not isinstance(name, str):
            raise TypeError(f"operation names are strings, found {type(name).__name__}")
        try:
            return self._by_name[name]
        except KeyError:
            raise GraphError(f"the graph has no operation named {name!r}") from None

    def get_tensor_by_name(self, name: str) -> Tensor:
        if not isinstance(name, str):
            raise TypeError(f"tensor names are strings, found {type(name).__name__}")
        op_name, sep, index = name.rpartition(":")
        if not sep or not index.isdigit():
            raise GraphError(f"tensor names look like 'op_name:0', found {name!r}")
        op = self.get_operation_by_name(op_name)
        if int(index) >= len(op.outputs):
            raise GraphError(f"operation {op_name!r} has {len(op.outputs)} output(s); no tensor {name!r}")
        return op.outputs[int(index)]

    def as_graph_element(self, obj: Any) -> Tensor | Operation:
        """A Tensor or Operation of this graph from an object or a name."""
        if isinstance(obj, str):
            return self.get_tensor_by_name(obj) if ":" in obj else self.get_operation_by_name(obj)
        if hasattr(obj, "_as_graph_element"):
            obj = obj._as_graph_element()
        if isinstance(obj, (Tensor, Operation)):
            if obj.graph is not self:
                raise GraphError(f"{obj!r} belongs to another graph")
            return obj
        raise TypeError(f"cannot interpret {obj!r} ({type(obj).__name__}) as a Tensor or Operation")

    # -- naming ---------------------------------------------------------------
    def unique_name(self, name: str, mark_as_used: bool = True) -> str:
        """`name` in the current name scope, suffixed `_1`, `_2`... if taken."""
        full = f"{self._name_stack}/{name}" if self._name_stack else name
        key = full.lower()
        count = self._names_in_use.get(key, 0)
        if mark_as_used:
            self._names_in_use[key] = count + 1
        if count == 0:
            return full
        candidate = f"{full}_{count}"
        while candidate.lower() in self._names_in_use:
            count += 1
            candidate = f"{full}_{count}"
        if mark_as_used:
            self._names_in_use[candidate.lower()] = 1
        return candidate

    @contextlib.contextmanager
    def name_scope(self, name: Optional[str]) -> Iterator[str]:
        """Prefix op names with `name/`; a name ending in '/' is reused as is."""
        old = self._name_stack
        if not name:
            self._name_stack = ""
        elif name.endswith("/"):
            self._name_stack = name[:-1]
        else:
            self._name_stack = self.unique_name(name)
        try:
            yield self._name_stack + "/" if self._name_stack else ""
        finally:
            self._name_stack = old

    @contextlib.contextmanager
    def control_dependencies(self, control_inputs: Optional[Sequence[Any]]) -> Iterator[None]:
        """Ops created inside run after `control_inputs` (None clears them)."""
        if control_inputs is None:
            saved, self._control_stack = self._control_stack, []
            try:
                yield
            finally:
                self._control_stack = saved
            return
        ops = [self.as_graph_element(c) for c in control_inputs]
        self._control_stack.append([c.op if isinstance(c, Tensor) else c for c in ops])
        try:
            yield
        finally:
            self._control_stack.pop()

    # -- collections ----------------------------------------------------------
    def add_to_collection(self, name: str, value: Any) -> None:
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names: Any, value: Any) -> None:
        for name in [names] if isinstance(names, str) else dict.fromkeys(names):
            self.add_to_collection(name, value)

    def get_collection(self, name: str, scope: Optional[str] = None) -> list:
        """The items of a collection; with `scope`, those whose name starts with a match of it (TF's rule)."""
        items = list(self._collections.get(name, []))
        if scope is None:
            return items
        pattern = re.compile(scope)
        return [i for i in items if isinstance(getattr(i, "name", None), str) and pattern.match(i.name)]

    def get_collection_ref(self, name: str) -> list:
        """The collection's list itself (changes to it change the collection)."""
        return self._collections.setdefault(name, [])

    def clear_collection(self, name: str) -> None:
        self._collections.pop(name, None)

    def get_all_collection_keys(self) -> list[str]:
        return list(self._collections)

    # -- building -------------------------------------------------------------
    def create_op(self, op_type: str, inputs: Sequence[Tensor] = (), attrs: Optional[dict] = None,
                  name: Optional[str] = None, control_inputs: Sequence[Operation] = (),
                  exact_name: bool = False) -> Operation:
        """Add an op after checking its inputs and attrs and inferring outputs.

        Errors from the op's inference rule are re-raised with the op type,
        the op name and every input's dtype and shape.
        """
        opdef = get_op(op_type)
        attrs = dict(attrs or {})
        with self._lock:  # a failed op leaves the graph as it was, its name unclaimed
            op_name = name if exact_name else self.unique_name(name or op_type, mark_as_used=False)
            self._check_name(op_name, exact_name)
            self._check_inputs(opdef, op_name, inputs)
            self._check_attrs(opdef, op_name, attrs)
            specs = self._infer(opdef, op_name, inputs, attrs)
            deps = [c for group in self._control_stack for c in group] + list(control_inputs)
            op = Operation(self, op_name, opdef, inputs, list(dict.fromkeys(deps)), attrs, specs)
            if exact_name:
                self._names_in_use[op_name.lower()] = max(self._names_in_use.get(op_name.lower(), 0), 1)
            else:
                self.unique_name(name or op_type)
            self._ops.append(op)
            self._by_name[op_name] = op
        return op

    def _check_name(self, name: str, exact: bool) -> None:
        if exact and name in self._by_name:
            raise GraphError(f"the graph already has an operation named {name!r}")
        if not isinstance(name, str) or not _VALID_NAME.match(name):
            raise GraphError(f"{name!r} is not a valid op name (letters, digits, '_', '.', '-', '/'; "
                             "not starting with '_', '-' or '/')")

    def _check_inputs(self, opdef: OpDef, name: str, inputs: Sequence[Tensor]) -> None:
        if opdef.num_inputs is not None and len(inputs) != opdef.num_inputs:
            raise GraphError(f"{opdef.type} '{name}' takes {opdef.num_inputs} input(s), found {len(inputs)}")
        for t in inputs:
            if not isinstance(t, Tensor):
                raise TypeError(f"{opdef.type} '{name}': inputs must be Tensors, found {type(t).__name__}")
            if t.graph is not self:
                raise GraphError(f"{opdef.type} '{name}': input {t.name} belongs to another graph")
        if opdef.ref_input and (not inputs or inputs[0].op.type != VARIABLE):
            raise GraphError(f"{opdef.type} '{name}': input 0 must be a variable, "
                             f"found {inputs[0].name if inputs else 'nothing'}")

    @staticmethod
    def _check_attrs(opdef: OpDef, name: str, attrs: dict) -> None:
        if set(attrs) != set(opdef.attrs):
            raise GraphError(f"{opdef.type} '{name}': expected attrs {sorted(opdef.attrs)}, found {sorted(attrs)}")
        for key, kind in opdef.attrs.items():
            if not attr_kinds.check(kind, attrs[key]):
                raise GraphError(f"{opdef.type} '{name}': attr {key!r} must be of kind {kind}, "
                                 f"found {attrs[key]!r}")

    @staticmethod
    def _infer(opdef: OpDef, name: str, inputs: Sequence[Tensor], attrs: dict) -> list[TensorSpec]:
        try:
            out = opdef.infer([t.spec for t in inputs], **attrs)
        except EngineError as e:
            shown = ", ".join(f"{t.dtype.name} {format_dims(t._dims)}" for t in inputs)
            raise type(e)(f"{opdef.type} '{name}': {e} (inputs: {shown or 'none'})") from None
        specs = list(out) if isinstance(out, list) else [out]
        for spec in specs:
            if not isinstance(spec, TensorSpec) or not isinstance(spec.dtype, DType):
                raise TypeError(f"{opdef.type}: infer must return TensorSpec(s), returned {out!r}")
        return specs

    # -- defaults ---------------------------------------------------------------
    @contextlib.contextmanager
    def as_default(self) -> Iterator["Graph"]:
        graph_stack().append(self)
        try:
            yield self
        finally:
            graph_stack().pop()

    def as_graph_def(self, variable_values: Optional[dict] = None):
        """This graph as a GraphDef (the safe wire format); see engine.graphdef."""
        # A late import of the core: exporting needs the variables, which are built from ops.
        from .exporter import graph_to_graph_def
        return graph_to_graph_def(self, variable_values)

    def as_tf_graph_def(self, strict: bool = True):
        """This graph as a TensorFlow GraphDef message, which TensorFlow runs and TensorBoard draws.

        `strict=False` writes ops without a TensorFlow twin under their engine
        type (drawable, not runnable); see engine.tf_graphdef.exporter.
        """
        from .tf_graphdef import export  # late too: the TensorFlow exporter is built on the core
        return export(self, strict=strict)

    def __repr__(self) -> str:
        return f"<tf.Graph with {len(self._ops)} ops>"


_global_default = Graph()


def get_default_graph() -> Graph:
    """The innermost `as_default()` graph, else the global default graph."""
    stack = graph_stack()
    return stack[-1] if stack else _global_default


def reset_default_graph() -> None:
    """Replace the global default graph with a new, empty one."""
    global _global_default
    if graph_stack():
        raise GraphError("reset_default_graph() called inside a `with graph.as_default():` block")
    _global_default = Graph()


def tensor_of(graph: Graph, name: str) -> Tensor:
    """A tensor by name, accepting `op` for `op:0`."""
    return graph.get_tensor_by_name(name if ":" in name else f"{name}:0")


def name_scope(name: Optional[str]):
    """`with name_scope("layer"):` on the default graph."""
    return get_default_graph().name_scope(name)


def control_dependencies(control_inputs: Optional[Sequence[Any]]):
    """`with control_dependencies([op]):` on the default graph."""
    return get_default_graph().control_dependencies(control_inputs)


__all__ = ["Graph", "Operation", "Tensor", "NodeDef", "get_default_graph", "reset_default_graph", "tensor_of",
           "name_scope", "control_dependencies", "ShapeError", "DTypeError"]
