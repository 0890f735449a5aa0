"""Tensors in requests: strict parsing of JSON bodies, conversion of JSON values and
raw bytes to numpy checked against a signature entry, and the Open Inference
Protocol's datatype names.

Nothing is coerced silently: a string, a boolean, a null or a fraction where
the model expects integers, a ragged list, NaN or a number out of the
dtype's range is a BadRequest naming the input and what was found.

Every engine dtype has its protocol datatype (`DATATYPES`). String tensors
are `BYTES`: JSON strings (UTF-8) or `{"b64": "..."}` objects (TF Serving's
form for binary strings) in requests; in raw form (binary extension, gRPC
raw contents) each element is a 4-byte little-endian length, then its bytes,
as Triton sends them. String outputs come back as JSON strings, or as
`{"b64": ...}` when they are not UTF-8.

>>> from engine import float32, string
>>> from_json([[1, 2.5]], float32, "input 'x'")
array([[1. , 2.5]], dtype=float32)
>>> from_json(["café", {"b64": "/w=="}], string, "input 's'")
array([b'caf\\xc3\\xa9', b'\\xff'], dtype=object)
>>> to_json_value(from_json(["café", {"b64": "/w=="}], string, "input 's'"))
['café', {'b64': '/w=='}]
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Sequence

import numpy as np

from engine import dtypes
from engine.dtypes import DType
from engine.saved_model import TensorInfo
from engine.shapes import format_dims, is_compatible

from .errors import BadRequest

DATATYPES = {dtypes.bool_: "BOOL", dtypes.uint8: "UINT8", dtypes.int8: "INT8", dtypes.int16: "INT16",
             dtypes.int32: "INT32", dtypes.int64: "INT64", dtypes.float16: "FP16", dtypes.float32: "FP32",
             dtypes.float64: "FP64", dtypes.string: "BYTES"}
_BY_DATATYPE = {v: k for k, v in DATATYPES.items()}
_WITHOUT_ENGINE_DTYPE = ("UINT16", "UINT32", "UINT64", "BF16")  # the protocol's, not the engine's
# Python types a JSON (or gRPC contents) element may have for each kind of dtype (bool is not an int here).
_ACCEPTED = {"f": (int, float), "i": (int,), "u": (int,), "b": (bool,), "O": (str, bytes, dict)}
_KIND_NAMES = {"f": "numbers", "i": "integers", "u": "non-negative integers", "b": "booleans (true/false)",
               "O": 'strings (or {"b64": "<base64>"} objects)'}
_LENGTH = 4  # bytes of the little-endian length before each raw BYTES element


def datatype(dtype: DType) -> str:
    """The Open Inference Protocol name of an engine dtype (`FP32` for float32)."""
    return DATATYPES[dtype]


def dtype_of(name: Any, where: str) -> DType:
    """The engine dtype of an Open Inference Protocol datatype name; BadRequest if unsupported."""
    found = _BY_DATATYPE.get(name) if isinstance(name, str) else None
    if found is None:
        why = "the engine has no tensors of it" if name in _WITHOUT_ENGINE_DTYPE else "it is not a datatype"
        raise BadRequest(f"{where}: datatype {name!r} is not supported ({why}); use one of {sorted(_BY_DATATYPE)}")
    return found


def from_json(value: Any, dtype: DType, where: str) -> np.ndarray:
    """A rectangular nested JSON list (or a scalar) of the elements `dtype` accepts, as an array."""
    shape, leaves = _shape_and_leaves(value, where)
    return _array(leaves, shape, dtype, where)


def from_flat(data: Any, shape: Sequence[int], dtype: DType, where: str) -> np.ndarray:
    """OIP `data` (flat or nested in row-major order) with its declared `shape`."""
    _, leaves = _shape_and_leaves(data if isinstance(data, list) else [data], where)
    expected = int(np.prod(shape, dtype=np.int64))
    if len(leaves) != expected:
        raise BadRequest(f"{where}: shape {format_dims(tuple(shape))} holds {expected} elements, "
                         f"data has {len(leaves)}")
    return _array(leaves, list(shape), dtype, where)


def from_bytes(raw: bytes, shape: Sequence[int], dtype: DType, where: str) -> np.ndarray:
    """Little-endian row-major raw contents of `shape` and `dtype` (BYTES: length-prefixed elements)."""
    if dtype.is_string:
        return _raw_strings(raw, shape, where)
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.np.itemsize
    if len(raw) != expected:
        raise BadRequest(f"{where}: shape {format_dims(tuple(shape))} of {datatype(dtype)} takes "
                         f"{expected} bytes, found {len(raw)}")
    array = np.frombuffer(raw, dtype=dtype.np.newbyteorder("<")).astype(dtype.np, copy=False).reshape(shape)
    if dtype.is_floating and not np.isfinite(array).all():
        raise BadRequest(f"{where}: NaN or infinite values are not accepted as model inputs")
    return array


def _raw_strings(raw: bytes, shape: Sequence[int], where: str) -> np.ndarray:
    """The elements of raw BYTES contents: each a 4-byte little-endian length, then that many bytes."""
    count = int(np.prod(shape, dtype=np.int64))
    out, at = np.empty(count, dtype=object), 0
    for n in range(count):
        size = int.from_bytes(raw[at:at + _LENGTH], "little") if at + _LENGTH <= len(raw) else None
        if size is None or at + _LENGTH + size > len(raw):
            raise BadRequest(f"{where}: BYTES contents of shape {format_dims(tuple(shape))} end inside element {n} "
                             f"(byte {at} of {len(raw)}); each element is a 4-byte little-endian length, then "
                             "that many bytes")
        out[n], at = raw[at + _LENGTH:at + _LENGTH + size], at + _LENGTH + size
    if at != len(raw):
        raise BadRequest(f"{where}: {len(raw) - at} bytes follow the {count} BYTES elements of shape "
                         f"{format_dims(tuple(shape))}")
    return out.reshape(shape)


def to_bytes(array: np.ndarray) -> bytes:
    """An output's raw contents: little-endian row-major, or length-prefixed elements for BYTES."""
    if array.dtype == object:
        return b"".join(len(v).to_bytes(_LENGTH, "little") + v for v in array.reshape(-1))
    return np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"), copy=False).tobytes()


def check_shape(array: np.ndarray, info: TensorInfo, where: str) -> None:
    """BadRequest naming the input and both shapes unless `array` fits the signature entry."""
    dims = info.shape
    if dims is not None and (array.ndim != len(dims) or not is_compatible(dims, array.shape)):
        raise BadRequest(f"{where}: the model expects shape {format_dims(dims)}, "
                         f"found shape {format_dims(array.shape)}")


def shape_list(value: Any, where: str) -> list[int]:
    """A declared OIP shape: a list of non-negative integers."""
    if not isinstance(value, list) or not all(type(d) is int and d >= 0 for d in value):
        raise BadRequest(f"{where}: shape must be a list of non-negative integers, found {value!r}")
    return value


def _shape_and_leaves(value: Any, where: str) -> tuple[list[int], list]:
    """The shape of a nested list and its elements in row-major order; BadRequest if ragged."""
    shape: list[int] = []
    level = [value]
    while type(level[0]) is list:
        lengths = {len(v) if type(v) is list else -1 for v in level}
        if len(lengths) > 1:
            found = sorted(lengths)
            if found[0] == -1:
                raise BadRequest(f"{where}: mixes lists and single values at nesting depth {len(shape)}")
            raise BadRequest(f"{where}: ragged lists: at nesting depth {len(shape)} lengths {found} differ")
        shape.append(lengths.pop())
        level = [x for v in level for x in v]
        if not level:
            break
    if any(type(v) is list for v in level):
        raise BadRequest(f"{where}: mixes lists and single values at nesting depth {len(shape)}")
    return shape, level


def _array(leaves: list, shape: list[int], dtype: DType, where: str) -> np.ndarray:
    kind = dtype.np.kind
    accepted = _ACCEPTED[kind]
    for v in leaves:
        if type(v) not in accepted:
            raise BadRequest(f"{where}: expected {_KIND_NAMES[kind]} for dtype {dtype.name}, "
                             f"found {_describe(v)}")
    if dtype.is_string:
        out = np.empty(len(leaves), dtype=object)
        out[:] = [_string(v, where) for v in leaves]
        return out.reshape(shape)
    try:
        with np.errstate(over="ignore"):  # floats that overflow are reported below
            array = np.array(leaves, dtype=dtype.np)
    except OverflowError:  # numpy refuses Python ints outside the integer dtype's range
        raise BadRequest(f"{where}: a value is out of the range of {dtype.name} "
                         f"[{dtype.min}, {dtype.max}]") from None
    if kind == "f" and not np.isfinite(array).all():
        raise BadRequest(f"{where}: a value is NaN, infinite or out of the range of {dtype.name} "
                         "(it overflows to infinity)")
    return array.reshape(shape)


def _string(v: str | bytes | dict, where: str) -> bytes:
    """A string element: str as UTF-8, bytes as they are, {"b64": "..."} decoded."""
    if isinstance(v, str):
        try:
            return v.encode("utf-8")
        except UnicodeEncodeError as e:  # a lone surrogate escape ("\\ud800") is not text
            raise BadRequest(f"{where}: a string is not valid Unicode ({e.reason} at {e.start})") from None
    if isinstance(v, bytes):
        return v
    if set(v) != {"b64"} or not isinstance(v["b64"], str):
        raise BadRequest(f"{where}: expected a string or {{\"b64\": \"<base64>\"}}, found {_describe(v)}")
    try:
        return base64.b64decode(v["b64"], validate=True)
    except (binascii.Error, ValueError) as e:
        raise BadRequest(f"{where}: 'b64' is not valid base64 ({e}): {v['b64'][:40]!r}") from None


def _describe(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, str):
        return f"the string {v[:40]!r}"
    if isinstance(v, dict):
        return f"an object with keys {sorted(v)[:5]} (wrong nesting?)"
    if isinstance(v, bool):
        return f"the boolean {str(v).lower()}"
    return f"{type(v).__name__} {v!r}"


def parse_json(body: bytes, where: str = "request body") -> Any:
    """A JSON document; BadRequest for bad UTF-8, bad syntax or NaN/Infinity literals (not JSON)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadRequest(f"{where} is not UTF-8: {e}") from None
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except ValueError as e:
        raise BadRequest(f"{where} is not valid JSON: {e}") from None


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number; send finite numbers only")


def to_json_value(array: np.ndarray) -> Any:
    """An output array as nested lists of Python numbers (exact: floats print as round-trip reprs),
    or of strings for a string output (`{"b64": ...}` for an element that is not UTF-8)."""
    if array.dtype == object:
        return np.asarray(_JSON_STRINGS(array), dtype=object).tolist()
    return array.tolist()


def _json_string(v: bytes) -> str | dict:
    try:
        return v.decode("utf-8")
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(v).decode("ascii")}


_JSON_STRINGS = np.frompyfunc(_json_string, 1, 1)
