"""Keras-style callbacks for `Model.fit`, and `TensorBoard`, which logs a fit for TensorBoard.

A callback gets `set_model(model)`, then `on_train_begin()`, `on_epoch_end(epoch,
logs)` after every epoch (logs: `loss`, metrics and their `val_` twins) and
`on_train_end()`, also when training stops early or fails.

>>> import tempfile, numpy as np, engine as tf
>>> from engine.layers import Dense
>>> model = tf.Sequential([Dense(1)], seed=0)
>>> model.compile("sgd", "mse")
>>> logdir = tempfile.mkdtemp()
>>> history = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=2, verbose=0, callbacks=[TensorBoard(logdir)])
>>> sorted(os.listdir(logdir))
['train']
"""
from __future__ import annotations

import os
from typing import Any, Optional


class Callback:
    """Base class: override the hooks you need."""

    model: Any = None

    def set_model(self, model: Any) -> None:
        self.model = model

    def on_train_begin(self, logs: Optional[dict] = None) -> None:
        """Before the first epoch."""

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        """After epoch `epoch` (from 0) with its results."""

    def on_train_end(self, logs: Optional[dict] = None) -> None:
        """After the last epoch, or when fit stops for any reason."""


class TensorBoard(Callback):
    """Writes a fit's curves as Keras does: `log_dir/train` (`epoch_loss`, `epoch_<metric>`) and
    `log_dir/validation` (the `val_` values), the model's graph, and every `histogram_freq`
    epochs a histogram of each weight.
    """

    def __init__(self, log_dir: str | os.PathLike = "logs", histogram_freq: int = 0, write_graph: bool = True) -> None:
        self.log_dir, self.histogram_freq, self.write_graph = str(log_dir), histogram_freq, write_graph
        self._writers: dict[str, Any] = {}

    def _writer(self, run: str) -> Any:
        if run not in self._writers:
            from .summary import FileWriter
            self._writers[run] = FileWriter(os.path.join(self.log_dir, run))
        return self._writers[run]

    def on_train_begin(self, logs: Optional[dict] = None) -> None:
        if self.write_graph:
            self._writer("train").add_graph(self.model.graph)

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        from .summary.buckets import histogram_proto
        from .tf_graphdef import protos
        summary_class = protos.module("summary_pb2").Summary
        for key, value in (logs or {}).items():
            run, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            summary = summary_class(value=[summary_class.Value(tag=f"epoch_{name}", simple_value=float(value))])
            self._writer(run).add_summary(summary, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            values = [summary_class.Value(tag=v.op.name, histo=histogram_proto(w))
                      for v, w in zip(self.model.weights, self.model.get_weights())]
            self._writer("train").add_summary(summary_class(value=values), epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs: Optional[dict] = None) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
