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
from pyspark.sql import Column
from pyspark.sql import functions as F

from tensorframes.sql.compiler import Context, Value, as_node, as_objects, merged, sql_rule, unleafed
from tensorframes.sql.expr import call, item
from tensorframes.sql.ops.reduction import balanced


#: Above this many products, a row vector times a constant matrix is one higher-order expression
#: (aggregate over zip_with per column) instead of one expression per product: an MLP's layers as
#: products would outgrow Java's 64 KB method limit in Spark's generated code.
MAX_PRODUCTS = 128


@sql_rule("MatMul")
def _matmul(ctx: Context, inputs: Sequence[Value]) -> Value:
    a, b = (as_objects(v) for v in inputs)
    if ctx.op.get_attr("transpose_a"):
        a = np.swapaxes(a, -1, -2)
    if ctx.op.get_attr("transpose_b"):
        b = np.swapaxes(b, -1, -2)
    dtype = inputs[0].dtype
    if inputs[1].constant and a.ndim == 2 and a.shape[0] == 1 and b.ndim == 2 and b.size > MAX_PRODUCTS:
        weights = np.asarray(inputs[1].elems)
        weights = np.swapaxes(weights, -1, -2) if ctx.op.get_attr("transpose_b") else weights
        ctx.slow.append(f"op '{ctx.op.name}' (MatMul): a {weights.shape[0]}x{weights.shape[1]} matrix runs as "
                        "interpreted higher-order SQL functions (aggregate over zip_with), slower than the Arrow "
                        "path; backend='sql' runs it anyway")
        return merged([unleafed(v) for v in inputs], _vector_times_matrix(a[0], weights, dtype)[None], dtype)
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


def _vector_times_matrix(row: np.ndarray, weights: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """x @ W for one row x and a constant W: per column j, aggregate(zip_with(x, W[:, j], *), 0, +)
    in double, as one array expression read by item."""
    text = "array(" + ",".join("array(" + ",".join(_double(w) for w in column) + ")" for column in weights.T) + ")"
    nodes = [N.cast(as_node(e, dtype), N.F64) for e in row]

    def build(*xs: Column) -> Column:
        x = F.array(*xs)
        dot = lambda w: F.aggregate(F.zip_with(x, w, lambda p, q: p * q), F.lit(0.0), lambda s, t: s + t)  # noqa
        return F.transform(F.expr(text), dot)
    product = call(build, nodes, N.F64)
    out = np.empty(weights.shape[1], dtype=object)
    for j in range(weights.shape[1]):
        out[j] = N.astype(item(product, j, N.F64), dtype)
    return out


def _double(w: float) -> str:
    """A double literal in SQL text, exact (repr round-trips)."""
    w = float(w)
    return repr(w) + "D" if np.isfinite(w) else f"CAST('{w}' AS DOUBLE)"


def _node(element: object, dtype: np.dtype, wide: np.dtype):
    return N.cast(element, wide) if isinstance(element, N.Node) else N.lit(element, wide)
