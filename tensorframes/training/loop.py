"""The step loop both modes run, and when it stops.

A step evaluates the global sums at the current variables (one Spark job in
driver mode, a local evaluation plus one allreduce in barrier mode) and
applies the averaged update. The loop is deterministic: given the same
snapshot to start from and the same sums, it takes the same steps and stops
at the same one, on the driver or on every replica of a barrier stage.

It stops after ``max_steps`` steps (counted from the very start, so a resumed
training runs the rest), when the loss stops improving (the seed's rule,
:class:`engine.train.EarlyStopping`: relative improvement below ``tol`` for
``patience`` checks, per step in full batch and on the mean loss of each
epoch with mini-batches), or, in full batch, when a step changed no
variable at all: the state is a fixed point (e.g. L-BFGS has converged)
and every further step would repeat it.

A step whose loss or gradient sums are not finite (NaN or inf) stops the
training before it is applied, with a TrainingError naming the step
(``check_finite=False`` trains on). Only then does a replica whose own sums
are not finite look at its rows of the step again, for the first NaN or inf
fed (:func:`explain_non_finite`: a :class:`NonFiniteValueError` naming the
column and row; the relay adds the partition), or says that none was fed
and the model overflowed, which points at the learning rate.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from engine.train import EarlyStopping
from tensorframes.errors import NonFiniteValueError, TrainingError
from tensorframes.training.progress import StepInfo
from tensorframes.training.replica import Replica, TrainingSession
from tensorframes.training.schedule import Schedule
from tensorframes.training.snapshot import Snapshot

STEPS, EARLY_STOPPING, CONVERGED = "steps", "early_stopping", "converged"


class StopRule:
    """Says after each step whether to stop, and why; replays earlier losses when resuming."""

    def __init__(self, max_steps: int, schedule: Schedule, tol: float | None, patience: int,
                 history: Sequence[float] = (), check_finite: bool = True) -> None:
        self.max_steps, self.schedule, self.check_finite = max_steps, schedule, check_finite
        self.early = EarlyStopping(tol, patience) if tol is not None else None
        self.epoch_loss = 0.0
        for step, loss in enumerate(history, start=1):
            self._early_stop(step, loss)

    def after(self, step: int, loss: float, changed: bool) -> str | None:
        """The reason to stop after step ``step`` (from 1), or None to go on."""
        if self._early_stop(step, loss):
            return EARLY_STOPPING
        if not changed and self.schedule.batch_size is None:
            return CONVERGED
        return STEPS if step >= self.max_steps else None

    def _early_stop(self, step: int, loss: float) -> bool:
        if self.early is None:
            return False
        per_epoch = self.schedule.steps_per_epoch
        self.epoch_loss += loss * self.schedule.batch_rows(step - 1) / self.schedule.total_rows
        if step % per_epoch:
            return False
        epoch_loss, self.epoch_loss = self.epoch_loss, 0.0
        return self.early.update(epoch_loss)


@dataclass
class Outcome:
    """How a loop ended: the step it started from and the last one, the losses, why it stopped, its pace."""

    start: int
    step: int
    losses: list[float]
    reason: str
    rows: int
    seconds: float
    trace: dict = field(default_factory=dict)


def run_steps(session: TrainingSession, start: Snapshot, rule: StopRule,
              evaluate: Callable[[int], np.ndarray],
              report: Callable[[StepInfo, Callable[[], Snapshot]], None],
              blame: Callable[[int, np.ndarray], None] | None = None) -> Outcome:
    """Step from ``start`` until ``rule`` says stop; ``evaluate(step)`` gives the global sums of a step
    (from 0), ``report`` gets each finished step and a way to snapshot the state after it, ``blame``
    is :func:`refuse_non_finite`'s."""
    step, losses = start.step, [float(x) for x in start.losses]
    began, rows = time.perf_counter(), 0
    reason = STEPS if step >= rule.max_steps else None
    while reason is None:
        total = evaluate(step)
        if rule.check_finite:
            refuse_non_finite(step + 1, total, blame)
        loss, changed = session.apply(total)
        step, rows = step + 1, rows + int(total[0])
        losses.append(loss)
        seconds = time.perf_counter() - began
        info = StepInfo(step, loss, int(total[0]), seconds, rows / seconds if seconds > 0 else 0.0)
        report(info, lambda: Snapshot(step, np.array(losses), session.state(), start.meta))
        reason = rule.after(step, loss, changed)
    return Outcome(start.step, step, losses, reason, rows, time.perf_counter() - began)


def refuse_non_finite(step: int, total: np.ndarray, blame: Callable[[int, np.ndarray], None] | None = None) -> None:
    """TrainingError if the sums of step ``step`` (from 1: rows, loss, gradients) hold a NaN or an inf.

    ``blame(step, total)`` is called first, on that failure path only, to raise a more specific error.
    """
    if np.isfinite(total).all():
        return
    if blame is not None:
        blame(step, total)
    raise _overflowed(step, total)


def explain_non_finite(replica: Replica, step: int, sums: np.ndarray) -> TrainingError:
    """Why ``sums``, the sums of ``replica``'s rows for step ``step`` (from 1), are not finite.

    A :class:`NonFiniteValueError` naming the column and the row of the first
    NaN or inf those rows feed, or, if they feed none, a TrainingError saying
    the model overflowed.
    """
    found = replica.first_non_finite(step - 1)
    if found is None:
        return _overflowed(step, sums)
    column, row, value = found
    kind = "NaN" if np.isnan(value) else f"{value:g}"
    batch = replica.schedule.rows(step - 1, replica.partition)
    where = "" if isinstance(batch, slice) else \
        f" (the mini-batch of step {step} reads {_listed(np.sort(batch))} of this partition)"
    return NonFiniteValueError(f"step {step}: column {column!r} holds {kind} in row {row}{where}, so "
                               f"{_what(sums)} is not finite and the update is not applied; drop or fill the "
                               "rows holding NaN or inf (check_finite=False trains on regardless)", column, row)


def _overflowed(step: int, sums: np.ndarray) -> TrainingError:
    return TrainingError(f"step {step}: {_what(sums)} is not finite (NaN or inf) though no value fed to the step "
                         "is: the model overflowed, most likely because the learning rate is too large; the "
                         "update is not applied (check_finite=False trains on regardless)")


def _listed(rows: np.ndarray, most: int = 8) -> str:
    """``row 3``, ``rows 1, 4``, or the first ``most`` and how many there are."""
    if len(rows) == 1:
        return f"row {rows[0]}"
    shown = ", ".join(str(r) for r in rows[:most])
    return f"rows {shown}" if len(rows) <= most else f"rows {shown}, ... ({len(rows)} rows)"


def _what(sums: np.ndarray) -> str:
    return "the loss" if not np.isfinite(sums[1]) else "a gradient"
