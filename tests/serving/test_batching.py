"""Dynamic batching: concurrent requests merge into one run, split back, and the queue is bounded."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from serving.batching import Batcher, BatchingOptions
from serving.errors import ConfigError, ServingError, Unavailable


class Model:
    """Doubles its input; records the rows of every run; the first run waits for `release`."""

    def __init__(self, hold_first: bool = True) -> None:
        self.runs: list[int] = []
        self.release = threading.Event()
        self.started = threading.Event()
        if not hold_first:
            self.release.set()

    def __call__(self, inputs: dict) -> dict:
        self.started.set()
        self.release.wait(10)
        self.runs.append(len(inputs["x"]))
        return {"y": inputs["x"] * 2}


def rows(n: int, start: float = 0.0) -> dict:
    return {"x": np.arange(start, start + 2 * n, dtype=np.float32).reshape(n, 2)}


def test_requests_queued_while_a_batch_runs_merge_into_the_next_run():
    model = Model()
    batcher = Batcher(model, BatchingOptions(max_batch_size=8, num_batch_threads=1), batchable=True)
    first = batcher.submit(rows(1))
    model.started.wait(5)
    waiting = [batcher.submit(rows(n, start=10 * i)) for i, n in enumerate([1, 2, 3])]
    model.release.set()
    first.result(5)
    for future, (i, n) in zip(waiting, enumerate([1, 2, 3])):
        np.testing.assert_array_equal(future.result(5)["y"], rows(n, start=10 * i)["x"] * 2)
    batcher.close()
    assert model.runs == [1, 6]


def test_a_batch_stops_at_max_batch_size():
    model = Model()
    batcher = Batcher(model, BatchingOptions(max_batch_size=4, num_batch_threads=1), batchable=True)
    batcher.submit(rows(1))
    model.started.wait(5)
    futures = [batcher.submit(rows(2)) for _ in range(3)]
    model.release.set()
    [f.result(5) for f in futures]
    batcher.close()
    assert model.runs == [1, 4, 2]


def test_a_request_larger_than_the_batch_size_runs_alone():
    model = Model(hold_first=False)
    batcher = Batcher(model, BatchingOptions(max_batch_size=4, num_batch_threads=1), batchable=True)
    big = batcher.submit(rows(10)).result(5)
    batcher.close()
    assert model.runs == [10] and big["y"].shape == (10, 2)


def test_the_timeout_lets_a_lone_request_wait_for_company():
    model = Model(hold_first=False)
    batcher = Batcher(model, BatchingOptions(max_batch_size=8, batch_timeout_micros=300_000, num_batch_threads=1),
                      batchable=True)
    futures = [batcher.submit(rows(1))]
    futures.append(batcher.submit(rows(1)))
    [f.result(5) for f in futures]
    batcher.close()
    assert model.runs == [2]


def test_requests_of_different_trailing_shapes_do_not_merge():
    model = Model()
    batcher = Batcher(model, BatchingOptions(max_batch_size=8, num_batch_threads=1), batchable=True)
    batcher.submit(rows(1))
    model.started.wait(5)
    a = batcher.submit({"x": np.zeros((1, 3), np.float32)})
    b = batcher.submit(rows(1))
    model.release.set()
    a.result(5), b.result(5)
    batcher.close()
    assert model.runs == [1, 1, 1]


def test_a_full_queue_answers_unavailable_instead_of_growing():
    model = Model()
    batcher = Batcher(model, BatchingOptions(max_batch_size=2, max_enqueued_batches=2, num_batch_threads=1),
                      batchable=True)
    batcher.submit(rows(1))
    model.started.wait(5)
    queued = [batcher.submit(rows(2)), batcher.submit(rows(2))]  # 4 rows = the bound
    with pytest.raises(Unavailable, match="queue is full"):
        batcher.submit(rows(1))
    model.release.set()
    [f.result(5) for f in queued]
    batcher.submit(rows(1)).result(5)  # room again once the queue drains
    batcher.close()


def test_an_error_reaches_every_request_of_its_batch_and_the_batcher_goes_on():
    calls = []

    def run(inputs):
        calls.append(len(inputs["x"]))
        if len(calls) == 1:
            raise ValueError("broken run")
        return {"y": inputs["x"]}
    batcher = Batcher(run, BatchingOptions(max_batch_size=4, num_batch_threads=1), batchable=True)
    with pytest.raises(ValueError, match="broken run"):
        batcher.submit(rows(1)).result(5)
    assert batcher.submit(rows(1)).result(5)["y"].shape == (1, 2)
    batcher.close()


def test_outputs_that_lose_the_batch_dimension_fail_the_merged_requests():
    started, hold = threading.Event(), threading.Event()

    def run(inputs):
        started.set()
        hold.wait(5)
        return {"total": inputs["x"].sum()}
    batcher = Batcher(run, BatchingOptions(max_batch_size=8, num_batch_threads=1), batchable=True)
    alone = batcher.submit(rows(1))
    started.wait(5)
    merged = [batcher.submit(rows(1)), batcher.submit(rows(1))]
    hold.set()
    assert alone.result(5)["total"] == 1.0  # one request: its outputs are its own
    for future in merged:
        with pytest.raises(ServingError, match="'total' has shape \\(\\) for a batch of 2 rows"):
            future.result(5)
    batcher.close()


def test_close_answers_the_queued_requests_then_refuses_new_ones():
    model = Model()
    batcher = Batcher(model, BatchingOptions(max_batch_size=8, num_batch_threads=1), batchable=True)
    futures = [batcher.submit(rows(1)) for _ in range(3)]
    model.release.set()
    batcher.close()
    assert all(f.done() and f.exception() is None for f in futures)
    with pytest.raises(Unavailable, match="unloaded"):
        batcher.submit(rows(1))


def test_batching_parameters_read_tf_servings_text_format():
    opts = BatchingOptions.parse("""
        max_batch_size { value: 128 }   # rows
        batch_timeout_micros { value: 1000 }
        num_batch_threads { value: 4 }
        max_enqueued_batches { value: 100 }""")
    assert (opts.max_batch_size, opts.batch_timeout_micros, opts.num_batch_threads, opts.capacity) == \
        (128, 1000, 4, 12800)


@pytest.mark.parametrize("text, words", [("max_batch_size { value: 0 }", ">= 1"),
                                         ("pad_variable_length_inputs { value: 1 }", "unknown batching parameter"),
                                         ("max_batch_size: 12", "cannot parse")])
def test_bad_batching_parameters_are_refused(text, words):
    with pytest.raises(ConfigError, match=words):
        BatchingOptions.parse(text)
