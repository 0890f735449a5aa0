"""Op attribute types: validation and the JSON encoding used by GraphDef.

Each attr kind is one row of `KINDS`: how to check a Python value of that
kind and how to encode and decode it. Decoding never evaluates code; it only
checks structure and types.
"""
from __future__ import annotations

import base64
import math
from typing import Any, Callable, NamedTuple

import numpy as np

from . import dtypes
from .shapes import as_dims

__all__ = ["KINDS", "check", "encode", "decode", "encode_tensor", "decode_tensor"]


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def encode_tensor(value: np.ndarray) -> dict:
    """dtype + shape + raw little-endian bytes (base64): bit-exact; a string tensor's data is a list
    of its elements, each base64 (never pickled)."""
    if value.dtype.kind == "O":
        return {"dtype": dtypes.string.name, "shape": list(value.shape),
                "data": [base64.b64encode(item).decode("ascii") for item in value.reshape(-1)]}
    data = np.ascontiguousarray(value).astype(value.dtype.newbyteorder("<"), copy=False)
    return {"dtype": dtypes.from_numpy(value).name, "shape": list(value.shape),
            "data": base64.b64encode(data.tobytes()).decode("ascii")}


def decode_tensor(obj: Any) -> np.ndarray:
    """Inverse of encode_tensor; ValueError when the record is inconsistent."""
    if not isinstance(obj, dict) or set(obj) != {"dtype", "shape", "data"}:
        raise ValueError("a tensor must be an object with exactly the keys dtype, shape, data")
    dtype = dtypes.as_dtype(obj["dtype"]).np
    shape = obj["shape"]
    if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
        raise ValueError(f"tensor shape must be a list of non-negative ints, found {shape!r}")
    if dtype.kind == "O":
        return _decode_strings(obj["data"], shape)
    if not isinstance(obj["data"], str):
        raise ValueError("tensor data must be a base64 string")
    raw = base64.b64decode(obj["data"].encode("ascii"), validate=True)
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"tensor of dtype {dtype} and shape {tuple(shape)} needs {expected} bytes, found {len(raw)}")
    return np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype).reshape(shape)


def _decode_strings(data: Any, shape: list) -> np.ndarray:
    """A string tensor from its list of base64 elements, checked against the shape."""
    if not isinstance(data, list) or not all(isinstance(item, str) for item in data):
        raise ValueError("string tensor data must be a list of base64 strings")
    if len(data) != math.prod(shape):
        raise ValueError(f"string tensor of shape {tuple(shape)} needs {math.prod(shape)} elements, found {len(data)}")
    value = np.empty(len(data), dtype=object)
    try:
        value[:] = [base64.b64decode(item.encode("ascii"), validate=True) for item in data]
    except (ValueError, UnicodeEncodeError) as e:  # binascii.Error is a ValueError
        raise ValueError(f"string tensor data is not base64: {e}") from None
    return value.reshape(shape)


def _encode_float(v: float) -> Any:
    return float(v) if math.isfinite(v) else repr(float(v))  # JSON has no inf/nan


def _decode_float(v: Any) -> float:
    if isinstance(v, str) and v in ("inf", "-inf", "nan"):
        return float(v)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    raise ValueError(f"expected a number, found {v!r}")


def _check_shape(v: Any) -> bool:
    try:
        as_dims(v)
    except Exception:
        return False
    return True


def _decode_shape(v: Any) -> Any:
    if v is None:
        return None
    if not isinstance(v, list) or not all(d is None or (_is_int(d) and d >= 0) for d in v):
        raise ValueError(f"expected a list of non-negative ints or nulls, found {v!r}")
    return tuple(v)


def _decode_ints(v: Any) -> tuple:
    if not isinstance(v, list) or not all(_is_int(i) for i in v):
        raise ValueError(f"expected a list of ints, found {v!r}")
    return tuple(v)


def _strict(pred: Callable[[Any], bool], what: str) -> Callable[[Any], Any]:
    def decode(v: Any) -> Any:
        if not pred(v):
            raise ValueError(f"expected {what}, found {v!r}")
        return v
    return decode


class Kind(NamedTuple):
    check: Callable[[Any], bool]
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]


KINDS: dict[str, Kind] = {
    "type": Kind(lambda v: isinstance(v, dtypes.DType), lambda v: v.name,
                 lambda v: dtypes.as_dtype(_strict(lambda s: isinstance(s, str), "a dtype name")(v))),
    "shape": Kind(_check_shape, lambda v: None if v is None else [None if d is None else int(d) for d in v],
                  _decode_shape),
    "tensor": Kind(lambda v: isinstance(v, np.ndarray) and v.dtype in dtypes.NUMPY_DTYPES
                   and (v.dtype.kind != "O" or all(type(item) is bytes for item in v.flat)), encode_tensor,
                   decode_tensor),
    "int": Kind(_is_int, int, _strict(_is_int, "an int")),
    "float": Kind(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), _encode_float, _decode_float),
    "bool": Kind(lambda v: isinstance(v, bool), bool, _strict(lambda v: isinstance(v, bool), "true or false")),
    "str": Kind(lambda v: isinstance(v, str), str, _strict(lambda v: isinstance(v, str), "a string")),
    "ints": Kind(lambda v: isinstance(v, tuple) and all(_is_int(i) for i in v), lambda v: [int(i) for i in v],
                 _decode_ints),
}


def _optional(kind: Kind) -> Kind:
    return Kind(lambda v: v is None or kind.check(v),
                lambda v: None if v is None else kind.encode(v),
                lambda v: None if v is None else kind.decode(v))


KINDS.update({f"{name}?": _optional(kind) for name, kind in list(KINDS.items())})


def check(kind: str, value: Any) -> bool:
    """True when `value` is a valid Python value of attr kind `kind`."""
    return KINDS[kind].check(value)


def encode(kind: str, value: Any) -> Any:
    """The JSON-compatible form of an attr value."""
    return KINDS[kind].encode(value)


def decode(kind: str, value: Any) -> Any:
    """The Python value of an encoded attr; ValueError if it does not fit."""
    return KINDS[kind].decode(value)
