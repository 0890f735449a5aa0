"""The examples run in smoke mode and print the figures they promise.

Each run is a subprocess with its own Spark, launched as a user would from
the repository root and read through its last ``RESULT {json}`` line. A run
costs 15-45 s, mostly Spark start-up and job latency, so every example runs
with ``python`` and three also with ``spark-submit`` (the same script under
another launcher): 01 (the plain path), 03 (the main job) and 05 (a user op
module shipped to the executors).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyspark
import pytest

from engine import saved_model
from tensorframes.spark import CONF_DIR

ROOT = Path(__file__).resolve().parents[2]
SPARK_SUBMIT = Path(pyspark.__file__).parent / "bin" / "spark-submit"
LAUNCHERS = {"python": [sys.executable], "spark-submit": [str(SPARK_SUBMIT)]}

pytestmark = pytest.mark.slow


def run_example(name: str, launcher: str, *args: str) -> dict:
    """Run examples/<name>.py --smoke; the figures of its RESULT line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPARK_GATEWAY")}  # not "under spark-submit"
    env.update(SPARK_CONF_DIR=str(CONF_DIR), PYSPARK_PYTHON=sys.executable)
    command = LAUNCHERS[launcher] + [str(ROOT / "examples" / f"{name}.py"), "--smoke", *args]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    results = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert results, f"{name} printed no RESULT line:\n{done.stdout[-3000:]}"
    return json.loads(results[-1][len("RESULT "):])


both_launchers = pytest.mark.parametrize("launcher", list(LAUNCHERS))
python_only = pytest.mark.parametrize("launcher", ["python"])


@both_launchers
def test_graph_basics(launcher):
    r = run_example("01_graph_basics", launcher)
    assert r["operations"] == 10
    assert r["prices"] == r["spark_prices"] == [90_100.0, 120_100.0, 150_100.0]


@python_only
def test_house_prices(launcher):
    r = run_example("02_house_prices", launcher)
    assert r["first_mse"] == 8_482_010_000.0  # the talk's figure, exactly
    assert r["w"] == pytest.approx(7000 / 3, rel=1e-6) and r["b"] == pytest.approx(-50_000, rel=1e-6)
    assert r["predictions"] == pytest.approx([230_000.0, 300_000.0, 550_000 / 3], rel=1e-6)
    # Distributed L-BFGS reaches the least-squares fit MLlib solves exactly.
    assert r["rmse"] == pytest.approx(r["mllib_rmse"], rel=1e-3)
    assert 40_000 < r["mllib_rmse"] < 70_000


@both_launchers
def test_churn(launcher, tmp_path):
    r = run_example("03_churn", launcher, "--save", str(tmp_path / "churn"))
    logistic, mlp, mllib = r["logistic_regression"], r["neural_network"], r["mllib"]
    assert logistic["accuracy"] >= 0.85 and abs(logistic["accuracy"] - mllib["accuracy"]) <= 0.005
    assert logistic["auc"] == pytest.approx(mllib["auc"], abs=0.005)
    assert mlp["accuracy"] >= 0.90 and mlp["accuracy"] > r["majority_accuracy"] + 0.04
    assert sum(logistic[k] for k in ("tp", "fp", "fn", "tn")) == sum(mlp[k] for k in ("tp", "fp", "fn", "tn"))
    # --save published the network as version 1 of a servable model base path.
    served = saved_model.load(str(tmp_path / "churn" / "1")).predict({"features": np.array([r["first_customer"]])})
    # map_blocks scored that customer inside a block of many rows; BLAS may round a 1-row matmul differently.
    assert served["churn"][0] == pytest.approx(r["first_score"], rel=1e-12)


@python_only
def test_map_reduce(launcher):
    r = run_example("04_map_reduce", launcher)
    assert r["matches_sql"] and r["sum_x"] == sum(range(r["rows"]))
    distances = r["kmeans_distances"]
    assert all(later <= earlier + 1e-9 for earlier, later in zip(distances, distances[1:]))
    for found, true in zip(r["kmeans_centers"], r["true_centers"]):
        assert found == pytest.approx(true, abs=0.3)


@both_launchers
def test_custom_op(launcher):
    r = run_example("05_custom_op", launcher)
    assert r["huber"] == pytest.approx(r["true"], abs=0.2)
    assert r["squared_error"][1] > r["true"][1] + 2  # the outliers pull the squared-error fit up


@python_only
def test_optimizers(launcher, tmp_path):
    r = run_example("06_optimizers", launcher, "--out", str(tmp_path / "losses"), "--logdir", str(tmp_path / "runs"))
    finals = r["final_losses"]
    assert len(finals) == 9 and all(loss < r["start_loss"] for loss in finals.values())
    assert finals["L-BFGS"] == min(finals.values())
    assert Path(r["curves_file"]).exists()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    for name, final in finals.items():  # one TensorBoard run per optimizer: its loss curve and graph
        board = EventAccumulator(str(tmp_path / "runs" / name))
        board.Reload()
        assert board.Scalars("loss")[-1].value == pytest.approx(final, rel=1e-6) and board.Tags()["graph"]


@python_only
def test_image_classification(launcher):
    r = run_example("07_image_classification", launcher)
    convnet, dense, mllib = r["convnet"], r["dense"], r["mllib_mlp"]
    assert abs(convnet["parameters"] - dense["parameters"]) <= 0.01 * convnet["parameters"]
    assert min(convnet["accuracy"], dense["accuracy"], mllib["accuracy"]) > 0.3  # ten classes: chance is 0.1
    assert r["png"]["files"] == 50 and r["png"]["pixels_match"] and r["png"]["accuracy"] > 0.3


@python_only
def test_demand_forecasting(launcher, tmp_path):
    r = run_example("08_demand_forecasting", launcher, "--out", str(tmp_path / "forecasts"))
    naive, linear, network, mllib = r["seasonal_naive"], r["linear"], r["network"], r["mllib_linear"]
    # tfs.train's least squares is MLlib's, and both forecast far better than last year's same month.
    assert linear["mae"] == pytest.approx(mllib["mae"], rel=1e-3)
    assert linear["mae"] < 0.6 * naive["mae"] and network["mae"] < 0.8 * naive["mae"]
    assert min(linear["mae"], network["mae"]) <= min(mllib["mae"], r["mllib_gbt"]["mae"]) * 1.001
    assert 0.01 < naive["mape"] < 0.05 and Path(r["plot_file"]).exists()


@python_only
def test_reinforcement_learning(launcher, tmp_path):
    r = run_example("09_reinforcement_learning", launcher, "--out", str(tmp_path / "returns"))
    # Episodes seeded per episode: playing them in 1 or 2 tasks gives the same averaged update.
    assert r["tasks_difference"] < 1e-12
    # A few updates already lift the greedy policy well above its start (about 25).
    assert r["eval_return"] > 40 and r["updates"] == 4
    assert Path(r["curve_file"]).exists()
