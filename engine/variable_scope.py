"""`get_variable`, `variable_scope` and graph collections, as in TensorFlow 1.x.

Variables made by `get_variable(name)` are named by the enclosing variable
scopes (`layer1/w`) and kept in a per-graph store, so a scope opened again
with `reuse=True` (or `tf.AUTO_REUSE`, or after `scope.reuse_variables()`)
hands back the same variables: this is how TF 1.x programs share weights.
`variable_scope` also opens a name scope for the ops built inside it (a
second `variable_scope("layer1")` puts its ops under `layer1_1/`, its
variables still under `layer1/`, as TensorFlow does). Reuse, the default
initializer, regularizer and dtype are inherited by nested scopes.

>>> import engine as tf
>>> with tf.Graph().as_default():
...     with tf.variable_scope("layer"):
...         w = tf.get_variable("w", [2, 3])
...     with tf.variable_scope("layer", reuse=True):
...         same = tf.get_variable("w")
...     (w.name, same is w)
('layer/w:0', True)
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, Optional

from . import dtypes
from .errors import DTypeError, GraphError, ShapeError
from .graph import Graph, get_default_graph
from .init_ops import Zeros, glorot_uniform_initializer
from .ops.core import group
from .shapes import as_dims, format_dims
from .variables import GLOBAL_VARIABLES, TRAINABLE_VARIABLES, Variable


class GraphKeys:
    """The standard collection names of TensorFlow 1.x."""

    GLOBAL_VARIABLES = GLOBAL_VARIABLES
    VARIABLES = GLOBAL_VARIABLES
    TRAINABLE_VARIABLES = TRAINABLE_VARIABLES
    LOCAL_VARIABLES = "local_variables"
    MODEL_VARIABLES = "model_variables"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    REGULARIZATION_LOSSES = "regularization_losses"
    LOSSES = "losses"
    UPDATE_OPS = "update_ops"
    SUMMARIES = "summaries"
    TRAIN_OP = "train_op"
    GLOBAL_STEP = "global_step"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    READY_OP = "ready_op"
    SAVERS = "savers"
    ACTIVATIONS = "activations"
    WEIGHTS = "weights"
    BIASES = "biases"
    QUEUE_RUNNERS = "queue_runners"
    TABLE_INITIALIZERS = "table_initializer"
    ASSET_FILEPATHS = "asset_filepaths"
    COND_CONTEXT = "cond_context"
    WHILE_CONTEXT = "while_context"


class _AutoReuse:
    def __repr__(self) -> str:
        return "tf.AUTO_REUSE"


AUTO_REUSE = _AutoReuse()  # get_variable creates a variable if missing and reuses it otherwise

_STORE_KEY, _SCOPE_KEY = "__variable_store", "__varscope"


class VariableScope:
    """A variable scope: its name, reuse flag and the defaults its get_variable calls use."""

    def __init__(self, reuse: Any, name: str = "", initializer: Any = None, regularizer: Any = None,
                 dtype: Any = dtypes.float32, name_scope: str = "") -> None:
        self.name, self._reuse = name, reuse
        self.initializer, self.regularizer, self.dtype = initializer, regularizer, dtypes.as_dtype(dtype)
        self.original_name_scope = name_scope

    @property
    def reuse(self) -> Any:
        return self._reuse

    def reuse_variables(self) -> None:
        """From now on, get_variable in this scope reuses existing variables."""
        self._reuse = True

    def set_initializer(self, initializer: Any) -> None:
        self.initializer = initializer

    def set_regularizer(self, regularizer: Any) -> None:
        self.regularizer = regularizer

    def set_dtype(self, dtype: Any) -> None:
        self.dtype = dtypes.as_dtype(dtype)

    def get_variable(self, name: str, shape: Any = None, dtype: Any = None, initializer: Any = None, **kw: Any):
        with _entered(get_default_graph(), self):
            return get_variable(name, shape, dtype, initializer, **kw)

    def global_variables(self) -> list:
        return get_default_graph().get_collection(GLOBAL_VARIABLES, self.name)

    def trainable_variables(self) -> list:
        return get_default_graph().get_collection(TRAINABLE_VARIABLES, self.name)

    def __repr__(self) -> str:
        return f"<VariableScope '{self.name}' reuse={self._reuse}>"


def _state(graph: Graph) -> list:
    """[current scope, {scope name: times opened}] of `graph` (kept in a collection, as TF does)."""
    ref = graph.get_collection_ref(_SCOPE_KEY)
    if not ref:
        ref.extend([VariableScope(False), {}])
    return ref


def _store(graph: Graph) -> dict:
    ref = graph.get_collection_ref(_STORE_KEY)
    if not ref:
        ref.append({})
    return ref[0]


def get_variable_scope() -> VariableScope:
    """The current variable scope of the default graph."""
    return _state(get_default_graph())[0]


class _entered:
    """Makes `scope` the graph's current variable scope for a `with` block."""

    def __init__(self, graph: Graph, scope: VariableScope) -> None:
        self.graph, self.scope = graph, scope

    def __enter__(self) -> VariableScope:
        state = _state(self.graph)
        self.saved, state[0] = state[0], self.scope
        return self.scope

    def __exit__(self, *exc: Any) -> None:
        _state(self.graph)[0] = self.saved


class variable_scope:  # noqa: N801  (TensorFlow's name)
    """`with variable_scope("layer", reuse=...)`: prefix get_variable names and open a name scope.

    `name_or_scope` is a name or a VariableScope (re-entered with its own
    name scope); with None, `default_name` made unique (`dense`, `dense_1`).
    `reuse`: True (variables must exist), AUTO_REUSE (create if missing) or
    None/False (inherit; a new scope creates). `caching_device`,
    `partitioner`, `use_resource` and `constraint` are accepted and ignored.
    """

    def __init__(self, name_or_scope: Any, default_name: Optional[str] = None, values: Any = None,
                 initializer: Any = None, regularizer: Any = None, caching_device: Any = None,
                 partitioner: Any = None, custom_getter: Any = None, reuse: Any = None, dtype: Any = None,
                 use_resource: Any = None, constraint: Any = None, auxiliary_name_scope: bool = True) -> None:
        if name_or_scope is None and default_name is None:
            raise ValueError("variable_scope needs a name_or_scope or a default_name")
        if reuse not in (None, False, True) and reuse is not AUTO_REUSE:
            raise ValueError(f"reuse must be True, False, None or tf.AUTO_REUSE, found {reuse!r}")
        if custom_getter is not None:
            raise NotImplementedError("variable_scope(custom_getter=...) is not supported")
        self._name_or_scope, self._default_name = name_or_scope, default_name
        self._reuse = reuse or None
        self._defaults = {"initializer": initializer, "regularizer": regularizer, "dtype": dtype}
        self._auxiliary = auxiliary_name_scope

    def __enter__(self) -> VariableScope:
        graph = get_default_graph()
        parent = get_variable_scope()
        counts = _state(graph)[1]
        if isinstance(self._name_or_scope, VariableScope):
            given = self._name_or_scope
            name, name_scope = given.name, given.original_name_scope
            reuse = self._reuse or given.reuse
            base = given
        else:
            local = self._name_or_scope if self._name_or_scope is not None else _unique(parent, counts,
                                                                                       self._default_name)
            name = f"{parent.name}/{local}" if parent.name else local
            name_scope, reuse, base = local, self._reuse or parent.reuse, parent
        counts[name] = counts.get(name, 0) + 1
        self._name_scope = graph.name_scope(name_scope) if self._auxiliary else None
        opened = self._name_scope.__enter__() if self._name_scope else base.original_name_scope
        scope = VariableScope(reuse, name, *(self._defaults[k] if self._defaults[k] is not None else getattr(base, k)
                                             for k in ("initializer", "regularizer", "dtype")), name_scope=opened)
        self._entered = _entered(graph, scope)
        return self._entered.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._entered.__exit__(*exc)
        if self._name_scope:
            self._name_scope.__exit__(*exc)


def _unique(parent: VariableScope, counts: dict, prefix: str) -> str:
    """`prefix`, or `prefix_1`, `prefix_2`... if a scope of that name was opened already."""
    full = f"{parent.name}/{prefix}" if parent.name else prefix
    if not counts.get(full):
        return prefix
    i = 1
    while counts.get(f"{full}_{i}"):
        i += 1
    return f"{prefix}_{i}"


def get_variable(name: str, shape: Any = None, dtype: Any = None, initializer: Any = None, regularizer: Any = None,
                 trainable: Optional[bool] = None, collections: Optional[list] = None, caching_device: Any = None,
                 partitioner: Any = None, validate_shape: bool = True, use_resource: Any = None,
                 custom_getter: Any = None, constraint: Any = None, synchronization: Any = None,
                 aggregation: Any = None) -> Variable:
    """The variable `scope/name`: created (with `initializer`, default glorot_uniform for floats, zeros
    otherwise) or, when the scope reuses, the existing one, checked against `shape` and `dtype`."""
    graph = get_default_graph()
    scope = get_variable_scope()
    full = f"{scope.name}/{name}" if scope.name else name
    store = _store(graph)
    if full in store:
        return _shared(store[full], full, scope.reuse, shape, dtype)
    if scope.reuse is True:
        raise ValueError(f"Variable {full} does not exist, or was not created with tf.get_variable(). "
                         "Did you mean to set reuse=tf.AUTO_REUSE in VarScope?")
    dtype = dtypes.as_dtype(dtype or scope.dtype)
    initializer = initializer if initializer is not None else scope.initializer
    from_value = initializer is not None and not callable(initializer)  # TF: the value's own dtype then
    initial = _initial_value(full, shape, dtype, initializer)
    trainable = True if trainable is None else trainable
    with graph.control_dependencies(None), graph.name_scope(None):
        var = Variable(initial, trainable=trainable, collections=collections, name=full,
                       dtype=None if from_value else dtype)
    if var.op.name != full:
        raise GraphError(f"get_variable: the graph already has an op named '{full}' that is not a variable "
                         "made by get_variable")
    store[full] = var
    _regularize(graph, var, full, regularizer or scope.regularizer)
    return var


def _shared(var: Variable, full: str, reuse: Any, shape: Any, dtype: Any) -> Variable:
    if reuse is not True and reuse is not AUTO_REUSE:
        raise ValueError(f"Variable {full} already exists, disallowed. Did you mean to set reuse=True or "
                         "reuse=tf.AUTO_REUSE in VarScope?")
    if shape is not None and not var.shape.is_compatible_with(as_dims(shape)):
        raise ShapeError(f"Trying to share variable {full}, but specified shape {format_dims(as_dims(shape))} "
                         f"and found shape {var.shape}.")
    if dtype is not None and dtypes.as_dtype(dtype) is not var.dtype:
        raise DTypeError(f"Trying to share variable {full}, but specified dtype {dtypes.as_dtype(dtype).name} "
                         f"and found dtype {var.dtype.name}.")
    return var


def _initial_value(full: str, shape: Any, dtype: dtypes.DType, initializer: Any) -> Any:
    """What Variable() gets: a tensor or value as given, else a callable building the initializer's ops."""
    if initializer is not None and not callable(initializer):
        if shape is not None:
            raise ValueError(f"get_variable '{full}': if initializer is a constant, do not specify shape.")
        return initializer
    dims = as_dims(shape) if shape is not None else None
    if dims is None or None in dims:
        raise ShapeError(f"Shape of a new variable ({full}) must be fully defined, but instead was "
                         f"{format_dims(dims)}.")
    if initializer is None:
        initializer = glorot_uniform_initializer() if dtype.is_floating else Zeros()
    return lambda: _call(initializer, list(dims), dtype)


def _call(initializer: Callable, shape: list, dtype: dtypes.DType) -> Any:
    """initializer(shape, dtype=, partition_info=None), leaving out what a plain callable doesn't take."""
    try:
        params = inspect.signature(initializer).parameters
    except (TypeError, ValueError):
        params = {}
    kwargs = {k: v for k, v in (("dtype", dtype), ("partition_info", None)) if k in params
              or any(p.kind is p.VAR_KEYWORD for p in params.values())}
    return initializer(shape, **kwargs)


def _regularize(graph: Graph, var: Variable, full: str, regularizer: Optional[Callable]) -> None:
    """Add regularizer(var) to REGULARIZATION_LOSSES, built under `<var>/Regularizer/`."""
    if regularizer is None:
        return
    with graph.name_scope(None), graph.name_scope(f"{full}/Regularizer"):
        loss = regularizer(var)
    if loss is not None:
        graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)


# -- collections (the default graph's) --------------------------------------------------------
def get_collection(key: str, scope: Optional[str] = None) -> list:
    """The default graph's collection `key`; with `scope`, items whose name matches it from the start."""
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key: str) -> list:
    return get_default_graph().get_collection_ref(key)


def add_to_collection(name: str, value: Any) -> None:
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names: Any, value: Any) -> None:
    get_default_graph().add_to_collections(names, value)


def local_variables(scope: Optional[str] = None) -> list:
    return get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def model_variables(scope: Optional[str] = None) -> list:
    return get_collection(GraphKeys.MODEL_VARIABLES, scope)


def local_variables_initializer() -> Any:
    """An op initializing the LOCAL_VARIABLES collection (a no-op when it is empty)."""
    return group(*[v.initializer for v in local_variables()], name="init")
