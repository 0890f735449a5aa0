"""SQL rules of ``engine/ops/math.py``: elementwise arithmetic and ``cast``."""

from __future__ import annotations

from typing import Callable, Sequence

from tensorframes.sql import numerics as N
from tensorframes.sql.compiler import Context, Value, elementwise, sql_rule

#: op type -> the numpy-exact scalar function of its elements.
ELEMENTWISE: dict[str, Callable] = {
    "Add": N.add, "AddV2": N.add, "Sub": N.subtract, "Mul": N.multiply, "RealDiv": N.realdiv,
    "FloorDiv": N.floordiv, "FloorMod": N.floormod,
    "SquaredDifference": lambda x, y: N.square(N.subtract(x, y)),
    "Neg": N.negative, "Abs": N.absolute, "Sign": N.sign, "Square": N.square, "Sqrt": N.sqrt,
    "Rsqrt": N.rsqrt, "Reciprocal": N.reciprocal, "Exp": N.exp, "Log": N.log, "Log1p": N.log1p,
    "Sin": N.sin, "Cos": N.cos, "Floor": N.floor, "Ceil": N.ceil,
}
_FLOAT_ONLY = {"Pow"}


def _elementwise_rule(fn: Callable) -> Callable[[Context, Sequence[Value]], Value]:
    return lambda ctx, inputs: elementwise(inputs, fn)


for _type, _fn in ELEMENTWISE.items():
    sql_rule(_type)(_elementwise_rule(_fn))


@sql_rule("Pow")
def _pow(ctx: Context, inputs: Sequence[Value]) -> Value:
    if inputs[0].dtype.kind != "f":
        raise ctx.refuse("integer powers (Spark's pow works in double)")
    return elementwise(inputs, N.power)


@sql_rule("AddN")
def _add_n(ctx: Context, inputs: Sequence[Value]) -> Value:
    def total(*xs):
        out = xs[0]
        for x in xs[1:]:
            out = N.add(out, x)  # numpy's order: functools.reduce(np.add, xs)
        return out
    return elementwise(inputs, total)


@sql_rule("Cast")
def _cast(ctx: Context, inputs: Sequence[Value]) -> Value:
    dtype = ctx.op.get_attr("DstT").np
    return elementwise(inputs, lambda x: N.astype(x, dtype), dtype)
