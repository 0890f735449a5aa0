"""Execution plans: a fetch/feed signature compiled into a list of kernel calls.

`compile_plan` prunes the graph to what the fetches need, cuts it at the
feeds, orders the ops, binds each kernel with its attrs (or its batching
rule), assigns every tensor a slot and frees slots after their last use. A
`Plan` then runs with no graph walking: per step, one argument fetch, one
kernel call, one store.

Two optimizations live in modules of their own: shape-only inputs whose
value the plan need not compute (engine.shape_inputs) and ufunc steps that
write into a dead input buffer (engine.buffer_reuse).

Two checks cost nothing on the engine's own ops: an error raised by a
kernel is reported naming its op (one `try` around the whole loop, resolved
only when something failed), and the outputs of ops registered outside the
engine are checked against their infer rules at every run (a user kernel
is trusted with nothing; built-in kernels are held to their rules by
engine.testing.check_op).
"""
from __future__ import annotations

import functools
import operator
from typing import Callable, NamedTuple, Optional, Sequence

import numpy as np

from .batching import bind_batched, refuse_unbatched_draws
from .buffer_reuse import reusable_slots, reusing
from .errors import EngineError, FetchError, GraphError, InvalidArgumentError, KernelOutputError
from .graph import Graph, Operation, Tensor
from .op_types import PLACEHOLDER
from .registry import KernelContext, KernelState
from .shape_inputs import ShapeSources, stand_in
from .shapes import format_dims, is_compatible


class Step(NamedTuple):
    kernel: Callable
    inputs: tuple  # slot indices
    outputs: tuple  # slot indices, consecutive; one for single-output ops
    free: tuple  # slots whose last use is this step
    op: Optional[Operation] = None  # the op it runs; None for a shape-only stand-in


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
        try:
            for kernel, args, out, outs, free in self._loop:
                if out is not None:
                    slots[out] = kernel(*args(slots))
                else:
                    slots[outs] = kernel(*args(slots))
                for slot in free:
                    slots[slot] = None
        except Exception as e:  # `args` is the failed step's own argument getter: it tells the step
            reported = self._failed(args, slots, e)
            if reported is e:
                raise
            raise reported from e
        return [None if i is None else slots[i] for i in self.fetch_slots]

    def _failed(self, args: Callable, slots: list, error: Exception) -> Exception:
        """`error`, raised by a step's kernel, as it reaches the user: naming the op that raised it.

        An engine error keeps its class and gets the op's type and name in
        front unless it names the op already; any other exception (numpy's,
        a user kernel's) becomes an InvalidArgumentError naming the op and
        its inputs, as TF 1.x reports a failing node. A warning turned into
        an error by a filter, and MemoryError, pass unchanged.
        """
        index = next(i for i, entry in enumerate(self._loop) if entry[1] is args)
        op = self.steps[index].op
        if op is None or isinstance(error, (Warning, MemoryError)):
            return error
        where = f"{op.type} '{op.name}'"
        if isinstance(error, EngineError):
            if f"'{op.name}'" not in str(error) and error.args and isinstance(error.args[0], str):
                error.args = (f"{where}: {error.args[0]}",) + error.args[1:]
            return error
        inputs = ", ".join(_describe(value) for value in args(slots))
        return InvalidArgumentError(f"{where}: {type(error).__name__}: {error} (inputs: {inputs or 'none'})")


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


def _value_inputs(op: Operation, skip: Callable[[Tensor], bool]) -> list:
    """The data inputs whose values must be computed (shape-only ones may be skipped)."""
    shape_only = op.op_def.shape_inputs
    return [t for i, t in enumerate(op.inputs) if not (i in shape_only and skip(t))
            and not (i == 0 and op.op_def.ref_input)]


def compile_plan(graph: Graph, fetches: Sequence[Tensor | Operation], feeds: Sequence[Tensor],
                 variables: dict, batched: bool = False, state: Optional[KernelState] = None) -> Plan:
    """Prune, order and bind the kernels needed to compute `fetches` from `feeds`.

    A fetched tensor that is also fed is returned as fed, without running
    its op. With `batched`, the fed values carry an extra leading batch
    dimension and every op downstream of them runs through its batching rule.
    `state` is the session's per-op kernel state (see KernelContext).
    """
    state = KernelState() if state is None else state
    fed = set(feeds)
    targets = [f.op if isinstance(f, Tensor) else f for f in fetches if f not in fed]
    shapes = ShapeSources(feeds) if not batched else None
    ops = _needed_ops(targets, fed, shapes.derivable if shapes else (lambda t: False))
    if shapes:  # a shape-only input whose value is computed anyway is read after its op
        computed = set(ops)
        ops = _needed_ops(targets, fed, lambda t: t.op not in computed and shapes.derivable(t))
    slot_of: dict[Tensor, int] = {t: i for i, t in enumerate(feeds)}
    scratch: dict[Tensor, int] = {}  # outputs of ops that run although their tensor is fed
    ops = [op for op in ops if op.type != PLACEHOLDER or op.outputs[0] not in fed]  # a fetched, fed one
    for op in ops:
        if op.type == PLACEHOLDER:
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
        for t in op.data_inputs:
            last_use[slot_of[t]] = index
    keep = {s for s in fetch_slots if s is not None} | set(range(len(feeds)))
    carries_batch = set(feeds) if batched else set()
    reusable = reusable_slots(ops, slot_of, keep) if not batched else set()
    steps = list(stand_ins)
    for index, op in enumerate(ops):
        ins = tuple(slot_of[t] for t in op.data_inputs)
        outs = tuple(scratch[t] if t in scratch else slot_of[t] for t in op.outputs)
        free = tuple(s for s in dict.fromkeys(ins) if last_use[s] == index and s not in keep)
        flags = [t in carries_batch for t in op.data_inputs]
        if any(flags):
            carries_batch.update(op.outputs)
            kernel = _check_outputs(op, bind_batched(op, flags))
        else:
            if batched:
                refuse_unbatched_draws(op)
            dead = [ins.index(s) for s in free if s in reusable]
            kernel = reusing(op.op_def.kernel, dead[0]) if dead else _bind_kernel(op, variables, state)
        if not op.op_def.builtin and op.outputs:
            kernel = _check_specs(op, kernel, flags.index(True) if any(flags) else None)
        steps.append(Step(kernel, ins, outs, free + tuple(s for s in outs if s not in last_use and s not in keep),
                          op))
    return Plan(steps, len(slot_of) + len(scratch), len(feeds), fetch_slots)


def _stand_in_steps(ops: list[Operation], fed: set, shapes: ShapeSources, slot_of: dict,
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
            kernel = functools.partial(stand_in, shapes.source(t), t.dtype.np)
            steps.append(Step(kernel, feed_slots, (slot_of[t],), ()))
    return steps


def _bind_kernel(op: Operation, variables: dict, state: KernelState) -> Callable:
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


def _check_specs(op: Operation, kernel: Callable, batch_source: Optional[int]) -> Callable:
    """The kernel, refusing an output whose dtype or shape its op's infer rule contradicts.

    Unknown dims (and an unknown rank) of the inferred shape match anything.
    Under a batching rule (`batch_source`: the position of a batched input)
    every output carries that input's leading batch dimension first.
    """
    specs = [(t.dtype, t._dims) for t in op.outputs]
    single = len(specs) == 1

    def run(*args):
        result = kernel(*args)
        batch = None if batch_source is None else (np.shape(args[batch_source])[0],)
        for index, value in enumerate((result,) if single else result):
            _check_spec(op, index, value, specs[index], batch)
        return result
    return run


def _check_spec(op: Operation, index: int, value, spec: tuple, batch: Optional[tuple]) -> None:
    dtype, dims = spec
    if dims is not None and batch is not None:
        dims = batch + dims
    found = getattr(value, "dtype", None)
    shape = getattr(value, "shape", None)
    if found is not None and found == dtype.np and is_compatible(dims, shape):
        return
    got = f"{found} {format_dims(shape)}" if found is not None else f"a {type(value).__name__}, not a numpy array"
    rows = " (a batch of rows)" if batch is not None else ""
    raise KernelOutputError(f"{op.type} '{op.name}': the kernel's output {index} is {got}, but the op's infer rule "
                            f"says {dtype.name} {format_dims(dims)}{rows}; fix the kernel or the infer rule "
                            f"(registered at {op.op_def.defined_at})")


def _describe(value) -> str:
    """An input as 'dtype shape' for an error message."""
    shape = getattr(value, "shape", None)
    return f"{value.dtype} {format_dims(shape)}" if shape is not None else type(value).__name__
