"""Session: runs a graph with cached execution plans.

`run(fetches, feed_dict)` compiles the fetch/feed signature once into a
`Plan` (engine.plan: the subgraph pruned to what the fetches need, cut at the
feeds, ordered, kernels bound) and caches it, so a repeated run only checks
its feeds and executes.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, Optional, Sequence

import numpy as np

from . import dtypes
from .config import ignored
from .defaults import graph_stack, session_stack
from .errors import DTypeError, FailedPreconditionError, FeedError, FetchError, GraphError
from .graph import Graph, Tensor, get_default_graph
from .op_types import VARIABLE
from .plan import Plan, compile_plan  # noqa: F401  (Plan: part of this module's interface)
from .registry import KernelState
from .shapes import format_dims, is_compatible


class _FetchMapper:
    """Flattens a nested fetch structure and rebuilds it from the results."""

    def __init__(self, graph: Graph, fetches: Any) -> None:
        self.items: list = []
        self.template = self._flatten(graph, fetches)

    def _flatten(self, graph: Graph, f: Any) -> Any:
        if isinstance(f, dict):
            return {k: self._flatten(graph, v) for k, v in f.items()}
        if isinstance(f, tuple) and hasattr(f, "_fields"):
            return type(f)(*[self._flatten(graph, v) for v in f])
        if isinstance(f, (list, tuple)):
            return type(f)(self._flatten(graph, v) for v in f)
        if f is None:
            raise FetchError("fetch argument None has invalid type; fetch a Tensor, an Operation or a name")
        element = graph.as_graph_element(f)
        self.items.append(element)
        return len(self.items) - 1

    def rebuild(self, values: list) -> Any:
        return self._build(self.template, values)

    def _build(self, t: Any, values: list) -> Any:
        if isinstance(t, int):
            return values[t]
        if isinstance(t, dict):
            return {k: self._build(v, values) for k, v in t.items()}
        if isinstance(t, tuple) and hasattr(t, "_fields"):
            return type(t)(*[self._build(v, values) for v in t])
        return type(t)(self._build(v, values) for v in t)


class Session:
    """Runs ops of one graph and holds that graph's variable values.

    >>> x = tf.placeholder(tf.float64, [None], name="x")
    >>> loss = tf.reduce_sum(tf.Variable(2.0, dtype=tf.float64) * x)
    >>> with Session() as sess:
    ...     sess.run(tf.global_variables_initializer())
    ...     sess.run(loss, {x: [1.0, 2.0]})
    np.float64(6.0)
    """

    def __init__(self, target: Any = "", graph: Optional[Graph] = None, config: Any = None) -> None:
        if isinstance(target, Graph):  # Session(graph), the engine's own short form
            target, graph = "", target
        if target:
            raise FailedPreconditionError(f"Session target {target!r}: the engine runs in process only; "
                                          "use tensorframes to run graphs on a Spark cluster")
        ignored("Session config", config)
        self.graph = graph or get_default_graph()
        self.variables: dict[str, np.ndarray] = {}
        self._kernel_state = KernelState()  # per-op state of stateful kernels (random generators), not exported
        self._plans: dict = {}  # (fetches, fed tensors, batched) -> Plan
        self._feed_keys: dict = {}  # feed_dict keys -> the tensors they name
        self._closed = False

    @property
    def graph_def(self):
        """The session's graph as a GraphDef (`tf.train.write_graph(sess.graph_def, logdir, name)`)."""
        return self.graph.as_graph_def()

    def run(self, fetches: Any, feed_dict: Optional[dict] = None, options: Any = None,
            run_metadata: Any = None) -> Any:
        """Values of `fetches` (tensor, op, name, or a nested list/tuple/dict).

        `options` and `run_metadata` (TF's tracing) are accepted and ignored.
        """
        if type(fetches) is Tensor and fetches.op.graph is self.graph:  # the common case, kept short
            return self._run((fetches,), feed_dict)[0]
        mapper = _FetchMapper(self.graph, fetches)
        return mapper.rebuild(self._run(tuple(mapper.items), feed_dict))

    def run_batched(self, fetches: Any, feed_dict: dict) -> Any:
        """Run a graph written for one row over fed values with a leading batch axis.

        Every fed value is a stack of rows (`(n,) + placeholder shape`); the
        fetched values computed from them come back stacked the same way.
        Ops run vectorized through their batching rules (see engine.batching).
        """
        mapper = _FetchMapper(self.graph, fetches)
        return mapper.rebuild(self._run(tuple(mapper.items), feed_dict, batched=True))

    def _run(self, items: tuple, feed_dict: Optional[dict], batched: bool = False) -> list:
        if self._closed:
            raise FailedPreconditionError("Attempted to use a closed Session")
        if feed_dict:
            feeds = self._feed_tensors(tuple(feed_dict))
            values = [_check_feed(t, v, batched) for t, v in zip(feeds, feed_dict.values())]
        else:
            feeds, values = (), ()
        plan = self._plans.get((items, feeds, batched))
        if plan is None:
            plan = self._plans[items, feeds, batched] = compile_plan(self.graph, items, feeds, self.variables,
                                                                     batched, self._kernel_state)
        out = plan(values)
        return out if batched else [_fetched(v) for v in out]

    def _feed_tensors(self, keys: tuple) -> tuple:
        """The tensors the feed_dict keys name, in key order (cached per key tuple)."""
        found = self._feed_keys.get(keys)
        if found is None:
            found = tuple(self._feed_key(k) for k in keys)
            twice = [t.name for t in found if found.count(t) > 1]
            if twice:
                raise FeedError(f"Tensor '{twice[0]}' is fed more than once in feed_dict "
                                f"(keys {[k for k, t in zip(keys, found) if t.name == twice[0]]!r})")
            self._feed_keys[keys] = found
        return found

    def _feed_key(self, key: Any) -> Tensor:
        if isinstance(key, str) and ":" not in key:
            key += ":0"
        try:
            element = self.graph.as_graph_element(key)
        except (GraphError, TypeError) as e:
            raise FeedError(f"cannot interpret feed_dict key {key!r} as a Tensor: {e}") from None
        if not isinstance(element, Tensor):
            raise FeedError(f"feed_dict keys must be Tensors, found operation '{element.name}'")
        return element

    def reset_kernel_state(self, stream: Sequence[int] = ()) -> None:
        """Restart every stateful kernel's private state: random ops draw again from their seeds,
        on the random stream keyed by `stream` (see engine.random_seed; () is the session's own).

        An executor calls it at the start of each task with the task's partition,
        so a task's numbers depend on its seeds and partition only: not on which
        tasks its (reused) worker ran before, nor on retries.

        >>> x = tf.random_uniform([2], seed=1)
        >>> sess = Session()
        >>> own = sess.run(x)
        >>> sess.reset_kernel_state((3,))
        >>> other = sess.run(x)
        >>> sess.reset_kernel_state()
        >>> bool((sess.run(x) == own).all()), bool((other == own).any())
        (True, False)
        """
        self._kernel_state.clear()
        self._kernel_state.stream = tuple(int(i) for i in stream)

    # -- variables --------------------------------------------------------------
    def export_variables(self) -> dict[str, np.ndarray]:
        """Current variable values by variable op name (copies)."""
        return {k: v.copy() for k, v in self.variables.items()}

    def load_variables(self, values: dict) -> None:
        """Set variable values by name, checked against the variables' dtype and shape."""
        for name, value in values.items():
            op = self.graph.get_operation_by_name(name)
            if op.type != VARIABLE:
                raise GraphError(f"'{name}' is a {op.type}, not a variable")
            self.variables[name] = np.array(_check_feed(op.outputs[0], value), copy=True)  # the session owns it

    # -- context ----------------------------------------------------------------
    def close(self) -> None:
        self._closed = True
        self._plans.clear()
        self._feed_keys.clear()

    def __enter__(self) -> "Session":
        session_stack().append(self)
        self._graph_ctx = self.graph.as_default()
        self._graph_ctx.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._graph_ctx.__exit__(*exc)
        session_stack().pop()
        self.close()

    @contextlib.contextmanager
    def as_default(self) -> Iterator["Session"]:
        session_stack().append(self)
        try:
            with self.graph.as_default():
                yield self
        finally:
            session_stack().pop()


class InteractiveSession(Session):
    """A Session that makes itself (and its graph) the default until closed, for shells and notebooks.

    `t.eval()` and `op.run()` then need no `with` block:

    >>> sess = tf.InteractiveSession()
    >>> float(tf.constant(2.0).eval())
    2.0
    >>> sess.close()
    """

    def __init__(self, target: Any = "", graph: Optional[Graph] = None, config: Any = None) -> None:
        super().__init__(target, graph, config)
        session_stack().append(self)
        graph_stack().append(self.graph)
        self._installed = True

    def close(self) -> None:
        if self._installed:  # remove the entries it pushed, even if defaults opened later are still open
            self._installed = False
            _remove_last(session_stack(), self)
            _remove_last(graph_stack(), self.graph)
        super().close()


def _fetched(value: Any) -> Any:
    """A fetched value as TF 1.x returns it: a scalar string is `bytes`, everything else as computed."""
    if type(value) is np.ndarray and value.dtype.kind == "O" and not value.shape:
        return value[()]
    return value


def _remove_last(stack: list, item: Any) -> None:
    for i in range(len(stack) - 1, -1, -1):
        if stack[i] is item:
            del stack[i]
            return


def _check_feed(t: Tensor, value: Any, batched: bool = False) -> np.ndarray:
    """The fed value as an array of the tensor's dtype, or a TensorFlow-style FeedError.

    An array of the right dtype passes as is; other numbers convert as
    `np.asarray(value, dtype)` does in TensorFlow (float64 data feeds a
    float32 placeholder, 1.7 feeds an int32 one as 1), except that a value
    out of an integer dtype's range (2**40 for int32) or a non-0/1 value
    for a bool is refused, and None never feeds.
    """
    if type(value) is not np.ndarray or (value.dtype is not t.dtype.np and value.dtype != t.dtype.np) \
            or t.dtype.is_string:  # an object array may hold anything: check its elements
        value = _convert_feed(t, value)
    dims = t._dims
    if dims is not None and (len(value.shape) != len(dims) + batched or not is_compatible(dims, value.shape[batched:])):
        what, dims = ("a batch of rows", (None,) + dims) if batched else ("value", dims)
        raise FeedError(f"Cannot feed {what} of shape {format_dims(value.shape)} for Tensor '{t.name}', "
                        f"which has shape {format_dims(dims)}")
    return value


def _convert_feed(t: Tensor, value: Any) -> np.ndarray:
    want = t.dtype
    if want.is_string:
        return _convert_string_feed(t, value)
    try:
        array = np.asarray(value)
    except ValueError as e:  # ragged nested lists
        raise FeedError(f"Cannot feed value {value!r} for Tensor '{t.name}' of dtype {want.name}: {e}") from None
    if array.dtype.kind not in "biuf":
        raise FeedError(f"Cannot feed value {value!r} for Tensor '{t.name}' of dtype {want.name}: "
                        f"expected numbers or booleans, found numpy dtype {array.dtype}")
    if want.is_bool and isinstance(value, (np.ndarray, np.generic)) and array.dtype.kind != "b":
        raise FeedError(f"Cannot feed value of dtype {array.dtype} for Tensor '{t.name}', which has dtype bool")
    if want.is_integer and not _fits(array, want.np):
        raise FeedError(f"Cannot feed value {value!r} for Tensor '{t.name}' of dtype {want.name} "
                        "without changing it: out of its range; convert it explicitly")
    with np.errstate(invalid="ignore"):
        converted = array.astype(want.np)  # floats to ints truncate toward zero, as np.asarray(value, dtype) in TF
    exact = np.finfo(want.np).nmant + 1 if want.is_floating else None  # floats hold integers up to 2**exact
    if exact and array.dtype.kind in "iu" and array.size and np.abs(array).max() > 2 ** exact:
        raise FeedError(f"Cannot feed integers above 2**{exact} to Tensor '{t.name}' of dtype {want.name}: "
                        "they would round; convert them explicitly if that is meant")
    if want.is_bool and not np.array_equal(converted, array):
        raise FeedError(f"Cannot feed value {value!r} for Tensor '{t.name}' of dtype {want.name} "
                        "without changing it; convert it explicitly")
    return converted


def _convert_string_feed(t: Tensor, value: Any) -> np.ndarray:
    """str/bytes (or arrays of them) as the object array of bytes a string tensor holds."""
    try:
        return dtypes.as_bytes_array(value)
    except DTypeError as e:
        raise FeedError(f"Cannot feed value {value!r} for Tensor '{t.name}' of dtype string: {e}") from None


def _fits(array: np.ndarray, dtype: np.dtype) -> bool:
    """Whether every value (truncated toward zero) lies in the integer dtype's range."""
    if array.dtype.kind == "b" or array.size == 0:
        return True
    info = np.iinfo(dtype)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        return False
    return bool(array.min() >= info.min - (array.dtype.kind == "f") * 0.999 and
                array.max() < info.max + 1)
