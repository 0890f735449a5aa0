"""A hook that fails one training task once, to show that retries don't change the result.

Set the Spark local property ``tensorframes.training.failOnce`` on the
driver thread that starts the training to ``"<partition>:<step>:<marker
file>"``: the task of that partition then raises :class:`InjectedFailure`
when it is about to evaluate that step (from 0), unless the marker file
exists, which it creates first. Spark sees an ordinary task failure and
retries the task (driver mode) or the whole barrier stage (barrier mode);
the retry finds the marker and goes through.

For example (the tests do this)::

    spark.sparkContext.setLocalProperty(PROPERTY, f"1:3:{tmp_path / 'failed'}")
"""

from __future__ import annotations

from pathlib import Path

from pyspark import TaskContext

PROPERTY = "tensorframes.training.failOnce"


class InjectedFailure(RuntimeError):
    """The failure :func:`maybe_fail` injects; not a TensorFramesError, so Spark retries it."""


def maybe_fail(step: int) -> None:
    """Raise :class:`InjectedFailure` if this task and ``step`` are the ones the property names, once."""
    context = TaskContext.get()
    spec = context.getLocalProperty(PROPERTY) if context is not None else None
    if not spec:
        return
    partition, at_step, marker = spec.split(":", 2)
    if context.partitionId() != int(partition) or step != int(at_step):
        return
    try:
        Path(marker).open("x").close()
    except FileExistsError:
        return
    raise InjectedFailure(f"injected failure in partition {partition} at step {step} ({PROPERTY})")
