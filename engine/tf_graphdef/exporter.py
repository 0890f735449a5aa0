"""Engine graph -> TensorFlow GraphDef (protobuf) that TensorFlow 1.x runs and TensorBoard draws.

Each engine op becomes the TensorFlow node(s) of its rule (`RULES`), named
as the op, so tensor names (`y:0`) stay valid in TensorFlow. Attributes the
engine keeps static but TensorFlow takes as inputs (a Reshape's shape, a
reduction's axes) become Const nodes named after the op (`Reshape/shape`).
With `strict=False` an op without a TensorFlow equivalent is written under
its engine type with its attributes (TensorBoard can draw it, TensorFlow
cannot run it); with `strict=True` (the default) it is a GraphDefError.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from .. import dtypes
from ..errors import GraphDefError
from ..graph import Graph, Operation, Tensor
from . import optable, protos
from .tensors import array_to_proto, as_tf_enum, dims_to_proto

Rule = Callable[["Writer", Operation], None]
RULES: dict[str, Rule] = {}
PRODUCER = 1087  # a GraphDef version TensorFlow 1.15 and 2.x both run


rule = optable.registrar(RULES)  # @rule("TypeA", "TypeB") def translation(...)


def tensor_name(t: Tensor) -> str:
    """TensorFlow's input spelling: `op` for output 0, `op:i` otherwise."""
    return t.op.name if t.value_index == 0 else t.name


class Writer:
    """Collects the NodeDefs of one GraphDef message, keeping names unique."""

    def __init__(self, graph: Graph) -> None:
        self.message = protos.graph_def_class()()
        self.message.versions.producer = PRODUCER
        self._names = {op.name for op in graph.get_operations()}

    def node(self, op: Operation, tf_type: str, inputs: list[str], helper: Optional[str] = None, **attrs: Any) -> str:
        """Add a NodeDef (the op's own, or with `helper` a Const operand of it); returns its name."""
        name = op.name if helper is None else self._helper_name(f"{op.name}/{helper}")
        proto = self.message.node.add(name=name, op=tf_type, input=inputs)
        if helper is None:
            proto.input.extend(f"^{c.name}" for c in op.control_inputs)
        for key, value in attrs.items():
            set_attr(proto.attr[key], value)
        return name

    def const(self, op: Operation, helper: str, value: Any, dtype: dtypes.DType = dtypes.int32) -> str:
        array = np.asarray(value, dtype.np)
        return self.node(op, "Const", [], helper, dtype=dtype, value=array)

    def _helper_name(self, base: str) -> str:
        candidate, n = base, 0
        while candidate in self._names:
            n += 1
            candidate = f"{base}_{n}"
        self._names.add(candidate)
        return candidate


def set_attr(attr: Any, value: Any) -> None:
    """Fill AttrValue `attr` from a Python value (DType, ndarray, shape tuple via `Shape`, str, number, list)."""
    if isinstance(value, dtypes.DType):
        attr.type = as_tf_enum(value)
    elif isinstance(value, np.ndarray):
        array_to_proto(value, attr.tensor)
    elif isinstance(value, Shape):
        dims_to_proto(value.dims, attr.shape)
    elif isinstance(value, bool):
        attr.b = value
    elif isinstance(value, (int, np.integer)):
        attr.i = int(value)
    elif isinstance(value, float):
        attr.f = value
    elif isinstance(value, str):
        attr.s = value.encode("utf-8")
    elif isinstance(value, (tuple, list)):
        attr.list.SetInParent()
        for item in value:
            if isinstance(item, dtypes.DType):
                attr.list.type.append(as_tf_enum(item))
            else:
                attr.list.i.append(int(item))
    else:
        raise TypeError(f"cannot write attribute value {value!r}")


class Shape:
    """Marks a dims tuple (or None) as a TensorShapeProto attribute."""

    def __init__(self, dims: Optional[tuple]) -> None:
        self.dims = dims


def export(graph: Graph, strict: bool = True) -> Any:
    """The TensorFlow GraphDef message of `graph`; see the module docstring for `strict`."""
    writer = Writer(graph)
    for op in graph.get_operations():
        fn = RULES.get(op.type)
        if fn is not None:
            fn(writer, op)
        elif strict:
            raise GraphDefError(f"{op.type} '{op.name}' has no TensorFlow equivalent, so TensorFlow could not run "
                                "the exported graph (the ops it can: engine.tf_graphdef.exporter.RULES); export "
                                "the inference part, e.g. graph_util.convert_variables_to_constants(sess, "
                                "graph.as_graph_def(), outputs), or pass strict=False for a graph TensorBoard draws")
        else:
            _as_is(writer, op)
    return writer.message


def _inputs(op: Operation) -> list[str]:
    return [tensor_name(t) for t in op.inputs]


def _as_is(writer: Writer, op: Operation) -> None:
    """An op TensorFlow has no twin for, under its engine type: enough for TensorBoard to draw it."""
    attrs = {}
    for key, kind in op.op_def.attrs.items():
        value = op.attrs[key]
        if value is None:
            continue
        attrs[key] = Shape(value) if kind.startswith("shape") else value
    writer.node(op, op.type, _inputs(op), **attrs)


def _rank(op: Operation, t: Tensor) -> int:
    if t._dims is None:
        raise GraphDefError(f"{op.type} '{op.name}': input '{t.name}' has unknown rank; TensorFlow needs its "
                            "axes as a constant")
    return len(t._dims)


# -- rules ------------------------------------------------------------------------------------------------

@rule("Const")
def _const(w: Writer, op: Operation) -> None:
    w.node(op, "Const", [], dtype=op.get_attr("dtype"), value=op.get_attr("value"))


@rule("Placeholder")
def _placeholder(w: Writer, op: Operation) -> None:
    w.node(op, "Placeholder", [], dtype=op.get_attr("dtype"), shape=Shape(op.get_attr("shape")))


@rule("NoOp")
def _no_op(w: Writer, op: Operation) -> None:
    w.node(op, "NoOp", [])


@rule(*optable.UNARY, *optable.BINARY, "AddN", "ClipByValue")
def _typed(w: Writer, op: Operation) -> None:
    extra = {"N": len(op.inputs)} if op.type == "AddN" else {}
    extra |= {"incompatible_shape_error": True} if op.type in ("Equal", "NotEqual") else {}
    w.node(op, optable.EXPORT_NAMES.get(op.type, op.type), _inputs(op), T=op.inputs[0].dtype, **extra)


@rule(*optable.LOGICAL)
def _logical(w: Writer, op: Operation) -> None:
    w.node(op, op.type, _inputs(op))


@rule("SelectV2")
def _select(w: Writer, op: Operation) -> None:
    w.node(op, "SelectV2", _inputs(op), T=op.inputs[1].dtype)


@rule("MatMul")
def _matmul(w: Writer, op: Operation) -> None:
    w.node(op, "MatMul", _inputs(op), T=op.inputs[0].dtype, transpose_a=op.get_attr("transpose_a"),
           transpose_b=op.get_attr("transpose_b"))


@rule("Softmax", "LogSoftmax")
def _softmax(w: Writer, op: Operation) -> None:
    axis, rank = op.get_attr("axis"), op.inputs[0]._dims
    if axis != -1 and (rank is None or axis != len(rank) - 1):
        raise GraphDefError(f"{op.type} '{op.name}': TensorFlow's {op.type} works on the last axis only, "
                            f"this one is over axis {axis}")
    w.node(op, op.type, _inputs(op), T=op.inputs[0].dtype)


@rule("Cast")
def _cast(w: Writer, op: Operation) -> None:
    w.node(op, "Cast", _inputs(op), SrcT=op.inputs[0].dtype, DstT=op.get_attr("DstT"), Truncate=False)


@rule("Reshape")
def _reshape(w: Writer, op: Operation) -> None:
    shape = w.const(op, "shape", op.get_attr("shape"))
    w.node(op, "Reshape", [*_inputs(op), shape], T=op.inputs[0].dtype, Tshape=dtypes.int32)


@rule("Squeeze")
def _squeeze(w: Writer, op: Operation) -> None:
    w.node(op, "Squeeze", _inputs(op), T=op.inputs[0].dtype, squeeze_dims=list(op.get_attr("axis") or ()))


@rule("ExpandDims")
def _expand_dims(w: Writer, op: Operation) -> None:
    dim = w.const(op, "dim", op.get_attr("axis"))
    w.node(op, "ExpandDims", [*_inputs(op), dim], T=op.inputs[0].dtype, Tdim=dtypes.int32)


@rule("ConcatV2")
def _concat(w: Writer, op: Operation) -> None:
    axis = w.const(op, "axis", op.get_attr("axis"))
    w.node(op, "ConcatV2", [*_inputs(op), axis], N=len(op.inputs), T=op.inputs[0].dtype, Tidx=dtypes.int32)


@rule("Pack")
def _pack(w: Writer, op: Operation) -> None:
    w.node(op, "Pack", _inputs(op), N=len(op.inputs), T=op.inputs[0].dtype, axis=op.get_attr("axis"))


@rule("Unpack")
def _unpack(w: Writer, op: Operation) -> None:
    w.node(op, "Unpack", _inputs(op), T=op.inputs[0].dtype, num=op.get_attr("num"), axis=op.get_attr("axis"))


@rule("ArgMax", "ArgMin")
def _arg_extremum(w: Writer, op: Operation) -> None:
    dim = w.const(op, "dimension", op.get_attr("axis"))
    w.node(op, op.type, [*_inputs(op), dim], T=op.inputs[0].dtype, Tidx=dtypes.int32,
           output_type=op.get_attr("output_type"))


@rule(*optable.REDUCTIONS)
def _reduction(w: Writer, op: Operation) -> None:
    axis = op.get_attr("axis")
    axes = w.const(op, "reduction_indices", list(range(_rank(op, op.inputs[0])) if axis is None else axis))
    typed = {} if op.type in ("All", "Any") else {"T": op.inputs[0].dtype}
    w.node(op, op.type, [*_inputs(op), axes], Tidx=dtypes.int32, keep_dims=op.get_attr("keepdims"), **typed)


@rule("StridedSlice")
def _strided_slice(w: Writer, op: Operation) -> None:
    parts = [w.const(op, name, op.get_attr(key)) for name, key in
             (("stack", "begin"), ("stack_1", "end"), ("stack_2", "strides"))]
    masks = {k: op.get_attr(k) for k in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                                          "shrink_axis_mask")}
    w.node(op, "StridedSlice", [*_inputs(op), *parts], T=op.inputs[0].dtype, Index=dtypes.int32, **masks)


@rule("Transpose")
def _transpose(w: Writer, op: Operation) -> None:
    perm = op.get_attr("perm")
    perm = w.const(op, "perm", list(reversed(range(_rank(op, op.inputs[0])))) if perm is None else perm)
    w.node(op, "Transpose", [*_inputs(op), perm], T=op.inputs[0].dtype, Tperm=dtypes.int32)


@rule("Tile")
def _tile(w: Writer, op: Operation) -> None:
    multiples = w.const(op, "multiples", op.get_attr("multiples"))
    w.node(op, "Tile", [*_inputs(op), multiples], T=op.inputs[0].dtype, Tmultiples=dtypes.int32)


@rule("GatherV2")
def _gather(w: Writer, op: Operation) -> None:
    axis = w.const(op, "axis", op.get_attr("axis"))
    w.node(op, "GatherV2", [*_inputs(op), axis], Tparams=op.inputs[0].dtype, Tindices=op.inputs[1].dtype,
           Taxis=dtypes.int32, batch_dims=0)


@rule("Shape", "Size")
def _shape_of(w: Writer, op: Operation) -> None:
    w.node(op, op.type, _inputs(op), T=op.inputs[0].dtype, out_type=op.get_attr("out_type"))


@rule("Rank")
def _rank_op(w: Writer, op: Operation) -> None:
    if op.get_attr("out_type") is not dtypes.int32:
        raise GraphDefError(f"Rank '{op.name}': TensorFlow's Rank is int32, this one {op.get_attr('out_type').name}")
    w.node(op, "Rank", _inputs(op), T=op.inputs[0].dtype)


@rule("OneHot")
def _one_hot(w: Writer, op: Operation) -> None:
    dtype = op.get_attr("dtype")
    operands = [w.const(op, "depth", op.get_attr("depth")), w.const(op, "on_value", op.get_attr("on_value"), dtype),
                w.const(op, "off_value", op.get_attr("off_value"), dtype)]
    w.node(op, "OneHot", [*_inputs(op), *operands], T=dtype, TI=op.inputs[0].dtype, axis=op.get_attr("axis"))


@rule("VariableV2")
def _variable(w: Writer, op: Operation) -> None:
    w.node(op, "VariableV2", [], dtype=op.get_attr("dtype"), shape=Shape(op.get_attr("shape")), container="",
           shared_name="")


@rule("Assign", "AssignAdd", "AssignSub")
def _assign(w: Writer, op: Operation) -> None:
    extra = {"validate_shape": True} if op.type == "Assign" else {}
    w.node(op, op.type, _inputs(op), T=op.inputs[0].dtype, use_locking=False, **extra)


@rule("Conv2D")
def _conv2d(w: Writer, op: Operation) -> None:
    w.node(op, "Conv2D", _inputs(op), T=op.inputs[0].dtype, strides=op.get_attr("strides"),
           padding=op.get_attr("padding"), dilations=op.get_attr("dilations"), data_format="NHWC",
           use_cudnn_on_gpu=True, explicit_paddings=[])


@rule("MaxPool", "AvgPool")
def _pool(w: Writer, op: Operation) -> None:
    extra = {"explicit_paddings": []} if op.type == "MaxPool" else {}
    w.node(op, op.type, _inputs(op), T=op.inputs[0].dtype, ksize=op.get_attr("ksize"),
           strides=op.get_attr("strides"), padding=op.get_attr("padding"), data_format="NHWC", **extra)


@rule("BiasAdd")
def _bias_add(w: Writer, op: Operation) -> None:
    w.node(op, "BiasAdd", _inputs(op), T=op.inputs[0].dtype, data_format="NHWC")
