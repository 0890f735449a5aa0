"""The global step: a non-trainable int64 variable counting training steps."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..dtypes import int64
from ..errors import GraphError
from ..graph import Graph, get_default_graph
from ..variables import Variable

GLOBAL_STEP = "global_step"  # the graph collection holding it (TensorFlow's GraphKeys.GLOBAL_STEP)


def get_global_step(graph: Optional[Graph] = None) -> Optional[Variable]:
    """The graph's global step variable, or None if it has none."""
    found = (graph or get_default_graph()).get_collection(GLOBAL_STEP)
    return found[0] if found else None


def create_global_step(graph: Optional[Graph] = None) -> Variable:
    """Add the global step (int64 scalar named `global_step`, starting at 0); error if it exists.

    >>> create_global_step()
    <tf.Variable 'global_step:0' shape=() dtype=int64>
    """
    graph = graph or get_default_graph()
    if get_global_step(graph) is not None:
        raise GraphError("the graph already has a global step; use get_or_create_global_step()")
    with graph.as_default(), graph.control_dependencies(None), graph.name_scope(None):
        step = Variable(np.int64(0), trainable=False, name="global_step", dtype=int64)
    graph.add_to_collection(GLOBAL_STEP, step)
    return step


def get_or_create_global_step(graph: Optional[Graph] = None) -> Variable:
    """The graph's global step, created on first use.

    >>> w = tf.Variable(1.0)
    >>> opt = tf.train.GradientDescentOptimizer(0.1)
    >>> train_op = opt.minimize(tf.square(w), global_step=get_or_create_global_step())
    >>> with tf.Session() as sess:
    ...     sess.run(tf.global_variables_initializer())
    ...     for _ in range(2):
    ...         sess.run(train_op)
    ...     sess.run(get_or_create_global_step())
    np.int64(2)
    """
    step = get_global_step(graph)
    return create_global_step(graph) if step is None else step


def global_step(sess: Any, global_step_tensor: Any) -> int:
    """The current value of the global step as a Python int."""
    return int(sess.run(global_step_tensor))
