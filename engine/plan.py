"""Execution plans: a fetch/feed signature compiled into a list of kernel calls.

`compile_plan` prunes the graph to what the fetches need, cuts it at the
feeds, orders the ops, binds each kernel with its attrs (or its batching
rule), assigns every tensor a slot and frees slots after their last use. A
`Plan` then runs with no graph walking: per step, one argument fetch, one
kernel call, one store.
"""
from __future__ import annotations

import functools
import operator
from typing import Callable, NamedTuple, Optional, Sequence

import numpy as np

from .batching import bind_batched
from .errors import EngineError, FetchError, GraphError, InvalidArgumentError
from .graph import Graph, Operation, Tensor
from .registry import KernelContext, TensorSpec
from .shapes import format_dims


# A kernel whose input buffer is dead after it may write its result there, as
# numpy's own temporary elision does for `a * b + c`, from this size on.
_REUSE_BYTES = 1 << 18


class Step(NamedTuple):
    kernel: Callable
    inputs: tuple  # slot indices
    outputs: tuple  # slot indices, consecutive; one for single-output ops
    free: tuple  # slots whose last use is this step


def _getter(slots: tuple) -> Callable:
    """slots list -> the kernel's argument sequence, in one C call."""
    if len(slots) == 1:
        return operator.itemgetter(slice(slots[0], slots[0] + 1))
    return operator.itemgetter(*slots) if slots else (lambda values: ())


class Plan:
    """A compiled fetch/feed signature: run it with the fed values in order.

    `fetch_slots` is aligned with the fetch list: the slot of each fetched
    tensor, or None for a fetched operation.
    """

    def __init__(self, steps: list[Step], num_slots: int, num_feeds: int, fetch_slots: tuple) -> None:
        self.steps = steps
        self.num_slots = num_slots
        self.num_feeds = num_feeds
        self.fetch_slots = fetch_slots
        self._loop = [(s.kernel, _getter(s.inputs), s.outputs[0] if len(s.outputs) == 1 else None,
                       slice(s.outputs[0], s.outputs[-1] + 1) if s.outputs else slice(0, 0), s.free)
                      for s in steps]

    def __call__(self, feed_values: Sequence[np.ndarray]) -> list:
        slots: list = [None] * self.num_slots
        slots[:self.num_feeds] = feed_values
        for kernel, args, out, outs, free in self._loop:
            if out is not None:
                slots[out] = kernel(*args(slots))
            else:
                slots[outs] = kernel(*args(slots))
            for slot in free:
                slots[slot] = None
        return [None if i is None else slots[i] for i in self.fetch_slots]


def _needed_ops(targets: Sequence[Operation], fed: set,
                skip: Callable[[Tensor], bool] = lambda t: False) -> list[Operation]:
    """Ops the targets depend on, cut at fed tensors, in topological order.

    `skip(t)` tells whether a shape-only input `t` can do without its value.
    """
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
            deps = [t.op for t in _value_inputs(op, skip) if t not in fed] + list(op.control_inputs)
            stack.extend((d, False) for d in reversed(deps) if state.get(d) != 2)
    return order


def _data_inputs(op: Operation) -> tuple:
    """The inputs whose values the kernel reads (a ref input is written, not read)."""
    return op.inputs[1:] if op.op_def.ref_input else op.inputs


def _value_inputs(op: Operation, skip: Callable[[Tensor], bool]) -> list:
    """The data inputs whose values must be computed (shape-only ones may be skipped)."""
    shape_only = op.op_def.shape_inputs
    return [t for i, t in enumerate(op.inputs) if not (i in shape_only and skip(t))
            and not (i == 0 and op.op_def.ref_input)]


def compile_plan(graph: Graph, fetches: Sequence[Tensor | Operation], feeds: Sequence[Tensor],
                 variables: dict, batched: bool = False, state: Optional[dict] = None) -> Plan:
    """Prune, order and bind the kernels needed to compute `fetches` from `feeds`.

    A fetched tensor that is also fed is returned as fed, without running
    its op. With `batched`, the fed values carry an extra leading batch
    dimension and every op downstream of them runs through its batching rule.
    `state` is the session's per-op kernel state (see KernelContext).
    """
    state = {} if state is None else state
    fed = set(feeds)
    targets = [f.op if isinstance(f, Tensor) else f for f in fetches if f not in fed]
    shapes = _ShapeSources(feeds) if not batched else None
    ops = _needed_ops(targets, fed, shapes.derivable if shapes else (lambda t: False))
    if shapes:  # a shape-only input whose value is computed anyway is read after its op
        computed = set(ops)
        ops = _needed_ops(targets, fed, lambda t: t.op not in computed and shapes.derivable(t))
    slot_of: dict[Tensor, int] = {t: i for i, t in enumerate(feeds)}
    scratch: dict[Tensor, int] = {}  # outputs of ops that run although their tensor is fed
    ops = [op for op in ops if op.type != "Placeholder" or op.outputs[0] not in fed]  # a fetched, fed one
    for op in ops:
        if op.type == "Placeholder":
            t = op.outputs[0]
            raise FetchError(f"You must feed a value for placeholder tensor '{op.name}' with dtype "
                             f"{t.dtype.name} and shape {format_dims(t._dims)}")
        for t in op.outputs:
            table = scratch if t in fed else slot_of
            table[t] = len(slot_of) + len(scratch)
    stand_ins = _stand_in_steps(ops, fed, shapes, slot_of, len(scratch)) if shapes else []
    fetch_slots = tuple(slot_of[f] if isinstance(f, Tensor) else None for f in fetches)
    last_use: dict[int, int] = {}
    for index, op in enumerate(ops):
        for t in _data_inputs(op):
            last_use[slot_of[t]] = index
    keep = {s for s in fetch_slots if s is not None} | set(range(len(feeds)))
    carries_batch = set(feeds) if batched else set()
    reusable = _reusable_slots(ops, slot_of, keep) if not batched else set()
    steps = list(stand_ins)
    for index, op in enumerate(ops):
        ins = tuple(slot_of[t] for t in _data_inputs(op))
        outs = tuple(scratch[t] if t in scratch else slot_of[t] for t in op.outputs)
        free = tuple(s for s in dict.fromkeys(ins) if last_use[s] == index and s not in keep)
        flags = [t in carries_batch for t in _data_inputs(op)]
        if any(flags):
            carries_batch.update(op.outputs)
            kernel = _check_outputs(op, bind_batched(op, flags))
        else:
            dead = [ins.index(s) for s in free if s in reusable]
            kernel = _reusing(op.op_def.kernel, dead[0]) if dead else _bind_kernel(op, variables, state)
        steps.append(Step(kernel, ins, outs, free + tuple(s for s in outs if s not in last_use and s not in keep)))
    return Plan(steps, len(slot_of) + len(scratch), len(feeds), fetch_slots)


# -- shape-only inputs --------------------------------------------------------------------
_PROBE = 7919  # stands for an unknown fed dim while checking that a shape can be derived


class _ShapeSources:
    """Run-time shapes of tensors derived from the fed values alone.

    A gradient op like `broadcast_like(g, x)` needs only x's shape. When that
    shape follows from the feeds (through the shape rules of x's producers),
    the plan passes a zero-stride stand-in and skips computing x's value,
    e.g. the loss value in a training step that only applies gradients.
    """

    def __init__(self, feeds: Sequence[Tensor]) -> None:
        self.index = {t: i for i, t in enumerate(feeds)}
        self.memo: dict[Tensor, Optional[Callable]] = {}
        self.probe = None if any(t._dims is None for t in feeds) else [
            np.broadcast_to(np.zeros((), t.dtype.np), [_PROBE if d is None else d for d in t._dims]) for t in feeds]

    def derivable(self, t: Tensor) -> bool:
        return self.source(t) is not None

    def source(self, t: Tensor) -> Optional[Callable]:
        """feeds -> t's shape, or None when it needs more than the feeds and static shapes."""
        if t not in self.memo:
            self.memo[t] = None  # a cycle finds None
            fn = self._build(t)
            self.memo[t] = fn if fn is not None and self._checked(fn) else None
        return self.memo[t]

    def _build(self, t: Tensor) -> Optional[Callable]:
        if t in self.index:
            return functools.partial(_fed_shape, self.index[t])
        if t._dims is not None and None not in t._dims:
            return functools.partial(_static_shape, t._dims)
        op = t.op
        if op.op_def.stateful or op.op_def.ref_input or op.type == "Placeholder" or self.probe is None:
            return None
        sources = [self.source(u) for u in op.inputs]
        if any(src is None for src in sources):
            return None
        return functools.partial(_derived_shape, op.op_def.infer, op.attrs, [u.dtype for u in op.inputs],
                                 sources, t.value_index)

    def _checked(self, fn: Callable) -> bool:
        """True when the shape rules give a fully known shape for probe feeds."""
        try:
            shape = fn(self.probe)
        except EngineError:
            return False  # not derivable this way: the plan computes the value instead
        return shape is not None and None not in shape


def _fed_shape(index: int, feeds: Sequence[np.ndarray]) -> tuple:
    return feeds[index].shape


def _static_shape(dims: tuple, feeds: Sequence[np.ndarray]) -> tuple:
    return dims


def _derived_shape(infer: Callable, attrs: dict, dtypes: list, sources: list, index: int,
                   feeds: Sequence[np.ndarray]) -> Optional[tuple]:
    out = infer([TensorSpec(d, src(feeds)) for d, src in zip(dtypes, sources)], **attrs)
    return (out if isinstance(out, list) else [out])[index].shape


def _stand_in_steps(ops: list[Operation], fed: set, shapes: _ShapeSources, slot_of: dict,
                    extra: int) -> list[Step]:
    """Steps making zero-stride stand-ins for shape-only inputs whose value is not computed."""
    needed, steps = set(ops), []
    feed_slots = tuple(range(len(shapes.index)))
    for op in ops:
        for i in op.op_def.shape_inputs:
            t = op.inputs[i]
            if t in fed or t in slot_of or t.op in needed:
                continue
            slot_of[t] = len(slot_of) + extra
            kernel = functools.partial(_stand_in, shapes.source(t), t.dtype.np)
            steps.append(Step(kernel, feed_slots, (slot_of[t],), ()))
    return steps


def _stand_in(shape_of: Callable, dtype: np.dtype, *feeds: np.ndarray) -> np.ndarray:
    """A read-only array of the right shape and dtype that holds no data."""
    return np.broadcast_to(np.zeros((), dtype), shape_of(feeds))


def _is_ufunc_step(op: Operation) -> bool:
    """A numpy ufunc kernel, whose output is always a new array of its inputs' shape."""
    return isinstance(op.op_def.kernel, np.ufunc) and not op.attrs and len(op.outputs) == 1


def _reusable_slots(ops: list[Operation], slot_of: dict, keep: set) -> set:
    """Slots a ufunc step may overwrite on their last use.

    Only an output of a ufunc step qualifies (a fresh array nobody else
    holds: not fed, fetched, a constant or a variable), only if every reader
    is a ufunc step of the same output dtype (readers that could keep a
    view or an alias are excluded).
    """
    readers: dict[Tensor, list[Operation]] = {}
    for op in ops:
        for t in _data_inputs(op):
            readers.setdefault(t, []).append(op)
    return {slot_of[t] for op in ops if _is_ufunc_step(op) for t in op.outputs
            if slot_of.get(t) not in keep and t in readers
            and all(_is_ufunc_step(r) and r.outputs[0].dtype is t.dtype for r in readers[t])}


def _reusing(ufunc: np.ufunc, position: int) -> Callable:
    """The ufunc, writing into its `position`-th argument when that is large and fits the result."""
    def run(*args):
        buffer = args[position]
        if buffer.nbytes >= _REUSE_BYTES and np.broadcast_shapes(*[np.shape(a) for a in args]) == buffer.shape:
            return ufunc(*args, out=buffer)
        return ufunc(*args)
    return run


def _bind_kernel(op: Operation, variables: dict, state: dict) -> Callable:
    kernel = op.op_def.kernel
    if op.op_def.stateful:
        ref = op.inputs[0].op.name if op.op_def.ref_input else None
        kernel = functools.partial(kernel, KernelContext(op.name, variables, ref, state))
    if op.attrs:
        kernel = functools.partial(kernel, **op.attrs)
    if not op.outputs:
        return _discard(kernel)
    return _check_outputs(op, kernel)


def _discard(kernel: Callable) -> Callable:
    def run(*args):
        kernel(*args)
        return ()
    return run


def _check_outputs(op: Operation, kernel: Callable) -> Callable:
    """For multi-output ops: refuse a kernel result of the wrong length."""
    if len(op.outputs) < 2:
        return kernel
    expected = len(op.outputs)

    def run(*args):
        result = kernel(*args)
        if not isinstance(result, (tuple, list)) or len(result) != expected:
            raise InvalidArgumentError(f"{op.type} '{op.name}': the kernel must return {expected} arrays, "
                                       f"returned {type(result).__name__}")
        return result
    return run
