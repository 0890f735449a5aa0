"""Layers: callables that create their variables on first call.

`Dense(units, activation)` computes `activation(inputs @ kernel + bias)`.
Its variables live under the layer's name scope (`dense/kernel`,
`dense/bias`; a second Dense in the same graph is `dense_1/...`), and
calling the layer again reuses them. Image layers (`Conv2D`, `MaxPooling2D`,
`AveragePooling2D`, `Flatten`) live in engine.layers_conv, and `Dropout` /
`BatchNormalization`, which behave differently in training, in
engine.layers_train (on engine.layer_base); all are importable from here.

>>> x = tf.placeholder(tf.float32, [None, 3])
>>> Dense(16, activation="relu", seed=0)(x).shape
TensorShape((?, 16))
>>> [v.op.name for v in tf.trainable_variables()]
['dense/kernel', 'dense/bias']
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from . import initializers
from .initializers import derived_seed
from .errors import DTypeError, GraphError, ShapeError
from .functional_layers import (average_pooling2d, conv2d, dense, dropout, flatten,  # noqa: F401  (tf.layers.*)
                                max_pooling2d)
from .graph import Tensor
from .layer_base import Activation, Layer, activation_name, get_activation  # noqa: F401  (public here too)
from .layers_conv import AveragePooling2D, Conv2D, Flatten, MaxPooling2D
from .layers_train import BatchNormalization, Dropout
from .ops.toolkit import convert_to_tensor
from .ops.linalg import matmul
from .variables import Variable

class Dense:
    """A fully connected layer: `activation(inputs @ kernel + bias)`.

    `kernel_initializer` / `bias_initializer` are names from
    engine.initializers ("glorot_uniform", "zeros", "random_normal", ...) or
    callables `(shape, dtype) -> array`; named random initializers are seeded
    from `seed`, so a seeded layer always starts from the same weights.
    """

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 name: Optional[str] = None, seed: Optional[int] = None) -> None:
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units < 1:
            raise ValueError(f"Dense: units must be a positive integer, found {units!r}")
        self.units = int(units)
        self.activation = get_activation(activation)
        self.activation_name = activation_name(activation)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.name = name
        self.seed = seed
        self.kernel: Optional[Variable] = None
        self.bias: Optional[Variable] = None
        self._scope: Optional[str] = None

    @property
    def built(self) -> bool:
        return self.kernel is not None

    @property
    def variables(self) -> list[Variable]:
        return [v for v in (self.kernel, self.bias) if v is not None]

    def __call__(self, inputs: Any) -> Tensor:
        """`activation(linear(inputs))`."""
        return self.activate(self.linear(inputs))

    def activate(self, logits: Tensor) -> Tensor:
        """The activation applied to `logits`, under the layer's name scope."""
        if self.activation is None:
            return logits
        with logits.graph.name_scope(self._scope):
            return self.activation(logits)

    def linear(self, inputs: Any) -> Tensor:
        """`inputs @ kernel + bias`, before the activation (logits for a loss)."""
        x = convert_to_tensor(inputs)
        width = self._input_width(x)
        if not self.built:
            self._build(x, width)
        elif self.kernel.graph is not x.graph:
            raise GraphError(f"Dense '{self._scope[:-1]}' was built in another graph; create a new layer")
        elif self.kernel.shape[0] != width:
            raise ShapeError(f"Dense '{self._scope[:-1]}' expects inputs of width {self.kernel.shape[0]}, "
                             f"found {x.shape}")
        with x.graph.name_scope(self._scope):
            y = matmul(x, self.kernel)
            return y + self.bias if self.bias is not None else y

    def _input_width(self, x: Tensor) -> int:
        dims = x._dims
        if dims is None or len(dims) != 2 or dims[1] is None:
            raise ShapeError(f"Dense takes inputs of shape (batch, features) with known features, found {x.shape}")
        if not x.dtype.is_floating:
            raise DTypeError(f"Dense takes floating inputs, found {x.dtype.name}; cast them first")
        return dims[1]

    def _build(self, x: Tensor, width: int) -> None:
        kernel_init = initializers.get(self.kernel_initializer, derived_seed(self.seed, 0))
        bias_init = initializers.get(self.bias_initializer, derived_seed(self.seed, 1))
        with x.graph.as_default(), x.graph.name_scope(self.name or "dense") as scope:
            self._scope = scope
            self.kernel = Variable(kernel_init((width, self.units), x.dtype), name="kernel")
            if self.use_bias:
                self.bias = Variable(bias_init((self.units,), x.dtype), name="bias")

    def __repr__(self) -> str:
        where = f" '{self._scope[:-1]}'" if self._scope else ""
        return f"<Dense{where} units={self.units} activation={self.activation_name}>"



__all__ = ["AveragePooling2D", "BatchNormalization", "Conv2D", "Dense", "Dropout", "Flatten", "Layer", "MaxPooling2D",
           "activation_name", "get_activation"]
