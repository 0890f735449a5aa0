"""TensorFlow 1.x GraphDef (protobuf) -> engine GraphDef.

Each TensorFlow node is translated by the rule of its op type (`RULES`),
in dependency order, into engine ops built on a scratch graph: so every
node is shape- and dtype-checked by the engine's own inference as it is
translated, and the engine GraphDef of the scratch graph is the result.
Operands TensorFlow passes as constant inputs (a Reshape's shape, a
reduction's axes) become the engine op's attributes; they must come from a
Const node (directly or through Identity), as in any frozen graph.

Nothing is executed: a rule reads attributes and constants only. Every
problem, including a node attribute no rule reads (a non-default value of
an attribute the engine has no equivalent for), is a GraphDefError naming
the node, its op type and the attribute.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from .. import dtypes
from ..dtypes import from_numpy
from ..errors import EngineError, GraphDefError
from ..graph import Graph, Operation, Tensor
from ..exporter import graph_to_graph_def
from ..graphdef import GraphDef, parse_input
from ..importer import _topological
from ..shapes import TensorShape
from . import optable
from .tensors import array_from_proto, as_engine_dtype, dims_from_proto

Rule = Callable[["Node"], Operation]
RULES: dict[str, Rule] = {}
_MISSING = object()


rule = optable.registrar(RULES)  # @rule("TypeA", "TypeB") def translation(...)


def attr_value(value: Any) -> Any:
    """The Python value of an AttrValue message (types as engine DTypes)."""
    kind = value.WhichOneof("value")
    if kind == "s":
        return value.s.decode("utf-8")
    if kind in ("i", "f", "b"):
        return getattr(value, kind)
    if kind == "type":
        return as_engine_dtype(value.type)
    if kind == "shape":
        return dims_from_proto(value.shape)
    if kind == "tensor":
        return array_from_proto(value.tensor)
    if kind == "list":
        lst = value.list
        if lst.type:
            return tuple(as_engine_dtype(t) for t in lst.type)
        if lst.shape:
            return tuple(dims_from_proto(s) for s in lst.shape)
        return tuple(lst.i) or tuple(lst.f) or tuple(lst.b) or tuple(s.decode("utf-8") for s in lst.s)
    if kind is None:
        return None
    raise ValueError(f"attribute kind {kind!r} is not supported")


_KIND_NAMES = {"type": "a dtype", "i": "an int", "f": "a float", "b": "a bool", "s": "a string",
               "shape": "a shape", "tensor": "a tensor", "ints": "a list of ints"}


def _list_kinds(lst: Any) -> set[str]:
    return {k for k in ("s", "i", "f", "b", "type", "shape", "tensor", "func") if len(getattr(lst, k))}


class Node:
    """A TensorFlow NodeDef being translated into ops of the scratch `graph`."""

    def __init__(self, proto: Any, graph: Graph, built: dict[str, Operation], reserved: set[str]) -> None:
        self.proto, self.name, self.type = proto, proto.name, proto.op
        self.graph, self._built, self._reserved = graph, built, reserved
        self._read: set[str] = set()
        self.inputs = [self._tensor(text) for text in proto.input if not text.startswith("^")]

    def _tensor(self, text: str) -> Tensor:
        _, src, index = parse_input(self.name, text)
        op = self._built[src]
        if index >= len(op.outputs):
            raise ValueError(f"input {text!r}: the engine's import of '{src}' has {len(op.outputs)} output(s) "
                             "(of a FusedBatchNorm, only y, output 0)")
        return op.outputs[index]

    @property
    def controls(self) -> list[Operation]:
        return [self._built[parse_input(self.name, t)[1]] for t in self.proto.input if t.startswith("^")]

    def attr(self, key: str, kind: str, default: Any = _MISSING) -> Any:
        """Attribute `key`, which must be of AttrValue kind `kind` ("type", "i", "f", "b", "s", "shape",
        "tensor" or "ints"), decoded; `default` when absent (absent without a default: error)."""
        self._read.add(key)
        if key not in self.proto.attr:
            if default is _MISSING:
                raise ValueError(f"attribute '{key}' is missing")
            return default
        value = self.proto.attr[key]
        found = value.WhichOneof("value")
        if found != ("list" if kind == "ints" else kind) or (kind == "ints" and _list_kinds(value.list) - {"i"}):
            raise ValueError(f"attribute '{key}' must be {_KIND_NAMES[kind]}, found {found or 'nothing'}")
        try:
            return attr_value(value)
        except (ValueError, UnicodeDecodeError) as e:
            raise ValueError(f"attribute '{key}': {e}") from None

    def expect(self, key: str, *allowed: Any) -> Any:
        """Attribute `key`, which must be one of `allowed` (the first is its default)."""
        kind = {bool: "b", int: "i", float: "f", str: "s"}[type(allowed[0])]
        value = self.attr(key, kind, allowed[0])
        if value not in allowed:
            raise ValueError(f"attribute '{key}' is {value!r}; the engine supports {', '.join(map(repr, allowed))}")
        return value

    def typed_inputs(self, count: Optional[int], key: str = "T", first: int = 0,
                     last: Optional[int] = None) -> list[Tensor]:
        """The data inputs (`count` of them, None: any), those in [first:last] of dtype attribute `key`."""
        if count is not None and len(self.inputs) != count:
            raise ValueError(f"expected {count} input(s), found {len(self.inputs)}")
        declared = self.attr(key, "type")
        for t in self.inputs[first:last]:
            if t.dtype is not declared:
                raise ValueError(f"attribute '{key}' is {declared.name} but input '{t.name}' is {t.dtype.name}")
        return self.inputs

    def constant(self, index: int, key: Optional[str] = None) -> np.ndarray:
        """The value of data input `index`, which must be a Const (possibly behind Identity ops)."""
        tensor = self.inputs[index]
        if key is not None and tensor.dtype is not self.attr(key, "type"):
            raise ValueError(f"attribute '{key}' is {self.attr(key, 'type').name} but input '{tensor.name}' is "
                             f"{tensor.dtype.name}")
        op = tensor.op
        while op.type == "Identity":  # the scratch graph is acyclic, so this ends
            op = op.inputs[0].op
        if op.type != "Const":
            raise ValueError(f"input {index} ('{tensor.name}') must be a constant to be imported, as in a frozen "
                             f"graph; it is computed by {op.type} '{op.name}'")
        return op.get_attr("value")

    def ints(self, index: int, key: str, rank: tuple = (0, 1)) -> tuple:
        """Constant input `index` as a tuple of ints (a scalar gives one)."""
        value = self.constant(index, key)
        if value.ndim not in rank or value.dtype.kind != "i":
            raise ValueError(f"input {index} must be an integer {'scalar or vector' if 0 in rank else 'vector'}, "
                             f"found {value.dtype} of shape {list(value.shape)}")
        return tuple(int(v) for v in value.reshape(-1))

    def op(self, op_type: str, inputs: list[Tensor], helper: Optional[str] = None, **attrs: Any) -> Operation:
        """Add an engine op: the node's own (named as the node) or, with `helper`, one of its parts."""
        name = self.name if helper is None else self._helper_name(helper)
        return self.graph.create_op(op_type, inputs, attrs, name=name,
                                    control_inputs=self.controls if helper is None else (), exact_name=True)

    def const(self, value: np.ndarray, helper: str) -> Tensor:
        return self.op("Const", [], helper, value=value, dtype=from_numpy(value)).outputs[0]

    def _helper_name(self, helper: str) -> str:
        base = candidate = f"{self.name}/{helper}"
        n = 0
        while candidate in self._reserved or candidate in self.graph._by_name:
            n += 1
            candidate = f"{base}_{n}"
        return candidate

    def unread_attrs(self) -> list[str]:
        return sorted(k for k in self.proto.attr if k not in self._read and not k.startswith("_"))


def translate(graph_def: Any) -> GraphDef:
    """The engine GraphDef of a TensorFlow GraphDef message; GraphDefError naming the node otherwise."""
    protos = list(graph_def.node)
    order = _topological([{"name": p.name, "inputs": list(p.input), "proto": p} for p in protos])
    graph, built, reserved = Graph(), {}, {p.name for p in protos}
    for entry in order:
        proto = entry["proto"]
        try:
            built[proto.name] = _translate_node(proto, graph, built, reserved)
        except GraphDefError:
            raise
        except (EngineError, ValueError, TypeError, OverflowError) as e:  # untrusted data trips rules and checks
            raise GraphDefError(f"node '{proto.name}' ({proto.op}): {e}") from None
    return graph_to_graph_def(graph)


def _translate_node(proto: Any, graph: Graph, built: dict, reserved: set) -> Operation:
    fn = RULES.get(proto.op)
    if fn is None:
        raise GraphDefError(f"node '{proto.name}': op type '{proto.op}' has no engine equivalent; the importer "
                            f"maps {', '.join(sorted(RULES))}")
    node = Node(proto, graph, built, reserved)
    op = fn(node)
    unread = node.unread_attrs()
    if unread:
        raise GraphDefError(f"node '{proto.name}' ({proto.op}): attribute '{unread[0]}' is not supported by the "
                            f"engine's import of {proto.op}")
    return op


# -- rules ------------------------------------------------------------------------------------------------

@rule("Const")
def _const(node: Node) -> Operation:
    return node.op("Const", [], value=node.attr("value", "tensor"), dtype=node.attr("dtype", "type"))


@rule("Placeholder")
def _placeholder(node: Node) -> Operation:
    return node.op("Placeholder", [], dtype=node.attr("dtype", "type"), shape=node.attr("shape", "shape", None))


@rule("PlaceholderWithDefault")
def _placeholder_with_default(node: Node) -> Operation:
    """Its default value; the engine feeds any tensor, so it stays feedable (Keras' learning phase)."""
    (default,) = node.typed_inputs(1, "dtype")
    shape = TensorShape(node.attr("shape", "shape"))
    if not shape.is_compatible_with(default.shape):
        raise ValueError(f"the default of shape {default.shape} does not fit the placeholder's shape {shape}")
    return node.op("Identity", [default])


@rule("NoOp")
def _no_op(node: Node) -> Operation:
    return node.op("NoOp", [])


@rule(*optable.UNARY, *optable.BINARY, *optable.IMPORT_ALIASES)
def _elementwise(node: Node) -> Operation:
    engine_type = optable.IMPORT_ALIASES.get(node.type, node.type)
    count = 1 if engine_type in optable.UNARY else 2
    if engine_type in ("Equal", "NotEqual"):
        node.expect("incompatible_shape_error", True)
    if node.type == "PreventGradient":
        node.attr("message", "s", "")
    return node.op(engine_type, node.typed_inputs(count))


@rule(*optable.LOGICAL)
def _logical(node: Node) -> Operation:
    count = 1 if node.type == "LogicalNot" else 2
    if len(node.inputs) != count:
        raise ValueError(f"expected {count} input(s), found {len(node.inputs)}")
    return node.op(node.type, node.inputs)


@rule("MatMul")
def _matmul(node: Node) -> Operation:
    node.expect("grad_a", False)
    node.expect("grad_b", False)
    return node.op("MatMul", node.typed_inputs(2), transpose_a=node.attr("transpose_a", "b", False),
                   transpose_b=node.attr("transpose_b", "b", False))


@rule("BiasAdd", "BiasAddV1")
def _bias_add(node: Node) -> Operation:
    node.expect("data_format", "NHWC")
    return node.op("BiasAdd", node.typed_inputs(2))


@rule("Relu6")
def _relu6(node: Node) -> Operation:
    (x,) = node.typed_inputs(1)
    relu = node.op("Relu", [x], "relu").outputs[0]
    return node.op("Minimum", [relu, node.const(np.array(6, x.dtype.np), "six")])


@rule("LeakyRelu")
def _leaky_relu(node: Node) -> Operation:
    """x where x > 0, else alpha * x (TensorFlow's kernel, exact for any alpha)."""
    (x,) = node.typed_inputs(1)
    alpha = node.attr("alpha", "f", 0.2)
    positive = node.op("Greater", [x, node.const(np.array(0, x.dtype.np), "zero")], "positive").outputs[0]
    scaled = node.op("Mul", [x, node.const(np.array(alpha, x.dtype.np), "alpha")], "scaled").outputs[0]
    return node.op("SelectV2", [positive, x, scaled])


@rule("Softmax", "LogSoftmax")
def _softmax(node: Node) -> Operation:
    return node.op(node.type, node.typed_inputs(1), axis=-1)


@rule("AddN")
def _add_n(node: Node) -> Operation:
    inputs = node.typed_inputs(node.attr("N", "i"))
    return node.op("AddN", inputs)


@rule("Cast")
def _cast(node: Node) -> Operation:
    node.expect("Truncate", False)
    return node.op("Cast", node.typed_inputs(1, "SrcT"), DstT=node.attr("DstT", "type"))


@rule("Reshape")
def _reshape(node: Node) -> Operation:
    x = node.typed_inputs(2, last=1)[0]
    return node.op("Reshape", [x], shape=node.ints(1, "Tshape", rank=(1,)))


@rule("Squeeze")
def _squeeze(node: Node) -> Operation:
    axis = node.attr("squeeze_dims", "ints", ())
    return node.op("Squeeze", node.typed_inputs(1), axis=axis or None)


@rule("ExpandDims")
def _expand_dims(node: Node) -> Operation:
    x = node.typed_inputs(2, last=1)[0]
    (axis,) = node.ints(1, "Tdim", rank=(0, 1))
    return node.op("ExpandDims", [x], axis=axis)


@rule("ConcatV2")
def _concat(node: Node) -> Operation:
    values = node.typed_inputs(node.attr("N", "i") + 1, last=-1)[:-1]
    (axis,) = node.ints(len(values), "Tidx", rank=(0,))
    return node.op("ConcatV2", values, axis=axis)


@rule("Pack")
def _pack(node: Node) -> Operation:
    return node.op("Pack", node.typed_inputs(node.attr("N", "i")), axis=node.attr("axis", "i", 0))


@rule("Unpack")
def _unpack(node: Node) -> Operation:
    return node.op("Unpack", node.typed_inputs(1), num=node.attr("num", "i"), axis=node.attr("axis", "i", 0))


@rule("ArgMax", "ArgMin")
def _arg_extremum(node: Node) -> Operation:
    x = node.typed_inputs(2, last=1)[0]
    (axis,) = node.ints(1, "Tidx", rank=(0,))
    return node.op(node.type, [x], axis=axis, output_type=node.attr("output_type", "type"))


@rule(*optable.REDUCTIONS)
def _reduction(node: Node) -> Operation:
    if node.type in ("All", "Any"):  # boolean only: no T attribute
        x = node.typed_inputs(2, "Tidx", first=1)[0]
    else:
        x = node.typed_inputs(2, last=1)[0]
    return node.op(node.type, [x], axis=node.ints(1, "Tidx"), keepdims=node.attr("keep_dims", "b", False))


@rule("StridedSlice")
def _strided_slice(node: Node) -> Operation:
    x = node.typed_inputs(4, last=1)[0]
    begin, end, strides = (node.ints(i, "Index", rank=(1,)) for i in (1, 2, 3))
    masks = {k: node.attr(k, "i", 0) for k in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                                           "shrink_axis_mask")}
    return node.op("StridedSlice", [x], begin=begin, end=end, strides=strides, **masks)


@rule("Transpose")
def _transpose(node: Node) -> Operation:
    x = node.typed_inputs(2, last=1)[0]
    return node.op("Transpose", [x], perm=node.ints(1, "Tperm", rank=(1,)))


@rule("Tile")
def _tile(node: Node) -> Operation:
    x = node.typed_inputs(2, last=1)[0]
    return node.op("Tile", [x], multiples=node.ints(1, "Tmultiples", rank=(1,)))


@rule("GatherV2")
def _gather(node: Node) -> Operation:
    node.expect("batch_dims", 0)
    params, indices = node.typed_inputs(3, "Tparams", last=1)[:2]
    if indices.dtype is not node.attr("Tindices", "type"):
        raise ValueError(f"attribute 'Tindices' is {node.attr('Tindices', 'type').name} but input '{indices.name}' "
                         f"is {indices.dtype.name}")
    (axis,) = node.ints(2, "Taxis", rank=(0,))
    return node.op("GatherV2", [params, indices], axis=axis)


@rule("SelectV2", "ClipByValue")
def _ternary(node: Node) -> Operation:
    first = 1 if node.type == "SelectV2" else 0
    return node.op(node.type, node.typed_inputs(3, first=first))


@rule("Select")
def _select(node: Node) -> Operation:
    """TF 1.x's where: a vector condition picks whole rows (SelectV2 broadcasts it over the first axis)."""
    condition, x, y = node.typed_inputs(3, first=1)
    if condition._dims is None or x._dims is None:
        raise ValueError("Select needs the ranks of its condition and values to be known")
    if len(condition._dims) == 1 and len(x._dims) > 1:
        shape = (-1,) + (1,) * (len(x._dims) - 1)
        condition = node.op("Reshape", [condition], "condition", shape=shape).outputs[0]
    elif len(condition._dims) != len(x._dims):
        raise ValueError(f"condition of shape {condition.shape} for values of shape {x.shape}")
    return node.op("SelectV2", [condition, x, y])


@rule("Shape", "Size", "Rank")
def _shape_of(node: Node) -> Operation:
    (x,) = node.typed_inputs(1)
    if node.type == "Rank":
        return node.op("Rank", [x], out_type=dtypes.int32)
    return node.op(node.type, [x], out_type=node.attr("out_type", "type"))


@rule("OneHot")
def _one_hot(node: Node) -> Operation:
    indices = node.typed_inputs(4, "TI", last=1)[0]
    (depth,) = node.ints(1, None, rank=(0,))
    on, off = (node.constant(i, "T") for i in (2, 3))
    if on.shape != () or off.shape != ():
        raise ValueError("on_value and off_value must be scalars")
    return node.op("OneHot", [indices], depth=depth, on_value=float(on), off_value=float(off),
                   dtype=node.attr("T", "type"), axis=node.attr("axis", "i", -1))


@rule("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3")
def _fused_batch_norm(node: Node) -> Operation:
    """Inference batch norm as TensorFlow's CPU kernel computes it:
    y = x * (scale * rsqrt(variance + epsilon)) + (offset - mean * scale * rsqrt(variance + epsilon))."""
    node.expect("is_training", False)
    node.expect("data_format", "NHWC")
    node.expect("exponential_avg_factor", 1.0)
    x, scale, offset, mean, variance = node.typed_inputs(5, last=1)
    key = "T" if node.type == "FusedBatchNorm" else "U"
    node.typed_inputs(5, key, first=1)
    if x.dtype is not scale.dtype:
        raise ValueError(f"input '{x.name}' is {x.dtype.name}, the engine imports batch norm with "
                         f"scale, offset, mean and variance of the same dtype (found {scale.dtype.name})")
    eps = node.const(np.array(node.attr("epsilon", "f", 1e-4), x.dtype.np), "epsilon")
    inv = node.op("Rsqrt", [node.op("Add", [variance, eps], "variance_epsilon").outputs[0]], "rsqrt").outputs[0]
    factor = node.op("Mul", [scale, inv], "scaling_factor").outputs[0]
    shift = node.op("Sub", [offset, node.op("Mul", [mean, factor], "scaled_mean").outputs[0]], "offset_value")
    scaled = node.op("Mul", [x, factor], "scaled").outputs[0]
    return node.op("Add", [scaled, shift.outputs[0]])


@rule("Conv2D")
def _conv2d(node: Node) -> Operation:
    node.expect("data_format", "NHWC")
    node.attr("use_cudnn_on_gpu", "b", True)  # a device hint
    if node.attr("explicit_paddings", "ints", ()):
        raise ValueError("attribute 'explicit_paddings' is not supported (padding must be SAME or VALID)")
    return node.op("Conv2D", node.typed_inputs(2), strides=node.attr("strides", "ints"),
                   padding=node.expect("padding", "SAME", "VALID"),
                   dilations=node.attr("dilations", "ints", (1, 1, 1, 1)))


@rule("MaxPool", "AvgPool")
def _pool(node: Node) -> Operation:
    node.expect("data_format", "NHWC")
    if node.attr("explicit_paddings", "ints", ()):
        raise ValueError("attribute 'explicit_paddings' is not supported (padding must be SAME or VALID)")
    return node.op(node.type, node.typed_inputs(1), ksize=node.attr("ksize", "ints"),
                   strides=node.attr("strides", "ints"), padding=node.expect("padding", "SAME", "VALID"))
