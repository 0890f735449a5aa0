"""Bad requests: each kind gets its status code and a message naming what was wrong,
and the next good request is answered as if nothing happened."""
from __future__ import annotations

import json

import httpx
import pytest

ROW = [0.5, 1.0, -1.0, 2.0, 0.0]


def oip(datatype: str = "FP32", shape: tuple = (1, 5), name: str = "inputs", **request) -> dict:
    """An OIP infer request with one input tensor of ROW."""
    return {"inputs": [{"name": name, "shape": list(shape), "datatype": datatype, "data": ROW}], **request}
GOOD = ("/v1/models/mlp:predict", {"instances": [ROW]})


def body(obj) -> bytes:
    return obj if isinstance(obj, bytes) else json.dumps(obj).encode()


# (kind, path, body, status, words the message must hold)
CASES = [
    ("malformed JSON", "/v1/models/mlp:predict", b'{"instances": [[1, 2', 400, ["not valid JSON"]),
    ("not UTF-8", "/v1/models/mlp:predict", b'{"instances": [["\xff"]]}', 400, ["not UTF-8"]),
    ("not an object", "/v1/models/mlp:predict", [ROW], 400, ["JSON object", "list"]),
    ("instances not a list", "/v1/models/mlp:predict",
     {"instances": {"inputs": ROW}}, 400, ["'instances' must be a list"]),
    ("ragged instances", "/v1/models/mlp:predict",
     {"instances": [ROW, ROW[:3]]}, 400, ["input 'inputs'", "ragged", "[3, 5]"]),
    ("mixed nesting", "/v1/models/mlp:predict", {"instances": [ROW, 1.0]}, 400, ["mixes lists and single values"]),
    ("string for a number", "/v1/models/mlp:predict",
     {"instances": [ROW[:4] + ["0.5"]]}, 400, ["input 'inputs'", "string '0.5'", "float32"]),
    ("boolean for a number", "/v1/models/mlp:predict", {"instances": [ROW[:4] + [True]]}, 400, ["boolean true"]),
    ("null for a number", "/v1/models/mlp:predict", {"instances": [ROW[:4] + [None]]}, 400, ["null"]),
    ("NaN literal", "/v1/models/mlp:predict", b'{"instances": [[NaN, 1, 2, 3, 4]]}', 400, ["NaN is not a JSON number"]),
    ("Infinity literal", "/v1/models/mlp:predict", b'{"instances": [[-Infinity, 1, 2, 3, 4]]}', 400, ["-Infinity"]),
    ("float32 overflow", "/v1/models/mlp:predict",
     {"instances": [ROW[:4] + [1e300]]}, 400, ["out of the range of float32"]),
    ("missing input", "/v1/models/two:predict", {"instances": [{"a": [1.0, 2.0]}]}, 400, ["missing: ['n']"]),
    ("extra input", "/v1/models/two:predict",
     {"inputs": {"a": [[1.0, 2.0]], "n": [1], "z": [0]}}, 400, ["unknown: ['z']"]),
    ("fraction for an integer", "/v1/models/two:predict",
     {"inputs": {"a": [[1.0, 2.0]], "n": [1.5]}}, 400, ["input 'n'", "integers", "int32"]),
    ("int32 overflow", "/v1/models/two:predict",
     {"inputs": {"a": [[1.0, 2.0]], "n": [2 ** 40]}}, 400, ["out of the range of int32"]),
    ("too many dimensions", "/v1/models/mlp:predict",
     {"inputs": [[ROW]]}, 400, ["input 'inputs'", "(?, 5)", "(1, 1, 5)"]),
    ("wrong width", "/v1/models/mlp:predict", {"inputs": [ROW[:3]]}, 400, ["(?, 5)", "(1, 3)"]),
    ("empty instances", "/v1/models/mlp:predict", {"instances": []}, 400, ["'instances' is empty"]),
    ("instances and inputs", "/v1/models/mlp:predict", {"instances": [ROW], "inputs": [ROW]}, 400, ["exactly one of"]),
    ("unknown key", "/v1/models/mlp:predict",
     {"instances": [ROW], "signature": "x"}, 400, ["unknown keys ['signature']"]),
    ("unknown signature", "/v1/models/mlp:predict",
     {"signature_name": "classify", "instances": [ROW]}, 400, ["'classify' not found"]),
    ("unknown model", "/v1/models/nope:predict", {"instances": [ROW]}, 404, ["no model named 'nope'", "mlp"]),
    ("unknown version", "/v1/models/mlp/versions/7:predict", {"instances": [ROW]}, 404, ["no version 7", "[1]"]),
    ("negative version", "/v1/models/mlp/versions/-1:predict",
     {"instances": [ROW]}, 400, ["non-negative integer", "'-1'"]),
    ("non-integer version", "/v1/models/mlp/versions/1.5:predict",
     {"instances": [ROW]}, 400, ["non-negative integer", "'1.5'"]),
    ("unsupported verb", "/v1/models/mlp:classify", {"instances": [ROW]}, 400, [":classify is not supported"]),
    ("unknown route", "/v1/models/mlp/versions/1/labels", {}, 404, ["no such endpoint"]),
    ("oversized body", "/v1/models/mlp:predict",
     {"instances": [ROW] * 5000}, 413, ["over the limit of 65536 bytes"]),
    # The Open Inference Protocol's REST infer
    ("OIP wrong datatype", "/v2/models/mlp/infer",
     oip("FP64"), 400, ["FP64", "FP32"]),
    ("OIP unsupported datatype", "/v2/models/mlp/infer",
     oip("BF16"), 400, ["'BF16' is not supported"]),
    ("OIP a datatype of another engine dtype", "/v2/models/mlp/infer",
     oip("FP16"), 400, ["input 'inputs'", "FP16 does not match the model's FP32"]),
    ("OIP shape and data disagree", "/v2/models/mlp/infer",
     oip(shape=(2, 5)), 400, ["holds 10 elements", "5"]),
    ("OIP unknown input", "/v2/models/mlp/infer",
     oip(name="x"), 400, ["no input 'x'", "['inputs']"]),
    ("OIP unknown output", "/v2/models/mlp/infer",
     oip(outputs=[{"name": "y"}]), 400, ["no output 'y'", "['outputs']"]),
    ("OIP negative shape", "/v2/models/mlp/infer",
     oip(shape=(-1, 5)), 400, ["non-negative integers"]),
    ("OIP unknown model", "/v2/models/nope/infer", {"inputs": []}, 404, ["no model named 'nope'"]),
]


@pytest.fixture(scope="module")
def http(served):
    with httpx.Client(base_url=served.rest_url, timeout=10) as client:
        yield client


@pytest.mark.parametrize("kind, path, payload, status, words", CASES, ids=[c[0] for c in CASES])
def test_a_bad_request_is_answered_with_its_status_and_what_was_wrong(http, kind, path, payload, status, words):
    answer = http.post(path, content=body(payload), headers={"content-type": "application/json"})
    assert answer.status_code == status, answer.text
    message = answer.json()["error"]
    for word in words:
        assert word in message, f"{kind}: {word!r} not in {message!r}"
    good = http.post(GOOD[0], json=GOOD[1])
    assert good.status_code == 200 and len(good.json()["predictions"]) == 1


def test_binary_data_that_does_not_fit_its_shape_is_refused(http):
    header = json.dumps({"inputs": [{"name": "inputs", "shape": [1, 5], "datatype": "FP32",
                                     "parameters": {"binary_data_size": 12}}]}).encode()
    answer = http.post("/v2/models/mlp/infer", content=header + b"\0" * 12,
                       headers={"inference-header-content-length": str(len(header))})
    assert answer.status_code == 400
    assert "takes 20 bytes, found 12" in answer.json()["error"]


def test_a_bad_request_to_one_model_leaves_the_queue_of_others_alone(served, http):
    assert http.post("/v1/models/two:predict", json={"inputs": {"a": [[1.0]], "n": [1]}}).status_code == 400
    assert http.post("/v1/models/two:predict", json={"inputs": {"a": [[1.0, 2.0]], "n": [1]}}).json() == \
        {"outputs": {"sum": [4.0], "twice": [[2.0, 4.0]]}}
