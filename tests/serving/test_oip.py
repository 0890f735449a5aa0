"""The Open Inference Protocol over REST and gRPC, spoken by Triton's own client (tritonclient)."""
from __future__ import annotations

import gc

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from engine import saved_model


@pytest.fixture(scope="module")
def clients(served):
    http = httpclient.InferenceServerClient(served.rest_url.removeprefix("http://"))
    grpc = grpcclient.InferenceServerClient(served.grpc_address)
    clients = {"http": (httpclient, http), "grpc": (grpcclient, grpc)}
    yield clients
    http.close()
    grpc.close()
    clients.clear()
    del http, grpc
    gc.collect()  # tritonclient.http closes again in __del__: let that happen here, not in a server thread


TRANSPORTS = ["http", "grpc"]


def zeros(module, shape: tuple, name: str = "inputs"):
    """A float32 input tensor of zeros for tritonclient.http or tritonclient.grpc."""
    tensor = module.InferInput(name, list(shape), "FP32")
    tensor.set_data_from_numpy(np.zeros(shape, np.float32))
    return tensor


def mlp_reference(served, rows: np.ndarray) -> np.ndarray:
    base = served.repository._models["mlp"].config.base_path
    return saved_model.load(f"{base}/1").predict({"inputs": rows})["outputs"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_server_and_models_are_live_and_ready(clients, transport):
    _, client = clients[transport]
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("mlp") and client.is_model_ready("affine", "1")
    assert not client.is_model_ready("affine", "9")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_model_metadata_gives_datatypes_shapes_and_versions(clients, transport):
    _, client = clients[transport]
    meta = client.get_model_metadata("two")
    if transport == "grpc":
        from google.protobuf.json_format import MessageToDict
        meta = MessageToDict(meta, preserving_proto_field_name=True)
        for t in meta["inputs"] + meta["outputs"]:
            t["shape"] = [int(d) for d in t["shape"]]
    assert meta["name"] == "two" and meta["versions"] == ["1"] and meta["platform"] == "tensorframes_engine"
    assert meta["inputs"] == [{"name": "a", "datatype": "FP64", "shape": [-1, 2]},
                              {"name": "n", "datatype": "INT32", "shape": [-1]}]
    assert [o["name"] for o in meta["outputs"]] == ["sum", "twice"]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_infer_equals_the_saved_model_to_the_last_bit(served, clients, transport, binary, rows):
    module, client = clients[transport]
    tensor = module.InferInput("inputs", list(rows.shape), "FP32")
    if transport == "http":
        tensor.set_data_from_numpy(rows, binary_data=binary)
        outputs = [module.InferRequestedOutput("outputs", binary_data=binary)]
    else:
        tensor.set_data_from_numpy(rows)
        outputs = None
    result = client.infer("mlp", [tensor], outputs=outputs, request_id="r-1")
    got = result.as_numpy("outputs")
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, mlp_reference(served, rows))
    answer = result.get_response()
    assert (answer["id"] if transport == "http" else answer.id) == "r-1"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_infer_with_two_inputs_and_one_requested_output(clients, transport):
    module, client = clients[transport]
    a = module.InferInput("a", [2, 2], "FP64")
    a.set_data_from_numpy(np.array([[1.5, 2.0], [0.25, -1.0]]))
    n = module.InferInput("n", [2], "INT32")
    n.set_data_from_numpy(np.array([3, -2], np.int32))
    result = client.infer("two", [a, n], outputs=[module.InferRequestedOutput("sum")])
    np.testing.assert_array_equal(result.as_numpy("sum"), [6.5, -2.75])
    assert result.as_numpy("twice") is None


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_infer_a_version_by_number(clients, transport, rows):
    module, client = clients[transport]
    tensor = module.InferInput("x", list(rows.shape), "FP32")
    tensor.set_data_from_numpy(rows)
    v1 = client.infer("affine", [tensor], model_version="1").as_numpy("y")
    latest = client.infer("affine", [tensor]).as_numpy("y")
    np.testing.assert_array_equal(v1, rows)
    np.testing.assert_array_equal(latest, rows * np.float32(2) + np.float32(1))


@pytest.mark.parametrize("transport, status", [("http", "400"), ("grpc", "StatusCode.INVALID_ARGUMENT")])
def test_a_wrong_shape_is_refused_naming_the_input_and_both_shapes(clients, transport, status):
    module, client = clients[transport]
    with pytest.raises(InferenceServerException) as e:
        client.infer("mlp", [zeros(module, (1, 3))])
    assert e.value.status() == status
    assert "input 'inputs'" in e.value.message() and "(?, 5)" in e.value.message() and "(1, 3)" in e.value.message()


@pytest.mark.parametrize("transport, status", [("http", "404"), ("grpc", "StatusCode.NOT_FOUND")])
def test_an_unknown_model_is_not_found(clients, transport, status):
    module, client = clients[transport]
    with pytest.raises(InferenceServerException) as e:
        client.infer("nope", [zeros(module, (1, 5))])
    assert e.value.status() == status and "no model named 'nope'" in e.value.message()


def test_typed_grpc_contents_are_accepted(served, rows):
    from serving.oip import inference_pb2 as pb
    from serving.oip import inference_pb2_grpc as pb_grpc
    import grpc

    request = pb.ModelInferRequest(model_name="mlp")
    tensor = request.inputs.add(name="inputs", datatype="FP32", shape=rows.shape)
    tensor.contents.fp32_contents.extend(rows.reshape(-1).tolist())
    with grpc.insecure_channel(served.grpc_address) as channel:
        answer = pb_grpc.GRPCInferenceServiceStub(channel).ModelInfer(request, timeout=10)
    got = np.frombuffer(answer.raw_output_contents[0], "<f4").reshape(list(answer.outputs[0].shape))
    np.testing.assert_array_equal(got, mlp_reference(served, rows))


def test_grpc_messages_over_the_size_limit_are_refused(served):
    with grpcclient.InferenceServerClient(served.grpc_address) as client, \
            pytest.raises(InferenceServerException) as e:
        client.infer("mlp", [zeros(grpcclient, (4000, 5))])  # 80 kB > the module server's 64 KiB
    assert e.value.status() == "StatusCode.RESOURCE_EXHAUSTED"
