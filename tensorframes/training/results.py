"""What a training task sends back: a payload, or the error that stopped it.

Errors that a retry can't fix (a null in a feature column, a cell of the
wrong length, an engine error in the loss) travel back as a result row
instead of failing the task: otherwise Spark would retry the task, or the
whole barrier stage, several times for nothing, and the driver would see a
Java stack trace. The driver raises them again, same class and message, with
the partition they came from. Anything else (a lost executor, a killed
worker, a lost peer) fails the task and Spark retries it.
"""

from __future__ import annotations

import json

import pyarrow as pa

import engine.errors
from tensorframes import errors

#: The Spark schema of every training job's output.
SCHEMA = "partition long, payload binary, error string"
_ARROW_SCHEMA = pa.schema([("partition", pa.int64()), ("payload", pa.binary()), ("error", pa.string())])
_MODULES = {m.__name__: m for m in (errors, engine.errors)}

#: Errors that are a property of the data or the graph: relayed, not retried.
RELAYED = (errors.TensorFramesError, engine.errors.EngineError)


def result_batch(partition: int, payload: bytes | None = None,
                 error: BaseException | None = None) -> pa.RecordBatch:
    """One result row: ``payload`` bytes, or a relayed ``error``."""
    text = None
    if error is not None:
        text = json.dumps({"module": type(error).__module__, "type": type(error).__name__,
                           "message": str(error), "column": getattr(error, "column", None),
                           "row": getattr(error, "row", None)})
    return pa.RecordBatch.from_pylist([{"partition": partition, "payload": payload, "error": text}],
                                      schema=_ARROW_SCHEMA)


def payloads(table: pa.Table) -> dict[int, bytes]:
    """Payload per partition; raises the relayed error of the lowest partition, if any."""
    rows = sorted(table.to_pylist(), key=lambda r: r["partition"])
    for row in rows:
        if row["error"] is not None:
            _raise(row["partition"], json.loads(row["error"]))
    return {row["partition"]: row["payload"] for row in rows if row["payload"] is not None}


def _raise(partition: int, record: dict) -> None:
    cls = getattr(_MODULES.get(record["module"]), record["type"], None)
    message = f"{record['message']} (in partition {partition})"
    if not (isinstance(cls, type) and issubclass(cls, RELAYED)):
        raise errors.TrainingError(f"{record['type']}: {message}")
    if issubclass(cls, errors.ColumnError):
        raise cls(message, record["column"], record["row"])
    raise cls(message)
