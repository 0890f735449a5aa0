"""Hooks that fail one training task once, to show that retries don't change the result.

Set the Spark local property ``tensorframes.training.failOnce`` on the
driver thread that starts the training to ``"[how@]<partition>:<step>:<marker
file>"``. The task of that partition then fails at that step (from 0),
unless the marker file exists, which it creates first; ``how`` is

- ``raise`` (the default): raises :class:`InjectedFailure` before the step;
- ``kill``: its Python worker kills itself (``SIGKILL``) before the step;
- ``allreduce``: raises in the middle of the step's allreduce (its vector
  sent, the total not yet received);
- ``vanish``: raises like ``raise``, and in the stage attempt after that the
  task does not join its peers (it sleeps instead): the attempt looks as if
  Spark had launched only the other tasks;
- ``hold``: does not fail; waits before the step until a file named like the
  marker plus ``.released`` exists (at most 60 s): the job is surely
  running then, so a test can cancel it at that step (see
  tests/tensorframes/test_cancellation.py).

Spark sees an ordinary task failure and retries the task (driver mode) or
the whole barrier stage (barrier mode); the retry finds the marker and goes
through.

For example (the tests do this)::

    spark.sparkContext.setLocalProperty(PROPERTY, f"kill@1:3:{tmp_path / 'failed'}")
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Callable

from pyspark import TaskContext

PROPERTY = "tensorframes.training.failOnce"
HOWS = ("raise", "kill", "allreduce", "vanish", "hold")
_VANISH_SECONDS = 300.0  # long enough to outlast a rendezvous deadline; Spark kills the task before
_HOLD_SECONDS = 60.0


class InjectedFailure(RuntimeError):
    """The failure these hooks inject; not a TensorFramesError, so Spark retries it."""


def _planned() -> tuple[str, int, Path] | None:
    """(how, step, marker) when the property names this task's partition, else None."""
    context = TaskContext.get()
    spec = context.getLocalProperty(PROPERTY) if context is not None else None
    if not spec:
        return None
    how, spec = spec.split("@", 1) if "@" in spec.split(":", 1)[0] else ("raise", spec)
    partition, at_step, marker = spec.split(":", 2)
    if how not in HOWS:
        raise ValueError(f"{PROPERTY}: how must be one of {HOWS}, found {how!r}")
    if context.partitionId() != int(partition):
        return None
    return how, int(at_step), Path(marker)


def once(marker: Path) -> bool:
    """True the first time only: creates ``marker``, atomically, so that a retried task goes through.

    The tests' worker-killing op (tests/tensorframes/worker_faults.py) counts on it too.
    """
    try:
        marker.open("x").close()
    except FileExistsError:
        return False
    return True


def maybe_fail(step: int) -> None:
    """Raise :class:`InjectedFailure` (or kill this worker, or hold) if this task and ``step`` are the planned
    ones, once."""
    planned = _planned()
    if planned is None or planned[0] == "allreduce" or step != planned[1] or not once(planned[2]):
        return
    if planned[0] == "hold":
        released, until = released_marker(planned[2]), time.monotonic() + _HOLD_SECONDS
        while not released.exists() and time.monotonic() < until:
            time.sleep(0.01)
        return
    if planned[0] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise InjectedFailure(f"injected failure in partition {TaskContext.get().partitionId()} at step {step} "
                          f"({PROPERTY})")


def released_marker(marker: Path) -> Path:
    """The file that ends a ``hold@`` wait."""
    return marker.with_name(marker.name + ".released")


def midway(step: int) -> Callable[[], None] | None:
    """For ``allreduce@``: what the step's allreduce calls once it is half done (raises, once)."""
    planned = _planned()
    if planned is None or planned[0] != "allreduce" or step != planned[1] or planned[2].exists():
        return None

    def fail() -> None:
        if once(planned[2]):
            raise InjectedFailure(f"injected failure in the middle of the allreduce of step {step} ({PROPERTY})")
    return fail


def maybe_vanish() -> None:
    """For ``vanish@``: in the attempt after the injected failure, stay away from the rendezvous (sleep)."""
    planned = _planned()
    if planned is None or planned[0] != "vanish" or not planned[2].exists():
        return
    if once(planned[2].with_name(planned[2].name + ".vanished")):
        time.sleep(_VANISH_SECONDS)
