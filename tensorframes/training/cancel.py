"""How a running training notices that the user cancelled it, whenever the cancel lands.

Spark cancels only the jobs running at the moment of the call: a
``SparkContext.cancelAllJobs()`` that lands between two driver-mode steps
finds no job, leaves no trace in the scheduler, and the next step's job runs
as if nothing happened. So a training runs inside a :class:`CancelScope`,
which

- keeps the caller's job group and job tags on every job of the training
  (so ``sc.cancelJobGroup(group)`` of the user's ``sc.setJobGroup`` cancels
  it), and adds a job tag of its own (a Spark Connect operation tag), under
  which the training cancels its own jobs when it has to stop (Ctrl-C, a
  callback that raises, a silent stage);
- registers itself while it runs; pyspark's cancel methods
  (``SparkContext.cancelAllJobs`` / ``cancelJobGroup`` / ``cancelJobsWithTag``,
  ``SparkSession.interruptAll`` / ``interruptTag``, classic and Connect) are
  wrapped, once, when this module is imported (Spark Connect's when it is
  loaded by then, else when a training first runs on a Connect session), so
  that a call from any thread of this process first marks every running
  training it applies to as cancelled, then does what it always did. The
  training looks at that mark between steps (an attribute read) and stops;
- recognises a job that failed because it was cancelled some other way
  (the Spark UI's kill link, another process) by Spark's error class.

What the mark means is Spark's own rule: ``cancelAllJobs`` cancels every
training of that SparkContext; ``cancelJobGroup(g)`` those started under job
group ``g``; ``cancelJobsWithTag(t)`` / ``interruptTag(t)`` those started
with tag ``t``; ``interruptAll()`` those of that SparkSession.
"""

from __future__ import annotations

import functools
import re
import secrets
import sys
import threading
from typing import Any, Callable

from pyspark import SparkContext
from pyspark.sql import SparkSession

_JOB_GROUP = "spark.jobGroup.id"
#: Spark's reason for a cancelled job (classic) or operation (Connect), e.g.
#: "[SPARK_JOB_CANCELLED] Job 2 cancelled as part of cancellation of all jobs SQLSTATE: XXKDA".
_CANCELLED = re.compile(r"\[(?:SPARK_JOB_CANCELLED|OPERATION_CANCELED)\].*?(?= SQLSTATE|$)", re.MULTILINE)
_active: set["CancelScope"] = set()
_lock = threading.Lock()
_wrapped: set[tuple[type, str]] = set()


class Cancelled(Exception):
    """Raised inside a training marked as cancelled; ``tfs.train`` turns it into a TrainingCancelledError."""


class CancelScope:
    """A training's tags and cancel mark, registered while it runs (``with CancelScope(spark) as scope:``).

    ``how`` is None until a cancel that applies to this training is called;
    then it says which call, e.g. ``"SparkContext.cancelAllJobs()"``.
    """

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self.classic = getattr(spark, "_jsc", None) is not None
        self.context = spark.sparkContext if self.classic else None
        self.tag = f"tensorframes-training-{secrets.token_hex(8)}"
        self.how: str | None = None
        if self.classic:
            self.group = self.context.getLocalProperty(_JOB_GROUP)
            self.job_tags = set(self.context.getJobTags())
        else:
            self.group, self.job_tags = None, set()
        self.session_tags = set(spark.getTags())  # the caller's; the training's own tag is cancelled by it alone

    def __enter__(self) -> "CancelScope":
        _watch(type(self.spark))
        if self.classic:
            self.context.addJobTag(self.tag)
        else:
            self.spark.addTag(self.tag)
        with _lock:
            _active.add(self)
        return self

    def __exit__(self, *exc: object) -> None:
        with _lock:
            _active.discard(self)
        if self.classic:
            self.context.removeJobTag(self.tag)
        else:
            self.spark.removeTag(self.tag)

    def check(self) -> None:
        """Raise :class:`Cancelled` if a cancel marked this training (between two steps or jobs)."""
        if self.how is not None:
            raise Cancelled(self.how)

    def cancelled(self, error: BaseException | None = None) -> str | None:
        """How the training was cancelled: the call that marked it, or Spark's reason ``error`` was
        cancelled for; None when it was not cancelled."""
        if self.how is not None:
            return self.how
        found = _CANCELLED.search(str(error)) if isinstance(error, Exception) else None
        return f"Spark: {found.group(0)}" if found else None

    def interrupt(self) -> None:
        """Cancel the jobs (Connect: operations) this training started, and only those."""
        if self.classic:
            self.context.cancelJobsWithTag(self.tag)
        else:
            self.spark.interruptTag(self.tag)

    def _mark(self, how: str) -> None:
        if self.how is None:
            self.how = how


def _applies(scope: CancelScope, owner: Any, name: str, args: tuple) -> bool:
    """Whether ``owner.name(*args)`` cancels ``scope``'s training (Spark's rule, see the module)."""
    if isinstance(owner, SparkContext):
        if scope.context is not owner:
            return False
        return (name == "cancelAllJobs" or (name == "cancelJobGroup" and args[:1] == (scope.group,))
                or (name == "cancelJobsWithTag" and bool(args) and args[0] in scope.job_tags))
    if scope.spark is not owner:
        return False
    return name == "interruptAll" or (name == "interruptTag" and bool(args) and args[0] in scope.session_tags)


def _notify(owner: Any, name: str, args: tuple) -> None:
    call = f"{type(owner).__name__}.{name}({', '.join(map(repr, args[:1]))})"
    with _lock:
        for scope in _active:
            if _applies(scope, owner, name, args):
                scope._mark(call)


_CONTEXT_METHODS = ("cancelAllJobs", "cancelJobGroup", "cancelJobsWithTag")
_SESSION_METHODS = ("interruptAll", "interruptTag")


def _watch(session_class: type) -> None:
    """Wrap the cancel methods of ``session_class`` (once) so that they mark the trainings they cancel."""
    _wrap([(session_class, n) for n in _SESSION_METHODS])


def _wrap(targets: list[tuple[type, str]]) -> None:
    with _lock:
        for cls, name in targets:
            if (cls, name) not in _wrapped:
                setattr(cls, name, _marking(getattr(cls, name), name))
                _wrapped.add((cls, name))


def _marking(method: Callable, name: str) -> Callable:
    @functools.wraps(method)
    def cancel(self, *args: Any, **kwargs: Any) -> Any:
        _notify(self, name, args + tuple(kwargs.values()))
        return method(self, *args, **kwargs)
    return cancel


def _session_classes() -> list[type]:
    """Classic SparkSession, and Spark Connect's if loaded already (importing it costs about a second)."""
    connect = sys.modules.get("pyspark.sql.connect.session")
    return [SparkSession] + ([connect.SparkSession] if connect is not None else [])


# At import, so that a cancel method looked up before the first training (``stop = sc.cancelAllJobs``)
# is the wrapped one too (Spark Connect's: from the first training on a Connect session, if not loaded yet).
_wrap([(SparkContext, n) for n in _CONTEXT_METHODS] + [(c, n) for c in _session_classes() for n in _SESSION_METHODS])
