"""TensorFlow Serving's REST API: status, metadata, predict in row and columnar format."""
from __future__ import annotations

import httpx
import numpy as np
import pytest

from engine import saved_model


@pytest.fixture(scope="module")
def http(served):
    with httpx.Client(base_url=served.rest_url, timeout=10) as client:
        yield client


def reference(served, name: str, version: int, inputs: dict) -> dict:
    """What engine.saved_model.load(...).predict gives for the same inputs."""
    base = served.repository._models[name].config.base_path
    return saved_model.load(f"{base}/{version}").predict(inputs)


def test_status_lists_the_loaded_versions_highest_first(http):
    answer = http.get("/v1/models/affine").json()
    assert answer == {"model_version_status": [
        {"version": v, "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}} for v in ("2", "1")]}


def test_status_of_one_version(http):
    assert [s["version"] for s in http.get("/v1/models/affine/versions/1").json()["model_version_status"]] == ["1"]


def test_metadata_is_the_signature_def_with_dtypes_and_shapes(http):
    sig = http.get("/v1/models/two/metadata").json()["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert sig["inputs"]["a"] == {"dtype": "DT_DOUBLE", "name": "a:0", "tensor_shape": {
        "dim": [{"size": "-1", "name": ""}, {"size": "2", "name": ""}], "unknown_rank": False}}
    assert sig["inputs"]["n"]["dtype"] == "DT_INT32"
    assert sorted(sig["outputs"]) == ["sum", "twice"]
    assert sig["method_name"] == "tensorflow/serving/predict"


def test_predict_row_format_equals_the_saved_model_to_the_last_bit(served, http, rows):
    answer = http.post("/v1/models/mlp:predict", json={"instances": rows.tolist()})
    assert answer.status_code == 200
    expected = reference(served, "mlp", 1, {"inputs": rows})["outputs"]
    np.testing.assert_array_equal(np.array(answer.json()["predictions"], np.float32), expected)


def test_predict_columnar_format_answers_outputs(served, http, rows):
    answer = http.post("/v1/models/mlp:predict", json={"signature_name": "serving_default", "inputs": rows.tolist()})
    expected = reference(served, "mlp", 1, {"inputs": rows})["outputs"]
    np.testing.assert_array_equal(np.array(answer.json()["outputs"], np.float32), expected)


def test_predict_a_version_by_number(http, rows):
    v1 = http.post("/v1/models/affine/versions/1:predict", json={"instances": rows.tolist()}).json()
    v2 = http.post("/v1/models/affine/versions/2:predict", json={"instances": rows.tolist()}).json()
    latest = http.post("/v1/models/affine:predict", json={"instances": rows.tolist()}).json()
    np.testing.assert_array_equal(np.array(v1["predictions"], np.float32), rows)
    np.testing.assert_array_equal(np.array(v2["predictions"], np.float32), rows * np.float32(2) + np.float32(1))
    assert latest == v2


def test_row_format_with_named_inputs_answers_an_object_per_row(http):
    instances = [{"a": [1.5, 2.0], "n": 3}, {"a": [0.25, -1.0], "n": -2}]
    answer = http.post("/v1/models/two:predict", json={"instances": instances}).json()
    assert answer == {"predictions": [{"sum": 6.5, "twice": [3.0, 4.0]}, {"sum": -2.75, "twice": [0.5, -2.0]}]}


def test_columnar_format_with_named_inputs_answers_an_object_of_outputs(http):
    answer = http.post("/v1/models/two:predict", json={"inputs": {"a": [[1.5, 2.0]], "n": [3]}}).json()
    assert answer == {"outputs": {"sum": [6.5], "twice": [[3.0, 4.0]]}}


def test_float64_outputs_round_trip_exactly_through_json(http):
    a = [[0.1, 1 / 3], [1e-300, 2.0 ** 0.5]]
    answer = http.post("/v1/models/two:predict", json={"inputs": {"a": a, "n": [0, 0]}}).json()
    np.testing.assert_array_equal(np.array(answer["outputs"]["twice"]), np.array(a) * 2.0)
