"""Plain gradient descent: `var -= learning_rate * grad`."""
from __future__ import annotations

from typing import Any

from ..graph import Tensor
from ..variables import Variable
from .optimizer import Optimizer, Update, hyper


class GradientDescentOptimizer(Optimizer):
    """TensorFlow 1.x's GradientDescentOptimizer: `var -= learning_rate * grad`.

    >>> train_op = GradientDescentOptimizer(0.1).minimize(loss)  # doctest: +SKIP
    """

    def __init__(self, learning_rate: Any, use_locking: bool = False, name: str = "GradientDescent") -> None:
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate

    def _update(self, grad: Tensor, var: Variable) -> list[Update]:
        return [(var, var - hyper(self._learning_rate, var.dtype, "learning_rate") * grad)]
