"""Printing from inside a graph: `tf.Print` (an identity that prints) and `tf.print` (an op that prints).

Both print when they run, so they only print what a `Session.run` needs:
fetch `tf.print`'s op, or make others depend on it with
`control_dependencies`; `tf.Print` prints whenever its output is computed.
Output goes to `sys.stderr` (or `sys.stdout` for `tf.print(..., output_stream=sys.stdout)`).

>>> x = tf.constant([1, 2])
>>> tf.Session().run(tf.Print(x, [tf.shape(x)], "shape: ")).tolist()  # prints "shape: [2]" to stderr
[1, 2]
"""
from __future__ import annotations

import sys
from typing import Any, Optional, Sequence

import numpy as np

from ..registry import NOT_DIFFERENTIABLE, KernelContext, register_op
from ..graph import Operation, Tensor, get_default_graph
from .toolkit import convert_to_tensor, is_tensor_like


def _first_entries(value: np.ndarray, summarize: int) -> str:
    """tf.Print's form: the first `summarize` entries, flattened (`[3 1 2...]`)."""
    flat = value.reshape(-1)
    shown = " ".join(str(v) for v in flat[:summarize])
    return f"[{shown}...]" if flat.size > summarize else f"[{shown}]"


def _edges(value: np.ndarray, summarize: int) -> str:
    """tf.print's form: numpy's, with `summarize` entries at each end of every axis."""
    return np.array2string(value, threshold=0 if value.size > 2 * summarize else value.size + 1,
                           edgeitems=summarize, separator=" ")


def _stream(name: str):
    return sys.stdout if name == "stdout" else sys.stderr


def _print_kernel(ctx: KernelContext, x: np.ndarray, *data: np.ndarray, message: str, first_n: int,
                  summarize: int) -> np.ndarray:
    count = ctx.state.get(ctx.op_name, 0)
    if first_n < 0 or count < first_n:
        ctx.state[ctx.op_name] = count + 1
        print(message + "".join(_first_entries(d, summarize) for d in data), file=sys.stderr)
    return x


def _print_grad(op, g):
    return [g] + [None] * (len(op.inputs) - 1)


register_op("Print", kernel=_print_kernel, infer=lambda inputs, **attrs: inputs[0],
            attrs={"message": "str", "first_n": "int", "summarize": "int"}, stateful=True, grad=_print_grad)


def Print(input_: Any, data: Sequence[Any], message: Optional[str] = None, first_n: Optional[int] = None,  # noqa: N802
          summarize: Optional[int] = None, name: Optional[str] = None) -> Tensor:
    """`input_` unchanged; computing it prints `message` and the values of `data` (the first `first_n` times)."""
    x = convert_to_tensor(input_)
    with x.graph.as_default():
        inputs = [x] + [convert_to_tensor(d) for d in data]
    return x.graph.create_op("Print", inputs, {"message": message or "", "first_n": -1 if first_n is None else
                                               int(first_n), "summarize": 3 if summarize is None else int(summarize)},
                             name=name or "Print").outputs[0]


def _print_v2_kernel(*values: np.ndarray, template: str, end: str, output_stream: str, summarize: int) -> None:
    print(template.format(*[_edges(v, summarize) for v in values]), end=end, file=_stream(output_stream))


register_op("PrintV2", kernel=_print_v2_kernel, infer=lambda inputs, **attrs: [],
            attrs={"template": "str", "end": "str", "output_stream": "str", "summarize": "int"},
            grad=NOT_DIFFERENTIABLE)


def print_(*inputs: Any, output_stream: Any = sys.stderr, summarize: int = 3, sep: str = " ", end: str = "\n",
           name: Optional[str] = None) -> Operation:
    """`tf.print`: an op that prints `inputs` (tensors and Python values) when it runs."""
    stream = "stdout" if output_stream is sys.stdout or output_stream == "stdout" else "stderr"
    tensors = [convert_to_tensor(i) for i in inputs if is_tensor_like(i)]
    template = sep.join("{}" if is_tensor_like(i) else str(i).replace("{", "{{").replace("}", "}}") for i in inputs)
    graph = tensors[0].graph if tensors else get_default_graph()
    return graph.create_op("PrintV2", tensors, {"template": template, "end": end, "output_stream": stream,
                                                "summarize": int(summarize)}, name=name or "PrintV2")
