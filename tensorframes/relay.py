"""Errors found on the executors, raised on the driver as our own classes.

An error of ours (a :class:`~tensorframes.errors.TensorFramesError` or an
``engine`` error) raised inside a Spark task reaches the driver as pyspark's
``PythonException`` (or a ``Py4JJavaError``), the real message buried at
the end of a worker traceback. So the executor code runs inside
:func:`on_executor`, which re-raises such an error with a one-line record
of it (class, message, column, row, partition) between markers in its
message; Spark carries that text to the driver, where :func:`relay` finds
the record and raises the same class with the same message, plus the
partition: no second job, no data collected.

Entry points that run a job (``reduce_blocks``, ``reduce_rows``, ``train``,
``GraphEstimator.fit``) relay by themselves. ``map_blocks``, ``map_rows``,
``aggregate`` and ``GraphTransformer.transform`` are lazy: their jobs run
in the caller's actions (``collect``, ``show``, ``write``...), so wrap those
in ``with tfs.relay_errors():`` to get our classes there too.

>>> from tensorframes.errors import NullValueError
>>> record = describe(NullValueError("column 'x' has a null value in row 0", "x", 0), partition=1)
>>> spark_text = f"PythonException: ... {_START}{json.dumps(record)}{_END}"  # what the driver sees
>>> with relay():
...     raise RuntimeError(spark_text)
Traceback (most recent call last):
...
tensorframes.errors.NullValueError: column 'x' has a null value in row 0 (in partition 1)
"""

from __future__ import annotations

import json
import re
import sys
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

import engine.errors
import tensorframes.errors as errors

#: Errors that are a property of the data or the graph: relayed as they are, never retried.
RELAYED = (errors.TensorFramesError, engine.errors.EngineError)
_MODULES = {m.__name__: m for m in (errors, engine.errors)}
_START, _END = "<<tensorframes-error ", " tensorframes-error>>"
_FOUND = re.compile(re.escape(_START) + r"(\{.*?\})" + re.escape(_END))


class ExecutorError(Exception):
    """How an error of ours leaves a Spark task: its record between markers (see :func:`relay`)."""


def describe(error: BaseException, partition: int | None = None) -> dict:
    """A JSON-able record of ``error``: what :func:`rebuild` needs to raise it again."""
    return {"module": type(error).__module__, "type": type(error).__name__, "message": str(error),
            "column": getattr(error, "column", None), "row": getattr(error, "row", None),
            "partition": partition}


def rebuild(record: dict, partition: int | None = None,
            fallback: type[Exception] = errors.TensorFramesError) -> Exception:
    """The exception a record describes, same class and message, naming the partition.

    A record of a class that is not ours becomes a ``fallback`` naming that class.
    """
    partition = record.get("partition") if partition is None else partition
    message = record["message"] if partition is None else f"{record['message']} (in partition {partition})"
    cls = getattr(_MODULES.get(record["module"]), record["type"], None)
    if not (isinstance(cls, type) and issubclass(cls, RELAYED)):
        return fallback(f"{record['type']}: {message}")
    if issubclass(cls, errors.ColumnError):
        return cls(message, record["column"], record["row"])
    return _ours(cls)(message)


@lru_cache(maxsize=None)
def _ours(cls: type[Exception]) -> type[Exception]:
    """``cls`` itself when it is a TensorFramesError, else a subclass of it that is one too.

    So an engine error relayed from Spark is caught by ``except InvalidArgumentError``
    and by ``except TensorFramesError`` alike.
    """
    if issubclass(cls, errors.TensorFramesError):
        return cls
    return type(cls.__name__, (cls, errors.TensorFramesError),
                {"__module__": cls.__module__, "__qualname__": cls.__qualname__,
                 "__doc__": f"{cls.__doc__} (relayed from a Spark task)"})


@contextmanager
def on_executor() -> Iterator[None]:
    """In a Spark task, re-raise an error of ours as an :class:`ExecutorError` carrying its record.

    Outside a task (a pandas DataFrame, a unit test) errors pass as they are.
    """
    try:
        yield
    except RELAYED as e:
        partition = task_partition()
        if partition is None:
            raise
        raise ExecutorError(marked(e, partition)) from e


def marked(error: BaseException, partition: int | None = None) -> str:
    """``error`` as the text a task fails with: its class and message, then its record between markers.

    The Python workers' :func:`on_executor` raises it; the SQL path's checks
    fail a task with it through ``raise_error``, so :func:`relay` finds
    errors of either backend the same way.

    >>> from tensorframes.errors import NullValueError
    >>> marked(NullValueError("column 'x' has a null value", "x"))[:45]
    "NullValueError: column 'x' has a null value <"
    """
    record = json.dumps(describe(error, partition), separators=(",", ":"))
    return f"{type(error).__name__}: {error} {_START}{record}{_END}"


def task_partition() -> int | None:
    """The partition of the running Spark task, or None outside one.

    A Python worker has pyspark loaded already; it is looked up, not imported,
    so that the executor side stays importable without pyspark.
    """
    pyspark = sys.modules.get("pyspark")
    context = pyspark.TaskContext.get() if pyspark is not None else None
    return None if context is None else context.partitionId()


@contextmanager
def relay() -> Iterator[None]:
    """Raise an error of ours found in a failed Spark action as itself (class, message, partition).

    Any other exception passes through unchanged.
    """
    try:
        yield
    except Exception as e:
        found = _FOUND.search(str(e))
        if found is None:
            raise
        raise rebuild(json.loads(found.group(1))) from None
