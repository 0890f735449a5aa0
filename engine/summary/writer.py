"""`FileWriter`: TensorBoard event files (`events.out.tfevents.*`) in a log directory.

An event file is a sequence of TFRecords (engine.summary.records), each a
serialized `Event`: first the file version, then summaries with their step
and wall time, and graphs. Records are written whole and flushed every
`flush_secs` and on `flush()`/`close()`, so TensorBoard can read a run
while it is being written.
"""
from __future__ import annotations

import itertools
import os
import socket
import time
from pathlib import Path
from typing import Any, Optional

import numpy as np

from ..errors import GraphDefError
from ..tf_graphdef import protos
from .records import read_records, write_record

FILE_VERSION = "brain.Event:2"
_counter = itertools.count()


def _event(**fields: Any) -> Any:
    event = protos.module("event_pb2").Event(wall_time=time.time())
    for key, value in fields.items():
        if key == "summary":
            event.summary.CopyFrom(value)
        else:
            setattr(event, key, value)
    return event


def as_summary(summary: Any) -> Any:
    """A Summary message from one (of tensorboard or tensorflow), its bytes, or a fetched summary tensor."""
    if isinstance(summary, np.ndarray) and summary.dtype == object and summary.ndim == 0:
        summary = summary.item()
    if protos.is_message(summary, "Summary"):
        return summary
    if not isinstance(summary, (bytes, bytearray)):
        raise TypeError(f"add_summary takes a Summary, its serialized bytes or a fetched summary tensor, "
                        f"found {type(summary).__name__}")
    from google.protobuf.message import DecodeError
    try:
        return protos.module("summary_pb2").Summary.FromString(bytes(summary))
    except DecodeError as e:
        raise ValueError(f"add_summary: the bytes are not a serialized Summary ({e})") from None


class FileWriter:
    """Writes summaries and graphs of a run to a new event file in `logdir` (TensorFlow 1.x's API).

    >>> import tempfile, engine as tf
    >>> with tf.Graph().as_default() as graph, FileWriter(tempfile.mkdtemp(), graph) as writer:
    ...     step_loss = tf.Session().run(tf.summary.scalar("loss", tf.constant(0.25)))
    ...     writer.add_summary(step_loss, global_step=1)
    >>> [e.summary.value[0].simple_value for e in summary_iterator(writer.path) if e.step == 1]
    [0.25]
    """

    def __init__(self, logdir: str | os.PathLike, graph: Any = None, max_queue: int = 10, flush_secs: float = 120,
                 graph_def: Any = None, filename_suffix: Optional[str] = None, session: Any = None) -> None:
        self._logdir = str(logdir)
        self.flush_secs = flush_secs
        Path(self._logdir).mkdir(parents=True, exist_ok=True)
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}."
                f"{next(_counter)}{filename_suffix or ''}")
        self.path = os.path.join(self._logdir, name)
        self._file: Any = open(self.path, "xb")
        self._last_flush = time.monotonic()
        self.add_event(_event(file_version=FILE_VERSION))
        self.flush()
        if graph is not None or graph_def is not None:
            self.add_graph(graph, graph_def=graph_def)

    def get_logdir(self) -> str:
        return self._logdir

    def add_event(self, event: Any) -> None:
        """Append an Event message."""
        if self._file is None:
            raise ValueError(f"the FileWriter of {self.path} is closed")
        write_record(self._file, event.SerializeToString())
        if time.monotonic() - self._last_flush >= self.flush_secs:
            self.flush()

    def add_summary(self, summary: Any, global_step: Optional[int] = None) -> None:
        """Append a summary (what `sess.run(summary_op)` returned, or a Summary message) at `global_step`."""
        self.add_event(_event(summary=as_summary(summary), step=int(global_step or 0)))

    def add_graph(self, graph: Any, global_step: Optional[int] = None, graph_def: Any = None) -> None:
        """Append a graph (engine Graph or GraphDef, or a TensorFlow GraphDef message) for TensorBoard's
        Graphs tab; ops TensorFlow has no twin for are drawn under their engine type."""
        from ..tf_graphdef import as_message
        source = graph_def if graph_def is not None else graph
        try:
            message = as_message(source, strict=False)
        except GraphDefError as e:
            raise GraphDefError(f"add_graph: {e}") from None
        self.add_event(_event(graph_def=message.SerializeToString(), step=int(global_step or 0)))

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()
            self._last_flush = time.monotonic()

    def close(self) -> None:
        """Flush and close the file; closing twice is fine."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> "FileWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def summary_iterator(path: str | os.PathLike) -> Any:
    """The Event messages of event file `path` (`tf.train.summary_iterator`); checksums are verified."""
    event_class = protos.module("event_pb2").Event
    for data in read_records(path):
        yield event_class.FromString(data)
