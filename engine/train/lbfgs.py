"""Full-batch L-BFGS behind the optimizer API: `LBFGSOptimizer().minimize(loss)` returns an op.

Each run of that op evaluates the loss and its gradient once, at the
variables' current values, and one `LBFGSStep` op (engine.ops.lbfgs) turns
them into the next point to evaluate: if the point passes the Armijo line
search it is accepted (the curvature pair is stored and the next trial point
is a full step along the new L-BFGS direction), otherwise the step from the
last accepted point is shortened. The variables always hold the point to
evaluate next; the method's memory lives in non-trainable variables
(`LBFGS/s`, `LBFGS/y`, `LBFGS/x`, ...), so it checkpoints and ships with the
graph. On smooth problems nearly every trial is accepted, so a run is about
one iteration. Once converged (gradient below `gtol`, or no step length
decreases the loss) further runs leave the variables unchanged.

The pure numpy functions (`lbfgs_step`, `lbfgs_direction`, `sufficient_decrease`,
`backtrack`, `LBFGSState`) are re-exported here for callers without a Session.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional

from ..dtypes import from_numpy
from ..ops.toolkit import convert_to_tensor
from ..ops.lbfgs import (CONVERGED, LBFGSState, backtrack, lbfgs_direction, lbfgs_step, lbfgs_step_op,
                         sufficient_decrease)
from ..graph import Graph, Operation
from ..variables import Variable
from .optimizer import Optimizer, _assign_all, _check_pairs

__all__ = ["LBFGSOptimizer", "LBFGSState", "lbfgs_step", "lbfgs_direction", "sufficient_decrease", "backtrack",
           "CONVERGED"]


class LBFGSOptimizer(Optimizer):
    """Limited-memory BFGS with an Armijo backtracking line search, for smooth full-batch losses.

    `memory` curvature pairs are kept; `c1` is the Armijo constant; the method
    stops when max |gradient| <= `gtol` or the step falls below `min_step`.

    >>> w = tf.Variable(np.zeros(2), name="w")
    >>> loss = tf.reduce_sum(tf.square(w - np.array([1.0, -2.0])))
    >>> train_op = LBFGSOptimizer().minimize(loss)
    >>> with tf.Session() as sess:
    ...     sess.run(tf.global_variables_initializer())
    ...     for _ in range(10):
    ...         sess.run(train_op)
    ...     sess.run(w).round(6)
    array([ 1., -2.])
    """

    def __init__(self, memory: int = 10, c1: float = 1e-4, gtol: float = 1e-10, min_step: float = 1e-12,
                 use_locking: bool = False, name: str = "LBFGS") -> None:
        if memory < 1:
            raise ValueError(f"LBFGSOptimizer: memory must be at least 1, found {memory}")
        if not 0 < c1 < 1:
            raise ValueError(f"LBFGSOptimizer: c1 must be in (0, 1), found {c1}")
        super().__init__(use_locking, name)
        self._memory, self._c1, self._gtol, self._min_step = memory, c1, gtol, min_step
        self._var_lists: dict[Graph, tuple] = {}

    def apply_loss_and_gradients(self, loss: Any, grads_and_vars: Iterable[tuple[Any, Variable]],
                                 global_step: Optional[Variable] = None, name: Optional[str] = None) -> Operation:
        """An op that takes `loss` and the gradients as the values at the variables' current point
        and moves the variables to the next L-BFGS trial point."""
        loss = convert_to_tensor(loss)
        pairs = _check_pairs(grads_and_vars)
        variables = [v for _, v in pairs]
        state = self._state(variables)
        graph = variables[0].graph
        with graph.name_scope(name or self._name) as scope:
            new_state, new_values = lbfgs_step_op(loss, [s.value() for s in state], [v.value() for v in variables],
                                                  [g for g, _ in pairs], self._c1, self._gtol, self._min_step)
            updates = list(zip(state, new_state)) + list(zip(variables, new_values))
            return _assign_all(graph, updates, global_step, scope[:-1])

    def apply_gradients(self, grads_and_vars: Iterable, global_step: Optional[Variable] = None,
                        name: Optional[str] = None) -> Operation:
        raise TypeError("LBFGSOptimizer needs the loss as well as the gradients for its line search; "
                        "use minimize(loss) or apply_loss_and_gradients(loss, grads_and_vars)")

    def _state(self, variables: list[Variable]) -> list[Variable]:
        """The method's memory as variables, one per LBFGSState field; one var_list per optimizer and graph."""
        dtype, graph = variables[0].dtype, variables[0].graph
        known = self._var_lists.setdefault(graph, tuple(variables))
        if known != tuple(variables):
            raise ValueError(f"this {self._name} optimizer already minimizes over {[v.name for v in known]}; "
                             "create another optimizer for other variables")
        dtypes = {v.dtype for v in variables}
        if len(dtypes) > 1:
            raise TypeError(f"L-BFGS needs variables of one dtype, found {sorted(d.name for d in dtypes)}")
        initial = LBFGSState.initial(sum(v.shape.num_elements() for v in variables), self._memory, dtype.np)
        return [self._non_slot(f"{self._name}/{field}", value.shape, 0, from_numpy(value), graph)
                for field, value in zip(LBFGSState._fields, initial)]

