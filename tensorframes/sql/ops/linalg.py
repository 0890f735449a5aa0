"""SQL rule of ``engine/ops/linalg.py``: ``matmul``, a sum of products per output element.

A dense layer ``x @ W`` with a constant (frozen) ``W`` becomes, per output
unit, ``sum_k x[k] * W[k, j]``: small models (logistic regression, an MLP)
score without Python. BLAS orders (and fuses) the multiply-adds its own
way, so results agree with the Arrow path to rounding (a dot product's
error bound, about ``K * eps * sum |x_k W_kj|``), not bit for bit. float32
products and sums are computed in double, rounded once.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from tensorframes.sql import numerics as N
from tensorframes.sql.compiler import Context, Value, as_objects, merged, sql_rule, unleafed
from tensorframes.sql.ops.reduction import balanced


@sql_rule("MatMul")
def _matmul(ctx: Context, inputs: Sequence[Value]) -> Value:
    a, b = (as_objects(v) for v in inputs)
    if ctx.op.get_attr("transpose_a"):
        a = np.swapaxes(a, -1, -2)
    if ctx.op.get_attr("transpose_b"):
        b = np.swapaxes(b, -1, -2)
    dtype = inputs[0].dtype
    wide = N.F64 if dtype.kind == "f" else dtype
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    out = np.empty(batch + (a.shape[-2], b.shape[-1]), dtype=object)
    for index in np.ndindex(out.shape):
        *lead, i, j = index
        terms = [N.multiply(_node(a[(*lead, i, k)], dtype, wide), _node(b[(*lead, k, j)], dtype, wide))
                 for k in range(a.shape[-1])]
        out[index] = N.astype(balanced(terms, N.add), dtype) if terms else N.lit(0, dtype)
    return merged([unleafed(v) for v in inputs], out, dtype)


def _node(element: object, dtype: np.dtype, wide: np.dtype):
    return N.cast(element, wide) if isinstance(element, N.Node) else N.lit(element, wide)
