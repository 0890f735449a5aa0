"""`tf.layers.dense` and `tf.layers.flatten`: TF 1.x's functional layers, on `get_variable`.

`dense(x, units)` opens `variable_scope(name, default_name="dense")` and
makes `kernel` and `bias` there with get_variable, so `reuse=True` (or a
reusing enclosing scope) shares them, and names match TensorFlow's
(`dense/kernel`, `dense_1/kernel`, `hidden1/bias`). The kernel defaults to
glorot_uniform, the bias to zeros. Inputs of rank > 2 are multiplied along
their last axis. `dropout(x, rate, training=)` drops only while training
(a Python bool or a bool tensor, as TF's `placeholder_with_default(False)`
flag). `conv2d`, `max_pooling2d` and `average_pooling2d` take NHWC inputs
(channels_last, TF's default) and Keras-style sizes (`kernel_size=3`,
`strides=2`, `padding="same"`).

>>> x = tf.placeholder(tf.float32, [None, 3])
>>> hidden = tf.layers.dense(x, 64, activation=tf.nn.relu, name="hidden1")
>>> [v.name for v in tf.trainable_variables()]
['hidden1/kernel:0', 'hidden1/bias:0']
"""
from __future__ import annotations

import math
from typing import Any, Callable, Optional

from .errors import DTypeError, ShapeError
from .graph import Tensor
from .init_ops import Zeros
from .ops.toolkit import convert_to_tensor
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


def _pair(value: Any, what: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and v > 0 for v in pair):
        raise ValueError(f"{what} must be a positive int or a pair of them, found {value!r}")
    return pair


def _check_format(data_format: str) -> None:
    if data_format != "channels_last":
        raise ValueError(f"only data_format='channels_last' (NHWC) is supported, found {data_format!r}")


def conv2d(inputs: Any, filters: int, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
           data_format: str = "channels_last", dilation_rate: Any = (1, 1), activation: Optional[Callable] = None,
           use_bias: bool = True, kernel_initializer: Any = None, bias_initializer: Any = None,
           kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
           kernel_constraint: Any = None, bias_constraint: Any = None, trainable: bool = True,
           name: Optional[str] = None, reuse: Any = None) -> Tensor:
    """`activation(conv2d(inputs, kernel) + bias)`, the variables `conv2d/kernel` and `/bias` by get_variable."""
    from .ops.conv import bias_add, conv2d as nn_conv2d
    _check_format(data_format)
    x = convert_to_tensor(inputs)
    if x._dims is None or len(x._dims) != 4 or x._dims[-1] is None:
        raise ShapeError(f"conv2d takes NHWC inputs with a known channel count, found {x.shape}")
    (kh, kw), (sh, sw), (dh, dw) = (_pair(kernel_size, "kernel_size"), _pair(strides, "strides"),
                                    _pair(dilation_rate, "dilation_rate"))
    with x.graph.as_default(), variable_scope(name, default_name="conv2d", reuse=reuse):
        kernel = get_variable("kernel", [kh, kw, x._dims[-1], filters], x.dtype, kernel_initializer,
                              kernel_regularizer, trainable)
        y = nn_conv2d(x, kernel, strides=[1, sh, sw, 1], padding=padding.upper(), dilations=[1, dh, dw, 1])
        if use_bias:
            bias = get_variable("bias", [filters], x.dtype, bias_initializer or Zeros(), bias_regularizer, trainable)
            y = bias_add(y, bias)
        return activation(y) if activation is not None else y


def _pooling(kind: str):
    def pool(inputs: Any, pool_size: Any, strides: Any, padding: str = "valid", data_format: str = "channels_last",
             name: Optional[str] = None) -> Tensor:
        from .ops import pooling
        _check_format(data_format)
        (ph, pw), (sh, sw) = _pair(pool_size, "pool_size"), _pair(strides, "strides")
        builder = pooling.max_pool if kind == "max" else pooling.avg_pool
        return builder(convert_to_tensor(inputs), ksize=[1, ph, pw, 1], strides=[1, sh, sw, 1],
                       padding=padding.upper(), name=name or f"{kind}_pooling2d")
    pool.__name__ = f"{kind}_pooling2d"
    pool.__doc__ = f"The {kind} over each `pool_size` window of NHWC `inputs`, moved by `strides`."
    return pool


max_pooling2d = _pooling("max")
average_pooling2d = _pooling("average")
