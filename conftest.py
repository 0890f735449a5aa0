"""Root fixtures: the shared Spark session and the namespace of the doctests.

The doctests of ``engine/`` and ``tensorframes/`` are collected with
``--doctest-modules`` (see pyproject.toml). Every doctest sees ``np`` and
``tf`` (``import engine as tf``) and starts on a fresh default graph; those
in ``tensorframes/`` also see ``tfs``, and the doctests that use ``spark`` or
``df`` get the shared local Spark session and a small DataFrame, started
only then (engine doctests never start Spark).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

if TYPE_CHECKING:
    # Imported lazily below, so that engine tests run without loading pyspark.
    from pyspark.sql import DataFrame, SparkSession

_TENSORFRAMES = Path(__file__).parent / "tensorframes"
_USES_SPARK = re.compile(r"\b(spark|df)\b")


def _uses_spark(item: pytest.Item) -> bool:
    """A tensorframes doctest whose examples use ``spark`` or ``df``."""
    return (isinstance(item, pytest.DoctestItem) and item.path.is_relative_to(_TENSORFRAMES)
            and any(_USES_SPARK.search(e.source) for e in item.dtest.examples))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the doctests that start Spark with ``spark`` (so ``-m "not spark"`` leaves them out)."""
    for item in items:
        if _uses_spark(item):
            item.add_marker(pytest.mark.spark)


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """The local[2] Spark session shared by all tests, stopped at the end."""
    from tensorframes.spark import get_spark

    session = get_spark(master="local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def doctest_frame(spark: SparkSession) -> DataFrame:
    """The doctests' ``df``: x double, y array double[?,2] (analyzed), key string; 4 rows."""
    import tensorframes as tfs

    rows = [(float(i), [float(i), -float(i)], "ab"[i % 2]) for i in range(1, 5)]
    return tfs.analyze(spark.createDataFrame(rows, "x double, y array<double>, key string"))


@pytest.fixture(autouse=True)
def _doctest_namespace(request: pytest.FixtureRequest, doctest_namespace: dict[str, Any]) -> None:
    """np, tf, a fresh default graph; for tensorframes doctests also tfs, and spark and df when used."""
    if not isinstance(request.node, pytest.DoctestItem):
        return
    import engine as tf

    tf.reset_default_graph()
    doctest_namespace.update(np=np, tf=tf)
    if not request.node.path.is_relative_to(_TENSORFRAMES):
        return
    import tensorframes as tfs

    doctest_namespace["tfs"] = tfs
    if _uses_spark(request.node):
        doctest_namespace.update(spark=request.getfixturevalue("spark"), df=request.getfixturevalue("doctest_frame"))
