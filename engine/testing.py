"""Public test helpers: check an op's gradient against finite differences.

>>> from engine.testing import check_grads
>>> check_grads(lambda x, y: x * y, [np.ones(3), np.arange(3.0)])
>>> check_op(tf.sin, [np.linspace(0.0, 1.0, 4)], np.sin)
"""
from __future__ import annotations

import itertools
from typing import Any, Callable, NamedTuple, Optional, Sequence

import numpy as np

from .dtypes import float64
from .errors import KernelOutputError
from .gradients import gradients
from .graph import Graph, Tensor
from .ops.toolkit import convert_to_tensor
from .ops.core import constant, placeholder
from .ops.elementwise import sum_like
from .ops.math import multiply
from .session import Session


def _scalar_projection(y: Tensor, rng: np.random.Generator, shape: tuple) -> Tensor:
    """sum(y * r) for a fixed random r: a scalar whose gradient covers every output entry."""
    r = constant(rng.standard_normal(shape))
    return sum_like(multiply(y, r), constant(np.float64(0.0)))


def numerical_gradient(f: Callable[[list], float], args: Sequence[np.ndarray], index: int, eps: float) -> np.ndarray:
    """Central finite differences of scalar `f` with respect to `args[index]`."""
    x = np.array(args[index], dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        saved = x[i]
        values = list(args)
        x[i] = saved + eps
        values[index] = x.copy()
        up = f(values)
        x[i] = saved - eps
        values[index] = x.copy()
        down = f(values)
        x[i] = saved
        grad[i] = (up - down) / (2 * eps)
    return grad


def check_grads(build: Callable[..., Tensor], args: Sequence[np.ndarray], order: int = 1,
                wrt: Optional[Sequence[int]] = None, eps: float = 1e-6, rtol: float = 1e-5,
                atol: float = 1e-7, seed: int = 0) -> None:
    """Assert that the symbolic gradients of `build` match central differences.

    `build(*tensors)` makes the op(s) under test from float64 placeholders
    shaped like `args`. `order=2` also checks the gradient of the gradient.
    `wrt` picks the argument indices to check (default: all float ones).
    Raises AssertionError naming the argument and the largest mismatch.
    """
    args = [np.asarray(a) for a in args]
    wrt = [i for i, a in enumerate(args) if a.dtype.kind == "f"] if wrt is None else list(wrt)
    _check(build, args, wrt, order, eps, rtol, atol, np.random.default_rng(seed))


def _check(build, args, wrt, order, eps, rtol, atol, rng) -> None:
    graph = Graph()
    with graph.as_default():
        xs = [placeholder(float64 if a.dtype.kind == "f" else a.dtype, a.shape, name=f"arg{i}")
              for i, a in enumerate(args)]
        y = convert_to_tensor(build(*xs))
        sess = Session(graph)
        probe = _scalar_projection(y, rng, tuple(sess.run(y, dict(zip(xs, args))).shape))
        grads = gradients(probe, [xs[i] for i in wrt])
    feeds = lambda values: dict(zip(xs, values))  # noqa: E731
    for index, g in zip(wrt, grads):
        # None means "not connected": the gradient is zero, which the differences must confirm
        symbolic = np.zeros(args[index].shape) if g is None else sess.run(g, feeds(args))
        numeric = numerical_gradient(lambda v: float(sess.run(probe, feeds(v))), args, index, eps)
        if not np.allclose(symbolic, numeric, rtol=rtol, atol=atol):
            worst = np.max(np.abs(symbolic - numeric))
            raise AssertionError(f"gradient with respect to argument {index} differs from finite differences "
                                 f"by up to {worst:.3g}\nsymbolic:\n{symbolic}\nnumeric:\n{numeric}")
    if order > 1:
        for index in wrt:
            _check(lambda *t, i=index: gradients(_scalar_projection(build(*t), np.random.default_rng(1),
                                                                    tuple(sess.run(y, feeds(args)).shape)),
                                                 [t[i]])[0],
                   args, wrt, order - 1, eps, rtol * 10, atol * 10, rng)


def _row_variants(args: Sequence[np.ndarray], rng: np.random.Generator, n: int) -> list[list[np.ndarray]]:
    """`n` rows of arguments: the given ones, then float args scaled by factors in [0.5, 1.5]."""
    rows = [list(args)]
    for _ in range(n - 1):
        rows.append([a * rng.uniform(0.5, 1.5) if a.dtype.kind == "f" else a for a in args])
    return rows


def check_op(build: Callable[..., Tensor], args: Sequence[np.ndarray], reference: Callable[..., np.ndarray],
             grad: bool = True, batch: bool = True, rtol: float = 1e-6, atol: float = 1e-9,
             grad_order: int = 1, seed: int = 0) -> None:
    """Assert that `build(*placeholders)` behaves like the numpy `reference(*args)`.

    Checks the values, that the result's dtype is the statically inferred one
    and its shape fits the static shape, the gradients (float inputs, when
    `grad`) and the batching rules (when `batch`): the graph written for one
    row, run with every non-empty subset of its arguments batched (the
    others constants), must equal the reference row by row.
    """
    args = [np.asarray(a) for a in args]
    graph = Graph()
    with graph.as_default():
        xs = [placeholder(a.dtype, a.shape, name=f"arg{i}") for i, a in enumerate(args)]
        y = convert_to_tensor(build(*xs))
    sess = Session(graph)
    try:
        got = sess.run(y, dict(zip(xs, args)))
    except KernelOutputError as e:  # the plan checks an op of one's own against its infer rule
        raise AssertionError(f"{y.op.type}: kernel and infer rule disagree: {e}") from e
    want = np.asarray(reference(*args))
    if got.dtype != y.dtype.np:
        raise AssertionError(f"{y.op.type}: kernel returned {got.dtype}, inferred dtype is {y.dtype.name}")
    if not y.shape.is_compatible_with(got.shape):
        raise AssertionError(f"{y.op.type}: kernel returned shape {got.shape}, inferred shape is {y.shape}")
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"{y.op.type} differs from numpy")
    if want.dtype.kind != "O" and got.dtype.kind != want.dtype.kind:
        raise AssertionError(f"{y.op.type}: dtype kind {got.dtype} differs from numpy's {want.dtype}")
    if batch:
        _check_batching(build, args, reference, y.op.type, rtol, atol, seed)
    if grad and y.dtype.is_floating and any(a.dtype.kind == "f" for a in args):
        check_grads(build, args, order=grad_order, seed=seed)


def _check_batching(build: Callable[..., Tensor], args: Sequence[np.ndarray], reference: Callable[..., np.ndarray],
                    op_type: str, rtol: float, atol: float, seed: int) -> None:
    """The row graph run over stacked rows, for every non-empty subset of batched arguments,
    equals the reference row by row (the other arguments stay constants)."""
    rows = _row_variants(args, np.random.default_rng(seed), 3)
    for batched in itertools.product((False, True), repeat=len(args)):
        if not any(batched):
            continue
        expected = np.stack([np.asarray(reference(*[r[i] if b else a for i, (a, b) in enumerate(zip(args, batched))]))
                             for r in rows])
        values = [np.stack([r[i] for r in rows]) for i, b in enumerate(batched) if b]
        which = f"arguments {[i for i, b in enumerate(batched) if b]} of {len(args)} batched"
        try:
            got = _run_rows(build, args, batched, values)
        except KernelOutputError as e:
            raise AssertionError(f"{op_type}: batching rule and infer rule disagree ({which}): {e}") from e
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol,
                                   err_msg=f"{op_type}: batching rule differs from a loop over rows ({which})")


def _run_rows(build: Callable[..., Tensor], args: Sequence[np.ndarray], batched: Sequence[bool],
              values: list[np.ndarray]) -> np.ndarray:
    """Run the row graph over `values` for the batched args; the other args are constants."""
    graph = Graph()
    with graph.as_default():
        xs = {i: placeholder(a.dtype, a.shape, name=f"arg{i}") for i, a in enumerate(args) if batched[i]}
        y = convert_to_tensor(build(*[xs[i] if i in xs else constant(a) for i, a in enumerate(args)]))
    return Session(graph).run_batched(y, dict(zip(xs.values(), values)))


# -- op test tables ------------------------------------------------------------------------
class OpCase(NamedTuple):
    """One row of an op test table: `check_op(build, args, reference, **options)`, named `id`."""

    id: str
    build: Callable[..., Tensor]
    args: Sequence[np.ndarray]
    reference: Callable[..., np.ndarray]
    options: dict


def case(id: str, build: Callable[..., Tensor], args: Sequence[np.ndarray], reference: Callable[..., np.ndarray],
         **options: Any) -> OpCase:
    """A row of an op test table; `options` go to `check_op` (grad=False, grad_order=2, rtol=...)."""
    return OpCase(id, build, args, reference, options)


def op_test(cases: Sequence[OpCase]) -> Callable[[OpCase], None]:
    """A pytest test running `check_op` on every case of the table, one test id per case.

    In a test module: `test_op_matches_numpy = op_test(CASES)`. (pytest is
    imported only here, so the engine itself never needs it.)
    """
    import pytest

    @pytest.mark.parametrize("case", cases, ids=[c.id for c in cases])
    def test_op_matches_numpy(case: OpCase) -> None:
        check_op(case.build, case.args, case.reference, **case.options)
    return test_op_matches_numpy


def value_and_grad(build: Callable[[Tensor], Tensor], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`build(x)` and its gradient (of the sum) with respect to `x`, evaluated at a float64 `x`."""
    graph = Graph()
    with graph.as_default():
        p = placeholder(float64, np.shape(x))
        y = build(p)
        (grad,) = gradients(y, [p])
    return tuple(Session(graph).run([y, grad], {p: x}))
