"""Adagrad (TensorFlow's ApplyAdagrad)."""
from __future__ import annotations

from typing import Any

from ..graph import Tensor
from ..ops.math import sqrt
from ..variables import Variable
from .optimizer import Optimizer, Update, hyper


class AdagradOptimizer(Optimizer):
    """TensorFlow 1.x's AdagradOptimizer; slot "accumulator" (`var/Adagrad`).

        accum += grad ** 2                 (accum starts at initial_accumulator_value)
        var -= lr * grad / sqrt(accum)
    """

    def __init__(self, learning_rate: Any, initial_accumulator_value: float = 0.1, use_locking: bool = False,
                 name: str = "Adagrad") -> None:
        if initial_accumulator_value <= 0.0:
            raise ValueError(f"initial_accumulator_value must be positive, found {initial_accumulator_value}")
        super().__init__(use_locking, name)
        self._learning_rate, self._initial = learning_rate, initial_accumulator_value

    def _update(self, grad: Tensor, var: Variable) -> list[Update]:
        lr = hyper(self._learning_rate, var.dtype, "learning_rate")
        accum = self._slot(var, "accumulator", self._initial)
        new_accum = accum + grad * grad
        return [(accum, new_accum), (var, var - lr * grad / sqrt(new_accum))]
