"""Barrier training: one Spark stage for the whole training, sums allreduced over sockets.

``df.mapInArrow(task, schema, barrier=True)`` starts one task per partition,
all at once. Each task opens its listener, meets the others of its stage
attempt (:mod:`~tensorframes.training.rendezvous`: through the driver, or
one ``BarrierTaskContext.allGather`` under Spark Connect) while it loads its
partition into numpy, links to them (:mod:`~tensorframes.training.allreduce`),
and then loops over the steps: sums over its rows of the step, one
allreduce, the same update as every other task. Rank 0 streams the steps to
the driver (:mod:`~tensorframes.training.channel`) and returns the final state.

The stage is followed by ``repartition(1)``, which makes it a shuffle-map
stage: Spark can re-run a failed barrier shuffle-map stage as a whole, but
gives up on a failed barrier result stage. A re-run starts every task from
the same shipped state, so it takes the very same steps: nothing is
counted twice and no step is half applied. Errors in the data or the graph
travel as results instead (:mod:`~tensorframes.training.results`): every
task learns of them in the next allreduce and stops, with no retry; so
does a step whose total is not finite, reported by the task whose own
sums are not. A lost peer never does: a task that can't finish its allreduce fails, so that no
task of a broken attempt ever reports success (Spark would keep its output
and relaunch only the others, which then wait for a peer that never comes).
Every wait has a deadline (:class:`~tensorframes.training.options.Deadlines`).
"""

from __future__ import annotations

import secrets
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from typing import Iterator

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.util import InheritableThread

from tensorframes.errors import AllreduceError, BarrierSlotsError, EmptyDataFrameError, StageTimeoutError
from tensorframes.spark_columns import fed_columns
from tensorframes.training import allreduce, faults, rendezvous, spill
from tensorframes.training.allreduce import Mesh
from tensorframes.training.cancel import CancelScope
from tensorframes.training.channel import LIVE_STATE_BYTES, ProgressClient, ProgressServer
from tensorframes.training.barrier_input import barrier_ready
from tensorframes.training.options import BarrierOptions
from tensorframes.training.loop import Outcome, StopRule, explain_non_finite, run_steps
from tensorframes.training.program import TrainingProgram
from tensorframes.training.progress import Progress, StepInfo
from tensorframes.training.replica import Replica, TrainingSession, load_or_spill, partition_rows
from tensorframes.training.results import RELAYED, SCHEMA, payloads, result_batch
from tensorframes.training.schedule import Schedule
from tensorframes.training.snapshot import Snapshot
from tensorframes.training.spec import TrainingSpec

#: What each task reports about itself: wall-clock times (time.time()) and its worker's resident bytes.
TRACE = ("started", "loaded", "met", "trained", "rss", "peak_rss")
_INTERRUPT_WAIT = 60.0  # seconds to wait for an interrupted stage to end
_SLOTS_HINT = ("barrier training runs one task per partition, all at the same time: repartition the DataFrame "
               "to at most as many partitions as there are free task slots (df.repartition(n); not coalesce, "
               "whose input tensorframes would repartition anyway), "
               "lower spark.default.parallelism / spark.sql.shuffle.partitions where the partitions come from, "
               "or use mode='driver'")


@dataclass(frozen=True)
class BarrierJob:
    """Everything a barrier task needs; ``start`` is a snapshot's bytes."""

    program: TrainingProgram
    spec: TrainingSpec
    start: bytes
    checkpoint_every: int | None
    token: bytes
    driver: tuple[str, int]
    rendezvous: str
    options: BarrierOptions


def train_barrier(program: TrainingProgram, df: DataFrame, spec: TrainingSpec, start: Snapshot,
                  progress: Progress, options: BarrierOptions, scope: CancelScope
                  ) -> tuple[Outcome, tuple[int, ...], dict[str, np.ndarray]]:
    """Run the training; the outcome, the rows per partition and the final state.

    The stage runs under ``scope``'s tag and stops when ``scope`` is marked as cancelled.
    """
    spark = df.sparkSession
    data, program = fed_columns(df, program)
    data = barrier_ready(data)
    check_slots(data)
    scope.check()
    token = secrets.token_bytes(16)
    host = spark.conf.get("spark.driver.host", None) or socket.gethostname()
    way = rendezvous.choose_rendezvous(spark)
    meeting = _meeting(spark, options) if way == rendezvous.DRIVER else None
    with ProgressServer(host, token, meeting.join if meeting else None) as server:
        every = progress.checkpoint_every if progress.checkpoint_dir else None
        job = BarrierJob(program, spec, start.to_bytes(), every, token, server.address, way, options)
        frame = data.mapInArrow(partial(_task, job), SCHEMA, barrier=True).repartition(1)
        submitted = time.time()
        results = payloads(_collect_reporting(spark, frame, server, progress, scope, options.deadlines.silence))
    if not results:  # no partitions, so no tasks
        raise EmptyDataFrameError("the DataFrame has no rows to train on")
    final = Snapshot.from_bytes(results[0])
    meta = final.meta
    outcome = Outcome(meta["start"], final.step, [float(x) for x in final.losses], meta["reason"], meta["rows"],
                      meta["seconds"], {"submitted": submitted, "tasks": meta["tasks"]})
    _replay(progress, outcome, job.spec.schedule(meta["counts"]))
    return outcome, tuple(meta["counts"]), final.state


def _meeting(spark: SparkSession, options: BarrierOptions) -> rendezvous.Meeting:
    """The driver's rendezvous, filing each task under the stage attempt Spark launched it in."""
    attempts, wait = rendezvous.Attempts(spark.sparkContext), options.deadlines.rendezvous
    return rendezvous.Meeting(lambda join: attempts.wait(join["stage"], join["task"], wait))


def _replay(progress: Progress, outcome: Outcome, schedule: Schedule) -> None:
    """Report the steps the driver didn't get live (task 0 couldn't reach it), from the result."""
    pace = outcome.rows / outcome.seconds if outcome.seconds > 0 else 0.0
    for step in range(progress.last_step + 1, outcome.step + 1):
        seconds = outcome.seconds * (step - outcome.start) / (outcome.step - outcome.start)
        progress.step(StepInfo(step, outcome.losses[step - 1], schedule.batch_rows(step - 1), seconds, pace))


def check_slots(df: DataFrame) -> None:
    """BarrierSlotsError, before the training's stage, if ``df`` has more partitions than the cluster has slots.

    Spark checks this too, but after an adaptive (AQE) shuffle its failing
    check crashes the SparkContext when the barrier stage feeds a shuffle
    (Spark 4.3), as the training's stage does. A classic session knows both
    numbers; under Spark Connect a small job counts the partitions and a
    barrier stage of that many empty tasks, which fails cleanly, tests the slots.
    """
    if getattr(df, "_jdf", None) is not None:
        partitions = df.rdd.getNumPartitions()
        sc = df.sparkSession.sparkContext._jsc.sc()
        slots = sc.maxNumConcurrentTasks(sc.resourceProfileManager().defaultResourceProfile())
        if partitions > slots:
            raise BarrierSlotsError(f"the DataFrame has {partitions} partitions but the cluster has {slots} task "
                                    f"slots; {_SLOTS_HINT}")
        return
    partitions = df.mapInArrow(_partition_row, "partition long").toArrow().num_rows
    if not partitions:
        return
    probe = df.sparkSession.range(partitions, numPartitions=partitions)
    try:
        probe.mapInArrow(_no_rows, "partition long", barrier=True).toArrow()
    except Exception as e:
        if "SPARK-24819" in str(e):  # BarrierJobSlotsNumberCheckFailed
            raise BarrierSlotsError(f"the DataFrame has {partitions} partitions, more than the cluster's free task "
                                    f"slots; {_SLOTS_HINT}") from None
        raise


def _collect_reporting(spark: SparkSession, frame: DataFrame, server: ProgressServer, progress: Progress,
                       scope: CancelScope, silence: float) -> pa.Table:
    """Run the stage in a thread and report its steps here, on the calling thread, as they come.

    The thread inherits the caller's Spark local properties (the user's job
    group and tags, and ``scope``'s tag). If reporting fails (a callback
    raises, Ctrl-C), the training is marked as cancelled, or the stage has
    been silent for ``silence`` seconds since the driver last heard from it,
    the stage is interrupted.
    """
    done: dict = {}

    def collect() -> None:
        if scope.classic:  # the tasks' threads are interrupted too: a cancel ends them at once
            spark.sparkContext.setInterruptOnCancel(True)
        try:
            done["table"] = frame.toArrow()
        except BaseException as e:  # handed to the calling thread
            done["error"] = e

    thread = InheritableThread(collect, session=spark, daemon=True)
    thread.start()
    try:
        while True:
            running = thread.is_alive()
            for info, snapshot, state in server.messages(timeout=0.05):
                progress.step(info, partial(Snapshot.from_bytes, snapshot) if snapshot else
                              partial(Snapshot, info.step, np.zeros(0), state) if state is not None else None)
            if not running:
                break
            scope.check()
            if server.heard is not None and time.monotonic() - server.heard > silence:
                raise StageTimeoutError(f"the barrier training's stage has not been heard from for {silence:g} s "
                                        "(no task joined, no step finished): it was cancelled; see the executor "
                                        "logs, or raise Deadlines.silence for steps slower than that")
    except BaseException:
        scope.interrupt()
        thread.join(_INTERRUPT_WAIT)
        raise
    if "error" in done:
        raise done["error"]
    return done["table"]


# -- on the executors ------------------------------------------------------------------------
def _partition_row(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """One row per partition, its number; the rows are not read."""
    from pyspark import TaskContext
    yield pa.RecordBatch.from_pydict({"partition": [TaskContext.get().partitionId()]},
                                     schema=pa.schema([("partition", pa.int64())]))


def _no_rows(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    return iter(())


class _Stopped(Exception):
    """A task met an error it relays; every task stops at the same step. ``error`` is this task's, if any."""

    def __init__(self, error: Exception | None) -> None:
        super().__init__(str(error))
        self.error = error


def _task(job: BarrierJob, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    from pyspark import BarrierTaskContext

    context = BarrierTaskContext.get()
    rank, size = context.partitionId(), len(context.getTaskInfos())
    spill.reset_peak()
    trace = {"started": time.time(), "rss": spill.resident_bytes()[0]}
    faults.maybe_vanish()
    deadlines = job.options.deadlines
    with ExitStack() as stack:
        listener = stack.enter_context(allreduce.open_listener())
        port = listener.getsockname()[1]
        if job.rendezvous == rendezvous.DRIVER:
            began = time.monotonic()
            host = context.getTaskInfos()[rank].address.rsplit(":", 1)[0]
            join = {"rank": rank, "size": size, "stage": context.stageId(), "task": context.taskAttemptId(),
                    "host": host, "port": port}
            conn = stack.enter_context(rendezvous.join_driver(job.driver, job.token, join, deadlines.rendezvous))
            columns, error = _load(batches, job)  # the others join meanwhile
            trace["loaded"] = time.time()
            nonce, addresses = rendezvous.await_peers(conn, rank, began + deadlines.rendezvous, deadlines.rendezvous)
            client = ProgressClient(conn if rank == 0 else None)
        else:
            with ThreadPoolExecutor(1) as pool:  # the ~1 s allGather overlaps loading the partition
                gathered = pool.submit(rendezvous.allgather_peers, context, rank, port)
                columns, error = _load(batches, job)
                trace["loaded"] = time.time()
                nonce, addresses = job.token, gathered.result()
            client = ProgressClient.connect(job.driver, job.token) if rank == 0 else ProgressClient(None)
        stack.callback(client.close)
        comm = stack.enter_context(Mesh.connect(rank, addresses, listener, nonce, deadlines.allreduce,
                                                job.options.allreduce))
        trace["met"] = time.time()
        yield from _train(job, comm, client, columns, error, trace)


def _load(batches: Iterator[pa.RecordBatch], job: BarrierJob) -> tuple[list[np.ndarray] | None, Exception | None]:
    try:
        return load_or_spill(batches, job.program.feeds, job.options.spill_bytes), None
    except RELAYED as e:
        return None, e


def _train(job: BarrierJob, comm: Mesh, client: ProgressClient, columns: list[np.ndarray] | None,
           error: Exception | None, trace: dict) -> Iterator[pa.RecordBatch]:
    """Agree on the rows per partition (and on stopping if any task could not load its rows), then train;
    rank 0 returns the state and every task's ``trace`` (times, resident bytes)."""
    rank, size = comm.rank, comm.size
    head = np.zeros(2 * size)  # rows per rank, then error flags
    head[rank] = partition_rows(columns) if columns is not None else 0
    head[size + rank] = error is not None
    head = comm.allreduce(head)
    counts = tuple(int(c) for c in head[:size])
    try:
        if head[size:].any():
            raise _Stopped(error)
        if not sum(counts):
            raise EmptyDataFrameError("the DataFrame has no rows to train on")
        outcome, session = _steps(job, comm, client, columns, counts)
    except _Stopped as stopped:
        if stopped.error is not None:
            yield result_batch(rank, error=stopped.error)
        return
    except AllreduceError:  # a lost peer: fail, so that Spark retries the whole stage attempt
        raise
    except RELAYED as e:  # raised alike on every task: one reports it
        if rank == 0:
            yield result_batch(0, error=e)
        return
    trace["trained"], trace["peak_rss"] = time.time(), spill.resident_bytes()[1]
    traces = comm.allreduce(_placed([trace[k] for k in TRACE], rank, size)).reshape(size, len(TRACE))
    if rank == 0:
        meta = {"start": outcome.start, "reason": outcome.reason, "rows": outcome.rows, "seconds": outcome.seconds,
                "counts": counts, "tasks": [dict(zip(TRACE, t.tolist())) for t in traces]}
        yield result_batch(0, Snapshot(outcome.step, np.array(outcome.losses), session.state(), meta).to_bytes())


def _placed(values: list[float], rank: int, size: int) -> np.ndarray:
    """``values`` at this rank's place in a vector of every rank's, zeros elsewhere (to allreduce)."""
    out = np.zeros((size, len(values)))
    out[rank] = values
    return out.ravel()


def _steps(job: BarrierJob, comm: Mesh, client: ProgressClient, columns: list[np.ndarray],
           counts: tuple[int, ...]) -> tuple[Outcome, TrainingSession]:
    """The step loop of one task; rank 0 reports to the driver."""
    start = Snapshot.from_bytes(job.start)
    schedule = job.spec.schedule(counts)
    session = TrainingSession(job.program)
    session.load(start.state)
    replica = Replica(session, columns, comm.rank, schedule)
    own = {}  # this task's sums of the current step

    def evaluate(step: int) -> np.ndarray:
        faults.maybe_fail(step)
        local, error = np.zeros(session.width + 1), None  # the sums, then an error flag
        try:
            local[:-1] = replica.sums(step)
        except RELAYED as e:
            local[-1], error = 1, e
        total = comm.allreduce(local, faults.midway(step))
        if total[-1]:
            raise _Stopped(error)
        own["sums"] = local[:-1]
        return total[:-1]

    def blame(step: int, total: np.ndarray) -> None:
        """A step's total is not finite, on every task alike: the lowest rank whose own sums are not
        finite (else rank 0) says why, the others stop with it; one more allreduce, on this path only."""
        bad = comm.allreduce(_placed([float(not np.isfinite(own["sums"]).all())], comm.rank, comm.size))
        culprit = int(np.argmax(bad))
        sums = own["sums"] if bad[culprit] else total
        raise _Stopped(explain_non_finite(replica, step, sums) if comm.rank == culprit else None)

    rule = StopRule(job.spec.max_steps(schedule), schedule, job.spec.tol, job.spec.patience, start.losses,
                    job.spec.check_finite)
    live = sum(v.nbytes for v in session.state().values()) <= LIVE_STATE_BYTES
    report = partial(_report, client, job.checkpoint_every, session if live else None)
    return run_steps(session, start, rule, evaluate, report, blame), session


def _report(client: ProgressClient, every: int | None, live: TrainingSession | None, info: StepInfo,
            snapshot) -> None:
    """Send a step to the driver: with a snapshot when a checkpoint is due, else with the state if ``live``."""
    if not client.connected:
        return
    if every is not None and info.step % every == 0:
        client.send(info, snapshot().to_bytes())
    else:
        client.send(info, state=live.session.variables if live is not None else None)
