"""Prometheus metrics of one server (a registry of its own, so servers in one process don't mix).

Served at `GET /monitoring/prometheus/metrics` (TF Serving's path) in the
Prometheus text format.
"""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST  # noqa: F401  (the answer's content type)

_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)


class Metrics:
    """Request counts and latencies by model, API and status; batch sizes; model loads."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("tensorframes_serving_requests", "Predict/infer requests answered",
                                ["model", "api", "code"], registry=self.registry)
        self.latency = Histogram("tensorframes_serving_request_latency_seconds",
                                 "Time from a request's arrival to its answer", ["model", "api"],
                                 buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.batch_rows = Histogram("tensorframes_serving_batch_size", "Rows per model run (merged requests)",
                                    ["model"], buckets=_BATCH_BUCKETS, registry=self.registry)
        self.batch_requests = Histogram("tensorframes_serving_batch_requests", "Requests merged per model run",
                                        ["model"], buckets=_BATCH_BUCKETS, registry=self.registry)
        self.loads = Counter("tensorframes_serving_model_loads", "Model versions loaded or refused",
                             ["model", "outcome"], registry=self.registry)

    def observe(self, model: str, api: str, code: int | str, seconds: float) -> None:
        self.requests.labels(model, api, str(code)).inc()
        self.latency.labels(model, api).observe(seconds)

    def batch(self, model: str, rows: int, requests: int) -> None:
        self.batch_rows.labels(model).observe(rows)
        self.batch_requests.labels(model).observe(requests)

    def load(self, model: str, outcome: str) -> None:
        self.loads.labels(model, outcome).inc()

    def text(self) -> bytes:
        return generate_latest(self.registry)
