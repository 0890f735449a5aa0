"""Driver-averaged training: one Spark job per step, the update on the driver.

The fed columns are persisted for the training (and unpersisted after).
A first job counts the rows of every partition and checks their data; then
each step is one ``mapInArrow`` job over the persisted columns: every task
loads the current trained values into its (cached) training graph, sums
loss and gradients over its rows of the step and returns them; the driver
adds the partitions' sums up in partition order and applies the update to
its own copy of the training graph. Only DataFrame APIs are used, so this
runs under Spark Connect too.

Retries can't change the result: a step's job is a pure function of the
values it ships, a retried task recomputes the same sums, the driver keeps
exactly one result per partition and updates only once it has all of them
(a failed job leaves the driver's state as it was). A task whose sums are
not finite relays why instead (:func:`~tensorframes.training.loop.explain_non_finite`).
"""

from __future__ import annotations

from functools import partial
from typing import Callable, Iterator

import numpy as np
import pyarrow as pa
from pyspark import TaskContext
from pyspark.sql import DataFrame

from tensorframes.errors import EmptyDataFrameError, TrainingError
from tensorframes.program_cache import ProgramCache
from tensorframes.spark_columns import fed_columns
from tensorframes.training.allreduce import add_in_order
from tensorframes.training.cancel import CancelScope
from tensorframes.training.faults import maybe_fail
from tensorframes.training.loop import Outcome, StopRule, explain_non_finite, run_steps
from tensorframes.training.options import BarrierOptions
from tensorframes.training.program import TrainingProgram
from tensorframes.training.progress import Progress, StepInfo
from tensorframes.training.replica import Replica, TrainingSession, load_partition
from tensorframes.training.results import RELAYED, SCHEMA, payloads, result_batch
from tensorframes.training.schedule import Schedule
from tensorframes.training.snapshot import Snapshot
from tensorframes.training.spec import TrainingSpec

#: The program's training session, loaded once per Python worker (Spark reuses workers).
_session: ProgramCache[TrainingProgram, TrainingSession] = ProgramCache(TrainingSession, size=2)


def train_driver(program: TrainingProgram, df: DataFrame, spec: TrainingSpec, start: Snapshot,
                 progress: Progress, options: BarrierOptions, scope: CancelScope
                 ) -> tuple[Outcome, tuple[int, ...], dict[str, np.ndarray]]:
    """Run the training; the outcome, the rows per partition and the final state (``options``: barrier only).

    ``scope`` is looked at before every job, so that a cancel between two steps stops the training too.
    """
    frame, program = fed_columns(df, program)
    data = frame.persist()
    try:
        scope.check()
        counts = _counts(data, program)
        if not sum(counts):
            raise EmptyDataFrameError("the DataFrame has no rows to train on")
        schedule = spec.schedule(counts)
        session = TrainingSession(program)
        session.load(start.state)

        def evaluate(step: int) -> np.ndarray:
            scope.check()
            task = partial(_step_task, program, session.parameters(), schedule, step, spec.check_finite)
            sums = _collect(data.mapInArrow(task, SCHEMA), len(counts), f"step {step + 1}")
            return add_in_order([np.frombuffer(sums[p]) for p in range(len(counts))])

        rule = StopRule(spec.max_steps(schedule), schedule, spec.tol, spec.patience, start.losses,
                    spec.check_finite)
        def report(info: StepInfo, snapshot: Callable[[], Snapshot]) -> None:
            taken = snapshot()  # now: a Ctrl-C in the next update must not tear the state it keeps
            progress.step(info, lambda: taken)

        return run_steps(session, start, rule, evaluate, report), counts, session.state()
    finally:
        data.unpersist()


def _counts(data: DataFrame, program: TrainingProgram) -> tuple[int, ...]:
    """Rows per partition (one job, which also checks every row and fills the cache)."""
    found = payloads(data.mapInArrow(partial(_count_task, program), SCHEMA).toArrow())
    return tuple(int(np.frombuffer(found[p], dtype=np.int64)[0]) for p in range(len(found)))


def _collect(frame: DataFrame, partitions: int, what: str) -> dict[int, bytes]:
    found = payloads(frame.toArrow())
    if sorted(found) != list(range(partitions)):
        raise TrainingError(f"{what}: expected the sums of partitions 0..{partitions - 1}, got {sorted(found)}; "
                            "the DataFrame must keep its partitioning during the training")
    return found


# -- on the executors ------------------------------------------------------------------------
def _count_task(program: TrainingProgram, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    partition = TaskContext.get().partitionId()
    try:
        rows = len(load_partition(batches, program.feeds)[0])
    except RELAYED as e:
        yield result_batch(partition, error=e)
        return
    yield result_batch(partition, np.int64(rows).tobytes())


def _step_task(program: TrainingProgram, parameters: dict, schedule: Schedule, step: int, check_finite: bool,
               batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The sums of this partition's rows of step ``step`` (from 0), or the error that stops the training:
    with ``check_finite``, sums that are not finite are relayed as what made them so."""
    partition = TaskContext.get().partitionId()
    maybe_fail(step)
    try:
        session = _session(program)
        session.load(parameters)
        replica = Replica(session, load_partition(batches, program.feeds), partition, schedule)
        sums = replica.sums(step)
        if check_finite and not np.isfinite(sums).all():
            raise explain_non_finite(replica, step + 1, sums)
    except RELAYED as e:
        yield result_batch(partition, error=e)
        return
    yield result_batch(partition, sums.tobytes())

