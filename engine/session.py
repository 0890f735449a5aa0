"""Session: runs a graph with cached execution plans.

`run(fetches, feed_dict)` compiles the fetch/feed signature once into a
`Plan` (the subgraph pruned to what the fetches need, cut at the feeds,
topologically ordered, kernels resolved with their attrs bound, slots freed
after their last use) and caches it, so a repeated run does no graph walking.
"""
from __future__ import annotations

import contextlib
import functools
import threading
from typing import Any, Callable, Iterator, NamedTuple, Optional, Sequence

import numpy as np

from .batching import bind_batched
from .errors import FailedPreconditionError, FeedError, FetchError, GraphError
from .graph import Graph, Operation, Tensor, get_default_graph
from .registry import KernelContext
from .shapes import format_dims, is_compatible


class Step(NamedTuple):
    kernel: Callable
    inputs: tuple  # slot indices
    outputs: tuple  # slot indices; one for single-output ops
    free: tuple  # slots whose last use is this step


class Plan:
    """A compiled fetch/feed signature: run it with the fed values in order."""

    def __init__(self, steps: list[Step], num_slots: int, feed_slots: tuple, fetch_slots: tuple) -> None:
        self.steps = steps
        self.num_slots = num_slots
        self.feed_slots = feed_slots
        self.fetch_slots = fetch_slots

    def __call__(self, feed_values: Sequence[np.ndarray]) -> list:
        slots: list = [None] * self.num_slots
        for slot, value in zip(self.feed_slots, feed_values):
            slots[slot] = value
        for kernel, ins, outs, free in self.steps:
            result = kernel(*[slots[i] for i in ins])
            if len(outs) == 1:
                slots[outs[0]] = result
            else:
                for slot, value in zip(outs, result):
                    slots[slot] = value
            for slot in free:
                slots[slot] = None
        return [slots[i] for i in self.fetch_slots]


def _needed_ops(targets: Sequence[Operation], fed: set) -> list[Operation]:
    """Ops the targets depend on, cut at fed tensors, in topological order."""
    order: list[Operation] = []
    state: dict[Operation, int] = {}  # 1 = on the stack, 2 = done
    for root in targets:
        stack = [(root, False)]
        while stack:
            op, expanded = stack.pop()
            if expanded:
                state[op] = 2
                order.append(op)
                continue
            if state.get(op) == 2:
                continue
            if state.get(op) == 1:
                raise GraphError(f"the graph has a cycle through operation '{op.name}'")
            state[op] = 1
            stack.append((op, True))
            deps = [t.op for t in _data_inputs(op) if t not in fed] + list(op.control_inputs)
            stack.extend((d, False) for d in reversed(deps) if state.get(d) != 2)
    return order


def _data_inputs(op: Operation) -> tuple:
    """The inputs whose values the kernel reads (a ref input is written, not read)."""
    return op.inputs[1:] if op.op_def.ref_input else op.inputs


def compile_plan(graph: Graph, fetches: Sequence[Tensor | Operation], feeds: Sequence[Tensor],
                 variables: dict, batched: bool = False) -> Plan:
    """Prune, order and bind the kernels needed to compute `fetches` from `feeds`.

    With `batched`, the fed values carry an extra leading batch dimension
    and every op downstream of them runs through its batching rule.
    """
    fed = set(feeds)
    targets = [f.op if isinstance(f, Tensor) else f for f in fetches]
    ops = _needed_ops(targets, fed)
    slot_of: dict[Tensor, int] = {t: i for i, t in enumerate(feeds)}
    scratch: dict[Tensor, int] = {}  # outputs of ops that run although their tensor is fed
    for op in ops:
        if op.type == "Placeholder" and any(t not in fed for t in op.outputs):
            t = op.outputs[0]
            raise FetchError(f"You must feed a value for placeholder tensor '{op.name}' with dtype "
                             f"{t.dtype.name} and shape {format_dims(t._dims)}")
        for t in op.outputs:
            table = scratch if t in fed else slot_of
            table[t] = len(slot_of) + len(scratch)
    fetch_slots = tuple(slot_of[f] for f in fetches if isinstance(f, Tensor))
    last_use: dict[int, int] = {}
    for index, op in enumerate(ops):
        for t in _data_inputs(op):
            last_use[slot_of[t]] = index
    keep = set(fetch_slots) | set(range(len(feeds)))
    carries_batch = set(feeds) if batched else set()
    steps = []
    for index, op in enumerate(ops):
        ins = tuple(slot_of[t] for t in _data_inputs(op))
        outs = tuple(scratch[t] if t in scratch else slot_of[t] for t in op.outputs)
        free = tuple(s for s in dict.fromkeys(ins) if last_use[s] == index and s not in keep)
        free += tuple(s for s in outs if s not in last_use and s not in keep)
        flags = [t in carries_batch for t in _data_inputs(op)]
        if any(flags):
            carries_batch.update(op.outputs)
            kernel = bind_batched(op, flags)
        else:
            kernel = _bind_kernel(op, variables)
        steps.append(Step(kernel, ins, outs, free))
    return Plan(steps, len(slot_of) + len(scratch), tuple(range(len(feeds))), fetch_slots)


def _bind_kernel(op: Operation, variables: dict) -> Callable:
    kernel = op.op_def.kernel
    if op.op_def.stateful:
        ref = op.inputs[0].op.name if op.op_def.ref_input else None
        kernel = functools.partial(kernel, KernelContext(op.name, variables, ref))
    if op.attrs:
        kernel = functools.partial(kernel, **op.attrs)
    if not op.outputs:
        return _discard(kernel)
    return kernel


def _discard(kernel: Callable) -> Callable:
    def run(*args):
        kernel(*args)
        return ()
    return run


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

    >>> with Session() as sess:  # doctest: +SKIP
    ...     sess.run(global_variables_initializer())
    ...     sess.run(loss, {x: data})
    """

    def __init__(self, graph: Optional[Graph] = None) -> None:
        self.graph = graph or get_default_graph()
        self.variables: dict[str, np.ndarray] = {}
        self._plans: dict = {}
        self._closed = False

    def run(self, fetches: Any, feed_dict: Optional[dict] = None) -> Any:
        """Values of `fetches` (tensor, op, name, or a nested list/tuple/dict)."""
        if self._closed:
            raise FailedPreconditionError("Attempted to use a closed Session")
        if isinstance(fetches, Tensor) and fetches.graph is self.graph:
            return self._run([fetches], feed_dict)[0]
        mapper = _FetchMapper(self.graph, fetches)
        return mapper.rebuild(self._run(mapper.items, feed_dict))

    def run_batched(self, fetches: Any, feed_dict: dict) -> Any:
        """Run a graph written for one row over fed values with a leading batch axis.

        Every fed value is a stack of rows (`(n,) + placeholder shape`); the
        fetched values computed from them come back stacked the same way.
        Ops run vectorized through their batching rules (see engine.batching).
        """
        mapper = _FetchMapper(self.graph, fetches)
        return mapper.rebuild(self._run(mapper.items, feed_dict, batched=True))

    def _run(self, items: list, feed_dict: Optional[dict], batched: bool = False) -> list:
        feeds, values = self._feeds(feed_dict, batched) if feed_dict else ((), ())
        key = (tuple(items), feeds, batched)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = compile_plan(self.graph, items, feeds, self.variables, batched)
        results = iter(plan(values))
        return [next(results) if isinstance(item, Tensor) else None for item in items]

    def _feeds(self, feed_dict: dict, batched: bool = False) -> tuple[tuple, list]:
        pairs = sorted(((self._feed_key(k), v) for k, v in feed_dict.items()), key=lambda kv: kv[0].name)
        return tuple(t for t, _ in pairs), [_check_feed(t, v, batched) for t, v in pairs]

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

    # -- variables --------------------------------------------------------------
    def export_variables(self) -> dict[str, np.ndarray]:
        """Current variable values by variable op name (copies)."""
        return {k: v.copy() for k, v in self.variables.items()}

    def load_variables(self, values: dict) -> None:
        """Set variable values by name, checked against the variables' dtype and shape."""
        for name, value in values.items():
            op = self.graph.get_operation_by_name(name)
            if op.type != "VariableV2":
                raise GraphError(f"'{name}' is a {op.type}, not a variable")
            self.variables[name] = _check_feed(op.outputs[0], value)

    # -- context ----------------------------------------------------------------
    def close(self) -> None:
        self._closed = True
        self._plans.clear()

    def __enter__(self) -> "Session":
        _session_stack().append(self)
        self._graph_ctx = self.graph.as_default()
        self._graph_ctx.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._graph_ctx.__exit__(*exc)
        _session_stack().pop()
        self.close()

    @contextlib.contextmanager
    def as_default(self) -> Iterator["Session"]:
        _session_stack().append(self)
        try:
            with self.graph.as_default():
                yield self
        finally:
            _session_stack().pop()


def _check_feed(t: Tensor, value: Any, batched: bool = False) -> np.ndarray:
    """The fed value as an array of the tensor's dtype, or a TensorFlow-style FeedError."""
    want = t.dtype.np
    if isinstance(value, np.ndarray):
        if value.dtype != want:
            if not np.can_cast(value.dtype, want, casting="same_kind"):
                raise FeedError(f"Cannot feed value of dtype {value.dtype} for Tensor '{t.name}', "
                                f"which has dtype {t.dtype.name}")
            value = value.astype(want)
    else:
        try:
            converted = np.asarray(value, dtype=want)
        except (TypeError, ValueError) as e:
            raise FeedError(f"Cannot feed value {value!r} for Tensor '{t.name}' of dtype {t.dtype.name}: {e}") from None
        if not t.dtype.is_floating and not np.array_equal(converted, np.asarray(value)):
            raise FeedError(f"Cannot feed value {value!r} for Tensor '{t.name}' of dtype {t.dtype.name} "
                            "without changing it; convert it explicitly")
        value = converted
    dims = (None,) + t._dims if batched and t._dims is not None else t._dims
    if not is_compatible(dims, value.shape):
        rows = "a batch of rows " if batched else ""
        raise FeedError(f"Cannot feed {rows}value of shape {format_dims(value.shape)} for Tensor '{t.name}', "
                        f"which has shape {format_dims(dims)}")
    return value


_sessions = threading.local()


def _session_stack() -> list:
    if not hasattr(_sessions, "stack"):
        _sessions.stack = []
    return _sessions.stack


def default_session() -> Session:
    """The innermost `with Session():` session; error if there is none."""
    stack = _session_stack()
    if not stack:
        raise FailedPreconditionError("no default session: use `with Session() as sess:` or pass session=")
    return stack[-1]
