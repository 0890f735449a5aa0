"""Shared fixtures: one local Spark session for the whole test run.

Starting Spark costs about 5 s and its first job another 2-3 s, so every test
that needs Spark requests the session-scoped ``spark`` fixture (defined in
the root conftest.py, which the doctests share); the session starts only if
such a test is collected. Tests under ``tests/engine`` never
start Spark (``engine`` does not know Spark exists); collection fails if one
asks for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    # Imported lazily below, so that engine tests run without loading pyspark.
    from pyspark.sql import SparkSession

_ENGINE_TESTS = Path(__file__).parent / "engine"
_MAX_RECORDS = "spark.sql.execution.arrow.maxRecordsPerBatch"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests that use Spark with ``spark``; refuse them under tests/engine."""
    misplaced = []
    for item in items:
        # fixturenames is transitive: fixtures built on `spark` count too.
        if "spark" not in getattr(item, "fixturenames", ()):
            continue
        item.add_marker(pytest.mark.spark)
        if item.path.is_relative_to(_ENGINE_TESTS):
            misplaced.append(item.nodeid)
    if misplaced:
        raise pytest.UsageError(
            "engine tests must not start Spark; move these to tests/tensorframes: "
            + ", ".join(misplaced)
        )


@pytest.fixture
def small_batches(spark: SparkSession) -> Iterator[SparkSession]:
    """``spark`` with Arrow batches of at most 3 rows, restored afterwards."""
    previous = spark.conf.get(_MAX_RECORDS)
    spark.conf.set(_MAX_RECORDS, "3")
    try:
        yield spark
    finally:
        spark.conf.set(_MAX_RECORDS, previous)


class DiskFull(OSError):
    """Stands for a write that fails half way (ENOSPC)."""


class FailAt:
    """``fail(owner, name, at)``: make ``owner.name`` raise :class:`DiskFull` (``fail.error``) at its
    call number ``at`` (from 0), for this test only."""

    error = DiskFull

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch

    def __call__(self, owner: object, name: str, at: int) -> None:
        real, calls = getattr(owner, name), []

        def flaky(*args, **kwargs):
            calls.append(1)
            if len(calls) - 1 == at:
                raise DiskFull(28, "No space left on device")
            return real(*args, **kwargs)
        self.monkeypatch.setattr(owner, name, flaky)


@pytest.fixture
def disk_full(monkeypatch: pytest.MonkeyPatch) -> FailAt:
    """Failure injection for the atomic-save tests: a write that fails at a chosen call."""
    return FailAt(monkeypatch)
