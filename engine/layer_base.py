"""What every layer shares: activations by name and the `Layer` base class.

Its own module below engine.layers, engine.layers_conv and engine.layers_train,
so that those import it without importing each other in a circle.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from . import nn
from .errors import GraphError
from .graph import Tensor
from .ops.toolkit import convert_to_tensor
from .variables import Variable

Activation = Callable[[Tensor], Tensor]


def _activations() -> dict[str, Optional[Activation]]:
    return {"linear": None, "relu": nn.relu, "sigmoid": nn.sigmoid, "tanh": nn.tanh, "softmax": nn.softmax}


def activation_name(activation: Any) -> str:
    """The name of a known activation ("linear" for None); ValueError otherwise."""
    if activation is None:
        return "linear"
    known = _activations()
    if isinstance(activation, str):
        if activation not in known:
            raise ValueError(f"unknown activation {activation!r}; known: {', '.join(sorted(known))}")
        return activation
    return next((name for name, fn in known.items() if fn is activation), getattr(activation, "__name__", "custom"))


def get_activation(activation: Any) -> Optional[Activation]:
    """The activation function for a name, None ("linear") or a callable."""
    if activation is None or isinstance(activation, str):
        return _activations()[activation_name(activation)]
    if callable(activation):
        return activation
    raise TypeError(f"an activation is a name or a callable, found {activation!r}")


class Layer:
    """The common part of the layers below Dense: a name scope made on first call, in one graph.

    Subclasses set `default_name` and implement `build(x)` (create variables,
    called once inside the scope) and `call(x)`; a layer whose behaviour
    depends on training sets `uses_training` and takes `call(x, training)`,
    and lists the ops training must run (moving averages) in `updates`.
    """

    default_name = "layer"
    uses_training = False

    def __init__(self, name: Optional[str] = None, seed: Optional[int] = None) -> None:
        self.name = name
        self.seed = seed
        self.updates: list = []
        self._scope: Optional[str] = None
        self._graph = None

    @property
    def built(self) -> bool:
        return self._scope is not None

    @property
    def variables(self) -> list[Variable]:
        return [v for v in vars(self).values() if isinstance(v, Variable)]

    def __call__(self, inputs: Any, **kwargs: Any) -> Tensor:
        x = convert_to_tensor(inputs)
        if not self.built:
            with x.graph.as_default(), x.graph.name_scope(self.name or self.default_name) as scope:
                self._scope, self._graph = scope, x.graph
                self.build(x)
        elif self._graph is not x.graph:
            raise GraphError(f"{type(self).__name__} '{self._scope[:-1]}' was built in another graph; "
                             "create a new layer")
        with x.graph.as_default(), x.graph.name_scope(self._scope):
            return self.call(x, **kwargs)

    def build(self, x: Tensor) -> None:
        """Create the layer's variables for inputs like `x` (none by default)."""

    def call(self, x: Tensor, **kwargs: Any) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        where = f" '{self._scope[:-1]}'" if self._scope else ""
        return f"<{type(self).__name__}{where}>"
