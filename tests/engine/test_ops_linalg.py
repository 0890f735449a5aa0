"""matmul: values, transposes, stacks of matrices, batching, gradients and
shape errors against numpy."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine.testing import case, op_test

COVERED_OPS = {"MatMul"}

RNG = np.random.default_rng(1)
A, B = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2))
STACK_A, STACK_B = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 4, 5))


CASES = [
    case("MatMul-2d", tf.matmul, [A, B], np.matmul),
    case("MatMul-transpose_a", lambda a, b: tf.matmul(a, b, transpose_a=True), [A.T, B], lambda a, b: a.T @ b),
    case("MatMul-transpose_b", lambda a, b: tf.matmul(a, b, transpose_b=True), [A, B.T], lambda a, b: a @ b.T),
    case("MatMul-transpose-both", lambda a, b: tf.matmul(a, b, transpose_a=True, transpose_b=True), [A.T, B.T],
         lambda a, b: a.T @ b.T),
    case("MatMul-operator", lambda a, b: a @ b, [A, B], np.matmul),
    case("MatMul-row-vector", tf.matmul, [A[:1], B], np.matmul),
    case("MatMul-stacked", tf.matmul, [STACK_A, STACK_B], np.matmul),
    case("MatMul-stacked-transpose_b", lambda a, b: tf.matmul(a, b, transpose_b=True),
         [STACK_A, np.swapaxes(STACK_B, 1, 2)], lambda a, b: a @ np.swapaxes(b, 1, 2)),
    case("MatMul-int32", tf.matmul, [np.arange(6, dtype=np.int32).reshape(2, 3), np.ones((3, 2), np.int32)],
         np.matmul),
    case("MatMul-float32", tf.matmul, [A.astype(np.float32), B.astype(np.float32)], np.matmul, rtol=1e-5),
]


test_op_matches_numpy = op_test(CASES)


def test_MatMul_batching_rule_with_only_the_second_operand_batched():
    with tf.Graph().as_default() as g:
        w = tf.placeholder(tf.float64, [4, 2])
        y = tf.matmul(tf.constant(A), w)
        rows = RNG.standard_normal((5, 4, 2))
        np.testing.assert_allclose(tf.Session(g).run_batched(y, {w: rows}), A @ rows)


@pytest.mark.parametrize("a, b, kw, expected", [
    ((None, 10), (10, 4), {}, (None, 4)),
    ((None, 10), (None, 4), {}, (None, 4)),
    ((10, None), (None, 4), {"transpose_a": True}, (None, 4)),
    ((None, 3, 10), (None, 10, 4), {}, (None, 3, 4)),
    (None, (10, 4), {}, None),
], ids=["MatMul-unknown-rows", "MatMul-unknown-inner", "MatMul-unknown-transposed", "MatMul-unknown-stack",
        "MatMul-unknown-rank"])
def test_MatMul_static_shape(a, b, kw, expected):
    with tf.Graph().as_default():
        y = tf.matmul(tf.placeholder(tf.float32, a), tf.placeholder(tf.float32, b), **kw)
        assert y.shape.dims == expected


@pytest.mark.parametrize("a, b, kw, error, message", [
    ((32, 10), (12, 4), {}, tf.ShapeError, "MatMul 'dense/matmul': inner dimensions differ: (32, 10) @ (12, 4)"),
    ((32, 10), (4, 12), {"transpose_b": True}, tf.ShapeError, "inner dimensions differ: (32, 10) @ (4, 12).T"),
    ((10,), (10, 4), {}, tf.ShapeError, "operands must have rank >= 2, found (10,)"),
    ((2, 3, 10), (10, 4), {}, tf.ShapeError, "operands must have the same rank: (2, 3, 10) @ (10, 4)"),
    ((2, 3, 10), (5, 10, 4), {}, tf.ShapeError, "batch dimensions differ: (2, 3, 10) @ (5, 10, 4)"),
], ids=["MatMul-inner", "MatMul-inner-transposed", "MatMul-rank-1", "MatMul-rank-mismatch", "MatMul-batch-dims"])
def test_MatMul_shape_errors(a, b, kw, error, message):
    with tf.Graph().as_default():
        x, w = tf.placeholder(tf.float32, a), tf.placeholder(tf.float32, b)
        with tf.name_scope("dense"), pytest.raises(error) as info:
            tf.matmul(x, w, name="matmul", **kw)
        assert message in str(info.value)


@pytest.mark.parametrize("a, b, message", [
    (np.ones((2, 2), np.float32), np.ones((2, 2)), "inputs must have the same dtype, found float32, float64"),
    (np.ones((2, 2), bool), np.ones((2, 2), bool), "input must be floating or integer, found bool"),
], ids=["MatMul-mixed-dtypes", "MatMul-bool"])
def test_MatMul_dtype_errors(a, b, message):
    with tf.Graph().as_default():
        with pytest.raises(tf.DTypeError, match=message):
            tf.matmul(tf.constant(a), tf.constant(b))
