"""Symbolic reverse-mode differentiation that adds ordinary ops to the graph.

`gradients(ys, xs)` follows TensorFlow 1.x: the ys are summed, an x that no
y depends on gets None, `stop_gradient` stops, integer and bool tensors carry
no gradient. Each op's gradient comes from its registry entry, so gradient
graphs serialize and ship like any other graph, and can be differentiated
again.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

from .errors import GradientError, ShapeError
from .graph import Operation, Tensor
from .ops.toolkit import convert_to_tensor
from .ops.core import constant
from .ops.elementwise import broadcast_like
from .ops.math import add
from .registry import NOT_DIFFERENTIABLE
from .shapes import format_dims, merge


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _ops_between(ys: Sequence[Tensor], xs: Sequence[Tensor]) -> set[Operation]:
    """Ops on some path from an x to a y (the x ops included)."""
    graph = ys[0].graph
    consumers: dict[Tensor, list[Operation]] = {}
    for op in graph.get_operations():
        for t in op.inputs:
            consumers.setdefault(t, []).append(op)
    forward: set[Operation] = set()
    stack = [x.op for x in xs]
    while stack:
        op = stack.pop()
        if op not in forward:
            forward.add(op)
            stack.extend(c for t in op.outputs for c in consumers.get(t, ()))
    between: set[Operation] = set()
    stack = [y.op for y in ys]
    while stack:
        op = stack.pop()
        if op in forward and op not in between:
            between.add(op)
            stack.extend(t.op for t in op.inputs)
    return between


def _reverse_topological(ops: set[Operation]) -> list[Operation]:
    graph_order = {op: i for i, op in enumerate(next(iter(ops)).graph.get_operations())}
    return sorted(ops, key=graph_order.__getitem__, reverse=True)  # ops are appended after their inputs


def _sum(grads: list[Tensor]) -> Tensor:
    total = grads[0]
    for g in grads[1:]:
        total = add(total, g)
    return total


def _zeros_like(t: Tensor) -> Tensor:
    return broadcast_like(constant(0, dtype=t.dtype), t)


def _check_grad(op: Operation, index: int, grad: Tensor) -> None:
    x = op.inputs[index]
    if not isinstance(grad, Tensor):
        raise GradientError(f"gradient of {op.type} '{op.name}' for input {index} must be a Tensor or None, "
                            f"found {type(grad).__name__}")
    if grad.dtype is not x.dtype:
        raise GradientError(f"gradient of {op.type} '{op.name}' for input {index} has dtype {grad.dtype.name}, "
                            f"the input has {x.dtype.name}")
    try:
        merge(grad._dims, x._dims)
    except ShapeError:
        raise GradientError(f"gradient of {op.type} '{op.name}' for input {index} has shape "
                            f"{format_dims(grad._dims)}, the input has {format_dims(x._dims)}") from None


def _op_gradients(op: Operation, out_grads: list[Optional[Tensor]]) -> list[Optional[Tensor]]:
    rule = op.op_def.grad
    if rule is NOT_DIFFERENTIABLE:
        return [None] * len(op.inputs)
    if rule is None:
        raise GradientError(f"no gradient is defined for op type {op.type} (op '{op.name}'); give register_op "
                            f"a grad= function, or grad=NOT_DIFFERENTIABLE if it has none")
    filled = [g if g is not None else _zeros_like(t) for g, t in zip(out_grads, op.outputs)]
    grads = _as_list(rule(op, *filled))
    if len(grads) != len(op.inputs):
        raise GradientError(f"gradient of {op.type} '{op.name}' returned {len(grads)} value(s) "
                            f"for {len(op.inputs)} input(s)")
    for i, g in enumerate(grads):
        if g is not None:
            _check_grad(op, i, g)
    return grads


def gradients(ys: Any, xs: Any, grad_ys: Any = None, name: str = "gradients") -> list[Optional[Tensor]]:
    """d(sum of ys)/d(x) for each x, as tensors added to the graph.

    >>> w, b = tf.constant(3.0), tf.constant(1.0)
    >>> dw, db = gradients(tf.square(w) + 2.0 * b, [w, b])
    >>> tf.Session().run([dw, db])
    [np.float32(6.0), np.float32(2.0)]
    """
    ys = [convert_to_tensor(y) for y in _as_list(ys)]
    xs = [convert_to_tensor(x) for x in _as_list(xs)]
    seeds = _as_list(grad_ys) if grad_ys is not None else [None] * len(ys)
    if len(seeds) != len(ys):
        raise GradientError(f"grad_ys has {len(seeds)} entries for {len(ys)} ys")
    graph = ys[0].graph
    with graph.name_scope(name):
        pending: dict[Tensor, list[Tensor]] = {}
        for y, seed in zip(ys, seeds):
            if not y.dtype.is_floating:
                raise GradientError(f"cannot differentiate {y.name} of dtype {y.dtype.name}: "
                                    "gradients need floating-point ys")
            seed = broadcast_like(constant(1, dtype=y.dtype), y) if seed is None else convert_to_tensor(seed, y.dtype)
            pending.setdefault(y, []).append(seed)
        between = _ops_between(ys, xs)
        for op in (_reverse_topological(between) if between else []):
            out_grads = [_sum(pending[t]) if t in pending else None for t in op.outputs]
            for t, g in zip(op.outputs, out_grads):
                if g is not None:
                    pending[t] = [g]
            if all(g is None for g in out_grads):
                continue
            for x, g in zip(op.inputs, _op_gradients(op, out_grads)):
                if g is not None and x.dtype.is_floating and x.op in between:
                    pending.setdefault(x, []).append(g)
        return [_sum(pending[x]) if x in pending else None for x in xs]
