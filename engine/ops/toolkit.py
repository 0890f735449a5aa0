"""The toolkit every op family builds on: tensor conversion, op creation, and
the dtype, shape, axis and batching rules many ops share.

Below every family (it imports none of them); `engine.extend` re-exports the
parts a user's op needs.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from .. import dtypes
from ..dtypes import DType
from ..errors import DTypeError, ShapeError
from ..graph import Graph, Operation, Tensor, get_default_graph
from ..registry import TensorSpec
from ..shapes import broadcast

_PY_DEFAULTS = {bool: dtypes.bool_, int: dtypes.int32, float: dtypes.float32}


def is_tensor_like(value: Any) -> bool:
    return isinstance(value, Tensor) or hasattr(value, "_as_graph_element")


def convert_to_tensor(value: Any, dtype: Optional[DType] = None, name: Optional[str] = None) -> Tensor:
    """A Tensor from a Tensor, a Variable, a Python scalar/list or a numpy array.

    Python values take `dtype` when given (if they fit it exactly), else
    TensorFlow's defaults (float32, int32, bool). numpy values keep their
    dtype, or convert to a requested one as TF converts them (float64 to
    float32 yes; a value that an integer or bool dtype would change, no).
    """
    if hasattr(value, "_as_graph_element"):
        value = value._as_graph_element()
    want = dtypes.as_dtype(dtype) if dtype is not None else None
    if isinstance(value, Tensor):
        if want is not None and value.dtype is not want:
            raise DTypeError(f"Tensor conversion requested dtype {want.name} for Tensor '{value.name}' "
                             f"of dtype {value.dtype.name}")
        return value
    return const(as_array(value, want), name or "Const")


def const(array: np.ndarray, name: Optional[str]) -> Tensor:
    """A Const op holding a read-only copy of `array` (the graph owns its constants)."""
    array = np.array(array, copy=True)
    array.flags.writeable = False
    return make("Const", [], name, value=array, dtype=dtypes.from_numpy(array))


def as_array(value: Any, dtype: Optional[DType] = None) -> np.ndarray:
    """A numpy array for a constant, with TensorFlow's dtype rules (str and bytes make a string tensor)."""
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        if array.dtype.kind in "USO":
            array = dtypes.as_bytes_array(array)
        found = dtypes.from_numpy(array)
        if dtype is not None and found is not dtype:
            return _numpy_as(array, found, dtype)
        return array
    if dtype is None:
        dtype = _python_dtype(value)
    if dtype.is_string or _kind(value) in "US":
        return _as_string(value, dtype)
    try:
        array = np.asarray(value, dtype=dtype.np)
    except (OverflowError, ValueError, TypeError) as e:
        raise DTypeError(f"expected {dtype.name}, found {value!r} which does not fit it ({e})") from None
    if not dtype.is_floating and not np.array_equal(array, np.asarray(value)):
        raise DTypeError(f"expected {dtype.name}, found {value!r} which does not fit it exactly")
    return array


def _numpy_as(array: np.ndarray, found: DType, dtype: DType) -> np.ndarray:
    """A numpy value as `dtype`, the way TF converts one next to a tensor (np.float64(0.5) * float32 tensor).

    Floats to floats and ints or bools to numbers convert; ints to ints and
    floats to ints only when no value changes; anything to bool never; strings only to strings.
    """
    if found.is_string or dtype.is_string:
        raise DTypeError(f"expected a value of dtype {dtype.name}, found a numpy {found.name} value; strings and "
                         "numbers do not convert to each other")
    if not dtype.is_bool and (found.is_floating and dtype.is_floating or not found.is_floating):
        converted = array.astype(dtype.np)
        if dtype.is_floating or np.array_equal(converted, array):
            return converted
    elif found.is_floating and dtype.is_integer and np.array_equal(np.trunc(array), array):
        converted = array.astype(dtype.np)
        if np.array_equal(converted, array):
            return converted
    raise DTypeError(f"expected a value of dtype {dtype.name}, found a numpy {found.name} value that does not "
                     f"convert to it exactly; cast it first (engine.cast or .astype)")


def _as_string(value: Any, dtype: DType) -> np.ndarray:
    """Python text as a string tensor's value; DTypeError for numbers asked to be strings or the reverse."""
    if not dtype.is_string:
        raise DTypeError(f"expected {dtype.name}, found {value!r}: strings do not convert to numbers")
    if _kind(value) not in "USO" and np.size(value):
        raise DTypeError(f"expected string, found {value!r}: numbers do not convert to strings")
    return dtypes.as_bytes_array(value)


def _kind(value: Any) -> str:
    """numpy's dtype kind for a Python value ('S' for bytes numpy can't hold next to str)."""
    try:
        return np.asarray(value).dtype.kind
    except UnicodeDecodeError:  # [b"\xff", "a"]: numpy would decode the bytes as ASCII
        return "S"
    except ValueError:  # ragged: as_bytes_array or the numeric path says why
        return "O"


def _python_dtype(value: Any) -> DType:
    if _kind(value) in "US":
        return dtypes.string
    flat = np.asarray(value)
    if flat.dtype == object or flat.dtype.kind not in "biuf":
        raise DTypeError(f"cannot convert {value!r} to a tensor: expected numbers, booleans or strings")
    kind = {"b": bool, "i": int, "u": int, "f": float}[flat.dtype.kind]
    return _PY_DEFAULTS[kind]


def convert_pair(x: Any, y: Any) -> tuple[Tensor, Tensor]:
    """Two operands of a binary op; a Python value takes the tensor's dtype."""
    return tuple(convert_all([x, y]))  # type: ignore[return-value]


def convert_all(values: Sequence[Any]) -> list[Tensor]:
    """Many operands of one dtype and graph; Python values take the first tensor's
    dtype and are added to that tensor's graph (as in TensorFlow 1.x)."""
    tensors = [convert_to_tensor(v) for v in values if is_tensor_like(v)]
    if not tensors:
        return [convert_to_tensor(v) for v in values]
    with tensors[0].graph.as_default():
        return [convert_to_tensor(v, None if is_tensor_like(v) else tensors[0].dtype) for v in values]


def graph_of(*tensors: Tensor) -> Graph:
    """The graph the tensors live in (the default graph if none)."""
    return tensors[0].graph if tensors else get_default_graph()


def make_op(op_type: str, inputs: Sequence[Tensor], name: Optional[str], **attrs: Any) -> Operation:
    """Create an op in the inputs' graph (or the default graph)."""
    return graph_of(*inputs).create_op(op_type, list(inputs), attrs, name=name)


def make(op_type: str, inputs: Sequence[Tensor], name: Optional[str], **attrs: Any) -> Tensor:
    """Create a single-output op and return its output."""
    return make_op(op_type, inputs, name, **attrs).outputs[0]


# -- inference rules shared by many ops -------------------------------------------------
def same_dtype(inputs: Sequence[TensorSpec]) -> DType:
    """The common dtype of the inputs; DTypeError naming all of them otherwise."""
    found = {s.dtype for s in inputs}
    if len(found) > 1:
        raise DTypeError("inputs must have the same dtype, found " + ", ".join(s.dtype.name for s in inputs))
    return inputs[0].dtype


def require(dtype: DType, allowed: str, what: str = "input") -> None:
    """DTypeError unless dtype's kind is in `allowed` ('f' float, 'i' int, 'b' bool, 's' string)."""
    if dtype.np.kind.replace("u", "i").replace("O", "s") not in allowed:  # unsigned ints count as integer
        names = {"f": "floating", "i": "integer", "b": "bool", "s": "string"}
        raise DTypeError(f"{what} must be {' or '.join(names[k] for k in allowed)}, found {dtype.name}")


def broadcast_specs(inputs: Sequence[TensorSpec]) -> Optional[tuple]:
    """The broadcast static shape of the inputs (ShapeError if incompatible)."""
    return broadcast(*[s.shape for s in inputs])


def elementwise(allowed: str = "fi", out_dtype: Optional[DType] = None):
    """Inference rule for elementwise ops: one dtype in, broadcast shape out."""
    def infer(inputs: Sequence[TensorSpec], **attrs: Any) -> TensorSpec:
        dtype = same_dtype(inputs)
        require(dtype, allowed)
        return TensorSpec(out_dtype or dtype, broadcast_specs(inputs))
    return infer


# -- axes ------------------------------------------------------------------------------
def normalize_axis(axis: Any) -> Optional[tuple]:
    """`axis` as an attr: None, or a tuple of ints (from an int or a list)."""
    if axis is None:
        return None
    if isinstance(axis, Tensor):
        raise TypeError("axis must be a Python int or list of ints known when the graph is built, "
                        f"found Tensor '{axis.name}'")
    items = [axis] if np.ndim(axis) == 0 else list(np.asarray(axis).reshape(-1))
    if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in items):
        raise TypeError(f"axis must be an int or a list of ints, found {axis!r}")
    return tuple(int(a) for a in items)


def check_axis(axis: int, rank: Optional[int], extra: int = 0) -> None:
    """ShapeError unless `axis` indexes a tensor of `rank` (+ `extra` new axes)."""
    if rank is not None and not -(rank + extra) <= axis < rank + extra:
        raise ShapeError(f"axis {axis} is out of range for a tensor of rank {rank}")


# -- batching rules --------------------------------------------------------------------
def batch_elementwise(kernel):
    """Batching rule for broadcasting ops: align the batch axis in front of each row."""
    def rule(args: Sequence[np.ndarray], batched: Sequence[bool], **attrs: Any):
        rank = max(a.ndim - b for a, b in zip(args, batched))
        aligned = [a.reshape(a.shape[:1] + (1,) * (rank - a.ndim + 1) + a.shape[1:]) if b else a
                   for a, b in zip(args, batched)]
        return kernel(*aligned, **attrs)
    return rule


def batched_args(args: Sequence[np.ndarray], batched: Sequence[bool]) -> list[np.ndarray]:
    """All args with the batch axis: unbatched ones are broadcast along it."""
    n = next(a.shape[0] for a, b in zip(args, batched) if b)
    return [a if b else np.broadcast_to(a, (n,) + a.shape) for a, b in zip(args, batched)]


def shift_axis(axis: int) -> int:
    """A row-level axis (possibly negative) as an axis of the batched array."""
    return axis + 1 if axis >= 0 else axis
