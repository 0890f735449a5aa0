"""Layers that behave differently in training: Dropout and BatchNormalization.

Each takes `call(x, training)` where `training` is a Python bool (the mode
is chosen when the graph is built) or a scalar bool tensor (chosen at run
time; both branches are in the graph). Sequential builds its layers twice on
shared variables, an inference stack (predict, evaluate, saved models: no
random ops, no batch statistics) and a training stack that fit minimizes.
BatchNormalization's moving mean and variance are non-trainable variables
that its `updates` ops (made by its first training-mode call) move towards
each training batch's moments; Sequential runs them with every training step.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from . import initializers
from .errors import ShapeError
from .graph import Tensor
from .layer_base import Layer
from .ops.compare import where
from .ops.dropout import dropout, keep_probability
from .ops.normalization import batch_normalization, moments
from .variables import Variable


def _select(training: Any, train: Callable[[], Tensor], infer: Callable[[], Tensor]) -> Tensor:
    """The training or the inference value: picked now for a Python bool, at run time for a tensor."""
    if training is None or isinstance(training, bool):
        return train() if training else infer()
    return where(training, train(), infer())


class Dropout(Layer):
    """In training, `tf.nn.dropout(x, rate)` (seeded by `seed`); identity at inference."""

    default_name = "dropout"
    uses_training = True

    def __init__(self, rate: float, noise_shape: Any = None, seed: Optional[int] = None,
                 name: Optional[str] = None) -> None:
        super().__init__(name, seed)
        keep_probability(None, rate)  # refuses a rate outside [0, 1) now
        self.rate = float(rate)
        self.noise_shape = noise_shape

    def call(self, x: Tensor, training: Any = None) -> Tensor:
        return _select(training, lambda: dropout(x, rate=self.rate, noise_shape=self.noise_shape, seed=self.seed),
                       lambda: x)


class BatchNormalization(Layer):
    """Normalize each channel (last axis): by the batch's moments in training, by moving
    averages of them at inference; then scale by `gamma` and shift by `beta` (Keras' names).

    Training moves the averages as Keras does: `moving -= (moving - batch) * (1 - momentum)`,
    with the batch's biased variance.
    """

    default_name = "batch_normalization"
    uses_training = True

    def __init__(self, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 name: Optional[str] = None) -> None:
        super().__init__(name)
        if not 0 <= momentum < 1:
            raise ValueError(f"BatchNormalization: momentum must be in [0, 1), found {momentum!r}")
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = center
        self.scale = scale
        self.beta: Optional[Variable] = None
        self.gamma: Optional[Variable] = None
        self.moving_mean: Optional[Variable] = None
        self.moving_variance: Optional[Variable] = None

    def build(self, x: Tensor) -> None:
        dims = x._dims
        if dims is None or len(dims) < 2 or dims[-1] is None:
            raise ShapeError(f"BatchNormalization needs inputs with a known last (channels) dim, found {x.shape}")
        shape = (dims[-1],)
        zeros, ones = initializers.get("zeros"), initializers.get("ones")
        if self.center:
            self.beta = Variable(zeros(shape, x.dtype), name="beta")
        if self.scale:
            self.gamma = Variable(ones(shape, x.dtype), name="gamma")
        self.moving_mean = Variable(zeros(shape, x.dtype), trainable=False, name="moving_mean")
        self.moving_variance = Variable(ones(shape, x.dtype), trainable=False, name="moving_variance")

    def call(self, x: Tensor, training: Any = None) -> Tensor:
        if training is None or training is False:
            return self._normalize(x, self.moving_mean, self.moving_variance)
        mean, variance = moments(x, list(range(len(x._dims) - 1)))
        if not self.updates:
            self.updates = [self._moving(self.moving_mean, mean), self._moving(self.moving_variance, variance)]
        return _select(training, lambda: self._normalize(x, mean, variance),
                       lambda: self._normalize(x, self.moving_mean, self.moving_variance))

    def _normalize(self, x: Tensor, mean: Any, variance: Any) -> Tensor:
        return batch_normalization(x, mean, variance, self.beta, self.gamma, self.epsilon)

    def _moving(self, average: Variable, batch: Tensor) -> Tensor:
        return average.assign_sub((average - batch) * (1.0 - self.momentum))
