"""TensorFlow's DataType, TensorShapeProto and TensorProto, to and from engine values.

Decoding checks everything a mutated or hostile file may get wrong (unknown
dtypes, negative dims, content that doesn't fill the shape) and raises
ValueError with the reason; the importer adds the node's name.
"""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from .. import dtypes
from ..dtypes import DType
from . import protos

_REF_OFFSET = 100  # DT_FLOAT_REF = DT_FLOAT + 100: a variable's reference type
#: A Const given by fewer values than its elements is filled with the last one;
#: past this many elements that is refused rather than allocated (a file can
#: claim any shape in a few bytes).
MAX_FILLED_ELEMENTS = 1 << 24
# The TensorProto field holding the values of a dtype when not in tensor_content
# (TensorFlow keeps the narrower integers in int_val, float16 bits in half_val).
_VALUE_FIELDS = {np.dtype(np.float32): "float_val", np.dtype(np.float64): "double_val",
                 np.dtype(np.float16): "half_val", np.dtype(np.int64): "int64_val",
                 np.dtype(np.uint64): "uint64_val", np.dtype(np.uint32): "uint32_val", np.dtype(np.bool_): "bool_val"}


def as_engine_dtype(enum: int) -> DType:
    """The engine DType of a TensorFlow DataType enum value; ValueError if the engine has none."""
    types = protos.module("types_pb2")
    try:
        name = types.DataType.Name(enum - _REF_OFFSET if enum > _REF_OFFSET else enum)
    except ValueError:
        raise ValueError(f"{enum} is not a TensorFlow DataType") from None
    for dtype in dtypes.ALL:
        if dtype.proto_name == name:
            return dtype
    raise ValueError(f"dtype {name} has no engine equivalent (the engine has "
                     f"{', '.join(d.proto_name for d in dtypes.ALL)})")


def as_tf_enum(dtype: DType) -> int:
    """TensorFlow's DataType enum value of an engine DType."""
    return protos.module("types_pb2").DataType.Value(dtype.proto_name)


def dims_from_proto(shape: Any) -> Optional[tuple]:
    """An engine shape (None = unknown rank, None dims = unknown) of a TensorShapeProto."""
    if shape.unknown_rank:
        return None
    out = []
    for dim in shape.dim:
        if dim.size < -1:
            raise ValueError(f"dimension {dim.size} is negative")
        out.append(None if dim.size == -1 else int(dim.size))
    return tuple(out)


def dims_to_proto(dims: Optional[tuple], proto: Any) -> Any:
    """Fill TensorShapeProto `proto` with engine dims; returns it."""
    if dims is None:
        proto.unknown_rank = True
    for d in dims or ():
        proto.dim.add(size=-1 if d is None else int(d))
    return proto


def array_from_proto(tensor: Any) -> np.ndarray:
    """The numpy value of a TensorProto (tensor_content or the typed value fields)."""
    dtype = as_engine_dtype(tensor.dtype).np
    shape = dims_from_proto(tensor.tensor_shape)
    if shape is None or None in shape:
        raise ValueError("a constant tensor needs a fully known shape")
    count = math.prod(shape)
    if dtype.kind == "O":
        return _strings_from_proto(tensor, shape, count)
    if tensor.tensor_content:
        expected = count * dtype.itemsize
        if len(tensor.tensor_content) != expected:
            raise ValueError(f"{dtype} {list(shape)} needs {expected} bytes of tensor_content, "
                             f"found {len(tensor.tensor_content)}")
        value = np.frombuffer(tensor.tensor_content, dtype=dtype.newbyteorder("<")).astype(dtype)
        return _frozen(value.reshape(shape))
    values = list(getattr(tensor, _VALUE_FIELDS.get(dtype, "int_val")))
    if len(values) > count:
        raise ValueError(f"{len(values)} values for a tensor of shape {list(shape)} ({count} elements)")
    if values and len(values) < count and count > MAX_FILLED_ELEMENTS:
        raise ValueError(f"a constant of {count} elements given by {len(values)} value(s) is larger than "
                         f"{MAX_FILLED_ELEMENTS} elements; store it in tensor_content")
    if dtype == np.float16:
        values = np.array(values, np.uint16).view(np.float16)
    value = np.zeros(count, dtype)
    if len(values):  # TensorFlow repeats the last value to fill the shape
        value[:len(values)] = values
        value[len(values):] = values[-1]
    return _frozen(value.reshape(shape))


def _strings_from_proto(tensor: Any, shape: tuple, count: int) -> np.ndarray:
    """A DT_STRING constant: TensorFlow stores its elements in `string_val` (the last repeats to fill;
    none means empty strings, as zeros for numbers)."""
    values = list(tensor.string_val) or [b""]
    if len(values) > max(count, 1):
        raise ValueError(f"{len(values)} string_val entries for a string tensor of shape {list(shape)} "
                         f"({count} elements)")
    if len(values) < count and count > MAX_FILLED_ELEMENTS:
        raise ValueError(f"a string constant of {count} elements given by {len(values)} value(s) is larger than "
                         f"{MAX_FILLED_ELEMENTS} elements")
    value = np.empty(count, dtype=object)
    value[:] = (values + values[-1:] * (count - len(values)))[:count]
    return _frozen(value.reshape(shape))


def _frozen(value: np.ndarray) -> np.ndarray:
    value.flags.writeable = False
    return value


def array_to_proto(value: np.ndarray, proto: Any) -> Any:
    """Fill TensorProto `proto` with `value` (dtype, shape, little-endian tensor_content); returns it."""
    dtype = dtypes.from_numpy(value)
    proto.dtype = as_tf_enum(dtype)
    dims_to_proto(tuple(value.shape), proto.tensor_shape)
    if dtype.is_string:
        proto.string_val.extend(value.reshape(-1).tolist())
        return proto
    proto.tensor_content = np.ascontiguousarray(value).astype(value.dtype.newbyteorder("<"), copy=False).tobytes()
    return proto
