"""The Spark session helper: settings from conf/, worker interpreter, Java check."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pyspark.sql import SparkSession

from tensorframes.errors import JavaNotFoundError, TensorFramesError
from tensorframes.spark import CONF_DIR, get_spark, require_java

REPO_ROOT = Path(__file__).resolve().parents[2]


def _spark_defaults() -> dict[str, str]:
    settings = {}
    for line in (CONF_DIR / "spark-defaults.conf").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, value = line.split(None, 1)
            settings[key] = value.strip()
    return settings


def test_top_level_conf_is_the_package_conf() -> None:
    assert (REPO_ROOT / "conf").resolve() == CONF_DIR
    assert {p.name for p in CONF_DIR.iterdir()} >= {"spark-defaults.conf", "log4j2.properties"}


def test_session_has_every_setting_of_spark_defaults(spark: SparkSession) -> None:
    settings = _spark_defaults()
    assert settings["spark.sql.execution.arrow.pyspark.enabled"] == "true"
    spark_conf = spark.sparkContext.getConf()
    assert {key: spark_conf.get(key) for key in settings} == settings


def test_session_uses_log4j2_properties_from_conf(spark: SparkSession) -> None:
    log_manager = spark.sparkContext._jvm.org.apache.logging.log4j.LogManager
    native = log_manager.getLogger("org.apache.hadoop.util.NativeCodeLoader")
    assert native.getLevel().toString() == "ERROR"


def test_workers_run_the_driver_interpreter_with_pyarrow(spark: SparkSession) -> None:
    assert os.environ["PYSPARK_PYTHON"] == sys.executable

    def worker_info(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield pa.RecordBatch.from_pydict(
                {
                    "executable": [sys.executable] * batch.num_rows,
                    "pyarrow": [pa.__version__] * batch.num_rows,
                    "doubled": pc.multiply(batch.column("id"), 2),
                }
            )

    rows = (
        spark.range(4, numPartitions=2)
        .mapInArrow(worker_info, "executable string, pyarrow string, doubled long")
        .collect()
    )
    assert sorted(row.doubled for row in rows) == [0, 2, 4, 6]
    assert {(row.executable, row.pyarrow) for row in rows} == {(sys.executable, pa.__version__)}


def test_small_batches_caps_arrow_batches_at_three_rows(small_batches: SparkSession) -> None:
    def batch_sizes(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield pa.RecordBatch.from_pydict({"n": [batch.num_rows]})

    rows = small_batches.range(10, numPartitions=1).mapInArrow(batch_sizes, "n long").collect()
    assert [row.n for row in rows] == [3, 3, 3, 1]


def test_small_batches_setting_is_restored_afterwards(spark: SparkSession) -> None:
    # Runs after the test above (file order).
    assert spark.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch") == "10000"


# --- Java check: fake `java` executables, no Spark started -------------------


def _fake_java(folder: Path, version_output: str) -> Path:
    """A JAVA_HOME whose bin/java prints ``version_output`` like `java -version`."""
    java = folder / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text(f"#!/bin/sh\necho '{version_output}' >&2\n")
    java.chmod(0o755)
    return folder


@pytest.mark.parametrize(
    ("version_output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('openjdk version "21" 2023-09-19', 21),
        ('openjdk version "25-ea" 2025-09-16', 25),
        ('java version "1.8.0_392"', 8),
        ('openjdk version "11.0.22" 2024-01-16', 11),
    ],
)
def test_require_java_reads_major_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version_output: str, major: int
) -> None:
    monkeypatch.setenv("JAVA_HOME", str(_fake_java(tmp_path, version_output)))
    if major >= 17:
        assert require_java() == major
    else:
        with pytest.raises(JavaNotFoundError, match=f"found Java {major} at {tmp_path}"):
            require_java()


def test_require_java_uses_path_without_java_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = _fake_java(tmp_path, 'openjdk version "17.0.2" 2022-01-18')
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(home / "bin"))
    assert require_java() == 17


def test_require_java_without_any_java(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(JavaNotFoundError, match="no `java` on PATH") as caught:
        require_java()
    message = str(caught.value)
    assert isinstance(caught.value, TensorFramesError)
    assert "Java 17 or newer" in message
    assert "export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64" in message
    assert "apt-get install openjdk-17-jre-headless" in message
    assert not re.search(r"\.\s+[A-Z]", message) and message.endswith(".")  # one sentence


def test_require_java_with_java_home_lacking_bin_java(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(JavaNotFoundError, match=f"JAVA_HOME={tmp_path}, which has no bin/java"):
        require_java()


def test_require_java_with_unreadable_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JAVA_HOME", str(_fake_java(tmp_path, "Segmentation fault")))
    with pytest.raises(JavaNotFoundError, match="unreadable.*Segmentation fault"):
        require_java()


def test_get_spark_checks_java_before_starting_spark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pretend no session is running yet, whatever the other tests started.
    monkeypatch.setattr(SparkSession, "getActiveSession", classmethod(lambda cls: None))
    for name in ("SPARK_CONF_DIR", "PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JAVA_HOME", str(_fake_java(tmp_path, 'java version "1.8.0_392"')))
    with pytest.raises(JavaNotFoundError, match="found Java 8"):
        get_spark()
    assert os.environ["SPARK_CONF_DIR"] == str(CONF_DIR)
    assert os.environ["PYSPARK_PYTHON"] == sys.executable


def test_get_spark_starts_a_local_master_that_retries_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    monkeypatch.delenv("PYSPARK_GATEWAY_PORT", raising=False)
    monkeypatch.setattr(type(SparkSession.builder), "master", lambda self, m: seen.append(m) or self)
    monkeypatch.setattr(type(SparkSession.builder), "getOrCreate", lambda self: "session")
    assert get_spark() == "session" and seen == ["local[*,4]"]
