"""Dynamic batching: concurrent requests for one model version merged into one run.

TensorFlow Serving's batching parameters, with its names:

- `max_batch_size`: the most rows one merged run takes; a request with more
  rows runs alone.
- `batch_timeout_micros`: how long the first request of a batch waits for
  others to join (0: take what is queued now; while a batch runs, the next
  requests queue up, so batches still form under load).
- `num_batch_threads`: batches run at the same time.
- `max_enqueued_batches`: the queue bound, `max_enqueued_batches *
  max_batch_size` rows waiting; past it `submit` raises Unavailable (HTTP
  503, gRPC UNAVAILABLE) instead of letting the queue and latency grow.

Requests merge when they feed the same inputs with the same trailing shapes;
their rows are concatenated along axis 0, run once, and the outputs split
back by row counts. Only a signature whose inputs and outputs all have a
leading dimension of any size (`None`) is batched; others run one request
per run, through the same bounded queue.

>>> opts = BatchingOptions.parse("max_batch_size { value: 64 } batch_timeout_micros { value: 500 }")
>>> opts.max_batch_size, opts.batch_timeout_micros, opts.max_enqueued_batches
(64, 500, 64)
"""
from __future__ import annotations

import os
import re
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, fields, replace
from typing import Callable, Mapping, NamedTuple, Optional

import numpy as np

from .errors import BadRequest, ConfigError, ServingError, Unavailable

Arrays = Mapping[str, np.ndarray]
_TEXT_FIELD = re.compile(r"(\w+)\s*\{\s*value\s*:\s*(-?\d+)\s*\}")


@dataclass(frozen=True)
class BatchingOptions:
    """TF Serving's batching parameters (its `--batching_parameters_file` fields)."""

    max_batch_size: int = 256
    batch_timeout_micros: int = 0
    num_batch_threads: int = os.cpu_count() or 1
    max_enqueued_batches: int = 64

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            low = 0 if f.name == "batch_timeout_micros" else 1
            if type(value) is not int or value < low:
                raise ConfigError(f"batching parameter {f.name} must be an integer >= {low}, found {value!r}")

    @property
    def capacity(self) -> int:
        """The most rows that may wait in the queue."""
        return self.max_enqueued_batches * self.max_batch_size

    @classmethod
    def parse(cls, text: str, base: Optional["BatchingOptions"] = None) -> "BatchingOptions":
        """Options from TF Serving's text format (`max_batch_size { value: 128 }` ...)."""
        known = {f.name for f in fields(cls)}
        found = {}
        for name, value in _TEXT_FIELD.findall(text):
            if name not in known:
                raise ConfigError(f"unknown batching parameter {name!r}; known: {sorted(known)}")
            found[name] = int(value)
        leftover = _TEXT_FIELD.sub("", re.sub(r"#[^\n]*", "", text)).strip()
        if leftover:
            raise ConfigError(f"batching parameters: cannot parse {leftover[:60]!r}; "
                              "expected lines like `max_batch_size { value: 128 }`")
        return replace(base or cls(), **found)


class _Task(NamedTuple):
    inputs: Arrays
    rows: int
    cost: int  # rows it counts against the queue bound
    key: tuple  # requests with equal keys can be merged
    future: Future
    enqueued: float


class Batcher:
    """A bounded queue of requests and the threads that run them in merged batches.

    `run(inputs) -> outputs` runs the model once; `on_batch(rows, requests)`
    is told the size of every run (for metrics).
    """

    def __init__(self, run: Callable[[Arrays], dict], options: BatchingOptions, batchable: bool,
                 name: str = "model", on_batch: Optional[Callable[[int, int], None]] = None) -> None:
        self._run_model, self.options, self.batchable, self.name = run, options, batchable, name
        self._on_batch = on_batch or (lambda rows, requests: None)
        self._queue: deque[_Task] = deque()
        self._queued = 0
        self._closed = False
        self._cond = threading.Condition()
        self._forming = threading.Lock()  # one thread forms a batch at a time; batches run in parallel
        self._threads = [threading.Thread(target=self._loop, name=f"batch-{name}-{i}", daemon=True)
                         for i in range(options.num_batch_threads)]
        for t in self._threads:
            t.start()

    def submit(self, inputs: Arrays) -> Future:
        """Queue one request; its future gets the outputs for its rows. Unavailable if the queue is full."""
        rows = _rows(inputs) if self.batchable else 1
        cost = max(1, min(rows, self.options.max_batch_size))
        key = tuple((k, v.dtype.str, v.shape[1:]) for k, v in sorted(inputs.items())) if self.batchable else ()
        future: Future = Future()
        with self._cond:
            if self._closed:
                raise Unavailable(f"{self.name} is being unloaded; retry the request")
            if self._queued + cost > self.options.capacity:
                raise Unavailable(f"{self.name}: the batching queue is full ({self._queued} rows waiting, "
                                  f"max_enqueued_batches x max_batch_size = {self.options.capacity}); "
                                  "retry later")
            self._queue.append(_Task(inputs, rows, cost, key, future, time.monotonic()))
            self._queued += cost
            self._cond.notify()
        return future

    @property
    def queued_rows(self) -> int:
        return self._queued

    def close(self) -> None:
        """Refuse new requests, finish the queued ones, stop the threads."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for t in self._threads:
            t.join()

    def _loop(self) -> None:
        while True:
            with self._forming:
                batch = self._next_batch()
            if batch is None:
                return
            self._execute(batch)

    def _next_batch(self) -> Optional[list[_Task]]:
        """The next tasks to run together, or None once closed and drained."""
        limit = self.options.max_batch_size
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            if not self._queue:
                return None
            first = self._queue.popleft()
            batch, size = [first], first.rows
            deadline = first.enqueued + self.options.batch_timeout_micros / 1e6
            while self.batchable and size < limit:
                if self._queue:
                    nxt = self._queue[0]
                    if nxt.key != first.key or size + nxt.rows > limit:
                        break
                    batch.append(self._queue.popleft())
                    size += nxt.rows
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    break
                self._cond.wait(remaining)
            self._queued -= sum(t.cost for t in batch)
        return batch

    def _execute(self, batch: list[_Task]) -> None:
        try:
            if len(batch) == 1:
                outputs = self._run_model(batch[0].inputs)
            else:
                merged = {k: np.concatenate([t.inputs[k] for t in batch]) for k in batch[0].inputs}
                outputs = self._split(self._run_model(merged), batch)
        except Exception as e:  # every request of the batch gets the error; the threads go on
            for t in batch:
                t.future.set_exception(e)
            return
        self._on_batch(sum(t.rows for t in batch), len(batch))
        if len(batch) == 1:
            batch[0].future.set_result(outputs)
            return
        for t, part in zip(batch, outputs):
            t.future.set_result(part)

    def _split(self, outputs: dict, batch: list[_Task]) -> list[dict]:
        total = sum(t.rows for t in batch)
        for name, value in outputs.items():
            if np.ndim(value) == 0 or len(value) != total:
                raise ServingError(f"{self.name}: output {name!r} has shape {np.shape(value)} for a batch of "
                                   f"{total} rows; a batched model's outputs keep the batch dimension")
        bounds = np.cumsum([0] + [t.rows for t in batch])
        return [{k: v[a:b] for k, v in outputs.items()} for a, b in zip(bounds[:-1], bounds[1:])]


def _rows(inputs: Arrays) -> int:
    """The common leading dimension of the inputs (checked against the signature before)."""
    counts = {len(v) for v in inputs.values()} if inputs else {1}
    if len(counts) != 1:
        raise BadRequest(f"inputs have different numbers of rows {sorted(counts)}; "
                         "a request's inputs share the batch dimension")
    return counts.pop()
