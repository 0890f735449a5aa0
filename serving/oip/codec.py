"""The Open Inference Protocol's messages, REST (JSON plus the binary tensor
extension) and gRPC, to and from numpy arrays checked against a signature.

REST `.../infer` takes `{"id"?, "parameters"?, "inputs": [{"name", "shape",
"datatype", "data"}], "outputs"?: [{"name", "parameters"?}]}`; with the
`Inference-Header-Content-Length` header (Triton's binary tensor extension,
tritonclient's default) the JSON header is followed by the raw bytes of the
inputs whose parameters give a `binary_data_size`, and outputs asked for with
`binary_data` (or all, with `binary_data_output`) come back the same way.
gRPC takes typed `contents` or `raw_input_contents` and answers with
`raw_output_contents`, as Triton does.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np

from engine.dtypes import DType, from_numpy
from engine.saved_model import Signature, TensorInfo

from ..errors import BadRequest
from ..repository import Servable
from ..tensors import (check_shape, datatype, dtype_of, from_bytes, from_flat, parse_json, shape_list, to_bytes,
                       to_json_value)
from . import inference_pb2 as pb

PLATFORM = "tensorframes_engine"
_REQUEST_KEYS = {"id", "parameters", "inputs", "outputs"}
_INPUT_KEYS = {"name", "shape", "datatype", "data", "parameters"}
# The typed gRPC contents field of each datatype (FP16 has none in the protocol: raw contents only).
_CONTENTS = {"BOOL": "bool_contents", "INT8": "int_contents", "INT16": "int_contents", "INT32": "int_contents",
             "INT64": "int64_contents", "UINT8": "uint_contents", "FP32": "fp32_contents",
             "FP64": "fp64_contents", "BYTES": "bytes_contents"}


def tensor_metadata(sig: Signature) -> tuple[list[dict], list[dict]]:
    """Inputs and outputs as `{"name", "datatype", "shape"}` (-1: any size)."""
    def one(name: str, info: TensorInfo) -> dict:
        shape = [-1] if info.shape is None else [-1 if d is None else d for d in info.shape]
        return {"name": name, "datatype": datatype(info.dtype), "shape": shape}
    return ([one(k, i) for k, i in sig.inputs.items()], [one(k, i) for k, i in sig.outputs.items()])


def model_metadata(servable: Servable, versions: Sequence[int]) -> dict:
    inputs, outputs = tensor_metadata(servable.signature)
    return {"name": servable.name, "versions": [str(v) for v in sorted(versions)], "platform": PLATFORM,
            "inputs": inputs, "outputs": outputs}


@dataclass
class InferRequest:
    """A decoded infer request: inputs by name, the outputs asked for, which of them as raw bytes."""

    inputs: dict[str, np.ndarray]
    outputs: list[str]
    binary: set[str]
    id: str = ""


# -- REST -------------------------------------------------------------------------------
def parse_rest(body: bytes, header_length: Optional[str], sig: Signature) -> InferRequest:
    """An infer request from a REST body (JSON, or JSON + binary tensors)."""
    raw = b""
    if header_length is not None:
        if not header_length.isdigit() or int(header_length) > len(body):
            raise BadRequest(f"Inference-Header-Content-Length {header_length!r} is not a length within "
                             f"the body of {len(body)} bytes")
        body, raw = body[:int(header_length)], body[int(header_length):]
    request = parse_json(body)
    if not isinstance(request, dict):
        raise BadRequest(f"an infer request is a JSON object with 'inputs', found {type(request).__name__}")
    _no_unknown(request, _REQUEST_KEYS, "the infer request")
    request_id = request.get("id", "")
    if not isinstance(request_id, str):
        raise BadRequest(f"'id' must be a string, found {request_id!r}")
    entries = request.get("inputs")
    if not isinstance(entries, list) or not entries:
        raise BadRequest("'inputs' must be a non-empty list of tensors {name, shape, datatype, data}")
    inputs, offset = {}, 0
    for n, entry in enumerate(entries):
        name, array, offset = _rest_input(entry, n, sig, raw, offset)
        if name in inputs:
            raise BadRequest(f"input {name!r} is given twice")
        inputs[name] = array
    if offset != len(raw):
        raise BadRequest(f"the body has {len(raw) - offset} bytes of binary data after the last binary input")
    _check_all_inputs(inputs, sig)
    default_binary = bool(_parameters(request, "the infer request").get("binary_data_output", False))
    outputs, binary = _rest_outputs(request.get("outputs"), sig, default_binary)
    return InferRequest(inputs, outputs, binary, request_id)


def _rest_input(entry: Any, n: int, sig: Signature, raw: bytes, offset: int) -> tuple[str, np.ndarray, int]:
    if not isinstance(entry, dict):
        raise BadRequest(f"inputs[{n}] must be an object {{name, shape, datatype, data}}, found {entry!r:.60}")
    _no_unknown(entry, _INPUT_KEYS, f"inputs[{n}]")
    name = entry.get("name")
    info = _known_input(name, sig, f"inputs[{n}]")
    where = f"input {name!r}"
    dtype = _matching_datatype(entry.get("datatype"), info, where)
    shape = shape_list(entry.get("shape"), where)
    size = _parameters(entry, where).get("binary_data_size")
    if size is not None:
        if "data" in entry or type(size) is not int or size < 0 or offset + size > len(raw):
            raise BadRequest(f"{where}: binary_data_size {size!r} does not fit the {len(raw) - offset} bytes "
                             "of binary data left (and excludes 'data')")
        array, offset = from_bytes(raw[offset:offset + size], shape, dtype, where), offset + size
    elif "data" in entry:
        array = from_flat(entry["data"], shape, dtype, where)
    else:
        raise BadRequest(f"{where} has neither 'data' nor a binary_data_size parameter")
    check_shape(array, info, where)
    return name, array, offset


def _rest_outputs(entries: Any, sig: Signature, default_binary: bool) -> tuple[list[str], set[str]]:
    if entries is None:
        names = list(sig.outputs)
        return names, set(names) if default_binary else set()
    if not isinstance(entries, list):
        raise BadRequest("'outputs' must be a list of {name, parameters}")
    names, binary = [], set()
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise BadRequest(f"outputs[{n}] must be an object {{name, parameters}}, found {entry!r:.60}")
        _no_unknown(entry, {"name", "parameters"}, f"outputs[{n}]")
        name = _known_output(entry.get("name"), sig)
        names.append(name)
        if _parameters(entry, f"output {name!r}").get("binary_data", default_binary):
            binary.add(name)
    return names, binary


def rest_response(name: str, version: int, request: InferRequest, outputs: dict[str, np.ndarray]) -> tuple[bytes, dict]:
    """The REST answer body and its extra headers."""
    tensors, chunks = [], []
    for key in request.outputs:
        value = np.ascontiguousarray(outputs[key])
        tensor = {"name": key, "datatype": datatype(from_numpy(value)), "shape": list(value.shape)}
        if key in request.binary:
            data = to_bytes(value)
            tensor["parameters"] = {"binary_data_size": len(data)}
            chunks.append(data)
        else:
            tensor["data"] = to_json_value(value.reshape(-1))
        tensors.append(tensor)
    answer = {"model_name": name, "model_version": str(version), "outputs": tensors}
    if request.id:
        answer["id"] = request.id
    header = json.dumps(answer, separators=(",", ":")).encode()
    if not chunks:
        return header, {"content-type": "application/json"}
    return header + b"".join(chunks), {"content-type": "application/octet-stream",
                                       "inference-header-content-length": str(len(header))}


# -- gRPC -------------------------------------------------------------------------------
def parse_grpc(request: pb.ModelInferRequest, sig: Signature) -> InferRequest:
    """An infer request from a gRPC ModelInferRequest (typed contents or raw contents)."""
    raw = list(request.raw_input_contents)
    if raw and len(raw) != len(request.inputs):
        raise BadRequest(f"raw_input_contents has {len(raw)} entries for {len(request.inputs)} inputs")
    if not request.inputs:
        raise BadRequest("the request has no inputs")
    inputs = {}
    for n, tensor in enumerate(request.inputs):
        info = _known_input(tensor.name, sig, f"inputs[{n}]")
        where = f"input {tensor.name!r}"
        if tensor.name in inputs:
            raise BadRequest(f"{where} is given twice")
        dtype = _matching_datatype(tensor.datatype, info, where)
        shape = [int(d) for d in tensor.shape]
        if any(d < 0 for d in shape):
            raise BadRequest(f"{where}: shape must hold non-negative integers, found {shape}")
        if raw:
            if tensor.HasField("contents"):
                raise BadRequest(f"{where}: contents and raw_input_contents exclude each other")
            array = from_bytes(raw[n], shape, dtype, where)
        else:
            array = from_flat(list(_typed_contents(tensor, where)), shape, dtype, where)
        check_shape(array, info, where)
        inputs[tensor.name] = array
    _check_all_inputs(inputs, sig)
    names = [_known_output(o.name, sig) for o in request.outputs] or list(sig.outputs)
    return InferRequest(inputs, names, set(names), request.id)


def grpc_response(name: str, version: int, request: InferRequest,
                  outputs: dict[str, np.ndarray]) -> pb.ModelInferResponse:
    answer = pb.ModelInferResponse(model_name=name, model_version=str(version), id=request.id)
    for key in request.outputs:
        value = np.ascontiguousarray(outputs[key])
        answer.outputs.add(name=key, datatype=datatype(from_numpy(value)), shape=value.shape)
        answer.raw_output_contents.append(to_bytes(value))
    return answer


def _typed_contents(tensor: pb.ModelInferRequest.InferInputTensor, where: str) -> Sequence:
    """The typed contents field of the tensor's datatype, checked to be the only one set."""
    field = _CONTENTS.get(tensor.datatype)
    if field is None:
        raise BadRequest(f"{where}: datatype {tensor.datatype} has no typed contents field in the protocol; "
                         "send it in raw_input_contents")
    others = sorted({f.name for f, _ in tensor.contents.ListFields()} - {field})
    if others:
        raise BadRequest(f"{where}: datatype {tensor.datatype} takes its values in contents.{field}, "
                         f"found {others}")
    return getattr(tensor.contents, field)


# -- shared checks ----------------------------------------------------------------------
def _known_input(name: Any, sig: Signature, where: str) -> TensorInfo:
    if not isinstance(name, str) or name not in sig.inputs:
        raise BadRequest(f"{where}: the model has no input {name!r}; its inputs are {sorted(sig.inputs)}")
    return sig.inputs[name]


def _known_output(name: Any, sig: Signature) -> str:
    if not isinstance(name, str) or name not in sig.outputs:
        raise BadRequest(f"the model has no output {name!r}; its outputs are {sorted(sig.outputs)}")
    return name


def _matching_datatype(name: Any, info: TensorInfo, where: str) -> DType:
    dtype = dtype_of(name, where)
    if dtype != info.dtype:
        raise BadRequest(f"{where}: datatype {name} does not match the model's {datatype(info.dtype)}")
    return dtype


def _check_all_inputs(inputs: dict, sig: Signature) -> None:
    missing = sorted(set(sig.inputs) - set(inputs))
    if missing:
        raise BadRequest(f"missing inputs {missing}; the model's inputs are {sorted(sig.inputs)}")


def _parameters(entry: dict, where: str) -> dict:
    params = entry.get("parameters", {})
    if not isinstance(params, dict):
        raise BadRequest(f"{where}: 'parameters' must be an object, found {params!r:.60}")
    return params


def _no_unknown(entry: dict, known: set, where: str) -> None:
    unknown = sorted(set(entry) - known)
    if unknown:
        raise BadRequest(f"{where}: unknown keys {unknown}; expected {sorted(known)}")
