"""Dynamic batching in the running server: concurrent HTTP requests share a run, a full queue is a 503,
and the metrics count requests, latencies and batch sizes."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

from serving.batching import BatchingOptions


def hold_runs(server, name: str = "m"):
    """Make the model's runs wait for the returned event (a slow model), and count them."""
    release, started, runs = threading.Event(), threading.Event(), []
    with server.repository.acquire(name) as servable:
        batcher = servable.batcher
    run = batcher._run_model

    def slow(inputs):
        started.set()
        release.wait(10)
        runs.append(len(next(iter(inputs.values()))))
        return run(inputs)
    batcher._run_model = slow
    return release, started, runs


def metric(text: str, name: str, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name}{{{wanted}}} in the metrics")


def test_concurrent_requests_are_merged_into_one_run_and_split_back(tmp_path, models, start_server):
    models.affine(tmp_path / "1", 3.0)
    server = start_server({"m": tmp_path}, batching=BatchingOptions(num_batch_threads=1, max_batch_size=64))
    release, started, runs = hold_runs(server)
    inputs = [np.full((1 + i % 3, models.FEATURES), i, np.float32) for i in range(6)]
    with httpx.Client(base_url=server.rest_url, timeout=10) as http, ThreadPoolExecutor(6) as pool:
        first = pool.submit(http.post, "/v1/models/m:predict", json={"instances": inputs[0].tolist()})
        started.wait(5)
        rest = [pool.submit(http.post, "/v1/models/m:predict", json={"instances": x.tolist()}) for x in inputs[1:]]
        threading.Event().wait(0.3)  # let them reach the queue
        release.set()
        answers = [f.result().json()["predictions"] for f in [first] + rest]
        text = http.get("/monitoring/prometheus/metrics").text
    for x, answer in zip(inputs, answers):
        np.testing.assert_array_equal(np.array(answer, np.float32), x * np.float32(3))
    assert runs == [1, sum(len(x) for x in inputs[1:])]
    assert metric(text, "tensorframes_serving_batch_requests_count", model="m") == 2
    assert metric(text, "tensorframes_serving_batch_requests_sum", model="m") == 6
    assert metric(text, "tensorframes_serving_requests_total", model="m", api="tfs_rest", code="200") == 6
    assert metric(text, "tensorframes_serving_request_latency_seconds_count", model="m", api="tfs_rest") == 6


@pytest.mark.parametrize("api", ["tfs", "oip"])
def test_a_full_queue_answers_503_and_the_server_recovers(tmp_path, models, start_server, api):
    models.affine(tmp_path / "1", 1.0)
    server = start_server({"m": tmp_path}, batching=BatchingOptions(num_batch_threads=1, max_batch_size=1,
                                                                    max_enqueued_batches=2))
    release, started, _ = hold_runs(server)
    row = [[0.0] * models.FEATURES]
    path, body = (("/v1/models/m:predict", {"instances": row}) if api == "tfs" else
                  ("/v2/models/m/infer", {"inputs": [{"name": "x", "shape": [1, 5], "datatype": "FP32",
                                                      "data": row[0]}]}))
    with httpx.Client(base_url=server.rest_url, timeout=10) as http, ThreadPoolExecutor(3) as pool:
        running = pool.submit(http.post, path, json=body)
        started.wait(5)
        queued = [pool.submit(http.post, path, json=body) for _ in range(2)]
        while server.repository._models["m"].versions[1].batcher.queued_rows < 2:
            threading.Event().wait(0.01)
        refused = http.post(path, json=body)
        release.set()
        assert refused.status_code == 503 and "queue is full" in refused.json()["error"]
        assert [f.result().status_code for f in [running] + queued] == [200, 200, 200]
        assert http.post(path, json=body).status_code == 200


def test_metrics_are_prometheus_text_with_model_loads(served):
    answer = httpx.get(f"{served.rest_url}/monitoring/prometheus/metrics")
    assert answer.headers["content-type"].startswith("text/plain")
    assert metric(answer.text, "tensorframes_serving_model_loads_total", model="affine", outcome="loaded") == 2
    assert "# TYPE tensorframes_serving_request_latency_seconds histogram" in answer.text
