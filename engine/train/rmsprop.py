"""RMSProp with momentum, optionally centered (TensorFlow's ApplyRMSProp / ApplyCenteredRMSProp)."""
from __future__ import annotations

from typing import Any

from ..graph import Tensor
from ..ops.math import sqrt
from ..variables import Variable
from .optimizer import Optimizer, Update, hyper


class RMSPropOptimizer(Optimizer):
    """TensorFlow 1.x's RMSPropOptimizer; slots "rms" (starts at 1), "mg" (centered only) and "momentum".

        ms = decay * ms + (1 - decay) * grad ** 2
        mg = decay * mg + (1 - decay) * grad                       (centered)
        mom = momentum * mom + lr * grad / sqrt(ms - mg ** 2 + epsilon)   (mg = 0 unless centered)
        var -= mom
    """

    def __init__(self, learning_rate: Any, decay: Any = 0.9, momentum: Any = 0.0, epsilon: Any = 1e-10,
                 use_locking: bool = False, centered: bool = False, name: str = "RMSProp") -> None:
        super().__init__(use_locking, name)
        self._learning_rate, self._decay, self._momentum, self._epsilon = learning_rate, decay, momentum, epsilon
        self._centered = centered

    def _update(self, grad: Tensor, var: Variable) -> list[Update]:
        lr = hyper(self._learning_rate, var.dtype, "learning_rate")
        decay = hyper(self._decay, var.dtype, "decay")
        momentum = hyper(self._momentum, var.dtype, "momentum")
        epsilon = hyper(self._epsilon, var.dtype, "epsilon")
        rms = self._slot(var, "rms", 1.0)
        new_rms = decay * rms + (1 - decay) * grad * grad
        updates = [(rms, new_rms)]
        denominator = new_rms + epsilon
        if self._centered:
            mg = self._slot(var, "mg")
            new_mg = decay * mg + (1 - decay) * grad
            updates.append((mg, new_mg))
            denominator = denominator - new_mg * new_mg
        mom = self._slot(var, "momentum")
        new_mom = momentum * mom + lr * grad / sqrt(denominator)
        return updates + [(mom, new_mom), (var, var - new_mom)]
