"""FTRL-Proximal (TensorFlow's ApplyFtrlV2)."""
from __future__ import annotations

from typing import Any

from ..graph import Tensor
from ..ops.compare import greater, where
from ..ops.math import abs, pow, sign
from ..variables import Variable
from .optimizer import Optimizer, Update, hyper


class FtrlOptimizer(Optimizer):
    """TensorFlow 1.x's FtrlOptimizer; slots "accum" and "linear" (`var/Ftrl`, `var/Ftrl_1`).

    With p = learning_rate_power (-0.5: the square root), g_s = grad + 2 * l2_shrinkage * var:

        new_accum = accum + grad ** 2                   (accum starts at initial_accumulator_value)
        linear += g_s - (new_accum ** -p - accum ** -p) / lr * var
        quadratic = new_accum ** -p / lr + 2 * l2
        var = (sign(linear) * l1 - linear) / quadratic  if |linear| > l1, else 0
    """

    def __init__(self, learning_rate: Any, learning_rate_power: float = -0.5, initial_accumulator_value: float = 0.1,
                 l1_regularization_strength: float = 0.0, l2_regularization_strength: float = 0.0,
                 use_locking: bool = False, name: str = "Ftrl", l2_shrinkage_regularization_strength: float = 0.0
                 ) -> None:
        _check("learning_rate_power", learning_rate_power, learning_rate_power <= 0, "<= 0")
        _check("initial_accumulator_value", initial_accumulator_value, initial_accumulator_value >= 0, ">= 0")
        for what, value in (("l1_regularization_strength", l1_regularization_strength),
                            ("l2_regularization_strength", l2_regularization_strength),
                            ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength)):
            _check(what, value, value >= 0, ">= 0")
        super().__init__(use_locking, name)
        self._learning_rate, self._power, self._initial = learning_rate, learning_rate_power, initial_accumulator_value
        self._l1, self._l2, self._shrinkage = (l1_regularization_strength, l2_regularization_strength,
                                               l2_shrinkage_regularization_strength)

    def _update(self, grad: Tensor, var: Variable) -> list[Update]:
        lr = hyper(self._learning_rate, var.dtype, "learning_rate")
        l1 = hyper(self._l1, var.dtype, "l1")
        power = hyper(-self._power, var.dtype, "learning_rate_power")
        accum, linear = self._slot(var, "accum", self._initial), self._slot(var, "linear")
        new_accum = accum + grad * grad
        new_power = pow(new_accum, power)
        shrunk = grad + 2 * self._shrinkage * var if self._shrinkage else grad
        new_linear = linear + shrunk - (new_power - pow(accum, power)) / lr * var
        quadratic = new_power / lr + 2 * self._l2
        new_var = where(greater(abs(new_linear), l1), (sign(new_linear) * l1 - new_linear) / quadratic, 0 * var)
        return [(accum, new_accum), (linear, new_linear), (var, new_var)]


def _check(what: str, value: float, ok: bool, rule: str) -> None:
    if not ok:
        raise ValueError(f"FtrlOptimizer: {what} must be {rule}, found {value}")
