"""Graph-structure ops: constants, placeholders, identity, no_op and group."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import dtypes
from ..dtypes import DType
from ..errors import FetchError, ShapeError
from ..graph import Operation, Tensor, get_default_graph
from ..op_types import PLACEHOLDER
from ..registry import NOT_DIFFERENTIABLE, TensorSpec, register_op
from ..shapes import as_dims, format_dims, num_elements
from .toolkit import as_array, const, convert_to_tensor, make


def _const_infer(inputs: Sequence[TensorSpec], *, value: np.ndarray, dtype: DType) -> TensorSpec:
    if dtypes.from_numpy(value) is not dtype:
        raise ShapeError(f"value has dtype {value.dtype}, attr dtype says {dtype.name}")
    return TensorSpec(dtype, value.shape)


def _const_kernel(*, value: np.ndarray, dtype: DType) -> np.ndarray:
    return value


register_op("Const", kernel=_const_kernel, infer=_const_infer, attrs={"value": "tensor", "dtype": "type"},
            num_inputs=0, grad=NOT_DIFFERENTIABLE)


def constant(value: Any, dtype: Any = None, shape: Any = None, name: str = "Const") -> Tensor:
    """A tensor with a fixed value; `shape` broadcasts a scalar or reshapes.

    >>> constant(1.0, name="first_constant")
    <tf.Tensor 'first_constant:0' shape=() dtype=float32>
    >>> tf.Session().run(constant(0.5, shape=[2]))
    array([0.5, 0.5], dtype=float32)
    """
    want = dtypes.as_dtype(dtype) if dtype is not None else None
    if want is not None and isinstance(value, (np.ndarray, np.generic)) and np.can_cast(value.dtype, want.np,
                                                                                        "same_kind"):
        array = as_array(value.tolist(), want).reshape(np.shape(value))  # tolist() loses the shape of empty arrays
    else:
        array = as_array(value, want)
    if shape is not None:
        dims = as_dims(shape)
        if array.size == 1:
            array = np.full(dims, array.reshape(()), dtype=array.dtype)
        elif num_elements(dims) == array.size:
            array = array.reshape(dims)
        else:
            raise ShapeError(f"Const '{name}': cannot give a value of shape {format_dims(array.shape)} "
                             f"the shape {format_dims(dims)}")
    return const(array, name)


def _placeholder_kernel(*, dtype: DType, shape: Any) -> np.ndarray:
    raise FetchError(f"a placeholder of dtype {dtype.name} and shape {format_dims(shape)} was not fed")


register_op(PLACEHOLDER, kernel=_placeholder_kernel,
            infer=lambda inputs, *, dtype, shape: TensorSpec(dtype, shape),
            attrs={"dtype": "type", "shape": "shape?"}, num_inputs=0, grad=NOT_DIFFERENTIABLE)


def placeholder(dtype: Any, shape: Any = None, name: str = "Placeholder") -> Tensor:
    """A tensor whose value is fed at run time; None dims are unknown.

    >>> placeholder(tf.float64, shape=[None, 2], name="x")
    <tf.Tensor 'x:0' shape=(?, 2) dtype=float64>
    """
    return make(PLACEHOLDER, [], name, dtype=dtypes.as_dtype(dtype), shape=as_dims(shape))


def _same_spec(inputs: Sequence[TensorSpec]) -> TensorSpec:
    return inputs[0]


def _pass_through(x: np.ndarray) -> np.ndarray:
    return x


def _batch_pass_through(args: Sequence[np.ndarray], batched: Sequence[bool]) -> np.ndarray:
    return args[0]


register_op("Identity", kernel=_pass_through, infer=_same_spec, num_inputs=1,
            grad=lambda op, g: [g], batch=_batch_pass_through)
register_op("StopGradient", kernel=_pass_through, infer=_same_spec, num_inputs=1,
            grad=lambda op, g: [None], batch=_batch_pass_through)


def identity(x: Any, name: str = "Identity") -> Tensor:
    """The same value as `x`, as a new tensor (useful to name an output)."""
    return make("Identity", [convert_to_tensor(x)], name)


def stop_gradient(x: Any, name: str = "StopGradient") -> Tensor:
    """`x`, seen by `gradients` as a constant."""
    return make("StopGradient", [convert_to_tensor(x)], name)


def _no_op_kernel() -> None:
    return None


register_op("NoOp", kernel=_no_op_kernel, infer=lambda inputs: [], num_inputs=0, grad=NOT_DIFFERENTIABLE,
            batch=lambda args, batched: None)


def no_op(name: str = "NoOp") -> Operation:
    """An op that does nothing; with control inputs, a synchronization point."""
    return get_default_graph().create_op("NoOp", [], {}, name=name)


def group(*inputs: Any, name: str = "group_deps") -> Operation:
    """An op that runs all `inputs` (ops or tensors) and outputs nothing."""
    items = [i for item in inputs for i in (item if isinstance(item, (list, tuple)) else [item])]
    graph = next((i.graph for i in items if hasattr(i, "graph")), get_default_graph())
    deps = [graph.as_graph_element(i) for i in items]
    deps = [d.op if isinstance(d, Tensor) else d for d in deps]
    return graph.create_op("NoOp", [], {}, name=name, control_inputs=deps)


def _with_default_infer(inputs: Sequence[TensorSpec], *, shape: Any) -> TensorSpec:
    from ..shapes import merge
    merge(shape, inputs[0].shape)  # the default must fit the declared shape
    return TensorSpec(inputs[0].dtype, shape)


register_op("PlaceholderWithDefault", kernel=lambda x, *, shape: x, infer=_with_default_infer, attrs={"shape": "shape?"},
            num_inputs=1, grad=lambda op, g: [g], batch=lambda args, batched, *, shape: args[0])


def placeholder_with_default(input: Any, shape: Any, name: str = "PlaceholderWithDefault") -> Tensor:
    """A placeholder that takes the value of `input` when it is not fed (`training` flags, say).

    >>> training = placeholder_with_default(False, shape=(), name="training")
    >>> sess = tf.Session()
    >>> bool(sess.run(training)), bool(sess.run(training, {training: True}))
    (False, True)
    """
    return make("PlaceholderWithDefault", [convert_to_tensor(input)], name, shape=as_dims(shape))
