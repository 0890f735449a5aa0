"""`tf.cond`, `tf.case` and `tf.while_loop` for TF 1.x programs, without control-flow ops.

The engine's plans run every op they need, so these are built from ordinary
ops:

- `cond(pred, true_fn, false_fn)` builds both branches and selects one
  result per output with `where(pred, ...)`: values and gradients are those
  of the chosen branch (the other branch's values are computed and
  discarded, so a branch must not change state: one with an assignment is
  refused; random ops, as in `cond(training, dropout, identity)`, are fine). A Python bool `pred` just calls the chosen branch.
- `case` is nested `cond`s: the first true predicate wins.
- `while_loop(cond, body, loop_vars)` is unrolled when the graph is built:
  while `cond` depends only on constants it is evaluated there and the loop
  runs as often as it says; otherwise `maximum_iterations` bounds the trip
  count and each step keeps the body's values only while `cond` holds (the
  loop of TF 1.x's docs, `while i < 10`, and a bounded loop on fed values
  both work). A loop with neither is refused with that advice.

>>> r = tf.while_loop(lambda i: tf.less(i, 10), lambda i: tf.add(i, 1), [tf.constant(0)])
>>> int(tf.Session().run(r))
10
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

from .errors import GraphError, InvalidArgumentError
from .graph import Operation, Tensor, get_default_graph
from .ops.toolkit import convert_to_tensor, is_tensor_like
from .ops.compare import logical_and, where
from .ops.core import identity

MAX_UNROLL = 10_000  # a statically known loop longer than this is refused (it would bloat the graph)


def _flatten(value: Any) -> list:
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _flatten(item)]
    if isinstance(value, dict):
        return [leaf for key in sorted(value) for leaf in _flatten(value[key])]
    return [value]


def _pack(template: Any, leaves: list) -> Any:
    """`leaves` arranged as `template` (nested lists, tuples, dicts)."""
    it = iter(leaves)

    def build(t: Any) -> Any:
        if isinstance(t, (list, tuple)):
            return type(t)(build(item) for item in t)
        if isinstance(t, dict):
            return {key: build(t[key]) for key in sorted(t)}
        return next(it)
    return build(template)


def _ops_behind(tensors: Sequence[Tensor], stop: set) -> list[Operation]:
    """The ops the tensors depend on, not looking past the tensors in `stop`."""
    seen: set[Operation] = set()
    stack = [t.op for t in tensors if t not in stop]
    while stack:
        op = stack.pop()
        if op not in seen:
            seen.add(op)
            stack.extend(i.op for i in op.inputs if i not in stop)
            stack.extend(op.control_inputs)
    return list(seen)


def _refuse_state(tensors: Sequence[Tensor], before: int, what: str) -> None:
    """Refuse assignments built for a branch or a loop body: they would run whichever way it goes.

    (Random ops are allowed: drawing numbers that are then discarded changes no result.)
    """
    graph = tensors[0].graph if tensors else get_default_graph()
    new = graph.get_operations()[before:]
    stateful = [op for op in new if op.op_def.ref_input]
    if stateful:
        raise GraphError(f"{what}: the ops built for it all run, so it must not change state; found "
                         f"{', '.join(f'{op.type} {op.name!r}' for op in stateful)} (move them out, or use "
                         "control_dependencies outside the branch)")


def cond(pred: Any, true_fn: Optional[Callable] = None, false_fn: Optional[Callable] = None,
         strict: bool = False, name: Optional[str] = None, fn1: Optional[Callable] = None,
         fn2: Optional[Callable] = None) -> Any:
    """true_fn() if pred else false_fn(), for a scalar bool `pred` known when the graph runs."""
    true_fn, false_fn = true_fn or fn1, false_fn or fn2
    if not callable(true_fn) or not callable(false_fn):
        raise TypeError("cond needs true_fn and false_fn, callables that build the two branches")
    if isinstance(pred, bool):
        return true_fn() if pred else false_fn()
    pred = convert_to_tensor(pred)
    if not pred.dtype.is_bool or pred._dims not in (None, ()):
        raise GraphError(f"cond: pred must be a scalar bool, found '{pred.name}' of dtype {pred.dtype.name} and "
                         f"shape {pred.shape}")
    graph = pred.graph
    with graph.as_default(), graph.name_scope(name or "cond"):
        before = len(graph.get_operations())
        on_true, on_false = true_fn(), false_fn()
        a, b = _flatten(on_true), _flatten(on_false)
        if len(a) != len(b) or _pack(on_true, list(range(len(a)))) != _pack(on_false, list(range(len(b)))):
            raise GraphError(f"cond: the branches must return the same structure, found {on_true!r} and "
                             f"{on_false!r}")
        a, b = [convert_to_tensor(x) for x in a], [convert_to_tensor(x) for x in b]
        _refuse_state(a + b, before, "a cond branch")
        merged = [where(pred, x, y) for x, y in zip(a, b)]
    return _pack(on_true, merged)


def case(pred_fn_pairs: Any, default: Optional[Callable] = None, exclusive: bool = False,
         strict: bool = False, name: str = "case") -> Any:
    """The fn of the first true predicate (of a list of (pred, fn) pairs or a dict), else default()."""
    pairs = list(pred_fn_pairs.items()) if isinstance(pred_fn_pairs, dict) else list(pred_fn_pairs)
    if not pairs and default is None:
        raise ValueError("case needs at least one (pred, fn) pair or a default")
    if default is None:  # TF: the last fn is then the default
        pairs, default = pairs[:-1], pairs[-1][1]
    result = default
    for pred, fn in reversed(pairs):
        result = (lambda p, f, rest: lambda: cond(p, f, rest, name=name))(pred, fn, result)
    return result()


def _static_value(t: Tensor) -> Any:
    """t's value if it depends only on constants (computed now), else None."""
    ops = _ops_behind([t], set())
    if any(op.type in ("Placeholder", "PlaceholderWithDefault", "VariableV2") or op.op_def.stateful for op in ops):
        return None
    from .session import Session
    return Session(t.graph).run(t)


def while_loop(cond: Callable, body: Callable, loop_vars: Any, shape_invariants: Any = None,
               parallel_iterations: int = 10, back_prop: bool = True, swap_memory: bool = False,
               name: Optional[str] = None, maximum_iterations: Optional[int] = None,
               return_same_structure: bool = False) -> Any:
    """Repeat `loop_vars = body(*loop_vars)` while `cond(*loop_vars)`; unrolled (see the module doc)."""
    if isinstance(maximum_iterations, Tensor):
        raise TypeError("while_loop: maximum_iterations must be a Python int known when the graph is built")
    state = list(loop_vars) if isinstance(loop_vars, (list, tuple)) else [loop_vars]
    leaves = [convert_to_tensor(x) for x in _flatten(state)]
    state = _pack(state, leaves)
    graph = leaves[0].graph
    with graph.as_default(), graph.name_scope(name or "while"):
        first = convert_to_tensor(cond(*state))
        if _static_value(first) is not None:
            state = _unroll_static(cond, body, state, first, maximum_iterations)
        elif maximum_iterations is not None:
            state = _unroll_masked(cond, body, state, first, int(maximum_iterations))
        else:
            raise InvalidArgumentError(
                "while_loop: the loop condition depends on values known only when the graph runs (a placeholder "
                "or a variable) and no maximum_iterations bounds it; the engine unrolls loops, so pass "
                "maximum_iterations=")
        out = [identity(t) for t in _flatten(state)]
    result = _pack(state, out)
    return out[0] if len(out) == 1 and not return_same_structure else result  # TF 1.x unpacks [x]


def _step(body: Callable, state: list) -> list:
    new = body(*state)
    new = list(new) if isinstance(new, (list, tuple)) else [new]
    if len(_flatten(new)) != len(_flatten(state)):
        raise GraphError(f"while_loop: the body must return as many values as loop_vars ({len(_flatten(state))}), "
                         f"returned {len(_flatten(new))}")
    old = _flatten(state)
    leaves = [convert_to_tensor(x, o.dtype) if not is_tensor_like(x) else convert_to_tensor(x)
              for x, o in zip(_flatten(new), old)]
    for x, o in zip(leaves, old):
        if x.dtype is not o.dtype:
            raise GraphError(f"while_loop: a loop variable changed dtype from {o.dtype.name} to {x.dtype.name}")
    return _pack(state, leaves)


def _unroll_static(cond: Callable, body: Callable, state: list, first: Tensor, limit: Optional[int]) -> list:
    go, steps = bool(_static_value(first)), 0
    while go and (limit is None or steps < limit):
        if steps >= MAX_UNROLL:
            raise InvalidArgumentError(f"while_loop: more than {MAX_UNROLL} iterations; the engine unrolls loops")
        state = _step(body, state)
        steps += 1
        value = _static_value(convert_to_tensor(cond(*state)))
        if value is None:
            raise InvalidArgumentError("while_loop: the loop condition stopped being computable from constants; "
                                       "pass maximum_iterations=")
        go = bool(value)
    return state


def _unroll_masked(cond: Callable, body: Callable, state: list, first: Tensor, steps: int) -> list:
    graph = first.graph
    active = first
    for _ in range(steps):
        before = len(graph.get_operations())
        new = _step(body, state)
        _refuse_state(_flatten(new), before, "a while_loop body with maximum_iterations")
        state = _pack(state, [where(active, n, o) for n, o in zip(_flatten(new), _flatten(state))])
        active = logical_and(active, convert_to_tensor(cond(*state)))
    return state
