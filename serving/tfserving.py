"""TensorFlow Serving's REST API: model status, metadata and predict, as its clients expect.

    GET  /v1/models/NAME[/versions/V]            -> {"model_version_status": [...]}
    GET  /v1/models/NAME[/versions/V]/metadata   -> {"model_spec": ..., "metadata": {"signature_def": ...}}
    POST /v1/models/NAME[/versions/V]:predict
         {"signature_name"?, "instances": [...]}  -> {"predictions": [...]}   (row format)
         {"signature_name"?, "inputs": ...}       -> {"outputs": ...}       (columnar format)

In the row format every instance is one row: the value of the only input,
or an object of every input by name. In the columnar format `inputs` is the
value of the only input or an object of every input, each with its batch
dimension. The answer has the same form: one value per output, or objects
by output name when the signature has several.
"""
from __future__ import annotations

import re
from typing import Any, Optional

import numpy as np

from engine.saved_model import Signature, TensorInfo
from engine.shapes import format_dims

from .errors import BadRequest, NotFound, ServingError
from .repository import SIGNATURE_NAME, Servable
from .tensors import check_shape, from_json, to_json_value

_VERSION = re.compile(r"[0-9]{1,18}")
_PREDICT_KEYS = {"signature_name", "instances", "inputs"}


def parse_version(text: Optional[str]) -> Optional[int]:
    """A version from a URL or a request (None when absent); BadRequest unless a non-negative integer."""
    if text is None or text == "":
        return None
    if not _VERSION.fullmatch(text):
        raise BadRequest(f"model version must be a non-negative integer, found {text[:40]!r}")
    return int(text)


def status(name: str, loaded: dict[int, Servable], refused: dict[int, str], version: Optional[int]) -> dict:
    """The GetModelStatus answer: loaded versions AVAILABLE, refused ones END with their error."""
    entries = {v: ("AVAILABLE", "OK", "") for v in loaded}
    entries.update({v: ("END", "INVALID_ARGUMENT", err) for v, err in refused.items() if v not in loaded})
    if version is not None:
        if version not in entries:
            raise NotFound(f"model {name!r} has no version {version}; versions: {sorted(entries) or 'none'}")
        entries = {version: entries[version]}
    return {"model_version_status": [
        {"version": str(v), "state": state, "status": {"error_code": code, "error_message": err}}
        for v, (state, code, err) in sorted(entries.items(), reverse=True)]}


def metadata(servable: Servable) -> dict:
    """The GetModelMetadata answer: the signature as TF Serving's signature_def JSON."""
    sig = servable.signature
    return {"model_spec": {"name": servable.name, "signature_name": "", "version": str(servable.version)},
            "metadata": {"signature_def": {"signature_def": {SIGNATURE_NAME: {
                "inputs": {k: _tensor_info(i) for k, i in sig.inputs.items()},
                "outputs": {k: _tensor_info(i) for k, i in sig.outputs.items()},
                "method_name": "tensorflow/serving/predict"}}}}}


def _tensor_info(info: TensorInfo) -> dict:
    shape = ({"unknown_rank": True} if info.shape is None else
             {"dim": [{"size": str(-1 if d is None else d), "name": ""} for d in info.shape], "unknown_rank": False})
    return {"dtype": info.dtype.proto_name, "tensor_shape": shape, "name": info.tensor}


def parse_predict(request: Any, sig: Signature) -> tuple[dict[str, np.ndarray], bool]:
    """The inputs of a predict request by name, and whether it used the row format."""
    if not isinstance(request, dict):
        raise BadRequest(f"a predict request is a JSON object with 'instances' or 'inputs', "
                         f"found {type(request).__name__}")
    unknown = sorted(set(request) - _PREDICT_KEYS)
    if unknown:
        raise BadRequest(f"unknown keys {unknown} in the predict request; expected {sorted(_PREDICT_KEYS)}")
    check_signature_name(request.get("signature_name"))
    if ("instances" in request) == ("inputs" in request):
        raise BadRequest("a predict request has exactly one of 'instances' (row format) "
                         "or 'inputs' (columnar format)")
    if "instances" in request:
        return _rows(request["instances"], sig), True
    return _columns(request["inputs"], sig), False


def check_signature_name(name: Any) -> None:
    if name is not None and name != SIGNATURE_NAME:
        raise BadRequest(f"serving signature {name!r} not found; the model has the signature {SIGNATURE_NAME!r}")


def _rows(instances: Any, sig: Signature) -> dict[str, np.ndarray]:
    if not isinstance(instances, list):
        raise BadRequest(f"'instances' must be a list of rows, found {type(instances).__name__}")
    if not instances:
        raise BadRequest("'instances' is empty; send at least one row")
    names = list(sig.inputs)
    named = len(names) > 1 or all(isinstance(i, dict) for i in instances)
    if not named:
        return {names[0]: _input(instances, names[0], sig)}
    for n, instance in enumerate(instances):
        if not isinstance(instance, dict):
            raise BadRequest(f"instance {n} must be an object of the inputs {names} by name, "
                             f"found {type(instance).__name__}")
        _check_names(instance, names, f"instance {n}")
    return {k: _input([i[k] for i in instances], k, sig) for k in names}


def _columns(inputs: Any, sig: Signature) -> dict[str, np.ndarray]:
    names = list(sig.inputs)
    if not isinstance(inputs, dict):
        if len(names) > 1:
            raise BadRequest(f"'inputs' must be an object of the inputs {names} by name")
        return {names[0]: _input(inputs, names[0], sig)}
    _check_names(inputs, names, "'inputs'")
    return {k: _input(inputs[k], k, sig) for k in names}


def _check_names(given: dict, names: list[str], where: str) -> None:
    missing, extra = sorted(set(names) - set(given)), sorted(set(given) - set(names))
    if missing or extra:
        raise BadRequest(f"{where}: the model's inputs are {sorted(names)}; "
                         f"missing: {missing or 'none'}, unknown: {extra or 'none'}")


def _input(value: Any, name: str, sig: Signature) -> np.ndarray:
    info = sig.inputs[name]
    where = f"input {name!r}"
    array = from_json(value, info.dtype, where)
    check_shape(array, info, where)
    return array


def predict_response(outputs: dict[str, np.ndarray], rows: bool) -> dict:
    """{"predictions": one entry per row} for the row format, {"outputs": ...} for the columnar one."""
    if not rows:
        if len(outputs) == 1:
            return {"outputs": to_json_value(next(iter(outputs.values())))}
        return {"outputs": {k: to_json_value(v) for k, v in outputs.items()}}
    counts = {k: (len(v) if np.ndim(v) else None) for k, v in outputs.items()}
    if len(set(counts.values())) != 1 or None in counts.values():
        raise ServingError(f"the row format needs outputs with a common batch dimension; found shapes "
                           f"{ {k: format_dims(np.shape(v)) for k, v in outputs.items()} }: "
                           "use the columnar format ('inputs')")
    if len(outputs) == 1:
        return {"predictions": to_json_value(next(iter(outputs.values())))}
    lists = {k: to_json_value(v) for k, v in outputs.items()}
    return {"predictions": [{k: lists[k][i] for k in lists} for i in range(next(iter(counts.values())))]}
