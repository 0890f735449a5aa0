"""Neural-network ops: activations, softmax / log_softmax, l2_loss and the
cross-entropies, with kernels that stay finite for logits of any size.

Cross-entropy gradients are exact derivatives of the returned loss (for the
softmax one: `softmax * sum(labels) - labels`, which is TensorFlow's
`softmax - labels` when each row of labels sums to one) and are built from
differentiable ops, so second derivatives work. `softmax_cross_entropy_with_logits`
follows TensorFlow 1.x's deprecated v1 and does not backpropagate into labels;
`softmax_cross_entropy_with_logits_v2` does.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ..errors import InvalidArgumentError, ShapeError
from ..graph import Tensor
from ..registry import TensorSpec, register_op
from ..shapes import merge
from .toolkit import (batch_elementwise, batched_args, convert_to_tensor, is_tensor_like, make, require, same_dtype,
                      shift_axis)
from .compare import greater, where
from .core import stop_gradient
from .elementwise import unary_op
from .math import cast, exp
from .reduction import check_axis, reduce_sum, unreduce


# -- activations -----------------------------------------------------------------------------
def _sigmoid_kernel(x: np.ndarray) -> np.ndarray:
    # exp(-x) overflows to inf for x < -709, where 1 / (1 + inf) = 0 is the right value;
    # about 4x faster than the logaddexp form; one buffer for all steps (fresh large arrays page-fault)
    out = np.negative(x, out=np.empty_like(x))
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1
    return np.reciprocal(out, out=out)


def _elu_kernel(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


sigmoid = unary_op("Sigmoid", _sigmoid_kernel, lambda op, g: [g * op.outputs[0] * (1 - op.outputs[0])], "f")
tanh = unary_op("Tanh", np.tanh, lambda op, g: [g * (1 - op.outputs[0] * op.outputs[0])], "f")
def _relu_grad(op, g):
    # g * (y > 0), as TensorFlow's ReluGrad kernel; np.where on a random mask is ~8x slower (branches)
    return [g * cast(greater(op.outputs[0], 0), g.dtype)]


relu = unary_op("Relu", lambda x: np.maximum(x, 0), _relu_grad)
elu = unary_op("Elu", _elu_kernel, lambda op, g: [where(greater(op.inputs[0], 0), g, g * (op.outputs[0] + 1))], "f")
softplus = unary_op("Softplus", lambda x: np.logaddexp(0, x), lambda op, g: [g * sigmoid(op.inputs[0])], "f")


# -- softmax and log_softmax -----------------------------------------------------------------
def _softmax_kernel(x: np.ndarray, *, axis: int) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax_kernel(x: np.ndarray, *, axis: int) -> np.ndarray:
    z = x - np.max(x, axis=axis, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def _softmax_vjp(y: Tensor, g: Tensor, axis: int) -> Tensor:
    """g times the Jacobian of softmax at output y."""
    return y * (g - reduce_sum(g * y, axis, keepdims=True))


def _axis_infer(inputs: Sequence[TensorSpec], *, axis: int) -> TensorSpec:
    require(inputs[0].dtype, "f", "logits")
    check_axis(axis, None if inputs[0].shape is None else len(inputs[0].shape))
    return inputs[0]


def _softmax_op(op_type: str, kernel, grad):
    """Register an op normalizing along attr `axis` and return its builder."""
    register_op(op_type, kernel=kernel, infer=_axis_infer, attrs={"axis": "int"}, num_inputs=1, grad=grad,
                batch=lambda args, batched, *, axis: kernel(args[0], axis=shift_axis(axis)))

    def builder(logits: Any, axis: int = -1, name: Optional[str] = None) -> Tensor:
        return make(op_type, [convert_to_tensor(logits)], name or op_type, axis=int(axis))
    builder.__name__ = op_type.lower()
    return builder


softmax = _softmax_op("Softmax", _softmax_kernel,
                      lambda op, g: [_softmax_vjp(op.outputs[0], g, op.get_attr("axis"))])
log_softmax = _softmax_op("LogSoftmax", _log_softmax_kernel, lambda op, g: [
    g - exp(op.outputs[0]) * reduce_sum(g, op.get_attr("axis"), keepdims=True)])


# -- l2_loss ---------------------------------------------------------------------------------
def _l2_loss_kernel(t: np.ndarray) -> np.ndarray:
    return np.asarray(np.sum(t * t, dtype=t.dtype) / 2)


def _l2_loss_infer(inputs: Sequence[TensorSpec]) -> TensorSpec:
    require(inputs[0].dtype, "f")
    return TensorSpec(inputs[0].dtype, ())


def _l2_loss_batch(args, batched):
    t = args[0]
    return np.sum(t * t, axis=tuple(range(1, t.ndim)), dtype=t.dtype) / 2


register_op("L2Loss", kernel=_l2_loss_kernel, infer=_l2_loss_infer, num_inputs=1,
            grad=lambda op, g: [g * op.inputs[0]], batch=_l2_loss_batch)


def l2_loss(t: Any, name: Optional[str] = None) -> Tensor:
    """sum(t ** 2) / 2, a scalar (weight decay)."""
    return make("L2Loss", [convert_to_tensor(t)], name or "L2Loss")


# -- sigmoid cross-entropy -------------------------------------------------------------------
def _sigmoid_xent_kernel(labels: np.ndarray, logits: np.ndarray) -> np.ndarray:
    # max(x, 0) - x * z + log1p(exp(-|x|)) with few fresh buffers (large ones page-fault)
    soft = np.abs(logits, out=np.empty_like(logits))
    np.negative(soft, out=soft)
    np.exp(soft, out=soft)
    np.log1p(soft, out=soft)
    soft += np.maximum(logits, 0)
    out = np.asarray(np.multiply(logits, labels))  # the broadcast shape (batching rows)
    return np.subtract(soft, out, out=out)


def _same_shape_infer(inputs: Sequence[TensorSpec]) -> TensorSpec:
    dtype = same_dtype(inputs)
    require(dtype, "f")
    try:
        return TensorSpec(dtype, merge(inputs[0].shape, inputs[1].shape))
    except ShapeError:
        raise ShapeError("labels and logits must have the same shape") from None


def _sigmoid_xent_grad(op, g):
    labels, logits = op.inputs
    return [-g * logits, g * (sigmoid(logits) - labels)]


register_op("SigmoidCrossEntropyWithLogits", kernel=_sigmoid_xent_kernel, infer=_same_shape_infer, num_inputs=2,
            grad=_sigmoid_xent_grad, batch=batch_elementwise(_sigmoid_xent_kernel))


def sigmoid_cross_entropy_with_logits(*, labels: Any, logits: Any, name: Optional[str] = None) -> Tensor:
    """Elementwise logistic loss of `logits` against probabilities `labels` (same shape and dtype).

    Computed as max(x, 0) - x * z + log(1 + exp(-|x|)): finite for any logits.
    """
    logits = convert_to_tensor(logits)
    return make("SigmoidCrossEntropyWithLogits", [convert_to_tensor(labels, logits.dtype), logits],
                name or "SigmoidCrossEntropyWithLogits")


# -- softmax cross-entropy -------------------------------------------------------------------
def _softmax_xent_kernel(labels: np.ndarray, logits: np.ndarray, *, axis: int) -> np.ndarray:
    return -np.sum(labels * _log_softmax_kernel(logits, axis=axis), axis=axis)


def _softmax_xent_infer(inputs: Sequence[TensorSpec], *, axis: int) -> TensorSpec:
    spec = _same_shape_infer(inputs)
    _axis_infer([spec], axis=axis)
    if spec.shape is None:
        return spec
    kept = [d for i, d in enumerate(spec.shape) if i != axis % len(spec.shape)]
    return TensorSpec(spec.dtype, tuple(kept))


def _softmax_xent_grad(op, g):
    labels, logits = op.inputs
    axis = op.get_attr("axis")
    g = unreduce(g, logits, (axis,), False)
    total = reduce_sum(labels, axis, keepdims=True)
    return [-g * log_softmax(logits, axis), g * (softmax(logits, axis) * total - labels)]


def _softmax_xent_batch(args, batched, *, axis):
    return _softmax_xent_kernel(*batched_args(args, batched), axis=shift_axis(axis))


register_op("SoftmaxCrossEntropyWithLogits", kernel=_softmax_xent_kernel, infer=_softmax_xent_infer,
            attrs={"axis": "int"}, num_inputs=2, grad=_softmax_xent_grad, batch=_softmax_xent_batch)


def _labels_as(labels: Any, logits: Tensor) -> Tensor:
    """Labels in the logits' dtype; int one-hot label tensors are cast, as TensorFlow casts them."""
    if is_tensor_like(labels):
        labels = convert_to_tensor(labels)
        return labels if labels.dtype is logits.dtype else cast(labels, logits.dtype)
    return convert_to_tensor(labels, logits.dtype)


def softmax_cross_entropy_with_logits_v2(*, labels: Any, logits: Any, axis: int = -1,
                                         name: Optional[str] = None) -> Tensor:
    """-sum(labels * log_softmax(logits)) along `axis`; gradients flow into labels too.

    Each slice of `labels` along `axis` is normally a probability distribution.
    """
    logits = convert_to_tensor(logits)
    return make("SoftmaxCrossEntropyWithLogits", [_labels_as(labels, logits), logits],
                name or "SoftmaxCrossEntropyWithLogits", axis=int(axis))


def softmax_cross_entropy_with_logits(*, labels: Any, logits: Any, axis: int = -1,
                                      name: Optional[str] = None) -> Tensor:
    """As `softmax_cross_entropy_with_logits_v2`, with labels treated as constants (TensorFlow 1.x v1)."""
    logits = convert_to_tensor(logits)
    return softmax_cross_entropy_with_logits_v2(labels=stop_gradient(_labels_as(labels, logits)),
                                                logits=logits, axis=axis, name=name)


# -- sparse softmax cross-entropy ------------------------------------------------------------
def _check_labels(labels: np.ndarray, classes: int) -> None:
    bad = labels[(labels < 0) | (labels >= classes)]
    if bad.size:
        raise InvalidArgumentError(f"received a label value of {bad.flat[0]} which is outside the valid "
                                   f"range of [0, {classes})")


def _pick(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """values[..., labels[...]] along the last axis."""
    return np.take_along_axis(values, labels[..., None].astype(np.intp), axis=-1)[..., 0]


def _sparse_xent_kernel(labels: np.ndarray, logits: np.ndarray) -> np.ndarray:
    _check_labels(labels, logits.shape[-1])
    return -_pick(_log_softmax_kernel(logits, axis=-1), labels)


def _sparse_backprop_kernel(labels: np.ndarray, logits: np.ndarray) -> np.ndarray:
    _check_labels(labels, logits.shape[-1])
    out = _softmax_kernel(logits, axis=-1)
    np.put_along_axis(out, labels[..., None].astype(np.intp), _pick(out, labels)[..., None] - 1, axis=-1)
    return out


def _sparse_infer(inputs: Sequence[TensorSpec], per_class: bool) -> TensorSpec:
    labels, logits = inputs
    require(labels.dtype, "i", "labels")
    require(logits.dtype, "f", "logits")
    if logits.shape is not None and not logits.shape:
        raise ShapeError("logits must have rank >= 1 (classes on the last axis)")
    try:
        merged = merge(labels.shape, None if logits.shape is None else logits.shape[:-1])
    except ShapeError:
        raise ShapeError("labels must have the shape of logits without its last (class) dimension") from None
    return TensorSpec(logits.dtype, logits.shape if per_class else merged)


def _sparse_batch(kernel):
    return lambda args, batched: kernel(*batched_args(args, batched))


register_op("SparseSoftmaxCrossEntropyWithLogits", kernel=_sparse_xent_kernel,
            infer=lambda inputs: _sparse_infer(inputs, per_class=False), num_inputs=2,
            grad=lambda op, g: [None, unreduce(g, op.inputs[1], (-1,), False) * make(
                "SparseSoftmaxCrossEntropyGrad", list(op.inputs), None)],
            batch=_sparse_batch(_sparse_xent_kernel))
# softmax(logits) - one_hot(labels): the loss gradient per unit of loss, as its own op so it
# has a gradient in turn (the softmax Jacobian)
register_op("SparseSoftmaxCrossEntropyGrad", kernel=_sparse_backprop_kernel,
            infer=lambda inputs: _sparse_infer(inputs, per_class=True), num_inputs=2,
            grad=lambda op, g: [None, _softmax_vjp(softmax(op.inputs[1]), g, -1)],
            batch=_sparse_batch(_sparse_backprop_kernel))


def sparse_softmax_cross_entropy_with_logits(*, labels: Any, logits: Any, name: Optional[str] = None) -> Tensor:
    """-log_softmax(logits)[..., labels]: labels are class indices (int32/int64), classes on the last axis.

    A label outside [0, classes) is an InvalidArgumentError at run time.
    """
    return make("SparseSoftmaxCrossEntropyWithLogits", [convert_to_tensor(labels), convert_to_tensor(logits)],
                name or "SparseSoftmaxCrossEntropyWithLogits")
