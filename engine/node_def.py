"""`NodeDef`: a readable, TensorFlow-like view of one node, printed as protobuf text.

`op.node_def` and `GraphDef.node` return these; printing one shows what
TensorFlow's `print(op.node_def)` shows (name, op, inputs, attrs).

>>> import engine as tf
>>> with tf.Graph().as_default():
...     print(tf.constant([1.0, 2.0], name="c").op.node_def)
name: "c"
op: "Const"
attr {
  key: "dtype"
  value { type: DT_FLOAT }
}
attr {
  key: "value"
  value { tensor { dtype: DT_FLOAT tensor_shape (2,) value: [1.0, 2.0] } }
}
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .dtypes import DType, from_numpy
from .shapes import format_dims


class NodeDef:
    """A readable, TensorFlow-like view of one node: name, op, inputs, attrs."""

    def __init__(self, name: str, op: str, inputs: list[str], attr: dict) -> None:
        self.name, self.op, self.input, self.attr = name, op, inputs, attr

    def __repr__(self) -> str:
        lines = [f'name: "{self.name}"', f'op: "{self.op}"']
        lines += [f'input: "{i}"' for i in self.input]
        for key, value in sorted(self.attr.items()):
            lines += ["attr {", f'  key: "{key}"', f"  value {{ {format_attr(value)} }}", "}"]
        return "\n".join(lines)


def format_attr(value: Any) -> str:
    """One attr value as protobuf-like text."""
    if isinstance(value, DType):
        return f"type: {value.proto_name}"
    if isinstance(value, np.ndarray):
        shown = repr(value.tolist()) if value.size <= 20 else np.array2string(value, threshold=20, separator=", ")
        return (f"tensor {{ dtype: {from_numpy(value).proto_name} "
                f"tensor_shape {format_dims(value.shape)} value: {shown} }}")
    if isinstance(value, tuple) and value and all(d is None or isinstance(d, int) for d in value):
        return f"list: {list(value)}"
    return f"{type(value).__name__}: {value!r}"
