"""numpy's scalar semantics as Spark SQL expressions over :class:`~tensorframes.sql.expr.Node` s.

Spark differs from numpy where it matters (Spark 4.3, ANSI mode on, as
measured):

- ``x / 0`` and ``x % 0`` raise ``DIVIDE_BY_ZERO`` on doubles too; numpy
  gives ±inf or NaN: the division is a ``CASE`` on the divisor, and the sign
  of a zero divisor is read with ``atan2(y, -1)`` (negative for -0.0).
- integer ``+ - *`` raise on overflow; numpy wraps around: int32 works in
  bigint and wraps with bit masks, int64 tries ``try_add`` first and wraps
  in two 32-bit halves (``try_multiply``, else decimal) when it overflows.
- comparisons treat NaN as equal to itself and larger than every number;
  numpy's comparisons with NaN are false (``!=``: true).
- ``log(0)``, ``log1p(-1)`` give NULL; numpy gives -inf (NaN below the domain).
- ``floor``/``ceil`` of a double are bigints; ``signum(-0.0)`` is -0.0; the
  optimizer folds ``CASE WHEN c THEN -0.0 ELSE 0.0`` to 0.0 (equal literals),
  so a signed zero is computed, never a literal;
  casts out of range raise, where numpy (x86) gives the dtype's minimum.
- Spark evaluates float32 division and the transcendental functions in
  double; a basic operation rounded once to float32 is exactly IEEE float32
  (double has more than twice the bits), so results are cast back.

Every function takes and returns Nodes of numpy dtypes, the result having
numpy's result dtype. Transcendental functions use Java's StrictMath
(fdlibm) where numpy uses its own SIMD code: they agree to a few ulps
(measured in tests/tensorframes/test_sql_numerics.py), not bit for bit.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
from pyspark.sql import Column
from pyspark.sql import functions as F

from tensorframes.sql.expr import Node, call, lit, spark_name

BOOL = np.dtype(np.bool_)
F64 = np.dtype(np.float64)
I32 = np.dtype(np.int32)
I64 = np.dtype(np.int64)
_MASK32 = (1 << 32) - 1


def is_float(x: Node) -> bool:
    return x.dtype.kind == "f"


def _c(x: Node, value: float) -> Node:
    """A constant of ``x``'s dtype."""
    return lit(value, x.dtype)


def _op(fn: Callable[..., Column], dtype: np.dtype, *args: Node) -> Node:
    return call(fn, args, dtype)


def cast(x: Node, dtype: np.dtype) -> Node:
    """A plain Spark cast (no numpy rule): callers make sure it can't overflow."""
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return x
    name = spark_name(dtype)
    return _op(lambda c: c.cast(name), dtype, x)


def when(cases: Sequence[tuple[Node, Node]], otherwise: Node) -> Node:
    """``CASE WHEN c1 THEN v1 ... ELSE otherwise END`` (the values share one dtype)."""
    args = [a for pair in cases for a in pair] + [otherwise]

    def build(*cols: Column) -> Column:
        out = F.when(cols[0], cols[1])
        for i in range(2, len(cols) - 1, 2):
            out = out.when(cols[i], cols[i + 1])
        return out.otherwise(cols[-1])
    return call(build, args, otherwise.dtype)


# -- logic and comparisons -------------------------------------------------------------------
def logical_and(x: Node, y: Node) -> Node:
    return _op(lambda a, b: a & b, BOOL, x, y)


def logical_or(x: Node, y: Node) -> Node:
    return _op(lambda a, b: a | b, BOOL, x, y)


def logical_not(x: Node) -> Node:
    return _op(lambda a: ~a, BOOL, x)


def isnan(x: Node) -> Node:
    return _op(F.isnan, BOOL, x)


def _raw(fn: Callable[[Column, Column], Column]) -> Callable[[Node, Node], Node]:
    return lambda x, y: _op(fn, BOOL, x, y)


_lt, _le, _eq = _raw(lambda a, b: a < b), _raw(lambda a, b: a <= b), _raw(lambda a, b: a == b)
spark_equal = _eq  # Spark's =: NaN = NaN holds, -0.0 = 0.0
_gt = _raw(lambda a, b: a > b)


def less(x: Node, y: Node) -> Node:
    return logical_and(_lt(x, y), logical_not(isnan(y))) if is_float(x) else _lt(x, y)


def less_equal(x: Node, y: Node) -> Node:
    return logical_and(_le(x, y), logical_not(isnan(y))) if is_float(x) else _le(x, y)


def greater(x: Node, y: Node) -> Node:
    return less(y, x)


def greater_equal(x: Node, y: Node) -> Node:
    return less_equal(y, x)


def equal(x: Node, y: Node) -> Node:
    return logical_and(_eq(x, y), logical_not(isnan(x))) if is_float(x) else _eq(x, y)


def not_equal(x: Node, y: Node) -> Node:
    return logical_not(equal(x, y))


def where(condition: Node, x: Node, y: Node) -> Node:
    return when([(condition, x)], y)


def maximum(x: Node, y: Node) -> Node:
    """numpy: ``x > y or isnan(x) ? x : y`` (so NaN wins, and a tie keeps y)."""
    if not is_float(x):
        return _op(F.greatest, x.dtype, x, y)
    return where(logical_or(isnan(x), _gt(x, y)), x, y)


def minimum(x: Node, y: Node) -> Node:
    if not is_float(x):
        return _op(F.least, x.dtype, x, y)
    return where(logical_or(isnan(x), less(x, y)), x, y)


# -- integer wrap-around ---------------------------------------------------------------------
def wrap32(wide: Node) -> Node:
    """A bigint's low 32 bits as an int32 (two's complement), as numpy wraps int32 results around."""
    def build(a: Column) -> Column:
        low = a.bitwiseAND(_MASK32)
        return F.when(low >= 1 << 31, low - (1 << 32)).otherwise(low).cast("int")
    return _op(build, I32, wide)


def _int64(fast: Callable, halves: Callable[[Column, Column], Column]) -> Callable[[Node, Node], Node]:
    """An int64 operation: Spark's try_* when it doesn't overflow, else the wrapped result."""
    return lambda x, y: _op(lambda a, b: F.coalesce(fast(a, b), halves(a, b)), I64, x, y)


def _halves(sign: int) -> Callable[[Column, Column], Column]:
    """a + sign * b modulo 2**64, from the low and high 32-bit halves (no overflow anywhere)."""
    def build(a: Column, b: Column) -> Column:
        low = a.bitwiseAND(_MASK32) + b.bitwiseAND(_MASK32) * sign
        high = F.shiftright(a, 32) + F.shiftright(b, 32) * sign + F.shiftright(low, 32)
        return F.shiftleft(high, 32).bitwiseOR(low.bitwiseAND(_MASK32))
    return build


def decimal_wrap(exact: Column) -> Column:
    """An exact integral decimal wrapped around to int64, as numpy's int64 arithmetic wraps."""
    two64 = F.lit(str(1 << 64)).cast("decimal(38,0)")
    two63 = F.lit(str(1 << 63)).cast("decimal(38,0)")
    return (F.pmod(exact + two63, two64) - two63).cast("bigint")


def _decimal_product(a: Column, b: Column) -> Column:
    """a * b modulo 2**64 through decimal(38,0), exact for any two int64s (|a*b| < 2**126)."""
    return decimal_wrap(a.cast("decimal(20,0)") * b.cast("decimal(20,0)"))


_add64 = _int64(F.try_add, _halves(1))
_sub64 = _int64(F.try_subtract, _halves(-1))
_mul64 = _int64(F.try_multiply, _decimal_product)


def _arith(symbol: str, fn32: Callable[[Column, Column], Column], fn64: Callable[[Node, Node], Node]):
    def op(x: Node, y: Node) -> Node:
        if is_float(x):
            return _op(fn32, x.dtype, x, y)
        if x.dtype == I32:
            return wrap32(_op(fn32, I64, cast(x, I64), cast(y, I64)))
        return fn64(x, y)
    op.__name__ = symbol
    return op


add = _arith("add", lambda a, b: a + b, _add64)
subtract = _arith("subtract", lambda a, b: a - b, _sub64)
multiply = _arith("multiply", lambda a, b: a * b, _mul64)


def negative(x: Node) -> Node:
    return _op(lambda a: -a, x.dtype, x) if is_float(x) else subtract(_c(x, 0), x)


def absolute(x: Node) -> Node:
    return _op(F.abs, x.dtype, x) if is_float(x) else where(_lt(x, _c(x, 0)), negative(x), x)


def sign(x: Node) -> Node:
    if is_float(x):  # Spark's signum(-0.0) is -0.0, numpy's sign is 0.0
        return where(_eq(x, _c(x, 0)), _c(x, 0), cast(_op(F.signum, F64, x), x.dtype))
    return when([(_gt(x, _c(x, 0)), _c(x, 1)), (_lt(x, _c(x, 0)), _c(x, -1))], _c(x, 0))


def square(x: Node) -> Node:
    return multiply(x, x)


# -- division --------------------------------------------------------------------------------
def _signbit_of_zero(y: Node) -> Node:
    """True for -0.0 (y must be a zero). Spark has no signbit, its atan2 adds 0.0 to its arguments
    and folds CASE branches -0.0 and 0.0 as equal literals; the string "-0.0" keeps the sign."""
    return _op(lambda b: b.cast("string").startswith("-"), BOOL, y)


def realdiv(x: Node, y: Node) -> Node:
    """IEEE x / y: ±inf for a nonzero over ±0, NaN for 0/0 (Spark raises)."""
    zero = _c(y, 0)
    inf = when([(logical_or(isnan(x), _eq(x, zero)), _c(x, math.nan)),
                (_op(lambda a, s: (a > 0) != s, BOOL, x, _signbit_of_zero(y)), _c(x, math.inf))],
               _c(x, -math.inf))
    quotient = cast(_op(lambda a, b: a / b, F64, x, y), x.dtype)
    return where(_eq(y, zero), inf, quotient)


def _int_zero_check(y: Node, what: str) -> Node:
    """``y``, or a task failure when it is zero (the engine's kernel raises as TensorFlow does)."""
    message = f"{what}: integer division by zero"
    return where(_eq(y, _c(y, 0)), _op(lambda b: F.raise_error(F.lit(message)).cast(spark_name(y.dtype)),
                                       y.dtype, y), y)


def _remainder(x: Node, y: Node) -> Node:
    """Java's truncating remainder (fmod for floats), the divisor nonzero."""
    return _op(lambda a, b: a % b, x.dtype, x, y)


def floordiv(x: Node, y: Node) -> Node:
    if is_float(x):  # TensorFlow's floor(x / y)
        return floor(realdiv(x, y))
    y = _int_zero_check(y, "floordiv")
    truncated = _op(lambda a, b: F.call_function("div", a, b), I64, x, y)  # exact but -MIN / -1
    r = _remainder(x, y)
    adjust = logical_and(_op(lambda a: a != 0, BOOL, r), _op(lambda a, b: (a < 0) != (b < 0), BOOL, r, y))
    q = cast(where(adjust, _op(lambda a: a - 1, I64, truncated), truncated), x.dtype)
    return where(_eq(y, _c(y, -1)), negative(x), q)


def floormod(x: Node, y: Node) -> Node:
    """numpy's mod: the sign of the divisor (floats: fmod, adjusted; mod(x, 0) is NaN)."""
    if not is_float(x):
        y = _int_zero_check(y, "floormod")
        r = _remainder(x, y)
        adjust = logical_and(_op(lambda a: a != 0, BOOL, r), _op(lambda a, b: (a < 0) != (b < 0), BOOL, r, y))
        return where(_eq(y, _c(y, -1)), _c(x, 0), where(adjust, _op(lambda a, b: a + b, x.dtype, r, y), r))
    zero = _c(y, 0)
    r = _remainder(x, where(_eq(y, zero), _c(y, 1), y))
    signed_zero = multiply(cast(_op(F.signum, F64, y), x.dtype), _c(x, 0))  # copysign(0, y), y nonzero
    fixed = when([(_eq(r, _c(r, 0)), signed_zero),
                  (_op(lambda a, b: (a < 0) != (b < 0), BOOL, r, y), _op(lambda a, b: a + b, x.dtype, r, y))], r)
    return where(_eq(y, zero), _c(x, math.nan), fixed)


def reciprocal(x: Node) -> Node:
    return realdiv(_c(x, 1), x)


# -- rounding --------------------------------------------------------------------------------
def _integral(x: Node, rounded: Callable[[Column], Column]) -> Node:
    """A float rounded to an integral float: Spark's floor/ceil give bigints, so only where they fit;
    a zero result takes x's sign, as numpy's ceil(-0.5) is -0.0."""
    big = _op(lambda a: F.isnan(a) | (F.abs(a) >= 2.0 ** 52), BOOL, x)
    r = cast(_op(rounded, I64, where(big, _c(x, 0), x)), x.dtype)
    r = where(_eq(r, _c(r, 0)), multiply(x, _c(x, 0)), r)
    return where(big, x, r)


def floor(x: Node) -> Node:
    return _integral(x, F.floor)


def ceil(x: Node) -> Node:
    return _integral(x, F.ceil)


# -- transcendental functions ----------------------------------------------------------------
def _math(fn: Callable[[Column], Column]) -> Callable[[Node], Node]:
    """A Spark double function, rounded back to float32 for float32 inputs."""
    return lambda x: cast(_op(fn, F64, x), x.dtype)


exp = _math(F.exp)
expm1 = _math(F.expm1)
sqrt = _math(F.sqrt)
sin = _math(F.sin)
cos = _math(F.cos)
tanh = _math(F.tanh)
_log = _math(F.log)
_log1p = _math(F.log1p)


def log(x: Node) -> Node:
    """Spark's log is NULL at and below 0; numpy's is -inf at 0 and NaN below."""
    return when([(_eq(x, _c(x, 0)), _c(x, -math.inf)), (_lt(x, _c(x, 0)), _c(x, math.nan))], _log(x))


def log1p(x: Node) -> Node:
    return when([(_eq(x, _c(x, -1)), _c(x, -math.inf)), (_lt(x, _c(x, -1)), _c(x, math.nan))], _log1p(x))


def rsqrt(x: Node) -> Node:
    return reciprocal(sqrt(x))


def power(x: Node, y: Node) -> Node:
    """C99 pow (numpy): pow(1, y) and pow(x, ±0) are 1 even for NaN, pow(-1, ±inf) is 1; Java gives NaN."""
    one = _c(x, 1)
    special = logical_or(logical_or(_eq(y, _c(y, 0)), _eq(x, one)),
                         logical_and(_eq(x, _c(x, -1)), _op(lambda b: F.abs(b) == math.inf, BOOL, y)))
    return where(special, one, cast(_op(F.pow, F64, x, y), x.dtype))


def sigmoid(x: Node) -> Node:
    """The engine's kernel: 1 / (1 + exp(-x)), each step in x's dtype."""
    return reciprocal(add(exp(negative(x)), _c(x, 1)))


def softplus(x: Node) -> Node:
    """numpy's logaddexp(0, x): ln 2 at 0, else max + log1p(exp(-|x|)), NaN for NaN."""
    zero = _c(x, 0)
    above = add(x, log1p(exp(negative(x))))
    return when([(_eq(x, zero), _c(x, math.log(2))), (isnan(x), x), (_gt(x, zero), above)], log1p(exp(x)))


def elu(x: Node) -> Node:
    return where(_gt(x, _c(x, 0)), x, expm1(minimum(x, _c(x, 0))))


# -- casts -----------------------------------------------------------------------------------
def astype(x: Node, dtype: np.dtype) -> Node:
    """numpy's astype: floats to ints truncate (NaN and out of range: the minimum, as on x86),
    ints narrow by wrapping around, numbers to bool are ``!= 0``."""
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return x
    if dtype == BOOL:
        return not_equal(x, _c(x, 0))
    if x.dtype.kind == "f" and dtype.kind == "i":
        info = np.iinfo(dtype)
        out = _op(lambda a: F.isnan(a) | (a >= float(info.max) + 1) | (a <= float(info.min) - 1), BOOL, x)
        if x.dtype != F64:  # float32 can't hold min - 1: compare in double
            out = _op(lambda a: F.isnan(a) | (a.cast("double") >= float(info.max) + 1)
                      | (a.cast("double") <= float(info.min) - 1), BOOL, x)
        return where(out, lit(info.min, dtype), cast(where(out, _c(x, 0), x), dtype))
    if x.dtype == I64 and dtype == I32:
        return wrap32(x)
    return cast(x, dtype)
