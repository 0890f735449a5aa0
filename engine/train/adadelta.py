"""Adadelta (TensorFlow's ApplyAdadelta)."""
from __future__ import annotations

from typing import Any

from ..graph import Tensor
from ..ops.math import sqrt
from ..variables import Variable
from .optimizer import Optimizer, Update, hyper


class AdadeltaOptimizer(Optimizer):
    """TensorFlow 1.x's AdadeltaOptimizer; slots "accum" and "accum_update" (`var/Adadelta`, `var/Adadelta_1`).

        accum = rho * accum + (1 - rho) * grad ** 2
        update = sqrt(accum_update + epsilon) / sqrt(accum + epsilon) * grad
        accum_update = rho * accum_update + (1 - rho) * update ** 2
        var -= lr * update
    """

    def __init__(self, learning_rate: Any = 0.001, rho: Any = 0.95, epsilon: Any = 1e-8, use_locking: bool = False,
                 name: str = "Adadelta") -> None:
        super().__init__(use_locking, name)
        self._learning_rate, self._rho, self._epsilon = learning_rate, rho, epsilon

    def _update(self, grad: Tensor, var: Variable) -> list[Update]:
        lr = hyper(self._learning_rate, var.dtype, "learning_rate")
        rho = hyper(self._rho, var.dtype, "rho")
        epsilon = hyper(self._epsilon, var.dtype, "epsilon")
        accum, accum_update = self._slot(var, "accum"), self._slot(var, "accum_update")
        new_accum = rho * accum + (1 - rho) * grad * grad
        update = sqrt(accum_update + epsilon) / sqrt(new_accum + epsilon) * grad
        new_accum_update = rho * accum_update + (1 - rho) * update * update
        return [(accum, new_accum), (accum_update, new_accum_update), (var, var - lr * update)]
