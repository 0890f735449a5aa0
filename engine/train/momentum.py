"""Momentum and Nesterov momentum (TensorFlow's ApplyMomentum)."""
from __future__ import annotations

from typing import Any

from ..graph import Tensor
from ..variables import Variable
from .optimizer import Optimizer, Update, hyper


class MomentumOptimizer(Optimizer):
    """TensorFlow 1.x's MomentumOptimizer; slot "momentum" (`var/Momentum`).

        accum = momentum * accum + grad
        var -= lr * accum                              (use_nesterov=False)
        var -= lr * grad + lr * momentum * accum       (use_nesterov=True)
    """

    def __init__(self, learning_rate: Any, momentum: Any, use_locking: bool = False, name: str = "Momentum",
                 use_nesterov: bool = False) -> None:
        super().__init__(use_locking, name)
        self._learning_rate, self._momentum, self._use_nesterov = learning_rate, momentum, use_nesterov

    def _update(self, grad: Tensor, var: Variable) -> list[Update]:
        lr = hyper(self._learning_rate, var.dtype, "learning_rate")
        momentum = hyper(self._momentum, var.dtype, "momentum")
        accum = self._slot(var, "momentum")
        new_accum = momentum * accum + grad
        step = lr * grad + lr * momentum * new_accum if self._use_nesterov else lr * new_accum
        return [(accum, new_accum), (var, var - step)]
