"""SQL rules of ``engine/ops/nn.py``: activations, ``softmax`` and ``log_softmax``."""

from __future__ import annotations

from typing import Sequence

from tensorframes.sql import numerics as N
from tensorframes.sql.compiler import Context, Value, elementwise, sql_rule
from tensorframes.sql.ops.reduction import reduce_axes

_ACTIVATIONS = {"Sigmoid": N.sigmoid, "Tanh": N.tanh, "Softplus": N.softplus, "Elu": N.elu}

for _type, _fn in _ACTIVATIONS.items():
    sql_rule(_type)(lambda ctx, inputs, _fn=_fn: elementwise(inputs, _fn))


@sql_rule("Relu")
def _relu(ctx: Context, inputs: Sequence[Value]) -> Value:
    return elementwise(inputs, lambda x: N.maximum(x, N.lit(0, x.dtype)))  # the kernel: np.maximum(x, 0)


@sql_rule("Softmax", "LogSoftmax")
def _softmax(ctx: Context, inputs: Sequence[Value]) -> Value:
    """The kernels' steps: z = x - max(x), then exp(z) / sum(exp(z)) or z - log(sum(exp(z)))."""
    x = inputs[0]
    axis = ctx.op.get_attr("axis") % x.elems.ndim
    if ctx.row_axes(x, (axis,)):
        raise ctx.refuse("normalizes over the rows of a block (axis 0)")
    z = elementwise([x, reduce_axes(ctx, x, (axis,), "Max", keepdims=True)], N.subtract)
    e = elementwise([z], N.exp)
    total = reduce_axes(ctx, e, (axis,), "Sum", keepdims=True)
    if ctx.op.type == "Softmax":
        return elementwise([e, total], N.realdiv)
    return elementwise([z, elementwise([total], N.log)], N.subtract)
