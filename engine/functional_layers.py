"""`tf.layers.dense` and `tf.layers.flatten`: TF 1.x's functional layers, on `get_variable`.

`dense(x, units)` opens `variable_scope(name, default_name="dense")` and
makes `kernel` and `bias` there with get_variable, so `reuse=True` (or a
reusing enclosing scope) shares them, and names match TensorFlow's
(`dense/kernel`, `dense_1/kernel`, `hidden1/bias`). The kernel defaults to
glorot_uniform, the bias to zeros. Inputs of rank > 2 are multiplied along
their last axis. `dropout(x, rate, training=)` drops only while training
(a Python bool or a bool tensor, as TF's `placeholder_with_default(False)`
flag). (The conv/pool functional forms are not here: see the README's TF
1.x table.)

>>> hidden = dense(x, 64, activation=nn.relu, name="hidden1")  # doctest: +SKIP
"""
from __future__ import annotations

import math
from typing import Any, Callable, Optional

from .errors import DTypeError, ShapeError
from .graph import Tensor
from .init_ops import Zeros
from .ops._util import convert_to_tensor
from .ops.array import reshape
from .ops.composite import tensordot
from .ops.linalg import matmul
from .variable_scope import get_variable, variable_scope


def dense(inputs: Any, units: int, activation: Optional[Callable] = None, use_bias: bool = True,
          kernel_initializer: Any = None, bias_initializer: Any = None, kernel_regularizer: Any = None,
          bias_regularizer: Any = None, activity_regularizer: Any = None, kernel_constraint: Any = None,
          bias_constraint: Any = None, trainable: bool = True, name: Optional[str] = None,
          reuse: Any = None) -> Tensor:
    """`activation(inputs @ kernel + bias)` with the variables made (or reused) by get_variable."""
    x = convert_to_tensor(inputs)
    if not x.dtype.is_floating:
        raise DTypeError(f"dense takes floating inputs, found {x.dtype.name}; cast them first")
    if x._dims is None or len(x._dims) < 2 or x._dims[-1] is None:
        raise ShapeError(f"dense: the last dimension of the inputs should be defined, found {x.shape}")
    if not isinstance(units, int) or isinstance(units, bool) or units < 1:
        raise ValueError(f"dense: units must be a positive integer, found {units!r}")
    with x.graph.as_default(), variable_scope(name, default_name="dense", reuse=reuse):
        kernel = get_variable("kernel", [x._dims[-1], units], x.dtype, kernel_initializer, kernel_regularizer,
                              trainable)
        y = matmul(x, kernel) if len(x._dims) == 2 else tensordot(x, kernel, 1)
        if use_bias:
            bias = get_variable("bias", [units], x.dtype, bias_initializer or Zeros(), bias_regularizer, trainable)
            y = y + bias
        y = activation(y) if activation is not None else y
        if activity_regularizer is not None:
            from .variable_scope import GraphKeys, add_to_collection
            add_to_collection(GraphKeys.REGULARIZATION_LOSSES, activity_regularizer(y))
        return y


def flatten(inputs: Any, name: Optional[str] = None, data_format: str = "channels_last") -> Tensor:
    """`inputs` as a matrix: the first (batch) axis kept, the others (known sizes) flattened into one."""
    x = convert_to_tensor(inputs)
    if x._dims is None or len(x._dims) < 1 or None in x._dims[1:]:
        raise ShapeError(f"flatten needs all dims but the first to be known, found {x.shape}")
    with x.graph.as_default():
        return reshape(x, [-1 if x._dims[0] is None else x._dims[0], math.prod(x._dims[1:])],
                       name=name or "flatten")


def dropout(inputs: Any, rate: float = 0.5, noise_shape: Any = None, seed: Optional[int] = None,
            training: Any = False, name: Optional[str] = None) -> Tensor:
    """`nn.dropout(inputs, rate=rate)` while `training` (a bool or a bool tensor), else `inputs` unchanged."""
    from .control_flow import cond
    from .ops.core import identity
    from .ops.dropout import dropout as nn_dropout
    x = convert_to_tensor(inputs)
    with x.graph.as_default(), x.graph.name_scope(name or "dropout"):
        return cond(training, lambda: nn_dropout(x, noise_shape=noise_shape, seed=seed, rate=rate),
                    lambda: identity(x))
