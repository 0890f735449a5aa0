"""How barrier training waits, sums and holds its data: :class:`Deadlines` and :class:`BarrierOptions`.

>>> Deadlines(rendezvous=30).silence
900.0
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tensorframes.training import allreduce


@dataclass(frozen=True)
class Deadlines:
    """Seconds barrier training waits before a wait ends in a retry or an error, never in a hang.

    - ``rendezvous`` (120): a task waits this long for every task of its
      stage attempt to join; then it fails (:class:`~tensorframes.errors.RendezvousError`)
      and Spark retries the stage (a lost task, a retried stage that
      launched only some of its tasks).
    - ``allreduce`` (600): a task waits this long for a peer in one
      allreduce, a step's compute included; then it fails and Spark retries.
    - ``silence`` (900): the driver stops waiting for a running stage it has
      not heard from (no join, no step) for this long, cancels it and raises
      :class:`~tensorframes.errors.StageTimeoutError`. Counted from the first
      message, so a stage that waits for its input is not cut short; longer
      than the other two, so tasks time out (and are retried) first.
    """

    rendezvous: float = 120.0
    allreduce: float = allreduce.TIMEOUT
    silence: float = 900.0

    def __post_init__(self) -> None:
        for name in ("rendezvous", "allreduce", "silence"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and value > 0):
                raise ValueError(f"Deadlines.{name} must be a number of seconds > 0, found {value!r}")
            object.__setattr__(self, name, float(value))
        if self.silence <= max(self.rendezvous, self.allreduce):
            raise ValueError(f"Deadlines.silence ({self.silence:g} s) must exceed rendezvous and allreduce "
                             f"({self.rendezvous:g} s, {self.allreduce:g} s): the tasks give up first and are retried")


@dataclass(frozen=True)
class BarrierOptions:
    """The deadlines, the allreduce scheme (``auto``, ``star``, ``ring``) and the spill threshold.

    A partition whose fed columns take more than ``spill_bytes`` is written
    to a local Arrow IPC file and memory-mapped (see
    :mod:`~tensorframes.training.spill`); None: never.
    """

    deadlines: Deadlines = field(default_factory=Deadlines)
    allreduce: str = "auto"
    spill_bytes: int | None = None

    def __post_init__(self) -> None:
        allreduce.choose(0, 1, self.allreduce)  # refuses an unknown scheme
        if self.spill_bytes is not None and (not isinstance(self.spill_bytes, int) or self.spill_bytes < 0):
            raise ValueError(f"spill_bytes must be an int >= 0 or None, found {self.spill_bytes!r}")
