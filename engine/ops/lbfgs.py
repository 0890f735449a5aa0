"""L-BFGS as pure numpy functions, and `LBFGSStep`, the op that runs them in a graph.

The math is usable without a Session (e.g. by a driver that sums losses and
gradients from many workers): `lbfgs_direction` is the two-loop recursion,
`sufficient_decrease` / `backtrack` the Armijo line search, and `lbfgs_step`
the whole method as a state machine driven by one loss-and-gradient
evaluation at a time:

    state = LBFGSState.initial(n)
    x = x0
    for _ in range(100):
        state, x = lbfgs_step(state, x, f(x), grad(x))

Each call either accepts the point it was given (see `sufficient_decrease`;
the curvature pair is stored, a new direction is computed and the next point
is `x + step * direction`, step 1 after the first iteration) or backtracks
from the last accepted point with a shorter step (quadratic interpolation,
clipped to [0.1, 0.5] times the last step). It stops moving, with status
CONVERGED, when the largest gradient component is at most `gtol` or the
step falls below `min_step`.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from ..errors import DTypeError, InvalidArgumentError, ShapeError
from ..graph import Tensor
from ..registry import NOT_DIFFERENTIABLE, TensorSpec, register_op
from ..shapes import num_elements
from .toolkit import make_op

FRESH, SEARCHING, CONVERGED = 0, 1, 2


class LBFGSState(NamedTuple):
    """Everything L-BFGS carries between evaluations (flat float vectors of length n)."""

    s: np.ndarray  # (memory, n) steps between accepted points, oldest first; the first `pairs` rows are used
    y: np.ndarray  # (memory, n) gradient changes over those steps
    pairs: np.ndarray  # () int64
    x: np.ndarray  # (n,) the last accepted point
    f: np.ndarray  # () the loss there
    g: np.ndarray  # (n,) the gradient there
    direction: np.ndarray  # (n,) the search direction from x
    step: np.ndarray  # () the trial point is x + step * direction
    status: np.ndarray  # () int64: FRESH, SEARCHING or CONVERGED

    @classmethod
    def initial(cls, n: int, memory: int = 10, dtype: np.dtype = np.float64) -> "LBFGSState":
        """The state before the first evaluation."""
        vector, scalar, count = np.zeros(n, dtype), np.zeros((), dtype), np.zeros((), np.int64)
        return cls(np.zeros((memory, n), dtype), np.zeros((memory, n), dtype), count, vector, scalar, vector,
                   vector, scalar, count)


def lbfgs_direction(s: np.ndarray, y: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """-H grad, H the L-BFGS inverse Hessian of pairs (s[i], y[i]), oldest first (two-loop recursion).

    H starts from gamma * I with gamma = s·y / y·y of the newest pair (1 without pairs).
    """
    q = np.array(grad, copy=True)
    rho = 1.0 / np.einsum("ij,ij->i", y, s)
    alpha = np.empty(len(s), dtype=grad.dtype)
    for i in reversed(range(len(s))):
        alpha[i] = rho[i] * (s[i] @ q)
        q -= alpha[i] * y[i]
    if len(s):
        q *= (s[-1] @ y[-1]) / (y[-1] @ y[-1])
    for i in range(len(s)):
        q += s[i] * (alpha[i] - rho[i] * (y[i] @ q))
    return -q


def sufficient_decrease(f0: float, slope: float, step: float, f_trial: float, trial_slope: float,
                        c1: float = 1e-4) -> bool:
    """Whether a trial point is acceptable: the Armijo condition f_trial <= f0 + c1 * step * slope
    (slope = grad·direction < 0 at the start), or Hager and Zhang's approximate Wolfe conditions:
    f_trial not above f0 beyond rounding and -0.9 |slope| <= trial_slope <= 0.8 |slope|. Unlike
    Armijo, the latter still work where f changes only at rounding level, so the search reaches
    full precision."""
    if not np.isfinite(f_trial):
        return False
    if f_trial <= f0 + c1 * step * slope:
        return True
    not_above = f_trial <= f0 + 100 * np.finfo(np.float64).eps * abs(f0)
    return bool(not_above and 0.9 * slope <= trial_slope <= -0.8 * slope)


def backtrack(f0: float, slope: float, step: float, f_trial: float) -> float:
    """A shorter step after a failed trial: the minimum of the quadratic through f0, slope and f_trial,
    clipped to [0.1, 0.5] * step (0.1 * step when f_trial is not finite)."""
    curvature = f_trial - f0 - slope * step
    if not np.isfinite(f_trial) or curvature <= 0:
        return 0.1 * step
    return float(np.clip(-slope * step * step / (2.0 * curvature), 0.1 * step, 0.5 * step))


def lbfgs_step(state: LBFGSState, x: np.ndarray, f: float, g: np.ndarray, c1: float = 1e-4, gtol: float = 1e-10,
               min_step: float = 1e-12) -> tuple[LBFGSState, np.ndarray]:
    """Given the loss `f` and gradient `g` at the point `x` the previous call returned (or the
    starting point), the new state and the next point to evaluate; see the module docstring."""
    status = int(state.status)
    if status == CONVERGED:
        return state, state.x
    if status == FRESH and not np.isfinite(f):
        raise InvalidArgumentError(f"L-BFGS: the loss at the starting point is {f}")
    if status == SEARCHING:
        slope = float(state.g @ state.direction)
        if not sufficient_decrease(float(state.f), slope, float(state.step), float(f), float(g @ state.direction), c1):
            step = backtrack(float(state.f), slope, float(state.step), float(f))
            if step < min_step:
                return state._replace(status=np.int64(CONVERGED)), state.x
            return state._replace(step=np.asarray(step, x.dtype)), state.x + step * state.direction
        state = _remember(state, x - state.x, g - state.g)
    return _start_search(state, x, f, g, gtol)


def _remember(state: LBFGSState, s: np.ndarray, y: np.ndarray) -> LBFGSState:
    """Store the pair (s, y), forgetting the oldest beyond memory; skip it unless s·y > 0,
    which keeps H positive definite (the Armijo search does not guarantee curvature)."""
    if not s @ y > np.finfo(s.dtype).eps * (y @ y):
        return state
    pairs, memory = int(state.pairs), len(state.s)
    if pairs == memory:
        return state._replace(s=np.concatenate([state.s[1:], s[None]]), y=np.concatenate([state.y[1:], y[None]]))
    new_s, new_y = state.s.copy(), state.y.copy()
    new_s[pairs], new_y[pairs] = s, y
    return state._replace(s=new_s, y=new_y, pairs=np.int64(pairs + 1))


def _start_search(state: LBFGSState, x: np.ndarray, f: float, g: np.ndarray, gtol: float) -> tuple[LBFGSState, np.ndarray]:
    """Accept x and set up the search along the next L-BFGS direction (steepest descent if it is not downhill)."""
    pairs = int(state.pairs)
    direction = lbfgs_direction(state.s[:pairs], state.y[:pairs], g)
    if not g @ direction < 0:
        direction, pairs = -g, 0
    step = 1.0 if pairs else min(1.0, 1.0 / max(float(np.linalg.norm(g)), np.finfo(g.dtype).tiny))
    done = not np.max(np.abs(g), initial=0.0) > gtol
    new = state._replace(pairs=np.int64(pairs), x=x, f=np.asarray(f, x.dtype), g=g, direction=direction,
                         step=np.asarray(step, x.dtype), status=np.int64(CONVERGED if done else SEARCHING))
    return new, x if done else x + step * direction


# -- the graph op ----------------------------------------------------------------------------
_FIELDS = len(LBFGSState._fields)


def _step_kernel(loss: np.ndarray, *args: np.ndarray, c1: float, gtol: float, min_step: float) -> tuple:
    """Inputs: loss, the state fields, the variables, their gradients; outputs: new state, new variables."""
    state, rest = LBFGSState(*args[:_FIELDS]), args[_FIELDS:]
    xs, gs = rest[:len(rest) // 2], rest[len(rest) // 2:]
    flat = lambda arrays: np.concatenate([a.ravel() for a in arrays])  # noqa: E731
    state, x = lbfgs_step(state, flat(xs), loss, flat(gs), c1, gtol, min_step)
    ends = np.cumsum([a.size for a in xs])[:-1]
    new_xs = [part.reshape(a.shape) for part, a in zip(np.split(x, ends), xs)]
    return (*[np.asarray(v, dtype=a.dtype) for v, a in zip(state, args[:_FIELDS])], *new_xs)


def _step_infer(inputs: Sequence[TensorSpec], *, c1: float, gtol: float, min_step: float) -> list[TensorSpec]:
    loss, fields, rest = inputs[0], inputs[1:1 + _FIELDS], inputs[1 + _FIELDS:]
    if len(fields) < _FIELDS or not rest or len(rest) % 2:
        raise ShapeError(f"expects a loss, {_FIELDS} state tensors and pairs of variables and gradients")
    xs, gs = rest[:len(rest) // 2], rest[len(rest) // 2:]
    if loss.shape != () or not loss.dtype.is_floating:
        raise ShapeError("the loss must be a float scalar")
    for spec in (*xs, *gs, *(fields[i] for i in (0, 1, 3, 4, 5, 6, 7))):
        if spec.dtype is not loss.dtype:
            raise DTypeError(f"every variable, gradient and state vector must have the loss's dtype {loss.dtype.name}")
    sizes = [num_elements(x.shape) for x in xs]
    if None in sizes or any(x.shape != g.shape for x, g in zip(xs, gs)):
        raise ShapeError("variables and their gradients need equal, fully known shapes")
    if fields[3].shape != (sum(sizes),):
        raise ShapeError(f"the state holds vectors of shape {fields[3].shape}, the variables have {sum(sizes)} elements")
    return [*fields, *xs]


register_op("LBFGSStep", kernel=_step_kernel, infer=_step_infer,
            attrs={"c1": "float", "gtol": "float", "min_step": "float"}, grad=NOT_DIFFERENTIABLE)



def lbfgs_step_op(loss: Tensor, state: Sequence[Tensor], variables: Sequence[Tensor], grads: Sequence[Tensor],
                  c1: float = 1e-4, gtol: float = 1e-10, min_step: float = 1e-12,
                  name: str = "LBFGSStep") -> tuple[list[Tensor], list[Tensor]]:
    """The graph form of `lbfgs_step`: (new state tensors, new variable values)."""
    op = make_op("LBFGSStep", [loss, *state, *variables, *grads], name, c1=float(c1), gtol=float(gtol),
                 min_step=float(min_step))
    return op.outputs[:_FIELDS], op.outputs[_FIELDS:]
