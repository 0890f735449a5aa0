"""Core ops: Const, Placeholder, Identity, StopGradient, NoOp and the variable
ops (VariableV2, Assign, AssignAdd, AssignSub), against numpy."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine.testing import case, op_test

COVERED_OPS = {"Const", "Placeholder", "Identity", "StopGradient", "NoOp", "VariableV2", "Assign", "AssignAdd",
               "AssignSub"}

RNG = np.random.default_rng(3)
M = RNG.standard_normal((3, 4))
I32 = np.array([[1, -2], [3, 4]], dtype=np.int32)


CASES = [
    case("Const-python-float-is-float32", lambda: tf.constant(1.5), [], lambda: np.float32(1.5)),
    case("Const-python-int-is-int32", lambda: tf.constant([1, 2]), [], lambda: np.array([1, 2], np.int32)),
    case("Const-python-bool", lambda: tf.constant([True, False]), [], lambda: np.array([True, False])),
    case("Const-numpy-keeps-float64", lambda: tf.constant(M), [], lambda: M),
    case("Const-numpy-int64", lambda: tf.constant(np.arange(4)), [], lambda: np.arange(4)),
    case("Const-dtype-argument", lambda: tf.constant(1, dtype=tf.float64), [], lambda: np.float64(1)),
    case("Const-scalar-filled-to-shape", lambda: tf.constant(0.5, shape=[2, 3]), [],
         lambda: np.full((2, 3), 0.5, np.float32)),
    case("Const-values-reshaped", lambda: tf.constant([1, 2, 3, 4], shape=(2, 2)), [],
         lambda: np.array([[1, 2], [3, 4]], np.int32)),
    case("Const-empty", lambda: tf.constant(np.zeros((0, 3))), [], lambda: np.zeros((0, 3))),
    case("Const-empty-with-dtype", lambda: tf.constant(np.empty((0, 2)), dtype=tf.float32), [],
         lambda: np.empty((0, 2), np.float32)),
    case("Const-empty-int-as-float", lambda: tf.constant(np.empty((3, 0), np.int64), dtype=tf.float64), [],
         lambda: np.empty((3, 0))),
    case("Const-empty-rank-3-as-int8", lambda: tf.constant(np.empty((2, 0, 4), np.int32), dtype=tf.int8), [],
         lambda: np.empty((2, 0, 4), np.int8)),
    case("Const-scalar-filled-to-an-empty-shape", lambda: tf.constant(1.0, shape=[0, 2]), [],
         lambda: np.empty((0, 2), np.float32)),
    case("Const-added-to-input", lambda x: x + tf.constant(np.ones(4)), [M], lambda x: x + 1),
    case("Placeholder-float64-matrix", lambda x: x, [M], lambda x: x),
    case("Placeholder-int32", lambda x: x, [I32], lambda x: x, grad=False),
    case("Placeholder-scalar", lambda x: x, [np.float64(2.5)], lambda x: x),
    case("Identity-float64", tf.identity, [M], lambda x: x, grad_order=2),
    case("Identity-int32", tf.identity, [I32], lambda x: x),
    case("Identity-bool", tf.identity, [np.array([True, False])], lambda x: x),
    case("StopGradient-value-passes", tf.stop_gradient, [M], lambda x: x, grad=False),
    case("StopGradient-int32", tf.stop_gradient, [I32], lambda x: x),
]


test_op_matches_numpy = op_test(CASES)


def test_Const_value_is_copied_and_read_only():
    source = np.arange(3.0)
    with tf.Graph().as_default() as g:
        c = tf.constant(source)
    source[0] = 99.0
    value = tf.Session(g).run(c)
    np.testing.assert_array_equal(value, [0.0, 1.0, 2.0])
    assert not c.op.get_attr("value").flags.writeable


@pytest.mark.parametrize("value, kw, error", [
    pytest.param([1, 2, 3], {"shape": [2, 2]}, tf.ShapeError, id="Const-shape-does-not-fit"),
    pytest.param("text", {"dtype": tf.float32}, tf.DTypeError, id="Const-string-into-float32"),  # "text" alone is a string
    pytest.param(2 ** 40, {"dtype": tf.int32}, tf.DTypeError, id="Const-int32-overflow"),
    pytest.param(1.5, {"dtype": tf.int32}, tf.DTypeError, id="Const-float-into-int32"),
    pytest.param(np.zeros(2, np.complex128), {}, tf.DTypeError, id="Const-complex"),
])
def test_Const_refuses(value, kw, error):
    with tf.Graph().as_default(), pytest.raises(error):
        tf.constant(value, **kw)


def test_Placeholder_of_unknown_rank_takes_any_shape():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float64, name="x")
    assert x.shape.ndims is None
    sess = tf.Session(g)
    for value in (np.float64(1.0), np.ones(3), np.ones((2, 2, 2))):
        np.testing.assert_array_equal(sess.run(x, {x: value}), value)


def test_StopGradient_blocks_the_gradient():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float64, [3])
        g_stopped, = tf.gradients(tf.stop_gradient(x) * x, x)
        g_blocked = tf.gradients(tf.stop_gradient(x) * 2.0, x)
    np.testing.assert_allclose(tf.Session(g).run(g_stopped, {x: [1.0, 2.0, 3.0]}), [1.0, 2.0, 3.0])
    assert g_blocked == [None]


def test_NoOp_outputs_nothing_and_runs_to_None():
    with tf.Graph().as_default() as g:
        op = tf.no_op(name="nothing")
    assert op.type == "NoOp" and op.outputs == []
    assert tf.Session(g).run(op) is None


def test_NoOp_batching_rule_gives_no_output():
    assert tf.get_op("NoOp").batch([], []) is None


STATE_CASES = [
    pytest.param(lambda v: v.assign([5.0, 6.0]), [5.0, 6.0], id="Assign-list"),
    pytest.param(lambda v: v.assign(np.array([5.0, 6.0])), [5.0, 6.0], id="Assign-array"),
    pytest.param(lambda v: tf.assign(v, v * 2.0), [2.0, 4.0], id="Assign-from-own-value"),
    pytest.param(lambda v: v.assign_add([0.5, 0.5]), [1.5, 2.5], id="AssignAdd-list"),
    pytest.param(lambda v: tf.assign_add(v, [1, 1]), [2.0, 3.0], id="AssignAdd-python-ints-take-float64"),
    pytest.param(lambda v: v.assign_sub([1.0, 1.0]), [0.0, 1.0], id="AssignSub-list"),
    pytest.param(lambda v: tf.assign_sub(v, v), [0.0, 0.0], id="AssignSub-itself"),
]


@pytest.mark.parametrize("update, expected", STATE_CASES)
def test_assignment_returns_and_stores_the_new_value(update, expected):
    with tf.Graph().as_default() as g:
        v = tf.Variable(np.array([1.0, 2.0]), name="v")
        op = update(v)
        init = tf.global_variables_initializer()
    sess = tf.Session(g)
    sess.run(init)
    np.testing.assert_array_equal(sess.run(op), expected)
    np.testing.assert_array_equal(sess.run(v), expected)
    assert sess.run(v).dtype == np.float64


def test_VariableV2_read_before_an_assignment_in_the_same_run_keeps_its_value():
    with tf.Graph().as_default() as g:
        v = tf.Variable(np.array([1.0, 2.0]))
        read = tf.identity(v)
        with tf.control_dependencies([read]):
            bump = v.assign_add([10.0, 10.0])
        init = tf.global_variables_initializer()
    sess = tf.Session(g)
    sess.run(init)
    before, after = sess.run([read, bump])
    np.testing.assert_array_equal(before, [1.0, 2.0])
    np.testing.assert_array_equal(after, [11.0, 12.0])


@pytest.mark.parametrize("update, error", [
    pytest.param(lambda v: v.assign(tf.zeros([2], tf.float32)), tf.DTypeError, id="Assign-other-dtype-tensor"),
    pytest.param(lambda v: v.assign([1.0, 2.0, 3.0]), tf.ShapeError, id="Assign-other-shape"),
    pytest.param(lambda v: v.assign_add(np.ones((3, 2))), tf.ShapeError, id="AssignAdd-other-shape"),
    pytest.param(lambda v: v.assign_sub(1.0), tf.ShapeError, id="AssignSub-scalar-does-not-broadcast"),
    pytest.param(lambda v: v.assign_sub(tf.ones([2], tf.int64)), tf.DTypeError, id="AssignSub-int64-tensor"),
])
def test_assignment_checks_dtype_and_shape_when_built(update, error):
    with tf.Graph().as_default():
        v = tf.Variable(np.array([1.0, 2.0]))
        with pytest.raises(error):
            update(v)


def test_Assign_needs_a_variable_as_input_0():
    with tf.Graph().as_default(), pytest.raises(tf.GraphError, match="input 0 must be a variable"):
        tf.get_default_graph().create_op("Assign", [tf.constant(1.0), tf.constant(2.0)])


@pytest.mark.parametrize("op_type", ["Const", "Placeholder", "NoOp", "VariableV2", "Assign", "AssignAdd",
                                     "AssignSub"])
def test_op_is_marked_not_differentiable(op_type):
    assert tf.get_op(op_type).grad is tf.NOT_DIFFERENTIABLE


def test_gradient_does_not_flow_through_an_assignment():
    with tf.Graph().as_default():
        v = tf.Variable(np.array([1.0, 2.0]))
        x = tf.placeholder(tf.float64, [2])
        assert tf.gradients(v.assign(x * 2.0), x) == [None]


def test_VariableV2_and_assignments_refuse_to_run_per_row():
    with tf.Graph().as_default() as g:
        v = tf.Variable(np.array([1.0, 2.0]))
        x = tf.placeholder(tf.float64, [2])
        op = v.assign_add(x)
    sess = tf.Session(g)
    sess.run(v.initializer)
    with pytest.raises(tf.InvalidArgumentError, match="changes state"):
        sess.run_batched(op, {x: np.ones((3, 2))})


@pytest.mark.parametrize("dtype", [tf.float16, tf.float32, tf.float64, tf.int8, tf.int32, tf.int64, tf.bool])
def test_Const_of_an_empty_array_keeps_its_shape_whatever_the_dtype(dtype):
    c = tf.constant(np.empty((0, 2), bool if dtype is tf.bool else np.float64), dtype=dtype)
    assert (c.shape.as_list(), c.dtype) == ([0, 2], dtype)  # TF 1.x: shape=(0, 2)
