"""A partition larger than the memory a task may use: written once to a local Arrow IPC file, memory-mapped.

:func:`~tensorframes.training.replica.load_or_spill` reads a partition's
Arrow batches. While they take at most ``spill_bytes`` it keeps them and
converts them to one numpy array per fed column. Beyond that, :func:`spill`
writes them, and every batch still to come, to an Arrow IPC file in the
executor's local directory, in chunks of about :data:`CHUNK_BYTES`, checking
each chunk's cells as it goes (nulls, shapes) so that data errors surface at
load time as before; the file is memory-mapped and unlinked at once (nothing
is left behind, even if the worker dies).

A step then reads the data from the page cache, not the Python heap
(:meth:`SpilledColumns.sums`): a full-batch step sums chunk by chunk (the
numpy arrays are views of the mapping) and adds the chunks' sums in order; a
mini-batch step gathers its rows, in the schedule's order, into one small
array. After each chunk the mapping's pages are dropped from the process
(``madvise(MADV_DONTNEED)``), so the worker's resident set stays about one
chunk plus the compute, whatever the partition's size. Chunked sums round
differently from one sum over all rows: the values agree with the in-memory
path to about 1e-15 relatively, not to the bit.
"""

from __future__ import annotations

import mmap
import os
import tempfile
from typing import Iterable, Iterator, Sequence

import numpy as np
import pyarrow as pa

from tensorframes.arrow_convert import to_numpy
from tensorframes.program import Feed
from tensorframes.training.allreduce import add_in_order

#: Fed columns of a partition above this many bytes are spilled (tfs.train(spill_bytes=...)).
SPILL_BYTES = 1 << 30
#: Bytes of rows per chunk of the spilled file (what one session run reads), at most; and at most
#: half the spill threshold, so that a small threshold means small chunks too.
CHUNK_BYTES = 64 << 20
_MIN_CHUNK_BYTES = 1 << 20


def local_dir() -> str:
    """Spark's local directory on this executor (SPARK_LOCAL_DIRS), else the system's temp directory."""
    return (os.environ.get("SPARK_LOCAL_DIRS") or tempfile.gettempdir()).split(",")[0]


def spill(kept: list[pa.RecordBatch], rest: Iterator[pa.RecordBatch], feeds: Sequence[Feed], spill_bytes: int,
          directory: str | None = None) -> "SpilledColumns":
    """Write the batches ``kept`` (emptied as they go) and the ``rest`` to a file in ``directory``; mapped."""
    directory = directory or local_dir()
    chunk_bytes = min(CHUNK_BYTES, max(spill_bytes // 2, _MIN_CHUNK_BYTES))
    fd, path = tempfile.mkstemp(dir=directory, prefix="tensorframes-partition-", suffix=".arrow")
    try:
        with os.fdopen(fd, "wb") as sink:
            with pa.ipc.new_file(sink, kept[0].schema) as writer:
                pending, size, rows = [], 0, 0
                for batch in _chain(kept, rest):
                    pending.append(batch)
                    size += batch.nbytes
                    if size >= chunk_bytes:
                        rows = _write_chunk(writer, pending, feeds, rows)
                        pending, size = [], 0
                if pending:
                    _write_chunk(writer, pending, feeds, rows)
        return SpilledColumns(path, feeds)
    finally:
        os.unlink(path)  # the mapping keeps the data; the name goes at once


def _chain(kept: list, rest: Iterator) -> Iterator[pa.RecordBatch]:
    while kept:
        yield kept.pop(0)  # dropped from memory once written
    yield from rest


def _write_chunk(writer, batches: list[pa.RecordBatch], feeds: Sequence[Feed], start: int) -> int:
    """Write ``batches`` as one record batch after checking its cells; the rows written so far."""
    chunk = pa.concat_batches(batches) if len(batches) > 1 else batches[0]
    for feed in feeds:
        to_numpy(chunk.column(feed.column), feed.spec, start)  # raises on nulls, ragged or mistyped cells
    writer.write_batch(chunk)
    return start + chunk.num_rows


class SpilledColumns:
    """The fed columns of a partition in a memory-mapped Arrow IPC file, read one chunk at a time."""

    def __init__(self, path: str, feeds: Sequence[Feed]) -> None:
        with open(path, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        self._reader = pa.ipc.open_file(pa.BufferReader(pa.py_buffer(self._map)))
        self.feeds = tuple(feeds)
        lengths = [self._reader.get_batch(i).num_rows for i in range(self._reader.num_record_batches)]
        self._starts = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])

    @property
    def rows(self) -> int:
        return int(self._starts[-1])

    def chunks(self) -> Iterator[list[np.ndarray]]:
        """One array per feed for each chunk in turn: views of the mapping, released after use."""
        for i in range(self._reader.num_record_batches):
            batch = self._reader.get_batch(i)
            yield [to_numpy(batch.column(f.column), f.spec, int(self._starts[i])) for f in self.feeds]
            del batch
            self._release()

    def take(self, rows: np.ndarray) -> list[np.ndarray]:
        """The cells of ``rows`` (partition row numbers), in that order, copied out of the mapping."""
        rows = np.asarray(rows, dtype=np.int64)
        where = np.searchsorted(self._starts, rows, side="right") - 1
        out = None
        for i, chunk in enumerate(self.chunks()):
            picked = np.flatnonzero(where == i)
            if out is None:
                out = [np.empty((len(rows),) + c.shape[1:], dtype=c.dtype) for c in chunk]
            for o, c in zip(out, chunk):
                o[picked] = c[rows[picked] - self._starts[i]]
        return out

    def sums(self, session, rows: slice | np.ndarray) -> np.ndarray:
        """``session.sums`` of the step's ``rows``: chunk by chunk (all rows) or gathered (a mini-batch)."""
        if isinstance(rows, slice):
            parts = [session.sums(chunk) for chunk in self.chunks()]
            return add_in_order(parts) if parts else np.zeros(session.width)
        return session.sums(self.take(rows))

    def _release(self) -> None:
        """Drop the mapping's pages from this process (they stay in the page cache)."""
        self._map.madvise(mmap.MADV_DONTNEED)


def resident_bytes() -> tuple[int, int]:
    """This process's resident set now and at its peak (VmRSS, VmHWM of /proc/self/status), in bytes."""
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) * 1024
    return fields.get("VmRSS", 0), fields.get("VmHWM", 0)


def reset_peak() -> None:
    """Start the peak (VmHWM) over from the current resident set: a reused Python worker's earlier tasks
    don't count. Best effort (Linux 4.0+)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
