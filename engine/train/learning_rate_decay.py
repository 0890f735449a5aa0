"""Learning-rate schedules of TF 1.x (`tf.train.exponential_decay` and co.) as graph ops of the global step.

Each returns a float32 scalar tensor computed from `global_step` when the
graph runs, so an optimizer given it uses the rate of the current step.

>>> step = tf.train.get_or_create_global_step()
>>> lr = tf.train.exponential_decay(0.1, step, 1000, 0.5, staircase=True)
>>> sess = tf.Session(); sess.run(step.initializer); sess.run(step.assign(2500))
array(2500)
>>> round(float(sess.run(lr)), 6)
0.025
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, Optional, Sequence

from .. import dtypes
from ..graph import Tensor
from ..ops.toolkit import convert_to_tensor
from ..ops.compare import less_equal, minimum, where
from ..ops.core import constant
from ..ops.math import cast, ceil, exp, floor, pow


def _step(global_step: Any, dtype=dtypes.float32) -> Tensor:
    if global_step is None:
        raise ValueError("global_step is required (e.g. tf.train.get_or_create_global_step())")
    return cast(convert_to_tensor(global_step), dtype)


def _ratio(global_step: Any, decay_steps: float, staircase: bool) -> Tensor:
    p = _step(global_step) / float(decay_steps)
    return floor(p) if staircase else p


def exponential_decay(learning_rate: float, global_step: Any, decay_steps: float, decay_rate: float,
                      staircase: bool = False, name: Optional[str] = None) -> Tensor:
    """learning_rate * decay_rate ** (global_step / decay_steps) (the exponent floored with staircase)."""
    with _scope(global_step, name, "ExponentialDecay"):
        return constant(float(learning_rate)) * pow(constant(float(decay_rate)),
                                                    _ratio(global_step, decay_steps, staircase))


def natural_exp_decay(learning_rate: float, global_step: Any, decay_steps: float, decay_rate: float,
                      staircase: bool = False, name: Optional[str] = None) -> Tensor:
    """learning_rate * exp(-decay_rate * global_step / decay_steps)."""
    with _scope(global_step, name, "NaturalExpDecay"):
        return float(learning_rate) * exp(-float(decay_rate) * _ratio(global_step, decay_steps, staircase))


def inverse_time_decay(learning_rate: float, global_step: Any, decay_steps: float, decay_rate: float,
                       staircase: bool = False, name: Optional[str] = None) -> Tensor:
    """learning_rate / (1 + decay_rate * global_step / decay_steps)."""
    with _scope(global_step, name, "InverseTimeDecay"):
        return float(learning_rate) / (1.0 + float(decay_rate) * _ratio(global_step, decay_steps, staircase))


def polynomial_decay(learning_rate: float, global_step: Any, decay_steps: float, end_learning_rate: float = 0.0001,
                     power: float = 1.0, cycle: bool = False, name: Optional[str] = None) -> Tensor:
    """(lr - end) * (1 - step / decay_steps) ** power + end, the step capped at decay_steps (or cycling)."""
    with _scope(global_step, name, "PolynomialDecay"):
        step = _step(global_step)
        if cycle:
            multiplier = where(less_equal(step, 0.0), 1.0, ceil(step / float(decay_steps)))
            steps = float(decay_steps) * multiplier
        else:
            steps, step = constant(float(decay_steps)), minimum(step, float(decay_steps))
        fraction = pow(1.0 - step / steps, float(power))
        return (float(learning_rate) - float(end_learning_rate)) * fraction + float(end_learning_rate)


def piecewise_constant(x: Any, boundaries: Sequence[Any], values: Sequence[float],
                       name: Optional[str] = None) -> Tensor:
    """values[0] while x <= boundaries[0], values[1] while x <= boundaries[1], ..., values[-1] after."""
    if len(values) != len(boundaries) + 1:
        raise ValueError(f"piecewise_constant needs one more value than boundaries, found {len(values)} values "
                         f"and {len(boundaries)} boundaries")
    with _scope(x, name, "PiecewiseConstant"):
        step = _step(x, dtypes.float64)
        out = constant(float(values[-1]))
        for boundary, value in reversed(list(zip(boundaries, values))):
            out = where(less_equal(step, float(boundary)), float(value), out)
        return out


@contextlib.contextmanager
def _scope(step: Any, name: Optional[str], default: str) -> Iterator[None]:
    """The step's graph as the default, and a name scope for the schedule's ops."""
    if step is None:
        raise ValueError("global_step is required (e.g. tf.train.get_or_create_global_step())")
    graph = convert_to_tensor(step).graph
    with graph.as_default(), graph.name_scope(name or default):
        yield
