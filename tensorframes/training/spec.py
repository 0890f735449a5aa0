"""How long and on which rows to train: :class:`TrainingSpec`, checked before any job."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from tensorframes.training.schedule import Schedule


@dataclass(frozen=True)
class TrainingSpec:
    """The step budget (``steps`` and/or ``epochs``), the batches and the early-stopping rule.

    >>> TrainingSpec(steps=100, batch_size=256).max_steps(Schedule((1000,), 256))
    100
    """

    steps: int | None = None
    epochs: int | None = None
    batch_size: int | None = None
    seed: int = 0
    tol: float | None = None
    patience: int = 3
    check_finite: bool = True

    def __post_init__(self) -> None:
        if self.steps is None and self.epochs is None:
            raise ValueError("say how long to train: steps= (updates) and/or epochs= (passes over the data)")
        for name in ("steps", "epochs", "batch_size", "patience"):
            value = getattr(self, name)
            if value is not None and (not _is_int(value) or value < 1):
                raise ValueError(f"{name} must be a positive int, found {value!r}")
            if value is not None:
                object.__setattr__(self, name, int(value))  # numpy integers are ints here
        if not _is_int(self.seed):
            raise ValueError(f"seed must be an int, found {self.seed!r}")
        object.__setattr__(self, "seed", int(self.seed))
        if self.tol is not None and not self.tol >= 0:
            raise ValueError(f"tol must be a number >= 0 (or None for no early stopping), found {self.tol!r}")

    def schedule(self, counts: tuple[int, ...]) -> Schedule:
        return Schedule(tuple(int(c) for c in counts), self.batch_size, self.seed)

    def max_steps(self, schedule: Schedule) -> int:
        """The step budget once the rows per partition (and so the steps per epoch) are known."""
        budgets = [self.steps] if self.steps is not None else []
        if self.epochs is not None:
            budgets.append(self.epochs * schedule.steps_per_epoch)
        return min(budgets)

    @property
    def meta(self) -> dict:
        """What a checkpoint records, to refuse resuming with other batches."""
        return {"batch_size": self.batch_size, "seed": self.seed}


def _is_int(value: object) -> bool:
    """An int or a numpy integer, not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
