"""Adam (TensorFlow's ApplyAdam, with the "epsilon hat" outside the square root)."""
from __future__ import annotations

from typing import Any

from ..graph import Tensor
from ..ops.math import sqrt
from ..variables import Variable
from .optimizer import Optimizer, Update, hyper


class AdamOptimizer(Optimizer):
    """TensorFlow 1.x's AdamOptimizer; slots "m" and "v" (`var/Adam`, `var/Adam_1`).

    With t the step number (from 1) and the non-slot variables
    `beta1_power` = beta1 ** t and `beta2_power` = beta2 ** t:

        lr_t = lr * sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad ** 2
        var -= lr_t * m / (sqrt(v) + epsilon)
    """

    def __init__(self, learning_rate: Any = 0.001, beta1: float = 0.9, beta2: float = 0.999, epsilon: Any = 1e-8,
                 use_locking: bool = False, name: str = "Adam") -> None:
        super().__init__(use_locking, name)
        self._learning_rate, self._beta1, self._beta2, self._epsilon = learning_rate, beta1, beta2, epsilon

    def _powers(self, var: Variable) -> tuple[Variable, Variable]:
        return (self._non_slot("beta1_power", (), self._beta1, var.dtype, var.graph),
                self._non_slot("beta2_power", (), self._beta2, var.dtype, var.graph))

    def _update(self, grad: Tensor, var: Variable) -> list[Update]:
        lr = hyper(self._learning_rate, var.dtype, "learning_rate")
        beta1 = hyper(self._beta1, var.dtype, "beta1")
        beta2 = hyper(self._beta2, var.dtype, "beta2")
        epsilon = hyper(self._epsilon, var.dtype, "epsilon")
        beta1_power, beta2_power = self._powers(var)
        m, v = self._slot(var, "m"), self._slot(var, "v")
        lr_t = lr * sqrt(1 - beta2_power) / (1 - beta1_power)
        new_m = beta1 * m + (1 - beta1) * grad
        new_v = beta2 * v + (1 - beta2) * grad * grad
        return [(m, new_m), (v, new_v), (var, var - lr_t * new_m / (sqrt(new_v) + epsilon))]

    def _finish(self, var_list: list[Variable]) -> list[Update]:
        powers = dict.fromkeys(self._powers(var) for var in var_list)  # one pair per graph and dtype
        return [u for b1, b2 in powers for u in ((b1, b1 * self._beta1), (b2, b2 * self._beta2))]
