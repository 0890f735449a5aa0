"""Start (or join) the Spark session that tensorframes runs on.

``get_spark()`` is the one place where the process is prepared for Spark:

- ``SPARK_CONF_DIR`` points at the settings shipped in ``tensorframes/conf``
  (the top-level ``conf/`` of a checkout is a symlink to it), so examples,
  tests and ``spark-submit`` share one ``spark-defaults.conf`` and
  ``log4j2.properties``;
- ``PYSPARK_PYTHON`` / ``PYSPARK_DRIVER_PYTHON`` default to the running
  interpreter: Spark otherwise starts its Python workers with ``python3`` from
  ``PATH``, which may lack pyarrow, and every Arrow function then fails;
- Java 17+ is checked before the JVM is launched, with an error that says how
  to fix it.

Under ``spark-submit`` none of this is touched: the user chose the master,
conf dir and Python there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

from pyspark.sql import SparkSession

from tensorframes.errors import JavaNotFoundError

__all__ = ["CONF_DIR", "MIN_JAVA_VERSION", "get_spark", "require_java"]

#: The folder holding spark-defaults.conf and log4j2.properties.
CONF_DIR = Path(__file__).resolve().parent / "conf"

MIN_JAVA_VERSION = 17

#: The master of a session get_spark starts: all cores, a task tried up to 4 times.
DEFAULT_MASTER = "local[*,4]"
_JAVA_HINT = (
    "install one (e.g. `apt-get install openjdk-17-jre-headless`) and point "
    "JAVA_HOME at it (e.g. `export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64`)"
)

# `openjdk version "17.0.15" 2025-04-15`, `java version "1.8.0_392"`,
# `openjdk version "21" 2023-09-19`, `openjdk version "17-ea"`.
_VERSION_RE = re.compile(r'version "(\d+)(?:\.(\d+))?')


def get_spark(
    app_name: str = "tensorframes",
    master: str | None = None,
    **conf: str | int | float | bool,
) -> SparkSession:
    """Return the active Spark session, starting a local one if needed.

    ``master`` defaults to :data:`DEFAULT_MASTER`, ``local[*,4]``: all cores,
    and up to 4 attempts per task, so that a crashed Python worker costs a
    retry instead of the job (plain ``local[*]`` gives every task one attempt;
    barrier stages are retried as a whole either way). Under ``spark-submit``
    its ``--master`` is kept. ``conf`` entries are Spark settings that override
    ``spark-defaults.conf``; their keys contain dots, so pass them unpacked::

        spark = get_spark(master="local[2]", **{"spark.sql.shuffle.partitions": 2})
    """
    under_spark_submit = "PYSPARK_GATEWAY_PORT" in os.environ
    if not under_spark_submit and SparkSession.getActiveSession() is None:
        os.environ.setdefault("SPARK_CONF_DIR", str(CONF_DIR))
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        require_java()
    builder = SparkSession.builder.appName(app_name)
    if master is None and not under_spark_submit:
        master = DEFAULT_MASTER
    if master is not None:
        builder = builder.master(master)
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def require_java(min_version: int = MIN_JAVA_VERSION) -> int:
    """Check that the Java Spark will use is ``min_version`` or newer.

    Spark runs ``$JAVA_HOME/bin/java`` when ``JAVA_HOME`` is set, else ``java``
    from ``PATH``; the same one is checked here. Returns its major version
    (``1.8.0_392`` is 8), or raises :class:`JavaNotFoundError`.

    >>> require_java() >= MIN_JAVA_VERSION
    True
    """
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        java = Path(java_home) / "bin" / "java"
        if not java.is_file():
            _fail(min_version, f"JAVA_HOME={java_home}, which has no bin/java")
    else:
        on_path = shutil.which("java")
        if on_path is None:
            _fail(min_version, "no Java (JAVA_HOME is unset and there is no `java` on PATH)")
        java = Path(on_path)
    try:
        # `java -version` prints to stderr.
        done = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        _fail(min_version, f"{java}, which could not be run ({exc})")
    match = _VERSION_RE.search(done.stderr + done.stdout)
    if match is None:
        first_line = (done.stderr or done.stdout).strip().splitlines()[:1]
        _fail(min_version, f"{java}, whose `java -version` output is unreadable: {first_line}")
    major = int(match.group(1))
    if major == 1 and match.group(2) is not None:
        major = int(match.group(2))
    if major < min_version:
        _fail(min_version, f"Java {major} at {java}")
    return major


def _fail(min_version: int, found: str) -> NoReturn:
    raise JavaNotFoundError(
        f"tensorframes needs Java {min_version} or newer to start Spark, "
        f"but found {found}; {_JAVA_HINT}."
    )
