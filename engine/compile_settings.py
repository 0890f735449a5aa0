"""What `Model.compile` accepts by name: losses, metrics and optimizers.

Each loss and metric name maps to a graph-building function of the model's
targets and outputs. Losses that Keras computes from probabilities use the
logits of the output layer when it has them (a sigmoid or softmax output),
which is the numerically stable form: outputs of 0 or 1 give finite losses
and gradients.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional

from . import dtypes, losses, train
from .graph import Tensor
from .ops.compare import clip_by_value, equal
from .ops.indexing import one_hot
from .ops.math import cast, log
from .ops.reduction import argmax, reduce_mean, reduce_sum

_EPSILON = 1e-7  # Keras' clip for probabilities that have no logits behind them


class LossInputs(NamedTuple):
    """The tensors a loss or metric is built from."""

    targets: Tensor
    outputs: Tensor
    logits: Optional[Tensor]  # pre-activation of the output layer, if known
    activation: str  # the output layer's activation name ("linear", "sigmoid", ...)

    def logits_for(self, activation: str) -> Optional[Tensor]:
        return self.logits if self.activation == activation else None


def _mse(h: LossInputs) -> Tensor:
    return losses.mean_squared_error(h.targets, h.outputs)


def _mae(h: LossInputs) -> Tensor:
    return losses.absolute_difference(h.targets, h.outputs)


def _binary_crossentropy(h: LossInputs) -> Tensor:
    logits = h.logits_for("sigmoid")
    if logits is not None:
        return losses.sigmoid_cross_entropy(h.targets, logits)
    return losses.log_loss(h.targets, h.outputs, epsilon=_EPSILON)


def _categorical_crossentropy(h: LossInputs) -> Tensor:
    logits = h.logits_for("softmax")
    if logits is not None:
        return losses.softmax_cross_entropy(h.targets, logits)
    p = clip_by_value(h.outputs, _EPSILON, 1.0 - _EPSILON)
    return reduce_mean(-reduce_sum(h.targets * log(p), axis=-1))


def _sparse_categorical_crossentropy(h: LossInputs) -> Tensor:
    logits = h.logits_for("softmax")
    if logits is not None:
        return losses.sparse_softmax_cross_entropy(h.targets, logits)
    depth = h.outputs.shape[-1]
    return _categorical_crossentropy(h._replace(targets=one_hot(h.targets, depth, dtype=h.outputs.dtype)))


LOSSES: dict[str, Callable[[LossInputs], Tensor]] = {
    "mse": _mse, "mean_squared_error": _mse, "mae": _mae, "mean_absolute_error": _mae,
    "binary_crossentropy": _binary_crossentropy, "categorical_crossentropy": _categorical_crossentropy,
    "sparse_categorical_crossentropy": _sparse_categorical_crossentropy,
}


def sparse_targets(loss: str) -> bool:
    """Whether the loss takes integer class ids rather than arrays shaped like the outputs."""
    return loss == "sparse_categorical_crossentropy"


def _accuracy(loss: str) -> Callable[[LossInputs], Tensor]:
    """Keras' choice of accuracy for the loss: class ids, one-hot rows or thresholded probabilities."""
    def build(h: LossInputs) -> Tensor:
        if sparse_targets(loss):
            hits = equal(argmax(h.outputs, axis=-1), h.targets)
        elif loss == "categorical_crossentropy" or (h.outputs.shape[-1] or 1) > 1:
            hits = equal(argmax(h.outputs, axis=-1), argmax(h.targets, axis=-1))
        else:
            hits = equal(cast(h.outputs > 0.5, h.targets.dtype), h.targets)
        return reduce_mean(cast(hits, dtypes.float64))
    return build


def metric(name: Any, loss: str) -> Callable[[LossInputs], Tensor]:
    """The graph builder of metric `name` for a model compiled with `loss`."""
    if name in ("accuracy", "acc"):
        return _accuracy(loss)
    if name in ("mse", "mae", "mean_squared_error", "mean_absolute_error"):
        return LOSSES[name]
    raise ValueError(f"unknown metric {name!r}; known: accuracy, acc, mse, mae")


def loss(name: Any) -> Callable[[LossInputs], Tensor]:
    """The graph builder of loss `name`."""
    if not isinstance(name, str) or name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; known: {', '.join(sorted(LOSSES))}")
    return LOSSES[name]


def check(loss_name: Any, metrics: Any) -> None:
    """ValueError unless the loss and every metric are known names."""
    loss(loss_name)
    if not isinstance(metrics, list):
        raise ValueError(f"metrics are a list of names, found {metrics!r}")
    for name in metrics:
        metric(name, loss_name)


# Keras' default learning rates for the optimizers it knows by name.
_OPTIMIZERS = {
    "sgd": ("GradientDescentOptimizer", {"learning_rate": 0.01}),
    "momentum": ("MomentumOptimizer", {"learning_rate": 0.01, "momentum": 0.9}),
    "adam": ("AdamOptimizer", {"learning_rate": 0.001}),
    "rmsprop": ("RMSPropOptimizer", {"learning_rate": 0.001}),
    "adagrad": ("AdagradOptimizer", {"learning_rate": 0.01}),
    "adadelta": ("AdadeltaOptimizer", {"learning_rate": 1.0}),
    "ftrl": ("FtrlOptimizer", {"learning_rate": 0.001}),
}


def optimizer(value: Any, learning_rate: Optional[float] = None) -> Any:
    """An optimizer instance from a name ("adam", "sgd", ...) or the instance itself.

    A name gets Keras' default learning rate unless ``learning_rate`` is given.
    """
    if isinstance(value, str):
        if value not in _OPTIMIZERS:
            raise ValueError(f"unknown optimizer {value!r}; known: {', '.join(sorted(_OPTIMIZERS))} "
                             "or an engine.train optimizer instance")
        cls, kwargs = _OPTIMIZERS[value]
        if learning_rate is not None:
            kwargs = {**kwargs, "learning_rate": learning_rate}
        return getattr(train, cls)(**kwargs)
    if not hasattr(value, "minimize"):
        raise TypeError(f"an optimizer is a name or an object with minimize(loss), found {value!r}")
    return value
