"""What the driver does with each finished step: log it, call back, checkpoint.

Both modes report every step here on the driver; in barrier mode the steps
arrive from the task of partition 0 over a socket (see
:mod:`tensorframes.training.channel`). A retried barrier stage starts over
and reports steps again: they have the same values (training is
deterministic), so steps already seen are skipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tensorframes.training.snapshot import Snapshot, save_checkpoint

logger = logging.getLogger("tensorframes.training")


@dataclass(frozen=True)
class StepInfo:
    """One finished step: its number (from 1), the loss it evaluated, its rows and the pace so far."""

    step: int
    loss: float
    rows: int
    seconds: float
    rows_per_second: float

    def as_dict(self) -> dict:
        return {"step": self.step, "loss": self.loss, "rows": self.rows, "seconds": self.seconds,
                "rows_per_second": self.rows_per_second}


class Progress:
    """Logs every ``log_every`` steps, calls ``callback(StepInfo)`` every step, checkpoints every
    ``checkpoint_every`` steps into ``checkpoint_dir``."""

    def __init__(self, log_every: int | None, callback: Callable[[StepInfo], object] | None,
                 checkpoint_dir: str | Path | None, checkpoint_every: int | None, first_step: int = 0) -> None:
        self.log_every, self.callback = log_every, callback
        self.checkpoint_dir, self.checkpoint_every = checkpoint_dir, checkpoint_every
        self.last_step = first_step
        self.latest: Callable[[], Snapshot] | None = None  # the state after the newest step that came with one

    def checkpoint_due(self, step: int) -> bool:
        return bool(self.checkpoint_dir and self.checkpoint_every and step % self.checkpoint_every == 0)

    def step(self, info: StepInfo, snapshot: Callable[[], Snapshot] | None = None) -> None:
        """Report ``info``; ``snapshot`` gives the state after the step (kept as :attr:`latest`, for a
        cancelled training; checkpointed when one is due)."""
        if info.step <= self.last_step:
            return
        self.last_step = info.step
        if snapshot is not None:
            self.latest = snapshot
        if self.log_every and info.step % self.log_every == 0:
            logger.info("step %d: loss %.6g (%.3g rows/s)", info.step, info.loss, info.rows_per_second)
        if self.callback is not None:
            self.callback(info)
        if snapshot is not None and self.checkpoint_due(info.step):
            save_checkpoint(self.checkpoint_dir, snapshot())

    def finish(self, snapshot: Snapshot) -> None:
        """Checkpoint the final state (when checkpointing at all)."""
        if self.checkpoint_dir:
            save_checkpoint(self.checkpoint_dir, snapshot)
