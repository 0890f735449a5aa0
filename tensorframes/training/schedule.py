"""Which rows of each partition a training step reads: all of them, or a mini-batch.

A full-batch step reads every row. With a global ``batch_size``, an epoch is
``k = ceil(total_rows / batch_size)`` steps. Each partition shuffles its rows
once per epoch with a generator seeded by ``(seed, epoch, partition)``; the
i-th shuffled row of a partition of n rows sits at the fraction
``(i + 1/2) / n`` of it, all rows of all partitions are ranked by that
fraction (ties by partition), and step ``j`` of the epoch reads the ranks
``[j N / k, (j + 1) N / k)``. So every step reads ``floor`` or ``ceil`` of
``N / k`` rows, each partition gives every step its share in proportion to
its size (a contiguous run of its shuffled rows), every row is read once
per epoch, and the rows of a step depend only on the seed, the step number
and the rows per partition: a replica, the driver, a retried task and a
resumed run all pick the same ones.

>>> s = Schedule((6, 2), batch_size=4, seed=0)
>>> s.steps_per_epoch, [len(s.rows(0, p)) for p in range(2)]
(2, [3, 1])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Schedule:
    """Rows per partition, and the global mini-batch size (None: full batch)."""

    counts: tuple[int, ...]
    batch_size: int | None = None
    seed: int = 0
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def total_rows(self) -> int:
        return sum(self.counts)

    @property
    def steps_per_epoch(self) -> int:
        if self.batch_size is None:
            return 1
        return max(1, math.ceil(self.total_rows / self.batch_size))

    def rows(self, step: int, partition: int) -> slice | np.ndarray:
        """Row indices of ``partition`` that step ``step`` (from 0) reads; a slice for all rows."""
        if self.batch_size is None:
            return slice(None)
        epoch, j = divmod(step, self.steps_per_epoch)
        bounds = self._bounds(partition)
        return self._permutation(epoch, partition)[bounds[j]:bounds[j + 1]]

    def batch_rows(self, step: int) -> int:
        """Rows the step reads over all partitions."""
        k, n = self.steps_per_epoch, self.total_rows
        j = step % k
        return _ceil_div((j + 1) * n, k) - _ceil_div(j * n, k)

    def _bounds(self, partition: int) -> np.ndarray:
        """Where each step's run starts in the partition's shuffled rows (k + 1 offsets)."""
        key = ("bounds", partition)
        if key not in self._cache:
            n_p = self.counts[partition]
            i = np.arange(n_p, dtype=np.int64)
            rank = i.copy()  # rows of the same partition before row i
            for q, n_q in enumerate(self.counts):
                if q != partition and n_q:
                    rank += _rows_before(i, n_p, n_q, ties_first=q < partition)
            k = self.steps_per_epoch
            steps = rank * k // self.total_rows
            self._cache[key] = np.searchsorted(steps, np.arange(k + 1), side="left")
        return self._cache[key]

    def _permutation(self, epoch: int, partition: int) -> np.ndarray:
        key = (epoch, partition)
        if key not in self._cache:
            for old in [k for k in self._cache if k[0] not in (epoch, "bounds")]:  # one epoch at a time
                del self._cache[old]
            rng = np.random.default_rng([self.seed, epoch, partition])
            self._cache[key] = rng.permutation(self.counts[partition])
        return self._cache[key]


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _rows_before(i: np.ndarray, n_p: int, n_q: int, ties_first: bool) -> np.ndarray:
    """How many of n_q rows at fractions (i' + 1/2) / n_q lie before fraction (i + 1/2) / n_p, per i.

    In integers: odd o = 2 i' + 1 with o n_p < (2 i + 1) n_q, plus o n_p == (2 i + 1) n_q when ties_first.
    """
    m = (2 * i + 1) * n_q
    below = (m - 1) // n_p  # the largest o with o n_p < m
    count = (below + 1) // 2
    if ties_first:
        exact = (m % n_p == 0) & ((m // n_p) % 2 == 1)
        count += exact
    return np.minimum(count, n_q)
