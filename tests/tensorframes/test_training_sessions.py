"""tfs.train in Spark sessions of their own, started in subprocesses (a classic session already
lives in the test process): Spark Connect, and local[4,2] (four task slots for a four-partition
barrier stage, two attempts per task for Spark's task retries in driver mode, and in map_blocks,
map_rows, reduce_blocks and aggregate when a Python worker is killed: worker_faults.py).

Both subprocesses start together and run while the other tests of this module wait on them.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

_spec = importlib.util.spec_from_file_location("training_cases", Path(__file__).with_name("training_cases.py"))
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)

TIMEOUT = 600
FAULT_SECONDS = 60  # a run with a killed worker or a failed task: well under the 120 s rendezvous deadline


class Worlds:
    """The subprocesses, started together; each one's results once it ends."""

    def __init__(self, scratch: Path) -> None:
        script = Path(__file__).with_name("training_cases.py")
        for world in cases.WORLDS:
            (scratch / world).mkdir()
        self.processes = {world: subprocess.Popen([sys.executable, str(script), world, str(scratch / world)],
                                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                          for world in cases.WORLDS}
        self.found: dict[str, dict] = {}

    def results(self, world: str) -> dict:
        if world not in self.found:
            process = self.processes[world]
            out, err = process.communicate(timeout=TIMEOUT)
            lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
            assert process.returncode == 0 and lines, err[-3000:]
            self.found[world] = {name: {k: np.array(v) for k, v in values.items()}
                                 for name, values in json.loads(lines[-1][len("RESULT "):]).items()}
        return self.found[world]


@pytest.fixture(scope="module")
def worlds(tmp_path_factory):
    started = Worlds(tmp_path_factory.mktemp("worlds"))
    yield started
    for process in started.processes.values():
        if process.poll() is None:
            process.kill()


def expected(name: str) -> dict:
    name = cases.VARIANTS.get(name, (name,))[0]
    data, logistic, make_optimizer, _, _ = cases.SCENARIOS[name]
    x, y = data()
    return {k: np.ravel(v) for k, v in cases.reference(x.shape[1], logistic, make_optimizer, cases.STEPS, x, y).items()}


def assert_scenarios(found: dict, names: list[str]) -> None:
    for name in names:
        for var, value in expected(name).items():
            np.testing.assert_allclose(found[name][var], value, rtol=1e-9, atol=1e-12, err_msg=f"{name}: {var}")


def test_both_modes_run_under_spark_connect(worlds):
    assert_scenarios(worlds.results("connect"), cases.WORLDS["connect"])


def test_barrier_tasks_meet_through_allgather_under_spark_connect_and_the_driver_elsewhere(worlds):
    assert worlds.results("connect")["rendezvous"]["BarrierTaskContext.allGather"].tolist() == [1.0]
    assert worlds.results("connect")["rendezvous"]["through the driver"].tolist() == [0.0]
    assert worlds.results("wide")["rendezvous"]["through the driver"].tolist() == [1.0]


def test_the_ring_gives_the_same_bits_as_the_star(worlds):
    for world, ring, star in [("wide", "linear_barrier_4_ring", "linear_barrier_4"),
                              ("connect", "small_barrier_2_ring", "small_barrier_2")]:
        for var, value in worlds.results(world)[star].items():
            np.testing.assert_array_equal(worlds.results(world)[ring][var], value, err_msg=f"{ring}: {var}")


@pytest.mark.parametrize("mode", ["driver", "barrier"])
def test_a_cancel_under_spark_connect_stops_the_training_at_its_last_completed_step(worlds, mode):
    """interruptAll between two driver-mode steps, interruptTag of the caller's tag while the barrier stage runs
    (its tasks may finish a few more steps before they are stopped: the variables hold the last the driver got)."""
    found = worlds.results("connect")[f"cancel_{mode}"]
    assert (found["step"] == 2) if mode == "driver" else (2 <= found["step"] < 100_000)
    assert found["values_of_that_step"].tolist() == [1.0] and found["session_works"].tolist() == [1.0]


def test_too_many_partitions_for_a_barrier_stage_fail_fast_under_spark_connect(worlds):
    assert worlds.results("connect")["slots"]["refused"].tolist() == [1.0]


def test_four_partitions_in_both_modes_equal_single_process_training(worlds):
    assert_scenarios(worlds.results("wide"), cases.WORLDS["wide"])


@pytest.mark.parametrize("how", ["raise", "kill"])
def test_a_driver_mode_task_that_fails_once_is_retried_to_the_same_weights(worlds, how):
    found = worlds.results("wide")
    assert found[f"failed_once_{how}"]["marker"].tolist() == [1.0]
    assert found[f"failed_once_{how}"]["seconds"][0] < FAULT_SECONDS
    for var, value in found["linear_driver_4"].items():
        np.testing.assert_array_equal(found[f"linear_driver_4_{how}"][var], value)


@pytest.mark.parametrize("entry", ["map_blocks", "map_rows", "reduce_blocks", "aggregate"])
def test_a_killed_python_worker_is_retried_to_the_same_values(worlds, entry):
    """worker_faults.py: the worker running partition 1 SIGKILLs itself once; Spark retries the task."""
    found = worlds.results("wide")[f"faults_{entry}"]
    assert found["killed"].tolist() == [1.0] and found["failed_tasks"].tolist() == [1.0]
    np.testing.assert_array_equal(found["disturbed"], found["undisturbed"])
    np.testing.assert_array_equal(found["disturbed"], found["expected"])
    assert found["seconds"][1] < FAULT_SECONDS

