"""Fixtures for the Spark tests of map / reduce / aggregate: backends, Arrow batch sizes and partitionings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession

from tensorframes.sql.backend import BACKEND_ENV

_MAX_RECORDS = "spark.sql.execution.arrow.maxRecordsPerBatch"

# Not collected (for doctests): importing it registers its worker-killing op, which belongs in the
# Spark workers of training_cases.py's "wide" world only, not in this process's registry
# (tests/engine/test_registry_coverage.py checks that every registered op is tested).
collect_ignore = ["worker_faults.py"]


@pytest.fixture(params=[3, 10_000], ids=["batch3-arrow", "batch10000-auto"])
def batch_size(request: pytest.FixtureRequest, spark: SparkSession,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """Run the test on the Arrow path with batches of at most 3 rows, then with the default
    backend (SQL where the graph translates; else Arrow, batches of 10,000): both paths, same data."""
    if request.param == 3:
        monkeypatch.setenv(BACKEND_ENV, "arrow")
    previous = spark.conf.get(_MAX_RECORDS)
    spark.conf.set(_MAX_RECORDS, str(request.param))
    yield request.param
    spark.conf.set(_MAX_RECORDS, previous)


@pytest.fixture(params=[1, 3, 7], ids=["1part", "3parts", "7parts"])
def partitions(request: pytest.FixtureRequest, batch_size: int) -> int:
    """Spread the test's DataFrame over 1, 3 and 7 partitions (for each batch size)."""
    return request.param
