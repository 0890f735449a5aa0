"""`tf.contrib`: the few `tf.contrib.layers` helpers TF 1.x tutorials lean on, nothing else of contrib.

>>> w = tf.get_variable("w", [784, 10], initializer=tf.contrib.layers.xavier_initializer())
>>> w.shape
TensorShape((784, 10))
"""
from __future__ import annotations

import types
from typing import Any, Callable, Optional

from . import dtypes
from .functional_layers import dense, flatten
from .graph import Tensor
from .init_ops import VarianceScaling
from .ops.math import abs as abs_
from .ops.nn import l2_loss, relu
from .ops.reduction import reduce_sum


def xavier_initializer(uniform: bool = True, seed: Optional[int] = None, dtype: Any = dtypes.float32):
    """Glorot/Xavier: uniform in ±sqrt(6 / (fan_in + fan_out)), or a truncated normal of the same variance."""
    return VarianceScaling(1.0, "fan_avg", "uniform" if uniform else "truncated_normal", seed, dtype)


def variance_scaling_initializer(factor: float = 2.0, mode: str = "FAN_IN", uniform: bool = False,
                                 seed: Optional[int] = None, dtype: Any = dtypes.float32):
    """contrib's He-style initializer (factor 2, fan in, truncated normal by default)."""
    return VarianceScaling(factor, {"FAN_IN": "fan_in", "FAN_OUT": "fan_out", "FAN_AVG": "fan_avg"}[mode],
                           "uniform" if uniform else "truncated_normal", seed, dtype)


def _check_scale(scale: float) -> None:
    if scale < 0.0:
        raise ValueError(f"regularizer scale must be >= 0, found {scale}")


def l2_regularizer(scale: float, scope: Optional[str] = None) -> Callable[[Any], Optional[Tensor]]:
    """w -> scale * l2_loss(w) (half the sum of squares); scale 0 gives no loss."""
    _check_scale(scale)
    return lambda w: None if scale == 0.0 else l2_loss(w) * scale


def l1_regularizer(scale: float, scope: Optional[str] = None) -> Callable[[Any], Optional[Tensor]]:
    """w -> scale * sum(|w|); scale 0 gives no loss."""
    _check_scale(scale)
    return lambda w: None if scale == 0.0 else reduce_sum(abs_(w)) * scale


def fully_connected(inputs: Any, num_outputs: int, activation_fn: Optional[Callable] = relu,
                    weights_initializer: Any = None, weights_regularizer: Any = None, biases_initializer: Any = None,
                    biases_regularizer: Any = None, reuse: Any = None, trainable: bool = True,
                    scope: Optional[str] = None, **unused: Any) -> Tensor:
    """contrib's dense layer: ReLU by default, variables `fully_connected/weights` and `/biases`."""
    return dense(inputs, num_outputs, activation_fn, kernel_initializer=weights_initializer or xavier_initializer(),
                 bias_initializer=biases_initializer, kernel_regularizer=weights_regularizer,
                 bias_regularizer=biases_regularizer, trainable=trainable,
                 name=scope or "fully_connected", reuse=reuse)


layers = types.SimpleNamespace(xavier_initializer=xavier_initializer, xavier_initializer_conv2d=xavier_initializer,
                               variance_scaling_initializer=variance_scaling_initializer,
                               l1_regularizer=l1_regularizer, l2_regularizer=l2_regularizer,
                               fully_connected=fully_connected, flatten=flatten)
