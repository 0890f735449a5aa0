"""The per-replica math: a partition as numpy, its sums, and the averaged update.

Pure numpy and engine (no Spark), so it is tested on its own and used the
same way by both modes:

- :func:`load_partition` turns a partition's Arrow batches into one numpy
  array per fed column, once; :func:`load_or_spill` does so up to a size and
  writes a larger partition to a memory-mapped file instead
  (:mod:`~tensorframes.training.spill`).
- :meth:`TrainingSession.sums` gives, for the rows it is fed, the vector
  ``[rows, rows * loss, rows * gradients...]``. For a loss that is the mean
  over the fed rows (plus any term without data, e.g. a penalty), ``rows *
  loss`` is the sum of the per-row losses plus ``rows`` times that term, and
  likewise for the gradients; summed over every replica and divided by the
  total row count this is exactly the loss and gradient of the whole data.
- :meth:`Replica.sums` restarts the random ops on the stream of its
  partition and step first (see :mod:`engine.random_seed`).
- :meth:`TrainingSession.apply` divides such a total by its row count and
  runs the optimizer's update with it, so every replica that applies the
  same total makes the same step.
"""

from __future__ import annotations

from typing import Iterable, Iterator, Sequence

import numpy as np
import pyarrow as pa

from engine import importer
from tensorframes.arrow_convert import to_numpy
from tensorframes.errors import ShapeMismatchError
from tensorframes.program import Feed
from tensorframes.training.program import TrainingProgram
from tensorframes.training.schedule import Schedule
from tensorframes.training.spill import SpilledColumns, spill


#: Entries of a sums vector before the gradients: the row count and the loss sum.
HEADER = 2


def load_partition(batches: Iterable[pa.RecordBatch], feeds: Sequence[Feed]) -> list[np.ndarray]:
    """One array ``(rows,) + cell shape`` per feed, from all the batches of a partition."""
    blocks: list[list[np.ndarray]] = [[] for _ in feeds]
    start = 0
    for batch in batches:
        for block, feed in zip(blocks, feeds):
            block.append(to_numpy(batch.column(feed.column), feed.spec, start))
        start += batch.num_rows
    return [_concatenate(block, feed) for block, feed in zip(blocks, feeds)]


def load_or_spill(batches: Iterable[pa.RecordBatch], feeds: Sequence[Feed],
                  spill_bytes: int | None) -> list[np.ndarray] | SpilledColumns:
    """:func:`load_partition`, or the partition spilled once its batches take more than ``spill_bytes``."""
    batches = iter(batches)
    kept, size = [], 0
    for batch in batches:
        kept.append(batch)
        size += batch.nbytes
        if spill_bytes is not None and size > spill_bytes:
            return spill(kept, batches, feeds, spill_bytes)
    return load_partition(kept, feeds)


def partition_rows(columns: list[np.ndarray] | SpilledColumns) -> int:
    """Rows of a loaded partition."""
    return columns.rows if isinstance(columns, SpilledColumns) else len(columns[0])


def _concatenate(blocks: list[np.ndarray], feed: Feed) -> np.ndarray:
    if not blocks:
        return np.zeros((0,) + tuple(d or 0 for d in feed.spec.cell_shape), dtype=feed.spec.dtype)
    if len(blocks) == 1:
        return blocks[0]
    shapes = {b.shape[1:] for b in blocks if len(b)}
    if len(shapes) > 1:
        raise ShapeMismatchError(f"column {feed.spec.name!r} is ragged: its cells have the shapes "
                                 f"{sorted(shapes)} in different batches; tensorframes needs one fixed shape "
                                 "per column", feed.spec.name)
    return np.concatenate(blocks)


class TrainingSession:
    """A loaded :class:`TrainingProgram`: sums over fed rows, averaged updates, variable values."""

    def __init__(self, program: TrainingProgram) -> None:
        graph, self.session = importer.load(program.graph_def)
        tensor = graph.get_tensor_by_name
        self.program = program
        self._fetches = [tensor(program.loss)] + [tensor(n) for n in program.gradients]
        self._feeds = [tensor(f.placeholder) for f in program.feeds]
        self._loss_input = tensor(program.loss_input)
        self._gradient_inputs = [tensor(n) for n in program.gradient_inputs]
        self._update = graph.get_operation_by_name(program.update)
        self._ends = np.cumsum([int(np.prod(s)) for s in program.shapes])[:-1]

    @property
    def width(self) -> int:
        """Length of a sums vector."""
        return HEADER + self.program.size

    def sums(self, columns: Sequence[np.ndarray]) -> np.ndarray:
        """``[rows, rows * loss, rows * gradients...]`` for the rows in ``columns`` (zeros for none)."""
        out = np.zeros(self.width)
        rows = len(columns[0])
        if rows:
            loss, *grads = self.session.run(self._fetches, dict(zip(self._feeds, columns)))
            out[0], out[1] = rows, rows * loss
            out[HEADER:] = np.concatenate([np.ravel(g) for g in grads])
            out[HEADER:] *= rows
        return out

    def apply(self, total: np.ndarray) -> tuple[float, bool]:
        """Apply the update for a sum of sums vectors; the mean loss, and whether any variable changed."""
        mean = total[1:] / total[0]
        grads = np.split(mean[1:], self._ends)
        feed = {self._loss_input: mean[0]}
        for placeholder, g, shape in zip(self._gradient_inputs, grads, self.program.shapes):
            feed[placeholder] = g.reshape(shape).astype(placeholder.dtype.np, copy=False)
        before = dict(self.session.variables)
        self.session.run(self._update, feed)
        after = self.session.variables
        return float(mean[0]), any(not np.array_equal(after[k], v) for k, v in before.items())

    def parameters(self) -> dict[str, np.ndarray]:
        """The values of the trained variables."""
        return {n: self.session.variables[n] for n in self.program.variables}

    def state(self) -> dict[str, np.ndarray]:
        """Every variable's value: the trained ones and the optimizer's."""
        return self.session.export_variables()

    def load(self, values: dict[str, np.ndarray]) -> None:
        self.session.load_variables(values)


class Replica:
    """A training session with the rows of one partition, read by the schedule's steps."""

    def __init__(self, session: TrainingSession, columns: list[np.ndarray] | SpilledColumns, partition: int,
                 schedule: Schedule) -> None:
        self.session, self.columns, self.partition, self.schedule = session, columns, partition, schedule

    def sums(self, step: int) -> np.ndarray:
        """The sums vector of this partition's rows for step ``step`` (from 0).

        Random ops (dropout) draw the stream ``(partition, step)`` from their seeds, so the
        sums are a function of the step, the partition and the variables: the same in both
        modes, in a retried task, whatever the worker ran before; distinct across partitions.
        """
        self.session.session.reset_kernel_state((self.partition, step))
        rows = self.schedule.rows(step, self.partition)
        if isinstance(self.columns, SpilledColumns):
            return self.columns.sums(self.session, rows)
        return self.session.sums([c[rows] for c in self.columns])

    def first_non_finite(self, step: int) -> tuple[str, int, float] | None:
        """(column, row, value) of the first NaN or inf that this partition's rows of step ``step`` feed
        (lowest row, then first fed column), or None when they feed none.

        The rows are read again: this is for the error of a step whose sums
        are not finite, never for a step that goes well.
        """
        for rows, cells in self._step_cells(step):
            best = None
            for feed, values in zip(self.session.program.feeds, cells):
                flat = values.reshape(len(values), -1)
                bad = ~np.isfinite(flat).all(axis=1) if flat.dtype.kind in "fc" else np.zeros(len(flat), bool)
                if bad.any() and (best is None or np.argmax(bad) < best[0]):
                    i = int(np.argmax(bad))
                    best = (i, feed.spec.name, float(flat[i][~np.isfinite(flat[i])][0]))
            if best is not None:
                return best[1], int(rows[best[0]]), best[2]
        return None

    def _step_cells(self, step: int) -> Iterator[tuple[np.ndarray, list[np.ndarray]]]:
        """The rows of step ``step`` in increasing order, in pieces: (their row numbers, one array per feed).

        A spilled partition's full batch comes chunk by chunk, so it is never held whole.
        """
        rows = self.schedule.rows(step, self.partition)
        spilled = isinstance(self.columns, SpilledColumns)
        if not isinstance(rows, slice):
            rows = np.sort(rows)
            yield rows, self.columns.take(rows) if spilled else [c[rows] for c in self.columns]
        elif not spilled:
            yield np.arange(partition_rows(self.columns)), self.columns
        else:
            start = 0
            for chunk in self.columns.chunks():
                yield np.arange(start, start + len(chunk[0])), chunk
                start += len(chunk[0])
