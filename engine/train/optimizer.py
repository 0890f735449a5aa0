"""The optimizer base class: gradients in, variable updates out.

A subclass states its update rule for one variable in `_update(grad, var)`:
the new values of the variable and of its slots, as tensors computed from
their values before the step. `apply_gradients` assigns them all only after
every new value has been computed, so the order in which the assignments run
cannot change the result (TensorFlow 1.x semantics, without locking).
"""
from __future__ import annotations

import contextlib
import math
import numbers
from typing import Any, Iterable, Iterator, Optional, Sequence

import numpy as np

from ..dtypes import DType
from ..errors import DTypeError, GradientError, GraphError, InvalidArgumentError, ShapeError
from ..gradients import gradients
from ..graph import Graph, Operation, Tensor
from ..ops.toolkit import convert_to_tensor, is_tensor_like
from ..ops.core import constant
from ..ops.creation import fill
from ..shapes import format_dims, merge
from ..variables import Variable, trainable_variables

GradsAndVars = list[tuple[Tensor, Variable]]
Update = tuple[Variable, Tensor]  # (variable, its value after the step)


class Optimizer:
    """Base class of the optimizers; subclasses implement `_update`.

    >>> w = tf.Variable(1.0)
    >>> train_op = tf.train.AdamOptimizer(0.01).minimize(tf.square(w))
    >>> train_op.type
    'NoOp'
    """

    def __init__(self, use_locking: bool, name: str) -> None:
        if not name:
            raise ValueError("an optimizer needs a non-empty name")
        self._use_locking = use_locking  # kept for TensorFlow signatures; updates never race here
        self._name = name
        self._slots: dict[str, dict[Variable, Variable]] = {}
        self._non_slots: dict[tuple, Variable] = {}

    def get_name(self) -> str:
        return self._name

    # -- public API -----------------------------------------------------------------------
    def compute_gradients(self, loss: Any, var_list: Optional[Sequence[Variable]] = None) -> GradsAndVars:
        """[(gradient, variable)] of a float scalar `loss` for `var_list` (default: trainable variables).

        Raises GradientError naming every variable the loss does not depend on.
        """
        loss = _check_loss(loss)
        variables = _check_variables(trainable_variables(loss.graph) if var_list is None else var_list)
        grads = gradients(loss, variables)
        missing = [v.name for g, v in zip(grads, variables) if g is None]
        if missing:
            raise GradientError(f"no gradient for variable(s) {', '.join(missing)}: the loss '{loss.name}' does not "
                                "depend on them; pass var_list= without them")
        return list(zip(grads, variables))

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Variable]], global_step: Optional[Variable] = None,
                        name: Optional[str] = None) -> Operation:
        """An op that applies one step of the update rule to every variable.

        With `global_step`, the op also adds 1 to it after the updates.
        """
        pairs = _check_pairs(grads_and_vars)
        graph = pairs[0][1].graph
        with graph.name_scope(name or self._name) as scope:
            updates = [u for g, v in pairs for u in self._update(g, v)]
            updates += self._finish([v for _, v in pairs])
            return _assign_all(graph, updates, global_step, scope[:-1])

    def apply_loss_and_gradients(self, loss: Any, grads_and_vars: Iterable[tuple[Any, Variable]],
                                 global_step: Optional[Variable] = None, name: Optional[str] = None) -> Operation:
        """`apply_gradients` for gradients computed elsewhere, with the loss value they come with.

        Distributed training feeds both through placeholders, averaged over
        every worker. First-order methods need only the gradients; L-BFGS's
        line search needs the loss too.
        """
        return self.apply_gradients(grads_and_vars, global_step, name)

    def minimize(self, loss: Any, global_step: Optional[Variable] = None,
                 var_list: Optional[Sequence[Variable]] = None, name: Optional[str] = None) -> Operation:
        """`apply_loss_and_gradients(loss, compute_gradients(loss, var_list), global_step)`."""
        return self.apply_loss_and_gradients(loss, self.compute_gradients(loss, var_list), global_step, name)

    def get_slot_names(self) -> list[str]:
        return sorted(self._slots)

    def get_slot(self, var: Variable, name: str) -> Optional[Variable]:
        """The slot variable `name` (e.g. "m") the optimizer keeps for `var`, or None."""
        return self._slots.get(name, {}).get(var)

    def variables(self) -> list[Variable]:
        """Every variable this optimizer created (slots and e.g. Adam's beta powers)."""
        return [s for by_var in self._slots.values() for s in by_var.values()] + list(self._non_slots.values())

    # -- for subclasses -------------------------------------------------------------------
    def _update(self, grad: Tensor, var: Variable) -> list[Update]:
        """New values of `var` and of its slots, computed from their current values."""
        raise NotImplementedError

    def _finish(self, var_list: list[Variable]) -> list[Update]:
        """New values of non-slot variables (once per step, after all `_update`s are built)."""
        return []

    def _slot(self, var: Variable, slot_name: str, fill: float = 0.0) -> Variable:
        """The slot variable for `var` named like TensorFlow's (`w/Adam`, `w/Adam_1`), made on first use."""
        by_var = self._slots.setdefault(slot_name, {})
        if var not in by_var:
            with _outside_control_flow(var.graph, var.op.name + "/"):
                by_var[var] = _filled_variable(self._name, var.shape.dims, fill, var.dtype)
        return by_var[var]

    def _non_slot(self, name: str, shape: tuple, fill: Any, dtype: DType, graph: Graph) -> Variable:
        """A per-graph, per-dtype optimizer variable such as Adam's `beta1_power`, made on first use."""
        key = (name, graph, dtype)
        if key not in self._non_slots:
            with _outside_control_flow(graph, None):
                self._non_slots[key] = _filled_variable(name, shape, fill, dtype)
        return self._non_slots[key]


def hyper(value: Any, dtype: DType, name: str) -> Tensor:
    """A hyperparameter (Python number or tensor) as a tensor of the variable's dtype.

    A number that is not finite (NaN, inf) or not a number is refused while the
    update ops are built, as TF 1.x refuses some: it could only train NaN.
    """
    if is_tensor_like(value):
        tensor = convert_to_tensor(value)
        if tensor.dtype is not dtype:
            raise DTypeError(f"{name} has dtype {tensor.dtype.name}, the variable {dtype.name}; cast it")
        return tensor
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise InvalidArgumentError(f"{name} must be a finite number (or a tensor), found {value!r}")
    return constant(value, dtype=dtype, name=name)


def _filled_variable(name: str, shape: tuple, value: Any, dtype: DType) -> Variable:
    """A non-trainable variable starting with every element equal to `value`.

    Its initializer is a Fill op, so a GraphDef stores the shape, not the zeros.
    """
    return Variable(lambda: fill(shape, np.asarray(value, dtype.np)), trainable=False, name=name)


@contextlib.contextmanager
def _outside_control_flow(graph: Graph, scope: Optional[str]) -> Iterator[None]:
    """Create state at a fixed name scope, free of the caller's control dependencies."""
    with graph.control_dependencies(None), graph.name_scope(scope):
        yield


def _assign_all(graph: Graph, updates: list[Update], global_step: Optional[Variable], name: str) -> Operation:
    """Assign every new value once all of them are computed; then count the step."""
    with graph.control_dependencies([value for _, value in updates]):
        assigns = [var.assign(value) for var, value in updates]
    if global_step is not None:
        with graph.control_dependencies(assigns):
            assigns = [global_step.assign_add(1)]
    return graph.create_op("NoOp", [], {}, name=name, control_inputs=[a.op for a in assigns], exact_name=True)


def _check_loss(loss: Any) -> Tensor:
    """A float scalar loss; a non-scalar one stands for its sum, as TF's gradient of a non-scalar is."""
    loss = convert_to_tensor(loss)
    if not loss.dtype.is_floating:
        raise GradientError(f"the loss must be floating, found '{loss.name}' of dtype {loss.dtype.name} "
                            f"and shape {format_dims(loss._dims)}; cast it")
    if loss._dims != ():
        from ..ops.reduction import reduce_sum
        with loss.graph.as_default():
            loss = reduce_sum(loss, name=f"{loss.op.name}_sum")
    return loss


def _check_variables(var_list: Sequence[Any]) -> list[Variable]:
    variables = list(var_list)
    if not variables:
        raise ValueError("no variables to optimize: the graph has no trainable variables and var_list is empty")
    for v in variables:
        if not isinstance(v, Variable):
            raise TypeError(f"optimizers update Variables, found {v!r}")
        if not v.dtype.is_floating:
            raise DTypeError(f"cannot optimize {v.name} of dtype {v.dtype.name}: only float variables have gradients")
    return variables


def _check_pairs(grads_and_vars: Iterable[tuple[Any, Variable]]) -> list[tuple[Tensor, Variable]]:
    pairs = list(grads_and_vars)
    _check_variables([v for _, v in pairs])
    missing = [v.name for g, v in pairs if g is None]
    if missing:
        raise GradientError(f"no gradient provided for variable(s) {', '.join(missing)}")
    checked = []
    for g, v in pairs:
        g = convert_to_tensor(g)
        if g.dtype is not v.dtype:
            raise DTypeError(f"gradient {g.name} has dtype {g.dtype.name}, the variable {v.name} {v.dtype.name}")
        try:
            merge(g._dims, v.shape.dims)
        except ShapeError:
            raise GraphError(f"gradient {g.name} has shape {format_dims(g._dims)}, the variable {v.name} "
                             f"{format_dims(v.shape.dims)}") from None
        checked.append((g, v))
    return checked
