"""Tensor element types: float16/32/64, int8/16/32/64, uint8, bool and string.

A `string` tensor is a numpy object array whose elements are all `bytes`
(what TensorFlow 1.x fetches); `as_bytes_array` is the one place str, bytes
and arrays of them become such an array.

A `DType` wraps a numpy dtype. `as_dtype` accepts a DType, a numpy dtype or
type, or a name, and refuses anything else, so no op ever sees an element
type it has no kernel for.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .errors import DTypeError


class DType:
    """An element type, e.g. `float32`; compare with `==` or `is`."""

    __slots__ = ("name", "np", "_proto")

    def __init__(self, name: str, np_dtype: type, proto: str) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self._proto = proto

    @property
    def as_numpy_dtype(self) -> type:
        return self.np.type

    @property
    def is_floating(self) -> bool:
        return self.np.kind == "f"

    @property
    def is_integer(self) -> bool:
        return self.np.kind in "iu"

    @property
    def is_unsigned(self) -> bool:
        return self.np.kind in "ub"

    @property
    def is_bool(self) -> bool:
        return self.np.kind == "b"

    @property
    def is_numeric(self) -> bool:
        return self.np.kind in "fiu"

    @property
    def is_string(self) -> bool:
        return self.np.kind == "O"

    @property
    def proto_name(self) -> str:
        """TensorFlow's enum name (`DT_FLOAT`), used by readable NodeDefs."""
        return self._proto

    @property
    def min(self) -> Any:
        return np.finfo(self.np).min if self.is_floating else np.iinfo(self.np).min

    @property
    def max(self) -> Any:
        return np.finfo(self.np).max if self.is_floating else np.iinfo(self.np).max

    def __repr__(self) -> str:
        return f"tf.{self.name}"

    def __str__(self) -> str:
        return self.name


float16 = DType("float16", np.float16, "DT_HALF")  # storage; numpy computes in half precision too
float32 = DType("float32", np.float32, "DT_FLOAT")
float64 = DType("float64", np.float64, "DT_DOUBLE")
int8 = DType("int8", np.int8, "DT_INT8")
int16 = DType("int16", np.int16, "DT_INT16")
uint8 = DType("uint8", np.uint8, "DT_UINT8")
int32 = DType("int32", np.int32, "DT_INT32")
int64 = DType("int64", np.int64, "DT_INT64")
bool_ = DType("bool", np.bool_, "DT_BOOL")
double = float64
half = float16
#: Byte strings (TF 1.x's `tf.string`): constants, feeds, fetches, structural ops,
#: equality and the serialized protocol buffers summary ops return; no arithmetic.
string = DType("string", np.object_, "DT_STRING")

ALL = (float32, float64, int32, int64, bool_, float16, int8, int16, uint8, string)
_BY_NAME = {d.name: d for d in ALL} | {"double": float64, "float": float32, "half": float16}
_BY_NP = {d.np: d for d in ALL}
NUMPY_DTYPES = frozenset(_BY_NP)  # the numpy dtypes a tensor may have


def as_dtype(value: Any) -> DType:
    """The DType for `value` (DType, numpy dtype/type or name); DTypeError otherwise."""
    if isinstance(value, DType):
        return value
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    try:
        found = _BY_NP.get(np.dtype(value))
    except TypeError:
        found = None
    if found is None:
        names = ", ".join(d.name for d in ALL)
        raise DTypeError(f"unsupported dtype {value!r}; supported: {names}")
    return found


def as_bytes_array(value: Any) -> np.ndarray:
    """`value` (str, bytes, or nested lists / arrays of them) as an object array of bytes.

    str is encoded as UTF-8, as TensorFlow does; anything else is refused
    with DTypeError, so a string tensor never holds another Python object.

    >>> as_bytes_array(["Hello", b"TF"])
    array([b'Hello', b'TF'], dtype=object)
    """
    try:
        array = np.array(value, dtype=object)
    except ValueError as e:  # ragged nested lists
        raise DTypeError(f"cannot convert {value!r} to a string tensor: {e}") from None
    flat = array.reshape(-1)
    for i, item in enumerate(flat):
        if isinstance(item, str):
            flat[i] = item.encode("utf-8")
        elif isinstance(item, bytes):
            flat[i] = bytes(item)  # np.bytes_ to plain bytes
        else:
            raise DTypeError(f"a string tensor holds str or bytes, found {type(item).__name__} {item!r}")
    return array


def from_numpy(array: np.ndarray) -> DType:
    """The DType of a numpy array; DTypeError for unsupported element types."""
    return as_dtype(array.dtype)
