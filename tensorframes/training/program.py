"""The training graph that ships to the executors: :class:`TrainingProgram`.

Built on the driver from the user's loss, before any Spark job, by
:func:`compile_training`: the user's graph is copied (with the current
variable values of its session) and the copy gets

- the gradient of the loss for every variable to train,
- one placeholder for the loss and one per gradient, through which the
  averaged values come back from the allreduce, and
- the optimizer's update op applied to those placeholders
  (``apply_loss_and_gradients``: the same update on every replica), with
  the optimizer's state (slots, L-BFGS memory) as initialized variables.

The user's graph is left as it was. Everything the schema tells is checked
here: the loss is a float scalar, every variable to train gets a gradient,
every placeholder the loss reads is fed by a column of its dtype and shape.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

import engine as tf
from engine import importer
from engine.errors import GradientError, GraphError
from engine.op_types import VARIABLE
from engine.shapes import format_dims
from tensorframes.errors import LossError, TrainingError
from tensorframes.program import Columns, Feed, compile_feeds

_SCOPE = "tensorframes_training"


@dataclass(frozen=True)
class TrainingProgram:
    """A training graph as plain data (tensor and op names), with its column bindings.

    ``variables`` are the variables to train, in the order their gradients
    are laid out in the flat vectors the replicas add up.
    """

    graph_def: str
    key: str
    loss: str
    gradients: tuple[str, ...]
    variables: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    loss_input: str
    gradient_inputs: tuple[str, ...]
    update: str
    feeds: tuple[Feed, ...]

    @property
    def size(self) -> int:
        """Number of trained parameters."""
        return sum(int(np.prod(s)) for s in self.shapes)


def compile_training(loss: Any, columns: Columns, optimizer: Any, feed_dict: Mapping | None,
                     var_list: Sequence | None, session: tf.Session) -> TrainingProgram:
    """Check ``loss`` against the columns and build its training graph (see the module docstring)."""
    loss, feeds = _loss_and_feeds(loss, columns, feed_dict)
    graph = loss.graph
    names = _variable_names(graph, var_list)
    values = _current_values(session, names)
    copy, copy_session = importer.load(graph.as_graph_def(values))
    with copy.as_default(), copy.name_scope(_SCOPE):
        by_name = {v.op.name: v for v in tf.global_variables(copy)}
        try:
            pairs = optimizer.compute_gradients(copy.get_tensor_by_name(loss.name), [by_name[n] for n in names])
        except GradientError as e:
            raise LossError(str(e)) from None
        loss_input = tf.placeholder(loss.dtype, (), name="loss")
        grad_inputs = [tf.placeholder(v.dtype, v.shape, name=f"gradient_{i}") for i, (_, v) in enumerate(pairs)]
        update = optimizer.apply_loss_and_gradients(loss_input, list(zip(grad_inputs, [v for _, v in pairs])))
        fresh = [v for v in tf.global_variables(copy) if v.op.name not in values]
        copy_session.run(tf.variables_initializer(fresh))
    text = copy.as_graph_def(copy_session.export_variables()).to_json()
    return TrainingProgram(
        graph_def=text, key=hashlib.sha256(text.encode()).hexdigest(), loss=loss.name,
        gradients=tuple(g.name for g, _ in pairs), variables=tuple(names),
        shapes=tuple(tuple(v.shape.dims) for _, v in pairs), loss_input=loss_input.name,
        gradient_inputs=tuple(p.name for p in grad_inputs), update=update.name, feeds=feeds)


def _loss_and_feeds(loss: Any, columns: Columns, feed_dict: Mapping | None) -> tuple[tf.Tensor, tuple[Feed, ...]]:
    tensors, feeds = compile_feeds(loss, columns, feed_dict, rows=False)
    if len(tensors) != 1:
        raise LossError(f"train() minimizes one loss, found {len(tensors)} tensors; add them up into one")
    t = tensors[0]
    if not t.dtype.is_floating or t._dims != ():
        raise LossError(f"the loss must be a float scalar, found '{t.name}' of dtype {t.dtype.name} and shape "
                        f"{format_dims(t._dims)}; reduce it over the rows (e.g. tf.reduce_mean)")
    if not feeds:
        raise LossError(f"the loss '{t.name}' reads no placeholder, so no column of the DataFrame: "
                        "there is nothing to train on; build it from tfs.block(df, column) placeholders")
    return t, feeds


def _variable_names(graph: tf.Graph, var_list: Sequence | None) -> list[str]:
    variables = tf.trainable_variables(graph) if var_list is None else list(var_list)
    if not variables:
        raise LossError("there is nothing to train: the graph has no trainable variables and var_list is empty")
    names = []
    for v in variables:
        name = v if isinstance(v, str) else getattr(getattr(v, "op", None), "name", None)
        try:
            op = graph.get_operation_by_name(name)
        except (GraphError, TypeError):
            op = None
        if op is None or op.type != VARIABLE or getattr(v, "graph", graph) is not graph:
            raise LossError(f"var_list holds {v!r}, which is not a variable of the loss's graph")
        names.append(name)
    return names


def _current_values(session: tf.Session, names: Sequence[str]) -> dict[str, np.ndarray]:
    """Every initialized variable's value in ``session``."""
    values = session.export_variables()
    missing = [n for n in names if n not in values]
    if missing:
        raise TrainingError(f"variable(s) {missing} have no value in the session yet; run "
                            "tf.global_variables_initializer() (or load values) before training")
    return values
