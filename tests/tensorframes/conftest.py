"""Fixtures for the Spark tests of map / reduce / aggregate: Arrow batch sizes and partitionings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession

_MAX_RECORDS = "spark.sql.execution.arrow.maxRecordsPerBatch"


@pytest.fixture(params=[3, 10_000], ids=["batch3", "batch10000"])
def batch_size(request: pytest.FixtureRequest, spark: SparkSession) -> Iterator[int]:
    """Run the test with Arrow batches of at most 3 rows, then of 10,000 (the default)."""
    previous = spark.conf.get(_MAX_RECORDS)
    spark.conf.set(_MAX_RECORDS, str(request.param))
    yield request.param
    spark.conf.set(_MAX_RECORDS, previous)


@pytest.fixture(params=[1, 3, 7], ids=["1part", "3parts", "7parts"])
def partitions(request: pytest.FixtureRequest, batch_size: int) -> int:
    """Spread the test's DataFrame over 1, 3 and 7 partitions (for each batch size)."""
    return request.param
