"""Variables: graph state that persists across `Session.run` calls.

`Variable(initial_value)` adds a `VariableV2` op (the value), the ops that
compute the initial value (`name/initial_value`) and an `Assign`
(`name/Assign`, the initializer). Variables are listed in the graph's
`variables` and `trainable_variables` collections, and this module writes
and reads their section of a GraphDef (`graph_def_entries`,
`restore_variables`).
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import dtypes
from .defaults import default_session
from .errors import GraphDefError, GraphError
from .graph import Graph, Operation, Tensor, TensorOperators, get_default_graph
from .op_types import ASSIGN, VARIABLE
from .ops.core import group
from .ops.toolkit import convert_to_tensor, make
from .shapes import as_dims

GLOBAL_VARIABLES = "variables"
TRAINABLE_VARIABLES = "trainable_variables"


class Variable(TensorOperators):
    """A named, stateful tensor; use it wherever a Tensor is expected.

    >>> with Graph().as_default():
    ...     Variable(np.zeros((3, 1)), name="w")
    <tf.Variable 'w:0' shape=(3, 1) dtype=float64>
    """

    def __init__(self, initial_value: Any = None, trainable: bool = True, collections: Optional[list] = None,
                 validate_shape: bool = True, caching_device: Any = None, name: Optional[str] = None,
                 variable_def: Any = None, dtype: Any = None, expected_shape: Any = None, import_scope: Any = None,
                 constraint: Any = None, use_resource: Any = None, synchronization: Any = None,
                 aggregation: Any = None, shape: Any = None, *, _op: Optional[Operation] = None,
                 _initializer: Optional[Operation] = None, _initial_value: Optional[Tensor] = None) -> None:
        if _op is not None:  # rebuilt from an imported graph
            self._op, self._initializer_op, self._initial_value = _op, _initializer, _initial_value
            self.trainable = trainable
            return
        if initial_value is None:
            raise ValueError("Variable needs an initial_value (a value, a tensor or a callable)")
        graph = get_default_graph()
        # As TensorFlow's init_scope: reading a variable must not trigger the
        # control dependencies that happened to be active where it was made.
        with graph.control_dependencies(None), graph.name_scope(name or "Variable") as scope:
            var_name = scope[:-1]
            if callable(initial_value):
                initial_value = initial_value()
            init = convert_to_tensor(initial_value, dtypes.as_dtype(dtype) if dtype else None,
                                     name="initial_value")
            static = init._dims if shape is None else as_dims(shape)
            if static is None or any(d is None for d in static):
                raise GraphError(f"Variable '{var_name}': the initial value needs a fully known shape, "
                                 f"found {init.shape}; pass shape=")
            self._op = graph.create_op(VARIABLE, [], {"dtype": init.dtype, "shape": static},
                                       name=var_name, exact_name=True)
            self._initial_value = init
            self._initializer_op = make(ASSIGN, [self._op.outputs[0], init], ASSIGN).op
        self.trainable = trainable
        # TensorFlow 1.x: GLOBAL_VARIABLES unless `collections` says otherwise, plus TRAINABLE_VARIABLES
        for key in dict.fromkeys(list(collections or [GLOBAL_VARIABLES]) + ([TRAINABLE_VARIABLES] * trainable)):
            graph.add_to_collection(key, self)

    # -- tensor-like ---------------------------------------------------------------
    def _as_graph_element(self) -> Tensor:
        return self._op.outputs[0]

    def value(self) -> Tensor:
        return self._op.outputs[0]

    read_value = value

    @property
    def op(self) -> Operation:
        return self._op

    @property
    def name(self) -> str:
        return self._op.outputs[0].name

    @property
    def dtype(self):
        return self._op.outputs[0].dtype

    @property
    def shape(self):
        return self._op.outputs[0].shape

    def get_shape(self):
        return self.shape

    @property
    def graph(self) -> Graph:
        return self._op.graph

    @property
    def initializer(self) -> Operation:
        return self._initializer_op

    @property
    def initial_value(self) -> Tensor:
        return self._initial_value

    # -- state -----------------------------------------------------------------------
    def assign(self, value: Any, name: Optional[str] = None) -> Tensor:
        return self._update(ASSIGN, value, name)

    def assign_add(self, delta: Any, name: Optional[str] = None) -> Tensor:
        return self._update("AssignAdd", delta, name)

    def assign_sub(self, delta: Any, name: Optional[str] = None) -> Tensor:
        return self._update("AssignSub", delta, name)

    def _update(self, op_type: str, value: Any, name: Optional[str]) -> Tensor:
        with self.graph.as_default():  # a Python value becomes a constant of this variable's graph
            return make(op_type, [self.value(), convert_to_tensor(value, self.dtype)], name or op_type)

    def eval(self, session: Any = None) -> np.ndarray:
        return self.value().eval(session=session)

    def load(self, value: Any, session: Any = None) -> None:
        """Set the value in `session` (default session) without adding ops."""
        (session or default_session()).load_variables({self._op.name: value})

    def __repr__(self) -> str:
        return f"<tf.Variable '{self.name}' shape={self.shape} dtype={self.dtype.name}>"

    __hash__ = object.__hash__


def global_variables(graph: Optional[Graph] = None) -> list[Variable]:
    return (graph or get_default_graph()).get_collection(GLOBAL_VARIABLES)


def trainable_variables(graph: Optional[Graph] = None) -> list[Variable]:
    return (graph or get_default_graph()).get_collection(TRAINABLE_VARIABLES)


def variables_initializer(var_list: list[Variable], name: str = "init") -> Operation:
    """An op that runs the initializers of `var_list`."""
    return group(*[v.initializer for v in var_list], name=name)


def global_variables_initializer() -> Operation:
    """An op that initializes every variable of the default graph."""
    return variables_initializer(global_variables(), name="init")


def assign(ref: Variable, value: Any, name: Optional[str] = None) -> Tensor:
    return ref.assign(value, name)


def assign_add(ref: Variable, delta: Any, name: Optional[str] = None) -> Tensor:
    return ref.assign_add(delta, name)


def assign_sub(ref: Variable, delta: Any, name: Optional[str] = None) -> Tensor:
    return ref.assign_sub(delta, name)



# -- the variables' section of a GraphDef --------------------------------------------------
def graph_def_entries(graph: Graph) -> list[dict]:
    """The GraphDef entries of the graph's variables: op names of value, initializer, initial value."""
    trainable = set(trainable_variables(graph))
    return [{"name": v.op.name, "initializer": v.initializer.name, "initial_value": v.initial_value.name,
             "trainable": v in trainable} for v in global_variables(graph)]


def restore_variables(entries: list[dict], graph: Graph, built: dict[str, Operation]) -> None:
    """Rebuild the Variables of GraphDef `entries` from the imported ops `built` (by GraphDef name)."""
    for entry in entries:
        try:
            op = built[entry["name"]]
            init = built[entry["initializer"]]
            value = built[entry["initial_value"].rsplit(":", 1)[0]].outputs[0]
        except (KeyError, AttributeError):
            raise GraphDefError(f"variable '{entry.get('name')}': its ops are missing from the GraphDef") from None
        if op.type != VARIABLE or init.type != ASSIGN or init.inputs[0].op is not op:
            raise GraphDefError(f"variable '{entry['name']}': expected a VariableV2 op with its Assign initializer")
        var = Variable(_op=op, _initializer=init, _initial_value=value, trainable=bool(entry["trainable"]))
        graph.add_to_collection(GLOBAL_VARIABLES, var)
        if var.trainable:
            graph.add_to_collection(TRAINABLE_VARIABLES, var)


# TensorFlow 1.x's deprecated names, still common in tutorials
def initialize_all_variables() -> Operation:
    """Deprecated TF 1.x name of `global_variables_initializer`."""
    return global_variables_initializer()


def initialize_variables(var_list: list[Variable], name: str = "init") -> Operation:
    """Deprecated TF 1.x name of `variables_initializer`."""
    return variables_initializer(var_list, name)


def all_variables(graph: Optional[Graph] = None) -> list[Variable]:
    """Deprecated TF 1.x name of `global_variables`."""
    return global_variables(graph)
