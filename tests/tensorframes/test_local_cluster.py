"""The graph ships across processes: tensorframes on local-cluster[2,1,1024] (separate executor JVMs).

Runs in a subprocess: a Spark session per process, and this one may already
hold the shared local[2] session.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

JOB = Path(__file__).with_name("cluster_job.py")


@pytest.mark.slow
def test_map_and_reduce_run_in_executor_processes():
    done = subprocess.run([sys.executable, str(JOB)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["total"] == 3.0 * sum(range(100))
    assert result["executors"] == 2
    assert result["driver_pid"] not in result["worker_pids"]
