"""``tfs.train``: minimize a graph's loss over a DataFrame by synchronous gradient averaging.

Every step, each partition sums the loss and the gradients over its rows
of the step, the sums are added up over all partitions and divided by the
total row count, and one optimizer update is applied with them: for a loss
that is a mean over the fed rows, this is the very step single-process
training on all the data takes (full batch: equal to floating-point
rounding), whatever the partitioning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from pyspark.sql import DataFrame

import engine as tf
from engine.train import Optimizer
from tensorframes.errors import CheckpointError, TrainingCancelledError, TrainingError
from tensorframes.frames import SparkColumns
from tensorframes.program import session_for
from tensorframes.training.barrier_mode import train_barrier
from tensorframes.training.cancel import CancelScope
from tensorframes.training.driver_mode import train_driver
from tensorframes.training.loop import Outcome
from tensorframes.training.options import BarrierOptions, Deadlines
from tensorframes.training.program import TrainingProgram, compile_training
from tensorframes.training.progress import Progress, StepInfo
from tensorframes.training.replica import TrainingSession
from tensorframes.training.snapshot import Snapshot, load_checkpoint
from tensorframes.training.spec import TrainingSpec
from tensorframes.training.spill import SPILL_BYTES
from tensorframes.training.tensorboard import TrainingBoard

logger = logging.getLogger("tensorframes.training")
MODES = {"barrier": train_barrier, "driver": train_driver}


@dataclass(frozen=True)
class TrainResult:
    """What a training did: trained values by variable name, the loss before each step, and its pace.

    ``stop_reason`` is ``"steps"`` (the budget), ``"early_stopping"`` (the
    loss stopped improving by ``tol``) or ``"converged"`` (a full-batch step
    changed nothing). ``seconds`` and ``rows_per_second`` cover the steps,
    not starting Spark jobs or loading data.
    """

    variables: dict[str, np.ndarray]
    losses: list[float]
    steps: int
    stop_reason: str
    mode: str
    seconds: float
    rows_per_second: float
    trace: dict = field(default_factory=dict)

    @property
    def loss(self) -> float:
        """The loss evaluated by the last step (at the values before its update)."""
        return self.losses[-1] if self.losses else float("nan")


def train(loss: Any, df: DataFrame, optimizer: Optimizer, feed_dict: Mapping | None = None, *,
          steps: int | None = None, epochs: int | None = None, batch_size: int | None = None,
          mode: str = "barrier", seed: int = 0, tol: float | None = None, patience: int = 3,
          checkpoint_dir: str | Path | None = None, checkpoint_every: int | None = None,
          callback: Callable[[StepInfo], object] | None = None, log_every: int | None = 10,
          var_list: Sequence | None = None, session: tf.Session | None = None,
          deadlines: Deadlines | None = None, allreduce: str = "auto",
          spill_bytes: int | None = SPILL_BYTES, logdir: str | Path | None = None,
          check_finite: bool = True) -> TrainResult:
    """Minimize ``loss`` over the rows of ``df``; the session's variables end up trained.

    ``loss`` is a float scalar built from block placeholders (``tfs.block``),
    a mean over the rows it is fed plus any term without data; placeholders
    read the column of their name, or as ``feed_dict`` ({placeholder:
    column}) says. ``optimizer`` is any ``engine.train`` optimizer, the
    full-batch ``LBFGSOptimizer`` included. Variables to train: ``var_list``
    (default: the trainable ones); their values start from, and end up in,
    ``session`` (default: the default session).

    Runs ``steps`` updates and/or ``epochs`` passes over the data, whichever
    comes first, each over all rows, or over a global mini-batch of about
    ``batch_size`` rows drawn per epoch by a shuffle seeded with ``seed``.
    A step whose loss or gradient is not finite raises a TrainingError naming
    the step before it is applied: a NonFiniteValueError naming the column,
    partition and row of the first NaN or inf the step was fed, or, when it
    was fed none, one saying the model overflowed (a too large learning
    rate); ``check_finite=False`` trains on regardless. With ``tol``, stops
    early once the loss (with mini-batches: an epoch's mean loss) improved
    by less than ``tol`` relatively ``patience`` times in a row.
    ``mode="barrier"`` runs one Spark stage that holds the data in numpy and
    allreduces over sockets (needs a free task slot per partition);
    ``mode="driver"`` runs one job per step and works anywhere,
    Spark Connect included. Logs every ``log_every`` steps (logger
    ``tensorframes.training``), calls ``callback(StepInfo)`` after every
    step, and with ``checkpoint_dir`` writes a checkpoint every
    ``checkpoint_every`` steps and at the end, and resumes from it. With
    ``logdir``, writes the loss per step and the graph for TensorBoard
    (:mod:`tensorframes.training.tensorboard`).

    Cancelling: the training's jobs keep the caller's job group and tags, and
    ``sc.cancelAllJobs()``, ``sc.cancelJobGroup(group)``,
    ``sc.cancelJobsWithTag(tag)``, ``spark.interruptAll()`` or
    ``spark.interruptTag(tag)`` from any thread stop it, in either mode and
    also between two driver-mode jobs (:mod:`tensorframes.training.cancel`),
    with a :class:`~tensorframes.errors.TrainingCancelledError`: the
    session's variables then hold the values after its ``step``, the last
    completed step the driver has (barrier mode: every step for states up
    to 4 KiB, else the last checkpointed one or the start). Ctrl-C does the same but raises
    the ``KeyboardInterrupt``, after cancelling the training's jobs.

    Barrier mode only: ``deadlines`` (:class:`Deadlines`) bound every wait
    (defaults: 120 s for the tasks to meet, 600 s for a peer in an
    allreduce, 900 s of silence before the driver gives up); ``allreduce``
    is ``"auto"`` (through rank 0 for small models, around a ring from 1 MiB
    of gradients), ``"star"`` or ``"ring"``: the values are
    the same bits either way. A partition whose fed columns take more than
    ``spill_bytes`` (default 1 GiB; None: never) is written to a local Arrow
    IPC file and memory-mapped instead of held in the Python heap.

    >>> features, label = tfs.block(df, "y"), tfs.block(df, "x")  # df.y: [i, -i], df.x: i
    >>> w = tf.Variable(np.zeros((2, 1)), name="w")
    >>> loss = tf.reduce_mean(tf.square(tf.matmul(features, w)[:, 0] - label))
    >>> with tf.Session() as sess:
    ...     sess.run(tf.global_variables_initializer())
    ...     result = tfs.train(loss, df, tf.train.LBFGSOptimizer(), steps=20, log_every=None)
    ...     w_trained = sess.run(w)
    >>> result.loss < 1e-12, float(w_trained[0, 0] - w_trained[1, 0])
    (True, 1.0)
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {sorted(MODES)}, found {mode!r}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an engine.train optimizer (e.g. tf.train.AdamOptimizer(0.01)), "
                        f"found {type(optimizer).__name__}")
    spec = TrainingSpec(steps, epochs, batch_size, seed, tol, patience, check_finite)
    options = BarrierOptions(deadlines or Deadlines(), allreduce, spill_bytes)
    if checkpoint_every is not None and checkpoint_every < 1:
        raise ValueError(f"checkpoint_every must be a positive int, found {checkpoint_every!r}")
    user_session = session_for(getattr(loss, "graph", None) or tf.get_default_graph(), session)
    if user_session is None:
        raise TrainingError("train() starts from the variables' values in a Session of the loss's graph and "
                            "writes the trained values back: call it inside `with tf.Session() as sess:` "
                            "(after running the initializer) or pass session=sess")
    program = compile_training(loss, SparkColumns(df), optimizer, feed_dict, var_list, user_session)
    start = _start(program, spec, checkpoint_dir)
    board = TrainingBoard(logdir, user_session.graph, callback) if logdir is not None else None
    progress = Progress(log_every, board or callback, checkpoint_dir, checkpoint_every, start.step)
    logger.info("training %d parameters in %s mode, from step %d", program.size, mode, start.step)
    scope = CancelScope(df.sparkSession)
    try:
        with scope:
            outcome, counts, state = MODES[mode](program, df, spec, start, progress, options, scope)
    except BaseException as e:
        _stopped(e, scope, program, start, progress, user_session, checkpoint_dir)
        raise
    finally:
        if board is not None:
            board.close()
    progress.finish(Snapshot(outcome.step, np.array(outcome.losses), state, spec.meta))
    trained = {name: state[name] for name in program.variables}
    user_session.load_variables(trained)
    logger.info("stopped after step %d (%s): loss %.6g, %d rows in %d partitions", outcome.step,
                outcome.reason, outcome.losses[-1] if outcome.losses else float("nan"), sum(counts), len(counts))
    return _result(outcome, trained, mode)


def _start(program: TrainingProgram, spec: TrainingSpec, checkpoint_dir: str | Path | None) -> Snapshot:
    """Where the training starts: the checkpoint in ``checkpoint_dir`` if any, else step 0."""
    fresh = Snapshot(0, np.zeros(0), {}, spec.meta)
    saved = load_checkpoint(checkpoint_dir) if checkpoint_dir else None
    if saved is None:
        return fresh
    state = TrainingSession(program).state()
    problems = [f"variable '{n}' is missing" for n in state if n not in saved.state]
    problems += [f"variable '{n}' is not in the model" for n in saved.state if n not in state]
    problems += [f"variable '{n}' is {saved.state[n].dtype}{list(saved.state[n].shape)}, the model's "
                 f"{v.dtype}{list(v.shape)}" for n, v in state.items()
                 if n in saved.state and (saved.state[n].dtype, saved.state[n].shape) != (v.dtype, v.shape)]
    if saved.meta.get("batch_size") != spec.batch_size or (spec.batch_size and saved.meta.get("seed") != spec.seed):
        problems.append(f"it was written with batch_size={saved.meta.get('batch_size')}, "
                        f"seed={saved.meta.get('seed')}")
    if problems:
        raise CheckpointError(f"the checkpoint in {checkpoint_dir} doesn't fit this training: "
                              f"{'; '.join(problems)}; use another checkpoint_dir to start over")
    logger.info("resuming from the checkpoint in %s at step %d", checkpoint_dir, saved.step)
    return saved


def _stopped(error: BaseException, scope: CancelScope, program: TrainingProgram, start: Snapshot,
             progress: Progress, session: tf.Session, checkpoint_dir: str | Path | None) -> None:
    """After a training ended in ``error``: if it was cancelled, or Ctrl-C, leave ``session`` at the last
    completed step; raise a TrainingCancelledError for a cancel (a KeyboardInterrupt goes on, as any other error)."""
    how = scope.cancelled(error)
    if how is None and not isinstance(error, KeyboardInterrupt):
        return
    step = _keep_last_step(program, start, progress, session)
    if isinstance(error, KeyboardInterrupt):
        scope.interrupt()  # what the training started must not run on (pyspark's Ctrl-C handler may not be there)
        return
    kept = f"; the checkpoints written so far stay in {checkpoint_dir}" if checkpoint_dir else ""
    raise TrainingCancelledError(f"the training was cancelled ({how}) after {step} completed "
                                 f"step{'' if step == 1 else 's'}: the session's "
                                 f"variables hold the values of step {step}, the last completed one{kept}",
                                 step, how) from None


def _keep_last_step(program: TrainingProgram, start: Snapshot, progress: Progress, session: tf.Session) -> int:
    """Load the values after the newest step the driver has into ``session`` (a stopped training); that step."""
    snapshot = progress.latest() if progress.latest is not None else start
    if snapshot.state:
        session.load_variables({name: snapshot.state[name] for name in program.variables})
    return snapshot.step


def _result(outcome: Outcome, trained: dict[str, np.ndarray], mode: str) -> TrainResult:
    pace = outcome.rows / outcome.seconds if outcome.seconds > 0 else 0.0
    return TrainResult(trained, outcome.losses, outcome.step, outcome.reason, mode, outcome.seconds, pace,
                       outcome.trace)
