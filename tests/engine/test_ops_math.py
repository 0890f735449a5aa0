"""Elementwise arithmetic, add_n and cast: values, dtypes, static shapes,
batching and gradients against numpy, through engine.testing.check_op."""
from __future__ import annotations

import re

import numpy as np
import pytest

import engine as tf
from engine.testing import case, check_grads, op_test

COVERED_OPS = {"SumLike", "BroadcastLike", "Add", "Sub", "Mul", "RealDiv", "Neg", "FloorDiv", "FloorMod", "Pow",
               "SquaredDifference", "AddN", "Abs", "Sign", "Square", "Sqrt", "Rsqrt", "Reciprocal", "Exp", "Log",
               "Log1p", "Sin", "Cos", "Floor", "Ceil", "Round", "Cast"}

RNG = np.random.default_rng(0)
M = RNG.standard_normal((3, 4))
ROW = RNG.standard_normal(4)
COL = RNG.standard_normal((3, 1))
POS = RNG.uniform(0.5, 2.0, (3, 4))
POS_ROW = RNG.uniform(0.5, 2.0, 4)
AWAY = np.array([[-2.3, -0.6, 0.7, 1.4], [3.2, -1.7, 0.4, -0.3], [2.6, -2.8, 1.1, 0.2]])  # no ties, no kinks
I32 = np.array([[7, -7, 3], [-4, 9, 0]], dtype=np.int32)
D32 = np.array([2, -3, 5], dtype=np.int32)
I64 = I32.astype(np.int64)
F32 = M.astype(np.float32)


CASES = [
    case("SumLike-rows", tf.sum_like, [M, ROW], lambda x, like: np.sum(x, 0)),
    case("SumLike-kept-axis", tf.sum_like, [M, COL], lambda x, like: np.sum(x, 1, keepdims=True)),
    case("SumLike-int32", tf.sum_like, [I32, D32], lambda x, like: np.sum(x, 0, dtype=np.int32)),
    case("BroadcastLike-row", tf.broadcast_like, [ROW, M], lambda x, like: np.broadcast_to(x, like.shape)),
    case("Add-same-shape", tf.add, [M, POS], np.add, grad_order=2),
    case("Add-broadcast-row-col", tf.add, [COL, ROW], np.add),
    case("Add-python-scalar", lambda x: 2 + x, [M], lambda x: 2 + x),
    case("Add-float32", tf.add, [F32, F32], np.add),
    case("Add-int32", tf.add, [I32, D32], np.add),
    case("Add-int64", lambda x: x + 1, [I64], lambda x: x + 1),
    case("Sub-broadcast", lambda x, y: x - y, [M, COL], np.subtract),
    case("Sub-reflected-scalar", lambda x: 1.5 - x, [M], lambda x: 1.5 - x),
    case("Sub-int32", tf.subtract, [I32, D32], np.subtract),
    case("Mul-broadcast", lambda x, y: x * y, [M, ROW], np.multiply, grad_order=2),
    case("Mul-int64", tf.multiply, [I64, I64], np.multiply),
    case("RealDiv-broadcast", lambda x, y: x / y, [M, POS_ROW], np.divide, grad_order=2),
    case("RealDiv-float32", tf.realdiv, [F32, POS.astype(np.float32)], np.divide),
    case("RealDiv-truediv-int32-is-float64", tf.truediv, [I32, D32], np.divide),
    case("RealDiv-operator-int64", lambda x: x / 2, [I64], lambda x: x / 2),
    case("RealDiv-div-float", tf.div, [M, POS], np.divide),
    case("Neg-float", lambda x: -x, [M], np.negative),
    case("Neg-int32", tf.negative, [I32], np.negative),
    case("FloorDiv-float-is-floor-of-quotient", tf.floordiv, [np.array([1.0, -7.5, 7.5]), np.array([0.1, 2.0, -2.0])],
         lambda x, y: np.floor(x / y), grad=False),  # 1 / 0.1 sits on a jump
    case("FloorDiv-int32-negative", lambda x, y: x // y, [I32, D32], np.floor_divide),
    case("FloorDiv-int64-scalar", lambda x: x // 4, [I64], lambda x: x // 4),
    case("FloorDiv-div-int32", tf.div, [I32, D32], np.floor_divide),
    case("FloorMod-float-signs", lambda x, y: x % y, [AWAY, np.array([0.9, -0.9, 1.3, -1.3])], np.mod),
    case("FloorMod-int32", tf.floormod, [I32, D32], np.mod),
    case("FloorMod-int64-scalar", lambda x: tf.mod(x, 3), [I64], lambda x: np.mod(x, 3)),
    case("Pow-broadcast", lambda x, y: x ** y, [POS, np.array([0.5, 2.0, -1.3, 3.0])], np.power, grad_order=2),
    case("Pow-reflected-scalar", lambda y: 2.0 ** y, [M], lambda y: 2.0 ** y),
    case("Pow-int32", tf.pow, [I32, np.abs(D32)], np.power),
    case("SquaredDifference-broadcast", tf.squared_difference, [M, ROW], lambda x, y: (x - y) ** 2, grad_order=2),
    case("SquaredDifference-int32", tf.squared_difference, [I32, D32], lambda x, y: (x - y) ** 2),
    case("AddN-three", lambda *xs: tf.add_n(list(xs)), [M, POS, AWAY], lambda *xs: sum(xs)),
    case("AddN-one", lambda x: tf.add_n([x]), [M], lambda x: x),
    case("AddN-int32-with-python-value", lambda x: tf.add_n([x, x, np.ones((2, 3)).tolist()]), [I32],
         lambda x: 2 * x + 1),
    case("Abs-float", abs, [AWAY], np.abs),
    case("Abs-int32", tf.abs, [I32], np.abs),
    case("Sign-float-zero-gradient", tf.sign, [AWAY], np.sign),
    case("Sign-int64", tf.sign, [I64], np.sign),
    case("Square-float", tf.square, [M], np.square, grad_order=2),
    case("Square-int32", tf.square, [I32], np.square),
    case("Sqrt", tf.sqrt, [POS], np.sqrt, grad_order=2),
    case("Sqrt-float32", tf.sqrt, [POS.astype(np.float32)], np.sqrt),
    case("Rsqrt", tf.rsqrt, [POS], lambda x: 1 / np.sqrt(x), grad_order=2),
    case("Reciprocal", tf.reciprocal, [AWAY], np.reciprocal, grad_order=2),
    case("Exp", tf.exp, [M], np.exp, grad_order=2),
    case("Exp-float32", tf.exp, [F32], np.exp),
    case("Log", tf.log, [POS], np.log, grad_order=2),
    case("Log1p", tf.log1p, [POS - 0.4], np.log1p),
    case("Sin", tf.sin, [M], np.sin, grad_order=2),
    case("Cos", tf.cos, [M], np.cos, grad_order=2),
    case("Floor", tf.floor, [AWAY], np.floor),
    case("Ceil-float32", tf.ceil, [AWAY.astype(np.float32)], np.ceil),
    case("Round-half-to-even", tf.round, [np.array([0.5, 1.5, 2.5, -0.5, -1.7, 0.2])], np.round,
         grad=False),
    case("Round-int32", tf.round, [I32], lambda x: x),
    case("Cast-float64-to-float32", lambda x: tf.cast(x, tf.float32), [M], lambda x: x.astype(np.float32),
         grad=False),  # gradient: test_Cast_gradient_flows_back_between_floats
    case("Cast-float-to-int32-truncates", lambda x: tf.cast(x, tf.int32), [AWAY],
         lambda x: np.trunc(x).astype(np.int32)),
    case("Cast-int32-to-int64", lambda x: tf.cast(x, "int64"), [I32], lambda x: x.astype(np.int64)),
    case("Cast-int32-to-bool", lambda x: tf.cast(x, tf.bool), [I32], lambda x: x != 0),
    case("Cast-bool-to-float64", lambda x: tf.cast(x, tf.float64), [I32 > 0], lambda x: x.astype(np.float64)),
]


test_op_matches_numpy = op_test(CASES)


def _grads(build, args, dtype=tf.float64):
    """The gradients of sum(build(*placeholders)) for each argument, evaluated at args."""
    with tf.Graph().as_default() as g:
        xs = [tf.placeholder(dtype, np.shape(a)) for a in args]
        grads = tf.gradients(build(*xs), xs)
        values = tf.Session(g).run([t for t in grads if t is not None], dict(zip(xs, args)))
    it = iter(values)
    return [None if t is None else next(it) for t in grads]


def test_Pow_exponent_gradient_is_zero_where_base_is_not_positive():
    gx, gy = _grads(tf.pow, [np.array([-2.0, 0.0, 3.0]), np.array([2.0, 2.0, 2.0])])
    np.testing.assert_allclose(gx, [-4.0, 0.0, 6.0])
    np.testing.assert_allclose(gy, [0.0, 0.0, 9.0 * np.log(3.0)])


def test_Pow_second_derivative_is_finite_at_zero_base():
    with tf.Graph().as_default() as g:
        x, y = tf.placeholder(tf.float64, [2]), tf.placeholder(tf.float64, [2])
        gy, = tf.gradients(tf.pow(x, y), y)
        gyx, = tf.gradients(gy, x)
        assert np.all(np.isfinite(tf.Session(g).run(gyx, {x: [0.0, 2.0], y: [2.0, 2.0]})))


def test_rounding_ops_have_no_gradient():
    assert _grads(lambda x: tf.floor(x) + tf.ceil(x) + tf.round(x), [AWAY]) == [None]


def test_Sign_gradient_is_zeros_as_TensorFlow():
    np.testing.assert_array_equal(_grads(tf.sign, [AWAY])[0], np.zeros_like(AWAY))


def test_FloorDiv_has_no_gradient():
    assert _grads(tf.floordiv, [M, POS]) == [None, None]


def test_FloorMod_gradient_wrt_y_is_minus_floordiv():
    x, y = np.array([5.5, -5.5]), np.array([2.0, 2.0])
    gx, gy = _grads(tf.floormod, [x, y])
    np.testing.assert_allclose(gx, [1.0, 1.0])
    np.testing.assert_allclose(gy, -np.floor(x / y))


def test_Cast_gradient_flows_back_between_floats():
    np.testing.assert_allclose(_grads(lambda x: 3 * tf.cast(x, tf.float32), [M])[0], np.full(M.shape, 3.0))


def test_Cast_to_int_has_no_gradient():
    assert _grads(lambda x: tf.cast(tf.cast(x, tf.int32), tf.float64), [M]) == [None]


def test_cast_to_same_dtype_returns_the_tensor():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2])
        assert tf.cast(x, tf.float32) is x


@pytest.mark.parametrize("build, args", [
    (tf.sin, [AWAY]), (tf.log1p, [POS]), (tf.rsqrt, [POS]),
    (lambda x, y: tf.maximum(x, y) * tf.minimum(x, y), [AWAY, -AWAY.T[:3, :1]]),
], ids=["Sin-order3", "Log1p-order2", "Rsqrt-order3", "Maximum-Minimum-product-order2"])
def test_higher_order_gradients(build, args):
    check_grads(build, args, order=2)


@pytest.mark.parametrize("build, args, message", [
    (tf.floordiv, [I32, np.array([1, 0, 2], np.int32)], "integer division by zero"),
    (tf.floormod, [I64, np.zeros(3, np.int64)], "integer division by zero"),
    (tf.pow, [I32, D32], "negative integer powers"),
], ids=["FloorDiv-int-by-zero", "FloorMod-int-by-zero", "Pow-int-negative-exponent"])
def test_run_errors(build, args, message):
    with tf.Graph().as_default() as g:
        y = build(*[tf.constant(a) for a in args])
        with pytest.raises(tf.InvalidArgumentError, match=message):
            tf.Session(g).run(y)


def test_FloorDiv_float_by_zero_is_infinite():
    with tf.Graph().as_default() as g, np.errstate(divide="ignore"):
        result = tf.Session(g).run(tf.floordiv(tf.constant([1.0, -1.0]), 0.0))
    np.testing.assert_array_equal(result, [np.inf, -np.inf])


@pytest.mark.parametrize("build, shapes, dtypes, error, message", [
    (tf.add, [(2,), (2,)], [tf.float32, tf.float64], tf.DTypeError,
     "Add 'Add': inputs must have the same dtype, found float32, float64 (inputs: float32 (2,), float64 (2,))"),
    (tf.multiply, [(2, 3), (4,)], [tf.float32] * 2, tf.ShapeError,
     "Mul 'Mul': incompatible shapes for broadcasting: (2, 3), (4,)"),
    (tf.pow, [(2,), (2,)], [tf.int32, tf.int64], tf.DTypeError, "Pow 'Pow': inputs must have the same dtype"),
    (tf.realdiv, [(2,), (2,)], [tf.int32] * 2, tf.DTypeError, "RealDiv 'RealDiv': input must be floating, found int32"),
    (tf.sqrt, [(2,)], [tf.int32], tf.DTypeError, "Sqrt 'Sqrt': input must be floating, found int32"),
    (tf.floor, [(2,)], [tf.int64], tf.DTypeError, "Floor 'Floor': input must be floating"),
    (tf.add, [(2,), (2,)], [tf.bool] * 2, tf.DTypeError, "Add 'Add': input must be floating or integer, found bool"),
    (tf.negative, [(2,)], [tf.bool], tf.DTypeError, "Neg 'Neg': input must be floating or integer, found bool"),
    (lambda *xs: tf.add_n(list(xs)), [(2,), (3,)], [tf.float32] * 2, tf.ShapeError,
     "AddN 'AddN': shapes (2,) and (3,) are incompatible"),
    (lambda *xs: tf.add_n(list(xs)), [(2,), (2,)], [tf.float32, tf.int32], tf.DTypeError,
     "AddN 'AddN': inputs must have the same dtype"),
    (tf.sum_like, [(2, 3), (3,)], [tf.float32, tf.float64], tf.DTypeError, "SumLike 'SumLike': inputs must have"),
], ids=["Add-mixed-floats", "Mul-incompatible-shapes", "Pow-mixed-ints", "RealDiv-int", "Sqrt-int", "Floor-int",
        "Add-bool", "Neg-bool", "AddN-shapes", "AddN-dtypes", "SumLike-dtypes"])
def test_build_errors(build, shapes, dtypes, error, message):
    with tf.Graph().as_default():
        xs = [tf.placeholder(d, s) for d, s in zip(dtypes, shapes)]
        with pytest.raises(error, match=_literal(message)):
            build(*xs)


def _literal(message: str) -> str:
    return "^" + re.escape(message)


def test_add_n_needs_inputs():
    with tf.Graph().as_default():
        with pytest.raises(tf.ShapeError, match="needs at least one input"):
            tf.add_n([])


@pytest.mark.parametrize("build, value", [
    (lambda x: x + 1.5, "1.5"), (lambda x: tf.pow(x, 0.5), "0.5"),
], ids=["Add-int-tensor-float-scalar", "Pow-int-tensor-float-scalar"])
def test_python_scalars_must_fit_the_tensor_dtype(build, value):
    with tf.Graph().as_default():
        with pytest.raises(tf.DTypeError, match=f"expected int32, found {value}"):
            build(tf.placeholder(tf.int32, [2]))


@pytest.mark.parametrize("build, shapes, expected", [
    (tf.add, [(None, 3), (3,)], (None, 3)),
    (tf.add, [(None, 1), (1, 4)], (None, 4)),
    (tf.multiply, [None, (3,)], None),
    (tf.sqrt, [(None, 2)], (None, 2)),
    (lambda *xs: tf.add_n(list(xs)), [(None, 3), (2, None)], (2, 3)),
    (lambda x: tf.cast(x, tf.int32), [(None,)], (None,)),
], ids=["Add-unknown-dim", "Add-unknown-broadcast", "Mul-unknown-rank", "Sqrt-unknown-dim", "AddN-merges-dims",
        "Cast-unknown-dim"])
def test_static_shape(build, shapes, expected):
    with tf.Graph().as_default():
        assert build(*[tf.placeholder(tf.float32, s) for s in shapes]).shape.dims == expected


def test_Add_gradient_with_unknown_dims_sums_at_run_time():
    with tf.Graph().as_default() as g:
        x, b = tf.placeholder(tf.float64, [None, 3]), tf.placeholder(tf.float64, [3])
        gb, = tf.gradients(x + b, b)
        np.testing.assert_allclose(tf.Session(g).run(gb, {x: np.ones((5, 3)), b: np.zeros(3)}), [5.0, 5.0, 5.0])


def test_Add_gradient_skips_SumLike_when_nothing_was_broadcast():
    with tf.Graph().as_default() as g:
        x, y = tf.placeholder(tf.float64, [2, 3]), tf.placeholder(tf.float64, [2, 3])
        tf.gradients(x + y, [x, y])
        assert "SumLike" not in {op.type for op in g.get_operations()}
