"""TensorBoard logging of ``tfs.train``: the loss and pace of every step, and the model's graph.

``tfs.train(..., logdir="logs/run1")`` writes an event file there
(engine.summary.FileWriter): scalars ``loss`` and ``rows_per_second`` at
each step number and, once, the graph the loss belongs to. Then
``tensorboard --logdir logs``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from engine.summary import FileWriter
from engine.tf_graphdef import protos
from tensorframes.training.progress import StepInfo


class TrainingBoard:
    """Writes each reported step to an event file in ``logdir``; pass it as (or with) the step callback."""

    def __init__(self, logdir: str | Path, graph: Any, callback: Callable[[StepInfo], object] | None = None) -> None:
        self.writer = FileWriter(logdir, graph=graph)
        self.callback = callback
        self._summary = protos.module("summary_pb2").Summary

    def __call__(self, info: StepInfo) -> None:
        values = [self._summary.Value(tag="loss", simple_value=info.loss),
                  self._summary.Value(tag="rows_per_second", simple_value=info.rows_per_second)]
        self.writer.add_summary(self._summary(value=values), info.step)
        if self.callback is not None:
            self.callback(info)

    def close(self) -> None:
        self.writer.close()
