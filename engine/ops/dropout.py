"""`dropout`: zero each element with probability `rate`, scale the rest by 1 / keep_prob.

Built as TensorFlow 1.x builds it, `x / keep_prob * floor(keep_prob + U[0, 1))`,
on the seeded `random_uniform` of engine.ops.random, so the graph-level and
op-level seeds (engine.random_seed) make a dropout mask reproducible, and a
shipped GraphDef draws the same masks in another process. `keep_prob` may be
a tensor (TensorFlow 1.x programs feed 1.0 at inference); the Dropout layer
switches it off with a training flag instead.
"""
from __future__ import annotations

import numbers
from typing import Any, Optional

from ..errors import InvalidArgumentError
from ..graph import Tensor, get_default_graph
from .toolkit import convert_to_tensor, is_tensor_like
from .array import shape
from .math import floor
from .random import random_uniform


def keep_probability(keep_prob: Any, rate: Any) -> Any:
    """`keep_prob`, or `1 - rate` (TensorFlow's later argument); exactly one of them is given."""
    if (keep_prob is None) == (rate is None):
        raise InvalidArgumentError("dropout takes keep_prob or rate=, exactly one of them")
    if rate is not None:
        if is_tensor_like(rate):
            return 1 - convert_to_tensor(rate)
        keep_prob = 1.0 - rate
    if isinstance(keep_prob, numbers.Real) and not 0 < keep_prob <= 1:
        given = f"rate={rate}" if rate is not None else f"keep_prob={keep_prob}"
        raise InvalidArgumentError(f"dropout keeps a fraction in (0, 1] of the values (rate in [0, 1)), found {given}")
    return keep_prob


def dropout(x: Any, keep_prob: Any = None, noise_shape: Any = None, seed: Optional[int] = None,
            name: Optional[str] = None, rate: Any = None) -> Tensor:
    """`x` with each element kept with probability `keep_prob` (scaled by 1 / keep_prob), else zero.

    `noise_shape` (broadcastable to x's shape) shares one mask entry along the
    dims where it is 1. keep_prob = 1 returns `x` itself.

    >>> h = dropout(tf.ones([2, 1000]), rate=0.5, seed=1)
    >>> values = tf.Session().run(h)
    >>> sorted(set(values.ravel().tolist())), bool(0.9 < values.mean() < 1.1)  # kept ones scaled by 2
    ([0.0, 2.0], True)
    """
    x = convert_to_tensor(x)
    keep = keep_probability(keep_prob, rate)
    if isinstance(keep, numbers.Real) and keep == 1:
        return x
    with x.graph.as_default(), get_default_graph().name_scope(name or "dropout"):
        keep = convert_to_tensor(keep, x.dtype, name="keep_prob")
        if noise_shape is None:
            static = x._dims
            noise_shape = list(static) if static is not None and None not in static else shape(x)
        mask = floor(keep + random_uniform(noise_shape, dtype=x.dtype, seed=seed))
        return x / keep * mask
