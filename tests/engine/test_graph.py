"""Graphs, operations and tensors: naming, lookup, operators, dtype and shape
rules at construction time, control dependencies and group."""
from __future__ import annotations

import operator

import numpy as np
import pytest

import engine as tf

RNG = np.random.default_rng(4)
A = RNG.uniform(0.5, 2.0, (3, 4))
B = RNG.uniform(0.5, 2.0, (3, 4))
SQUARE = RNG.standard_normal((4, 4))
I32 = np.array([[7, -7, 3], [-4, 9, 1]], dtype=np.int32)
J32 = np.array([[2, 3, -2], [5, -4, 1]], dtype=np.int32)
BOOLS = np.array([True, False, True, False])
OTHER_BOOLS = np.array([True, True, False, False])


@pytest.fixture
def graph():
    with tf.Graph().as_default() as g:
        yield g


def run(fetch, feeds=None):
    return tf.Session(fetch.graph).run(fetch, feeds)


# -- the seed talk's notebook -----------------------------------------------------------------
def test_seed_notebook_constant_in_a_fresh_default_graph():
    tf.reset_default_graph()
    assert tf.get_default_graph().get_operations() == []
    tf.constant(1.0, name="first_constant")
    ops = tf.get_default_graph().get_operations()
    assert [op.name for op in ops] == ["first_constant"]
    node = ops[0].node_def
    assert node.op == "Const" and node.name == "first_constant"
    assert node.attr["dtype"] is tf.float32
    assert node.attr["value"] == np.float32(1.0)
    text = repr(node)
    assert 'op: "Const"' in text and "DT_FLOAT" in text and "value: 1.0" in text


def test_reset_default_graph_refused_inside_as_default(graph):
    with pytest.raises(tf.GraphError, match="reset_default_graph"):
        tf.reset_default_graph()


def test_as_default_nests_and_restores():
    outer, inner = tf.Graph(), tf.Graph()
    with outer.as_default():
        with inner.as_default():
            assert tf.get_default_graph() is inner
        assert tf.get_default_graph() is outer
    assert tf.get_default_graph() not in (outer, inner)


# -- names ------------------------------------------------------------------------------------
NAME_CASES = [
    pytest.param(lambda: [tf.constant(1.0), tf.constant(2.0), tf.constant(3.0)], ["Const", "Const_1", "Const_2"],
                 id="default-names-count-up"),
    pytest.param(lambda: [tf.constant(1.0, name="c"), tf.constant(2.0, name="c")], ["c", "c_1"],
                 id="user-name-kept-then-suffixed"),
    pytest.param(lambda: [tf.constant(1.0, name="c"), tf.constant(2.0, name="c"), tf.constant(3.0, name="c_1")],
                 ["c", "c_1", "c_1_1"], id="suffixed-name-taken-by-user"),
    pytest.param(lambda: [tf.constant(1.0, name="c"), tf.constant(2.0, name="C")], ["c", "C_1"],
                 id="names-differing-in-case-count-as-taken"),
    pytest.param(lambda: [tf.placeholder(tf.float32, name="x"), tf.identity(tf.constant(1.0), name="x")],
                 ["x", "Const", "x_1"], id="shared-across-op-types"),
]


@pytest.mark.parametrize("build, names", NAME_CASES)
def test_unique_names(graph, build, names):
    build()
    assert [op.name for op in graph.get_operations()] == names


def test_name_scope_prefixes_and_nests(graph):
    with tf.name_scope("layer") as scope:
        a = tf.constant(1.0, name="w")
        with tf.name_scope("inner"):
            b = tf.constant(1.0)
    assert scope == "layer/"
    assert (a.name, b.name) == ("layer/w:0", "layer/inner/Const:0")


def test_name_scope_reused_gets_a_suffix(graph):
    with tf.name_scope("layer"):
        tf.constant(1.0)
    with tf.name_scope("layer"):
        c = tf.constant(1.0)
    assert c.op.name == "layer_1/Const"


def test_name_scope_with_trailing_slash_reenters(graph):
    with tf.name_scope("layer") as scope:
        tf.constant(1.0)
    with tf.name_scope(scope):
        c = tf.constant(1.0)
    assert c.op.name == "layer/Const_1"


def test_name_scope_None_returns_to_the_root(graph):
    with tf.name_scope("layer"), tf.name_scope(None):
        c = tf.constant(1.0)
    assert c.op.name == "Const"


@pytest.mark.parametrize("name", ["a b", "x:0", "_private", "/abs", "naïve", ""])
def test_invalid_op_names_are_refused(graph, name):
    if name == "":  # an empty name means the default one
        assert tf.constant(1.0, name=name).op.name == "Const"
        return
    with pytest.raises(tf.GraphError, match="not a valid op name"):
        tf.constant(1.0, name=name)


def test_a_failed_op_leaves_the_graph_and_its_names_unchanged(graph):
    a = tf.constant(np.ones(2))
    with pytest.raises(tf.ShapeError):
        tf.add(a, np.ones(3), name="bad")
    assert [op.name for op in graph.get_operations()] == ["Const", "Const_1"]
    assert tf.add(a, a, name="bad").op.name == "bad"


# -- lookup -----------------------------------------------------------------------------------
def test_lookup_by_name(graph):
    x = tf.placeholder(tf.float64, [None, 2], name="x")
    assert graph.get_operation_by_name("x") is x.op
    assert graph.get_tensor_by_name("x:0") is x


@pytest.mark.parametrize("lookup, name, error, message", [
    pytest.param("get_operation_by_name", "nope", tf.GraphError, "no operation named 'nope'", id="op-unknown"),
    pytest.param("get_operation_by_name", 3, TypeError, "strings", id="op-not-a-string"),
    pytest.param("get_tensor_by_name", "nope:0", tf.GraphError, "no operation named 'nope'", id="tensor-unknown-op"),
    pytest.param("get_tensor_by_name", "x", tf.GraphError, "look like 'op_name:0'", id="tensor-without-index"),
    pytest.param("get_tensor_by_name", "x:a", tf.GraphError, "look like 'op_name:0'", id="tensor-bad-index"),
    pytest.param("get_tensor_by_name", "x:1", tf.GraphError, "has 1 output", id="tensor-index-out-of-range"),
    pytest.param("get_tensor_by_name", None, TypeError, "strings", id="tensor-not-a-string"),
])
def test_lookup_errors(graph, lookup, name, error, message):
    tf.placeholder(tf.float64, name="x")
    with pytest.raises(error, match=message):
        getattr(graph, lookup)(name)


# -- tensors and operations -------------------------------------------------------------------
def test_tensor_properties(graph):
    x = tf.placeholder(tf.float64, [None, 2], name="x")
    assert (x.name, x.dtype, x.op.name, x.graph, x.value_index) == ("x:0", tf.float64, "x", graph, 0)
    assert x.shape.as_list() == [None, 2] and x.shape.ndims == 2 and x.get_shape() == x.shape
    assert repr(x) == "<tf.Tensor 'x:0' shape=(?, 2) dtype=float64>"


def test_operation_properties(graph):
    x = tf.placeholder(tf.float64, [None, 2], name="x")
    c = tf.constant(np.ones(2), name="c")
    with tf.control_dependencies([c]):
        y = tf.add(x, c, name="y")
    op = y.op
    assert (op.type, op.name, op.inputs, op.outputs, op.control_inputs) == ("Add", "y", (x, c), [y], (c.op,))
    assert op.node_def.input == ["x:0", "c:0", "^c"]
    assert x.op.get_attr("shape") == (None, 2) and x.op.get_attr("dtype") is tf.float64


def test_get_attr_of_unknown_attr(graph):
    with pytest.raises(tf.GraphError, match="no attr 'nope'"):
        tf.constant(1.0).op.get_attr("nope")


def test_node_def_shows_inputs_and_attrs(graph):
    x = tf.placeholder(tf.float64, [None, 2], name="x")
    text = repr(tf.identity(x, name="y").op.node_def)
    assert text.splitlines()[:3] == ['name: "y"', 'op: "Identity"', 'input: "x:0"']
    assert "DT_DOUBLE" in repr(x.op.node_def) and "[None, 2]" in repr(x.op.node_def)


def test_tensors_compare_by_identity_and_hash(graph):
    x = tf.constant(1.0)
    y = tf.identity(x)
    assert x == x and x != y and x is not y
    assert {x: 1, y: 2}[x] == 1


def test_tensor_as_python_bool_is_an_error(graph):
    x = tf.constant(1.0)
    with pytest.raises(TypeError, match="as a Python bool"):
        bool(x)
    with pytest.raises(TypeError, match="as a Python bool"):
        if x:
            pass


def test_tensor_is_not_iterable(graph):
    with pytest.raises(TypeError, match="not iterable"):
        list(tf.constant([1.0, 2.0]))


def test_input_from_another_graph_is_refused(graph):
    with tf.Graph().as_default():
        foreign = tf.constant(1.0)
    with pytest.raises(tf.GraphError, match="another graph"):
        tf.add(tf.constant(1.0), foreign)


# -- operators --------------------------------------------------------------------------------
OPERATOR_CASES = [
    pytest.param(operator.add, [A, B], "Add", id="add"),
    pytest.param(operator.sub, [A, B], "Sub", id="sub"),
    pytest.param(operator.mul, [A, B], "Mul", id="mul"),
    pytest.param(operator.truediv, [A, B], "RealDiv", id="truediv"),
    pytest.param(operator.floordiv, [A, B], "FloorDiv", id="floordiv"),
    pytest.param(operator.floordiv, [I32, J32], "FloorDiv", id="floordiv-int32"),
    pytest.param(operator.mod, [A, B], "FloorMod", id="mod"),
    pytest.param(operator.mod, [I32, J32], "FloorMod", id="mod-int32"),
    pytest.param(operator.pow, [A, B], "Pow", id="pow"),
    pytest.param(operator.matmul, [SQUARE, SQUARE], "MatMul", id="matmul"),
    pytest.param(operator.neg, [A], "Neg", id="neg"),
    pytest.param(operator.abs, [A - 1.0], "Abs", id="abs"),
    pytest.param(operator.lt, [A, B], "Less", id="lt"),
    pytest.param(operator.le, [A, A], "LessEqual", id="le"),
    pytest.param(operator.gt, [A, B], "Greater", id="gt"),
    pytest.param(operator.ge, [A, A], "GreaterEqual", id="ge"),
    pytest.param(operator.and_, [BOOLS, OTHER_BOOLS], "LogicalAnd", id="and"),
    pytest.param(operator.or_, [BOOLS, OTHER_BOOLS], "LogicalOr", id="or"),
    pytest.param(operator.invert, [BOOLS], "LogicalNot", id="invert"),
]


@pytest.mark.parametrize("fn, args, op_type", OPERATOR_CASES)
def test_operator_builds_the_op_and_matches_numpy(graph, fn, args, op_type):
    tensors = [tf.placeholder(tf.as_dtype(a.dtype), a.shape) for a in args]
    y = fn(*tensors)
    assert y.op.type == op_type
    np.testing.assert_allclose(run(y, dict(zip(tensors, args))), fn(*args))


REFLECTED_CASES = [
    pytest.param(lambda x: 2.0 + x, id="radd"),
    pytest.param(lambda x: 2.0 - x, id="rsub"),
    pytest.param(lambda x: 2.0 * x, id="rmul"),
    pytest.param(lambda x: 2.0 / x, id="rtruediv"),
    pytest.param(lambda x: 7.0 // x, id="rfloordiv"),
    pytest.param(lambda x: 7.0 % x, id="rmod"),
    pytest.param(lambda x: 2.0 ** x, id="rpow"),
    pytest.param(lambda x: x ** 2, id="pow-python-int-exponent"),
    pytest.param(lambda x: np.ones((2, 3)) @ x, id="rmatmul-numpy"),
    pytest.param(lambda x: np.ones(4) + x, id="radd-numpy"),
    pytest.param(lambda x: np.full((3, 1), 2.0) - x, id="rsub-numpy-broadcast"),
]


@pytest.mark.parametrize("fn", REFLECTED_CASES)
def test_operator_with_a_python_or_numpy_operand(graph, fn):
    x = tf.placeholder(tf.float64, [3, 4])
    y = fn(x)
    assert y.dtype == tf.float64
    np.testing.assert_allclose(run(y, {x: A}), fn(A))


INDEX_CASES = [
    pytest.param(lambda x: x[:, 0], id="column"),
    pytest.param(lambda x: x[1:3], id="row-slice"),
    pytest.param(lambda x: x[0], id="row"),
    pytest.param(lambda x: x[-1, 1:], id="negative-index"),
    pytest.param(lambda x: x[::2, ::-1], id="strides"),
    pytest.param(lambda x: x[..., 1], id="ellipsis"),
    pytest.param(lambda x: x[:, None, 2], id="new-axis"),
]


@pytest.mark.parametrize("fn", INDEX_CASES)
def test_indexing_matches_numpy(graph, fn):
    x = tf.placeholder(tf.float64, [3, 4])
    y = fn(x)
    assert y.shape.as_list() == list(fn(A).shape)
    np.testing.assert_array_equal(run(y, {x: A}), fn(A))


def test_variable_supports_operators(graph):
    v = tf.Variable(np.array([1.0, 2.0]))
    y = 2.0 * v + 1.0
    sess = tf.Session(graph)
    sess.run(v.initializer)
    np.testing.assert_array_equal(sess.run(y), [3.0, 5.0])


# -- dtype rules ------------------------------------------------------------------------------
DTYPE_CASES = [
    pytest.param(lambda x64, x32, i32: tf.add(x64, 3), tf.float64, id="float64-plus-python-int"),
    pytest.param(lambda x64, x32, i32: x64 * 0.5, tf.float64, id="float64-times-python-float"),
    pytest.param(lambda x64, x32, i32: x32 + 1, tf.float32, id="float32-plus-python-int"),
    pytest.param(lambda x64, x32, i32: i32 + 2, tf.int32, id="int32-plus-python-int"),
    pytest.param(lambda x64, x32, i32: x64 + np.ones(2), tf.float64, id="float64-plus-float64-array"),
    pytest.param(lambda x64, x32, i32: i32 / 2, tf.float64, id="int32-truediv-is-float64"),
]


@pytest.mark.parametrize("build, dtype", DTYPE_CASES)
def test_python_values_take_the_tensor_dtype(graph, build, dtype):
    x64, x32 = tf.placeholder(tf.float64, [2]), tf.placeholder(tf.float32, [2])
    i32 = tf.placeholder(tf.int32, [2])
    assert build(x64, x32, i32).dtype is dtype


MIXED_CASES = [
    pytest.param(lambda x64, x32, i32: x64 + x32, id="float64-plus-float32"),
    pytest.param(lambda x64, x32, i32: tf.multiply(x32, x64), id="float32-times-float64"),
    pytest.param(lambda x64, x32, i32: x64 + i32, id="float64-plus-int32"),
    pytest.param(lambda x64, x32, i32: i32 + 2.5, id="int32-plus-inexact-python-float"),
    pytest.param(lambda x64, x32, i32: i32 + np.array([0.5, 1.0]), id="int32-plus-inexact-float64-array"),
    pytest.param(lambda x64, x32, i32: i32 + np.array([2 ** 40, 1]), id="int32-plus-int64-array-out-of-range"),
]


@pytest.mark.parametrize("build, dtype", [
    pytest.param(lambda x32, i32: x32 + np.ones(2), tf.float32, id="float32-plus-float64-array"),
    pytest.param(lambda x32, i32: np.float64(0.5) * x32, tf.float32, id="float64-scalar-times-float32"),
    pytest.param(lambda x32, i32: i32 + np.ones(2, np.int64), tf.int32, id="int32-plus-int64-array"),
    pytest.param(lambda x32, i32: x32 * np.int64(3), tf.float32, id="float32-times-int64-scalar"),
])
def test_numpy_values_convert_to_the_tensor_dtype_as_in_tensorflow(graph, build, dtype):
    x32, i32 = tf.placeholder(tf.float32, [2]), tf.placeholder(tf.int32, [2])
    assert build(x32, i32).dtype is dtype


@pytest.mark.parametrize("build", MIXED_CASES)
def test_mixing_dtypes_is_an_error(graph, build):
    x64, x32 = tf.placeholder(tf.float64, [2]), tf.placeholder(tf.float32, [2])
    i32 = tf.placeholder(tf.int32, [2])
    with pytest.raises(tf.DTypeError):
        build(x64, x32, i32)


def test_dtype_error_names_op_and_inputs(graph):
    x64, x32 = tf.placeholder(tf.float64, [2]), tf.placeholder(tf.float32, [None])
    with pytest.raises(tf.DTypeError) as info:
        tf.add(x64, x32, name="mix")
    assert "Add 'mix'" in str(info.value) and "float64 (2,)" in str(info.value) and "float32 (?,)" in str(info.value)


@pytest.mark.parametrize("value, dtype", [
    (tf.float32, tf.float32), ("float64", tf.float64), ("double", tf.float64), (np.int32, tf.int32),
    (np.dtype("int64"), tf.int64), (bool, tf.bool), ("float", tf.float32),
    ("string", tf.string), (object, tf.string),  # TF: tf.as_dtype(object) is tf.string
])
def test_as_dtype(value, dtype):
    assert tf.as_dtype(value) is dtype


@pytest.mark.parametrize("value", ["bfloat16", np.complex64, np.complex128, "nope", 3])
def test_as_dtype_refuses_unsupported(value):
    with pytest.raises(tf.DTypeError, match="unsupported dtype"):
        tf.as_dtype(value)


# -- static shapes ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape, dims", [
    ([None, 2], (None, 2)), ((), ()), (None, None), (3, (3,)), (np.int64(3), (3,)), ([-1, 3], (None, 3)),
    (np.array([2, 3]), (2, 3)), (tf.TensorShape([1, None]), (1, None)), ([2.0], (2,)),
])
def test_placeholder_shapes(graph, shape, dims):
    assert tf.placeholder(tf.float32, shape).shape.dims == dims


@pytest.mark.parametrize("shape", ["ab", [2.5], True, [True], [-2], 2.5, [None, "x"]])
def test_invalid_shapes(graph, shape):
    with pytest.raises(tf.ShapeError):
        tf.placeholder(tf.float32, shape)


def test_tensor_shape_api():
    shape = tf.TensorShape([None, 3])
    assert (shape.ndims, shape.as_list(), shape[1], len(shape), str(shape)) == (2, [None, 3], 3, 2, "(?, 3)")
    assert shape.is_compatible_with([5, 3]) and not shape.is_compatible_with([5, 4])
    assert not shape.is_fully_defined() and tf.TensorShape([2, 3]).num_elements() == 6
    assert tf.TensorShape(None).ndims is None and str(tf.TensorShape(None)) == "<unknown>"
    with pytest.raises(tf.ShapeError):
        tf.TensorShape(None).as_list()


# -- shape rules at construction time ---------------------------------------------------------
SHAPE_ERROR_CASES = [
    pytest.param(lambda a, b: tf.add(a, b, name="bad"), [2, 3], [4], "Add 'bad'", id="Add-broadcast"),
    pytest.param(lambda a, b: tf.multiply(a, b, name="bad"), [None, 3], [2, 4], "Mul 'bad'", id="Mul-known-dims"),
    pytest.param(lambda a, b: tf.matmul(a, b, name="bad"), [2, 3], [4, 5], "MatMul 'bad'", id="MatMul-inner"),
]


@pytest.mark.parametrize("build, shape_a, shape_b, where", SHAPE_ERROR_CASES)
def test_shape_error_names_op_type_name_and_input_shapes(graph, build, shape_a, shape_b, where):
    a, b = tf.placeholder(tf.float64, shape_a), tf.placeholder(tf.float64, shape_b)
    with pytest.raises(tf.ShapeError) as info:
        build(a, b)
    message = str(info.value)
    assert where in message
    assert str(a.shape) in message and str(b.shape) in message


@pytest.mark.parametrize("shape_a, shape_b, expected", [
    ([None, 3], [3], [None, 3]),
    ([None, 1], [1, 4], [None, 4]),
    (None, [3], None),
    ([2, None], [None, 5], [2, 5]),
])
def test_broadcasting_with_unknown_dims(graph, shape_a, shape_b, expected):
    y = tf.placeholder(tf.float64, shape_a) + tf.placeholder(tf.float64, shape_b)
    assert y.shape.dims == (None if expected is None else tuple(expected))


# -- control dependencies and group -----------------------------------------------------------
def counter(graph):
    """A variable `n` and an op that adds 1 to it."""
    n = tf.Variable(np.float64(0.0), name="n")
    return n, n.assign_add(1.0)


def test_control_dependencies_run_before_the_op(graph):
    n, bump = counter(graph)
    with tf.control_dependencies([bump]):
        y = tf.constant(5.0)
    assert y.op.control_inputs == (bump.op,)
    sess = tf.Session(graph)
    sess.run(n.initializer)
    sess.run(y)
    sess.run(y)
    assert sess.run(n) == 2.0


def test_control_dependencies_nest_and_None_clears(graph):
    a, b = tf.no_op(name="a"), tf.no_op(name="b")
    with tf.control_dependencies([a]):
        with tf.control_dependencies([b]):
            both = tf.constant(1.0)
        with tf.control_dependencies(None):
            none = tf.constant(1.0)
    assert both.op.control_inputs == (a, b)
    assert none.op.control_inputs == ()


def test_group_runs_every_input_and_returns_None(graph):
    n, bump = counter(graph)
    m = tf.Variable(np.float64(10.0), name="m")
    both = tf.group(bump, [m.assign_sub(1.0)], name="both")
    assert both.type == "NoOp" and both.name == "both" and both.outputs == []
    sess = tf.Session(graph)
    sess.run([n.initializer, m.initializer])
    assert sess.run(both) is None
    assert sess.run([n, m]) == [1.0, 9.0]


def test_group_of_nothing_is_a_no_op(graph):
    assert tf.Session(graph).run(tf.group()) is None


def test_variables_with_the_same_name_are_numbered_like_other_ops():
    with tf.Graph().as_default():
        names = [tf.Variable(1.0, name="v").op.name for _ in range(3)]
    assert names == ["v", "v_1", "v_2"]


def test_group_of_operations_goes_to_their_graph_not_the_default_one():
    graph = tf.Graph()
    with graph.as_default():
        v = tf.Variable(1.0)
    assert tf.variables_initializer([v]).graph is graph
