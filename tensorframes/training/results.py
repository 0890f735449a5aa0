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

from tensorframes.errors import TrainingError
from tensorframes.relay import RELAYED, describe, rebuild

#: The Spark schema of every training job's output.
SCHEMA = "partition long, payload binary, error string"
_ARROW_SCHEMA = pa.schema([("partition", pa.int64()), ("payload", pa.binary()), ("error", pa.string())])
__all__ = ["RELAYED", "SCHEMA", "payloads", "result_batch"]


def result_batch(partition: int, payload: bytes | None = None,
                 error: BaseException | None = None) -> pa.RecordBatch:
    """One result row: ``payload`` bytes, or a relayed ``error``."""
    text = None if error is None else json.dumps(describe(error))
    return pa.RecordBatch.from_pylist([{"partition": partition, "payload": payload, "error": text}],
                                      schema=_ARROW_SCHEMA)


def payloads(table: pa.Table) -> dict[int, bytes]:
    """Payload per partition; raises the relayed error of the lowest partition, if any."""
    rows = sorted(table.to_pylist(), key=lambda r: r["partition"])
    for row in rows:
        if row["error"] is not None:
            raise rebuild(json.loads(row["error"]), row["partition"], TrainingError)
    return {row["partition"]: row["payload"] for row in rows if row["payload"] is not None}
