"""Every engine dtype over the Open Inference Protocol (REST JSON, REST binary, gRPC raw and typed
contents) and TF Serving's REST API, and every datatype the server can't use refused with the
protocol's error (HTTP 400 {"error"} / gRPC INVALID_ARGUMENT) naming the input and what was expected."""
from __future__ import annotations

import base64
import gc
import json

import grpc
import httpx
import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient

import engine as tf
from engine import dtypes, saved_model
from serving.batching import BatchingOptions
from serving.oip import inference_pb2 as pb
from serving.oip import inference_pb2_grpc as pb_grpc
from serving.repository import ModelConfig
from serving.server import ModelServer, ServerOptions
from serving.tensors import DATATYPES

#: input name -> (engine dtype, OIP datatype, a [2, 2] value using the extremes of the dtype)
KINDS = {
    "b": (tf.bool, "BOOL", np.array([[True, False], [False, True]])),
    "u8": (tf.uint8, "UINT8", np.array([[0, 255], [7, 128]], np.uint8)),
    "i8": (tf.int8, "INT8", np.array([[-128, 127], [0, -1]], np.int8)),
    "i16": (tf.int16, "INT16", np.array([[-32768, 32767], [5, -5]], np.int16)),
    "f16": (tf.float16, "FP16", np.array([[0.5, 65504.0], [-2.0 ** -24, 1.0 / 3]], np.float16)),
    "s": (tf.string, "BYTES", np.array([[b"caf\xc3\xa9", b""], [b"\x00", b"a b"]], dtype=object)),  # UTF-8: JSON too
}
TYPED = {k: v for k, v in KINDS.items() if k != "f16"}  # the datatypes with a typed gRPC contents field


def save_echo(path, kinds: dict) -> None:
    """One [?, 2] input per entry of `kinds`, each echoed as `<name>_out`."""
    with tf.Graph().as_default() as g:
        inputs = {k: tf.placeholder(d, (None, 2), name=k) for k, (d, _, _) in kinds.items()}
        saved_model.save(str(path), g, inputs, {f"{k}_out": tf.identity(p, name=f"{k}_out") for k, p in inputs.items()})


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`kinds` echoes an input of each dtype of KINDS (the ones not tested elsewhere), `typed` those of TYPED."""
    base = tmp_path_factory.mktemp("kinds")
    save_echo(base / "kinds" / "1", KINDS)
    save_echo(base / "typed" / "1", TYPED)
    options = ServerOptions(rest_port=0, grpc_port=0, poll_seconds=0, batching=BatchingOptions(num_batch_threads=1))
    with ModelServer([ModelConfig(n, str(base / n)) for n in ("kinds", "typed")], options) as server:
        yield server


@pytest.fixture(scope="module")
def http(served):
    with httpx.Client(base_url=served.rest_url, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def stub(served):
    with grpc.insecure_channel(served.grpc_address) as channel:
        yield pb_grpc.GRPCInferenceServiceStub(channel)


def assert_same(got: np.ndarray, expected: np.ndarray) -> None:
    """Same dtype, shape and values (tritonclient gives JSON BYTES back as str: compared as UTF-8)."""
    assert got.dtype == expected.dtype and got.shape == expected.shape
    if got.dtype == object:
        got = np.vectorize(lambda v: v.encode() if isinstance(v, str) else v, otypes=[object])(got)
    assert got.tolist() == expected.tolist()


def test_every_engine_dtype_has_its_protocol_datatype():
    engine_dtypes = {d for d in vars(dtypes).values() if isinstance(d, dtypes.DType)}
    assert set(DATATYPES) == engine_dtypes
    assert {name for _, name, _ in KINDS.values()} <= set(DATATYPES.values())


@pytest.mark.parametrize("transport", ["http", "grpc"])
def test_metadata_names_every_datatype(served, transport):
    if transport == "http":
        meta = httpx.get(f"{served.rest_url}/v2/models/kinds", timeout=10).json()
    else:
        with grpcclient.InferenceServerClient(served.grpc_address) as client:
            meta = client.get_model_metadata("kinds", as_json=True)
    assert {t["name"]: t["datatype"] for t in meta["inputs"]} == {k: v[1] for k, v in KINDS.items()}
    assert {t["name"]: t["datatype"] for t in meta["outputs"]} == {f"{k}_out": v[1] for k, v in KINDS.items()}


@pytest.mark.parametrize("transport, binary", [("http", True), ("http", False), ("grpc", True)],
                         ids=["rest-binary", "rest-json", "grpc-raw"])
def test_every_datatype_round_trips_exactly_through_tritonclient(served, transport, binary):
    module = httpclient if transport == "http" else grpcclient
    tensors = []
    for name, (_, datatype, value) in KINDS.items():
        tensor = module.InferInput(name, list(value.shape), datatype)
        tensor.set_data_from_numpy(value, **({"binary_data": binary} if transport == "http" else {}))
        tensors.append(tensor)
    outputs = [module.InferRequestedOutput(f"{k}_out", **({"binary_data": binary} if transport == "http" else {}))
               for k in KINDS]
    client = (httpclient.InferenceServerClient(served.rest_url.removeprefix("http://")) if transport == "http"
              else grpcclient.InferenceServerClient(served.grpc_address))
    try:
        result = client.infer("kinds", tensors, outputs=outputs)
        for name, (_, _, value) in KINDS.items():
            assert_same(result.as_numpy(f"{name}_out"), value)
    finally:
        client.close()
        del client
        gc.collect()  # tritonclient.http closes again in __del__: let that happen here


def raw(value: np.ndarray) -> bytes:
    """Raw contents as Triton's clients send them (BYTES: a 4-byte little-endian length before each element)."""
    if value.dtype == object:
        return b"".join(len(v).to_bytes(4, "little") + v for v in value.reshape(-1))
    return value.astype(value.dtype.newbyteorder("<")).tobytes()


#: The typed gRPC contents field of each datatype that has one (FP16 has none).
FIELDS = {"BOOL": "bool_contents", "UINT8": "uint_contents", "INT8": "int_contents", "INT16": "int_contents",
          "BYTES": "bytes_contents"}


def typed_request(**replaced) -> pb.ModelInferRequest:
    """A `typed` request in typed contents; `replaced` maps an input to (datatype, {field: values})."""
    request = pb.ModelInferRequest(model_name="typed")
    for name, (_, datatype, value) in TYPED.items():
        datatype, contents = replaced.get(name, (datatype, {FIELDS[datatype]: value.reshape(-1).tolist()}))
        tensor = request.inputs.add(name=name, datatype=datatype, shape=[2, 2])
        for field, values in contents.items():
            getattr(tensor.contents, field).extend(values)
    return request


def test_typed_grpc_contents_of_every_datatype_with_a_field_round_trip(stub):
    answer = stub.ModelInfer(typed_request(), timeout=10)
    got = {o.name: (o.datatype, contents) for o, contents in zip(answer.outputs, answer.raw_output_contents)}
    assert got == {f"{k}_out": (d, raw(v)) for k, (_, d, v) in TYPED.items()}


def test_raw_grpc_contents_of_every_datatype_round_trip(stub):
    request = pb.ModelInferRequest(model_name="kinds")
    for name, (_, datatype, value) in KINDS.items():
        request.inputs.add(name=name, datatype=datatype, shape=[2, 2])
        request.raw_input_contents.append(raw(value))
    answer = stub.ModelInfer(request, timeout=10)
    got = {o.name: (o.datatype, contents) for o, contents in zip(answer.outputs, answer.raw_output_contents)}
    assert got == {f"{k}_out": (d, raw(v)) for k, (_, d, v) in KINDS.items()}


def test_fp16_in_typed_grpc_contents_is_refused_pointing_to_raw_contents(stub):
    request = pb.ModelInferRequest(model_name="kinds")
    request.inputs.add(name="f16", datatype="FP16", shape=[1, 2]).contents.fp32_contents.extend([0.5, 1.0])
    with pytest.raises(grpc.RpcError) as e:
        stub.ModelInfer(request, timeout=10)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "input 'f16'" in e.value.details() and "FP16 has no typed contents field" in e.value.details()
    assert "raw_input_contents" in e.value.details()


# -- refused: (what, JSON input entry for `i8` or another input, words of the message) -------------------
def rest_infer(http, **entries) -> httpx.Response:
    """POST a kinds infer request: the good JSON tensors, with `entries` replacing some by name."""
    tensors = {k: {"name": k, "datatype": d, "shape": [2, 2], "data": _json_data(v)} for k, (_, d, v) in KINDS.items()}
    tensors.update({k: {"name": k, **e} for k, e in entries.items()})
    return http.post("/v2/models/kinds/infer", json={"inputs": list(tensors.values())})


def _json_data(value: np.ndarray) -> list:
    if value.dtype == object:
        return [v.decode("utf-8") if v.isascii() else {"b64": base64.b64encode(v).decode()} for v in value.ravel()]
    return value.ravel().tolist()


REST_REFUSED = [
    ("BF16, the protocol's but no engine dtype", {"i8": {"datatype": "BF16", "shape": [2, 2], "data": [0] * 4}},
     ["input 'i8'", "'BF16' is not supported", "the engine has no tensors of it", "INT8"]),
    ("UINT32, the protocol's but no engine dtype", {"u8": {"datatype": "UINT32", "shape": [2, 2], "data": [0] * 4}},
     ["input 'u8'", "'UINT32' is not supported"]),
    ("a datatype that is not one", {"i8": {"datatype": "int8", "shape": [2, 2], "data": [0] * 4}},
     ["input 'i8'", "'int8' is not supported", "it is not a datatype", "INT8"]),
    ("a datatype that is not a string", {"i8": {"datatype": 8, "shape": [2, 2], "data": [0] * 4}},
     ["input 'i8'", "datatype 8 is not supported"]),
    ("no datatype", {"i8": {"shape": [2, 2], "data": [0] * 4}}, ["input 'i8'", "datatype None is not supported"]),
    ("another datatype than the signature's", {"i8": {"datatype": "INT16", "shape": [2, 2], "data": [0] * 4}},
     ["input 'i8'", "INT16 does not match the model's INT8"]),
    ("BYTES for a number input", {"f16": {"datatype": "BYTES", "shape": [2, 2], "data": ["1"] * 4}},
     ["input 'f16'", "BYTES does not match the model's FP16"]),
    ("int8 out of range", {"i8": {"datatype": "INT8", "shape": [2, 2], "data": [0, 0, 0, 128]}},
     ["input 'i8'", "out of the range of int8 [-128, 127]"]),
    ("uint8 negative", {"u8": {"datatype": "UINT8", "shape": [2, 2], "data": [0, -1, 0, 0]}},
     ["input 'u8'", "out of the range of uint8"]),
    ("float16 overflow", {"f16": {"datatype": "FP16", "shape": [2, 2], "data": [0, 70000.0, 0, 0]}},
     ["input 'f16'", "out of the range of float16"]),
    ("a fraction for int16", {"i16": {"datatype": "INT16", "shape": [2, 2], "data": [0, 0.5, 0, 0]}},
     ["input 'i16'", "expected integers for dtype int16", "float 0.5"]),
    ("a number for BYTES", {"s": {"datatype": "BYTES", "shape": [2, 2], "data": ["a", 1, "b", "c"]}},
     ["input 's'", "expected strings", "int 1"]),
    ("bad base64", {"s": {"datatype": "BYTES", "shape": [2, 2], "data": ["a", {"b64": "%%"}, "b", "c"]}},
     ["input 's'", "not valid base64"]),
    ("an object that is not b64", {"s": {"datatype": "BYTES", "shape": [2, 2], "data": ["a", {"x": 1}, "b", "c"]}},
     ["input 's'", "b64"]),
    ("a number for bool", {"b": {"datatype": "BOOL", "shape": [2, 2], "data": [1, 0, 1, 0]}},
     ["input 'b'", "expected booleans", "int 1"]),
    ("shape and data disagree", {"u8": {"datatype": "UINT8", "shape": [2, 3], "data": [0] * 4}},
     ["input 'u8'", "holds 6 elements, data has 4"]),
    ("a shape the signature refuses", {"u8": {"datatype": "UINT8", "shape": [4, 1], "data": [0] * 4}},
     ["input 'u8'", "(?, 2)", "(4, 1)"]),
    ("an unknown input", {"z": {"datatype": "INT8", "shape": [1], "data": [0]}},
     ["no input 'z'", "['b', 'f16', 'i16', 'i8', 's', 'u8']"]),
]


@pytest.mark.parametrize("what, entries, words", REST_REFUSED, ids=[c[0] for c in REST_REFUSED])
def test_a_rest_infer_with_a_bad_tensor_is_refused_naming_it(http, what, entries, words):
    answer = rest_infer(http, **entries)
    assert answer.status_code == 400, answer.text
    for word in words:
        assert word in answer.json()["error"], f"{what}: {word!r} not in {answer.json()['error']!r}"


def test_the_good_rest_request_of_those_cases_is_answered(http):
    answer = rest_infer(http)
    assert answer.status_code == 200, answer.text
    outputs = {o["name"]: o for o in answer.json()["outputs"]}
    assert outputs["s_out"]["datatype"] == "BYTES"
    assert outputs["s_out"]["data"] == ["café", "", "\x00", "a b"]
    assert outputs["f16_out"]["data"] == KINDS["f16"][2].ravel().tolist()


@pytest.mark.parametrize("raw, words", [
    (b"\x03\x00\x00\x00ab", ["input 's'", "end inside element 0", "4-byte little-endian length"]),
    (b"\x01\x00\x00\x00a" * 4 + b"!", ["input 's'", "1 bytes follow the 4 BYTES elements"]),
], ids=["truncated", "trailing"])
def test_binary_bytes_that_do_not_hold_their_elements_are_refused(http, raw, words):
    header = {"inputs": [{"name": "s", "datatype": "BYTES", "shape": [2, 2], "parameters": {"binary_data_size": len(raw)}}]
              + [{"name": k, "datatype": d, "shape": [2, 2], "data": _json_data(v)}
                 for k, (_, d, v) in KINDS.items() if k != "s"]}
    text = json.dumps(header).encode()
    answer = http.post("/v2/models/kinds/infer", content=text + raw,
                       headers={"inference-header-content-length": str(len(text))})
    assert answer.status_code == 400, answer.text
    for word in words:
        assert word in answer.json()["error"]


GRPC_REFUSED = [  # (what, the input, its datatype and contents, words of the message)
    ("INT8 in another field", "i8", ("INT8", {"fp32_contents": [0.0] * 4}),
     ["input 'i8'", "takes its values in contents.int_contents", "fp32_contents"]),
    ("INT8 out of range", "i8", ("INT8", {"int_contents": [0, 0, 0, 1000]}), ["input 'i8'", "out of the range of int8"]),
    ("UINT8 out of range", "u8", ("UINT8", {"uint_contents": [0, 0, 0, 256]}),
     ["input 'u8'", "out of the range of uint8"]),
    ("fewer values than the shape holds", "i16", ("INT16", {"int_contents": [1, 2, 3]}),
     ["input 'i16'", "holds 4 elements, data has 3"]),
    ("BF16", "i8", ("BF16", {}), ["input 'i8'", "'BF16' is not supported", "the engine has no tensors of it"]),
    ("another datatype than the signature's", "b", ("INT8", {"int_contents": [0] * 4}),
     ["input 'b'", "INT8 does not match the model's BOOL"]),
]


@pytest.mark.parametrize("what, name, replaced, words", GRPC_REFUSED, ids=[c[0] for c in GRPC_REFUSED])
def test_a_grpc_infer_with_a_bad_tensor_is_invalid_argument_naming_it(stub, what, name, replaced, words):
    with pytest.raises(grpc.RpcError) as e:
        stub.ModelInfer(typed_request(**{name: replaced}), timeout=10)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT, e.value.details()
    for word in words:
        assert word in e.value.details(), f"{what}: {word!r} not in {e.value.details()!r}"


# -- TF Serving's REST API ------------------------------------------------------------------------------------
def test_tf_serving_predict_takes_strings_and_b64_and_answers_them(http):
    instance = {k: _json_data(v)[:2] for k, (_, _, v) in KINDS.items()}
    instance["s"] = ["naïve", {"b64": base64.b64encode(b"\xfe").decode()}]
    answer = http.post("/v1/models/kinds:predict", json={"instances": [instance]})
    assert answer.status_code == 200, answer.text
    row = answer.json()["predictions"][0]
    assert row["s_out"] == ["naïve", {"b64": "/g=="}] and row["i8_out"] == [-128, 127] and row["b_out"] == [True, False]


@pytest.mark.parametrize("name, value, words", [
    ("s", [1, 2], ["input 's'", "expected strings", "int 1"]),
    ("i8", ["1", "2"], ["input 'i8'", "expected integers for dtype int8", "the string '1'"]),
    ("i8", [1, 300], ["input 'i8'", "out of the range of int8"]),
    ("u8", [1, -3], ["input 'u8'", "out of the range of uint8"]),
    ("b", [0, 1], ["input 'b'", "expected booleans"]),
    ("f16", [1.0, 1e6], ["input 'f16'", "out of the range of float16"]),
], ids=["number-for-string", "string-for-int8", "int8-overflow", "uint8-negative", "int-for-bool", "fp16-overflow"])
def test_tf_serving_predict_with_a_wrong_type_is_refused_naming_the_input(http, name, value, words):
    inputs = {k: [_json_data(v)[:2]] for k, (_, _, v) in KINDS.items()}
    inputs[name] = [value]
    answer = http.post("/v1/models/kinds:predict", json={"inputs": inputs})
    assert answer.status_code == 400, answer.text
    for word in words:
        assert word in answer.json()["error"], answer.json()["error"]
