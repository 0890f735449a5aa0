"""Loss functions (TensorFlow 1.x's `tf.losses`): elementwise or per-example losses,
weighted and reduced by `compute_weighted_loss`.

Every loss takes `weights` (a number, or a tensor that broadcasts to the
unreduced loss), a `reduction` (see `Reduction`; default
SUM_BY_NONZERO_WEIGHTS: the weighted sum divided by the number of nonzero
weights, i.e. the mean when weights is 1) and adds its result to the
graph's "losses" collection. Labels are cast to the predictions' dtype.

>>> loss = tf.losses.mean_squared_error(labels=[1.0, 3.0], predictions=[2.0, 2.0])
>>> tf.Session().run(loss)
np.float32(1.0)
"""
from __future__ import annotations

import numbers
from typing import Any, Optional

import numpy as np

from .dtypes import DType
from .errors import ShapeError
from .graph import Graph, Tensor, get_default_graph
from .nn import sigmoid_cross_entropy_with_logits, softmax_cross_entropy_with_logits, sparse_softmax_cross_entropy_with_logits
from .ops.toolkit import convert_to_tensor, is_tensor_like
from .ops.compare import not_equal, where
from .ops.elementwise import broadcast_like
from .ops.math import abs, cast, log, sqrt, squared_difference
from .ops.reduction import reduce_mean, reduce_sum
from .shapes import broadcast, format_dims, merge

LOSSES = "losses"  # the graph collection of losses (TensorFlow's GraphKeys.LOSSES)


class Reduction:
    """How `compute_weighted_loss` reduces the weighted losses (TensorFlow 1.x values)."""

    NONE = "none"  # the weighted losses, unreduced
    SUM = "weighted_sum"  # their sum
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"  # the sum over the number of loss elements
    MEAN = "weighted_mean"  # the sum over the sum of the weights
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"  # the sum over the number of nonzero weights
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls) -> tuple[str, ...]:
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE, cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key: str) -> None:
        if key not in cls.all():
            raise ValueError(f"invalid reduction {key!r}; expected one of {', '.join(cls.all())}")


def compute_weighted_loss(losses: Any, weights: Any = 1.0, scope: Optional[str] = None,
                          loss_collection: Optional[str] = LOSSES,
                          reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """`losses * weights`, reduced as `reduction` says; a zero denominator gives 0.

    >>> tf.Session().run(compute_weighted_loss([1.0, 3.0], weights=[1.0, 0.0]))
    array(1., dtype=float32)
    """
    Reduction.validate(reduction)
    losses = convert_to_tensor(losses)
    with losses.graph.name_scope(scope or "weighted_loss"):
        if isinstance(weights, numbers.Number) and weights != 0:
            result = _reduce_scaled(losses, float(weights), reduction)
        else:
            result = _reduce_weighted(losses, _weights(weights, losses), reduction)
    if loss_collection is not None:
        add_loss(result, loss_collection)
    return result


def _reduce_scaled(losses: Tensor, weight: float, reduction: str) -> Tensor:
    """The reductions for a nonzero constant weight, without per-element weight ops."""
    weighted = losses if weight == 1.0 else losses * weight
    if reduction == Reduction.NONE:
        return weighted
    if reduction == Reduction.SUM:
        return reduce_sum(weighted)
    return reduce_mean(losses if reduction == Reduction.MEAN else weighted)


def _reduce_weighted(losses: Tensor, weights: Tensor, reduction: str) -> Tensor:
    weighted = losses * weights
    if reduction == Reduction.NONE:
        return weighted
    if reduction == Reduction.SUM_OVER_BATCH_SIZE:
        return reduce_mean(weighted)
    total = reduce_sum(weighted)
    if reduction == Reduction.SUM:
        return total
    if reduction == Reduction.MEAN:
        return _safe_div(total, reduce_sum(broadcast_like(weights, losses)))
    present = cast(not_equal(weights, 0), losses.dtype)
    return _safe_div(total, reduce_sum(broadcast_like(present, losses)))


def _safe_div(numerator: Tensor, denominator: Tensor) -> Tensor:
    """numerator / denominator, 0 where the denominator is 0 (TensorFlow's div_no_nan)."""
    nonzero = not_equal(denominator, 0)
    return where(nonzero, numerator / where(nonzero, denominator, 1), 0)


def _weights(weights: Any, losses: Tensor) -> Tensor:
    weights = _as_dtype(weights, losses.dtype)
    if weights._dims is not None and losses._dims is not None:
        try:
            fits = broadcast(weights._dims, losses._dims) == losses._dims
        except ShapeError:
            fits = False
        if not fits:
            raise ShapeError(f"weights of shape {format_dims(weights._dims)} do not broadcast to the losses' "
                             f"shape {format_dims(losses._dims)}")
    return weights


def _as_dtype(value: Any, dtype: DType) -> Tensor:
    """A tensor of `dtype`: Python values are made in it, tensors and arrays cast to it."""
    typed = is_tensor_like(value) or isinstance(value, (np.ndarray, np.generic))
    tensor = convert_to_tensor(value, None if typed else dtype)
    return tensor if tensor.dtype is dtype else cast(tensor, dtype)


def _pair(labels: Any, predictions: Any, what: str = "predictions") -> tuple[Tensor, Tensor]:
    """(labels, predictions) with labels cast to the float predictions' dtype and compatible shapes."""
    predictions = convert_to_tensor(predictions)
    if not predictions.dtype.is_floating:
        raise TypeError(f"{what} must be floating, found {predictions.dtype.name}")
    labels = _as_dtype(labels, predictions.dtype)
    try:
        merge(labels._dims, predictions._dims)
    except ShapeError:
        raise ShapeError(f"labels of shape {format_dims(labels._dims)} and {what} of shape "
                         f"{format_dims(predictions._dims)} must have the same shape") from None
    return labels, predictions


def add_loss(loss: Tensor, loss_collection: str = LOSSES) -> None:
    """Add `loss` to a graph collection (the default one sums up in `get_losses`)."""
    loss.graph.add_to_collection(loss_collection, loss)


def get_losses(scope: Optional[str] = None, loss_collection: str = LOSSES, graph: Optional[Graph] = None) -> list:
    """The losses added to `loss_collection`, those whose name starts with `scope` if given."""
    found = (graph or get_default_graph()).get_collection(loss_collection)
    return [t for t in found if scope is None or t.name.startswith(scope)]


# -- the losses ------------------------------------------------------------------------------
def mean_squared_error(labels: Any, predictions: Any, weights: Any = 1.0, scope: Optional[str] = None,
                       loss_collection: Optional[str] = LOSSES,
                       reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Elementwise (predictions - labels) ** 2, weighted and reduced (the mean by default)."""
    labels, predictions = _pair(labels, predictions)
    with predictions.graph.name_scope(scope or "mean_squared_error"):
        return compute_weighted_loss(squared_difference(predictions, labels), weights, None, loss_collection, reduction)


def absolute_difference(labels: Any, predictions: Any, weights: Any = 1.0, scope: Optional[str] = None,
                        loss_collection: Optional[str] = LOSSES,
                        reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Elementwise |predictions - labels|, weighted and reduced."""
    labels, predictions = _pair(labels, predictions)
    with predictions.graph.name_scope(scope or "absolute_difference"):
        return compute_weighted_loss(abs(predictions - labels), weights, None, loss_collection, reduction)


def log_loss(labels: Any, predictions: Any, weights: Any = 1.0, epsilon: float = 1e-7, scope: Optional[str] = None,
             loss_collection: Optional[str] = LOSSES, reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Elementwise -labels * log(predictions + epsilon) - (1 - labels) * log(1 - predictions + epsilon),
    for probabilities `predictions`; weighted and reduced."""
    labels, predictions = _pair(labels, predictions)
    with predictions.graph.name_scope(scope or "log_loss"):
        losses = -labels * log(predictions + epsilon) - (1 - labels) * log(1 - predictions + epsilon)
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


def sigmoid_cross_entropy(multi_class_labels: Any, logits: Any, weights: Any = 1.0, label_smoothing: float = 0.0,
                          scope: Optional[str] = None, loss_collection: Optional[str] = LOSSES,
                          reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Elementwise max(x, 0) - x * z + log(1 + exp(-|x|)) for logits x and labels z in [0, 1]
    (finite for any logits); weighted and reduced.

    With label_smoothing s > 0, z becomes z * (1 - s) + s / 2.
    """
    labels, logits = _pair(multi_class_labels, logits, "logits")
    with logits.graph.name_scope(scope or "sigmoid_cross_entropy_loss"):
        if label_smoothing:
            labels = labels * (1 - label_smoothing) + 0.5 * label_smoothing
        losses = sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


def softmax_cross_entropy(onehot_labels: Any, logits: Any, weights: Any = 1.0, label_smoothing: float = 0.0,
                          scope: Optional[str] = None, loss_collection: Optional[str] = LOSSES,
                          reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Per example -sum_k z_k * log_softmax(x)_k over the class (last) axis, for logits x and
    one-hot (or probability) labels z (finite for any logits); weights are per example.

    With label_smoothing s > 0, z becomes z * (1 - s) + s / num_classes. Labels get no gradient.
    """
    labels, logits = _pair(onehot_labels, logits, "logits")
    with logits.graph.name_scope(scope or "softmax_cross_entropy_loss"):
        if label_smoothing:
            classes = None if logits._dims is None else logits._dims[-1]
            if classes is None:
                raise ShapeError("label_smoothing needs logits with a known number of classes (last dimension)")
            labels = labels * (1 - label_smoothing) + label_smoothing / classes
        losses = softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


def sparse_softmax_cross_entropy(labels: Any, logits: Any, weights: Any = 1.0, scope: Optional[str] = None,
                                 loss_collection: Optional[str] = LOSSES,
                                 reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Per example -log_softmax(x)[label] for logits x (classes on the last axis) and integer
    class labels (shape of logits without its last dim); weights are per example."""
    logits = convert_to_tensor(logits)
    with logits.graph.name_scope(scope or "sparse_softmax_cross_entropy_loss"):
        losses = sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


def hellinger_distance(labels: Any, predictions: Any, axis: int = -1, weights: Any = 1.0,
                       scope: Optional[str] = None, loss_collection: Optional[str] = LOSSES,
                       reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Per distribution along `axis` (kept as size 1), sqrt(1/2 * sum (sqrt(labels) - sqrt(predictions)) ** 2),
    for non-negative labels and positive predictions; 0 with zero gradient where they coincide.
    Weighted and reduced."""
    labels, predictions = _pair(labels, predictions)
    with predictions.graph.name_scope(scope or "hellinger_distance"):
        halved = 0.5 * reduce_sum(squared_difference(sqrt(labels), sqrt(predictions)), axis, keepdims=True)
        positive = not_equal(halved, 0)
        losses = where(positive, sqrt(where(positive, halved, 1)), 0)  # sqrt has no finite gradient at 0
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


def itakura_saito_divergence(labels: Any, predictions: Any, axis: int = -1, weights: Any = 1.0,
                             scope: Optional[str] = None, loss_collection: Optional[str] = LOSSES,
                             reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Per spectrum along `axis` (kept as size 1), sum (labels / predictions - log(labels / predictions) - 1),
    for positive labels and predictions; weighted and reduced."""
    labels, predictions = _pair(labels, predictions)
    with predictions.graph.name_scope(scope or "itakura_saito_divergence"):
        ratio = labels / predictions
        losses = reduce_sum(ratio - log(ratio) - 1, axis, keepdims=True)
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


REGULARIZATION_LOSSES = "regularization_losses"  # TensorFlow's GraphKeys.REGULARIZATION_LOSSES


def get_regularization_losses(scope: Optional[str] = None) -> list:
    """The regularization losses (from get_variable(regularizer=...)), filtered by `scope`."""
    return get_default_graph().get_collection(REGULARIZATION_LOSSES, scope)


def get_regularization_loss(scope: Optional[str] = None, name: str = "total_regularization_loss") -> Tensor:
    """Their sum (a float32 0.0 when there are none)."""
    from .ops.core import constant
    from .ops.math import add_n
    losses = get_regularization_losses(scope)
    return add_n(losses, name=name) if losses else constant(0.0, name=name)


def get_total_loss(add_regularization_losses: bool = True, name: str = "total_loss",
                   scope: Optional[str] = None) -> Tensor:
    """The sum of the collected losses (and, by default, the regularization losses)."""
    from .ops.math import add_n
    losses = get_losses(scope) + (get_regularization_losses(scope) if add_regularization_losses else [])
    if not losses:
        raise ValueError("No losses are collected: build a tf.losses loss (or add_loss) first")
    return add_n(losses, name=name)
