"""Session: fetch structures, feeds and their checks, pruning, plan caching,
variables, user-defined ops through register_op, run_batched (buffer reuse: test_buffer_reuse.py)."""
from __future__ import annotations

import collections
import re

import numpy as np
import pytest

import engine as tf
import engine.session as session_module
from engine.registry import unregister_op
from engine.testing import check_grads

X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
Pair = collections.namedtuple("Pair", "first second")


@pytest.fixture
def g():
    """A graph with x (float64, (?, 2)), y = x + 1, z = 2 y and a constant c."""
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float64, [None, 2], name="x")
        y = tf.add(x, 1.0, name="y")
        tf.multiply(y, 2.0, name="z")
        tf.constant(3.0, name="c")
        yield graph


def t(graph, name):
    return graph.get_tensor_by_name(name)


# -- fetches ----------------------------------------------------------------------------------
FETCH_CASES = [
    pytest.param(lambda g: t(g, "y:0"), X + 1, id="tensor"),
    pytest.param(lambda g: t(g, "y:0").op, None, id="operation-gives-None"),
    pytest.param(lambda g: "y:0", X + 1, id="tensor-name"),
    pytest.param(lambda g: "y", None, id="operation-name-gives-None"),
    pytest.param(lambda g: [t(g, "y:0"), t(g, "c:0")], [X + 1, 3.0], id="list"),
    pytest.param(lambda g: (t(g, "z:0"),), (2 * (X + 1),), id="tuple"),
    pytest.param(lambda g: {"y": t(g, "y:0"), "op": t(g, "z:0").op}, {"y": X + 1, "op": None}, id="dict"),
    pytest.param(lambda g: {"a": [t(g, "c:0"), ("y:0", {"z": t(g, "z:0")})]},
                 {"a": [3.0, (X + 1, {"z": 2 * (X + 1)})]}, id="nested"),
    pytest.param(lambda g: Pair(t(g, "c:0"), [t(g, "y:0")]), Pair(3.0, [X + 1]), id="namedtuple"),
    pytest.param(lambda g: [t(g, "y:0"), t(g, "y:0")], [X + 1, X + 1], id="same-tensor-twice"),
    pytest.param(lambda g: [], [], id="empty-list"),
]


def assert_same_structure(got, expected):
    if isinstance(expected, (dict, list, tuple)):
        assert type(got) is type(expected)
    if isinstance(expected, dict):
        assert got.keys() == expected.keys()
        for key in expected:
            assert_same_structure(got[key], expected[key])
    elif isinstance(expected, (list, tuple)):
        assert len(got) == len(expected)
        for a, b in zip(got, expected):
            assert_same_structure(a, b)
    elif expected is None:
        assert got is None
    else:
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("fetches, expected", FETCH_CASES)
def test_fetch_structures(g, fetches, expected):
    assert_same_structure(tf.Session(g).run(fetches(g), {"x:0": X}), expected)


@pytest.mark.parametrize("fetch, error, message", [
    pytest.param(None, tf.FetchError, "fetch argument None", id="None"),
    pytest.param(3, TypeError, "cannot interpret 3", id="int"),
    pytest.param("nope:0", tf.GraphError, "no operation named 'nope'", id="unknown-name"),
])
def test_invalid_fetches(g, fetch, error, message):
    with pytest.raises(error, match=message):
        tf.Session(g).run(fetch)


def test_fetch_from_another_graph_is_refused(g):
    with tf.Graph().as_default():
        foreign = tf.constant(1.0)
    with pytest.raises(tf.GraphError, match="another graph"):
        tf.Session(g).run(foreign)


def test_scalar_fetch_is_a_numpy_value(g):
    value = tf.Session(g).run(t(g, "c:0"))
    assert value == 3.0 and value.dtype == np.float32


# -- feeds ------------------------------------------------------------------------------------
FEED_KEY_CASES = [
    pytest.param(lambda g: t(g, "x:0"), id="tensor"),
    pytest.param(lambda g: "x:0", id="tensor-name"),
    pytest.param(lambda g: "x", id="op-name-means-output-0"),
]


@pytest.mark.parametrize("key", FEED_KEY_CASES)
def test_feed_keys(g, key):
    np.testing.assert_array_equal(tf.Session(g).run("y:0", {key(g): X}), X + 1)


def test_feeding_an_intermediate_tensor_replaces_its_value(g):
    np.testing.assert_array_equal(tf.Session(g).run("z:0", {"y:0": np.zeros((1, 2))}), [[0.0, 0.0]])


def test_fetching_a_fed_tensor_returns_the_fed_value(g):
    sess = tf.Session(g)
    fed = np.zeros((1, 2))
    np.testing.assert_array_equal(sess.run("y:0", {"y:0": fed}), fed)
    np.testing.assert_array_equal(sess.run("x:0", {"x:0": X}), X)
    assert sess.run(t(g, "x:0").op, {"x:0": X}) is None


def test_feed_values_are_not_modified(g):
    big = np.random.default_rng(0).standard_normal((100_000, 2))
    saved = big.copy()
    with g.as_default():
        deep = (t(g, "x:0") * 2.0 + 1.0) * 3.0 - 1.0
    tf.Session(g).run(deep, {"x:0": big})
    np.testing.assert_array_equal(big, saved)


FEED_ERROR_CASES = [
    pytest.param(np.ones(3), "Cannot feed value of shape (3,) for Tensor 'x:0', which has shape (?, 2)",
                 id="shape-rank"),
    pytest.param(np.ones((2, 3)), "Cannot feed value of shape (2, 3) for Tensor 'x:0', which has shape (?, 2)",
                 id="shape-dim"),
    pytest.param(np.ones((2, 2), np.complex128), "for Tensor 'x:0' of dtype float64", id="complex"),
    pytest.param([["a", "b"]], "expected numbers or booleans", id="strings"),
    pytest.param([[None, 1.0]], "expected numbers or booleans", id="None-inside"),
    pytest.param([[1.0, 2.0], [3.0]], "for Tensor 'x:0'", id="ragged"),
]


@pytest.mark.parametrize("value, message", FEED_ERROR_CASES)
def test_feed_errors(g, value, message):
    with pytest.raises(tf.FeedError, match=re.escape(message)):
        tf.Session(g).run("y:0", {"x:0": value})


INT_FEED_CASES = [
    pytest.param(np.array([1.7, -2.5]), None, id="float-array-truncates-as-numpy"),
    pytest.param([1.5, 2.0], None, id="python-floats-truncate-as-numpy"),
    pytest.param(np.array([2 ** 40, 1]), "out of its range", id="int64-array-overflow"),
    pytest.param([2 ** 40, 1], "out of its range", id="python-int-overflow"),
    pytest.param(np.array([np.nan, 1.0]), "out of its range", id="nan"),
    pytest.param(np.array([True, False]), None, id="bool-array-fits"),
    pytest.param(np.array([3, 4], np.int64), None, id="int64-array-fits"),
    pytest.param([3.0, 4.0], None, id="exact-python-floats-fit"),
]


@pytest.mark.parametrize("value, message", INT_FEED_CASES)
def test_int32_feed_converts_as_numpy_within_range(value, message):
    """TensorFlow feeds `np.asarray(value, dtype)`: floats truncate toward zero; we refuse only overflow."""
    with tf.Graph().as_default() as graph:
        i = tf.placeholder(tf.int32, [2], name="i")
    sess = tf.Session(graph)
    if message is None:
        got = sess.run(i, {i: value})
        assert got.dtype == np.int32 and np.array_equal(got, np.asarray(value).astype(np.int32))
    else:
        with pytest.raises(tf.FeedError, match=re.escape(message)):
            sess.run(i, {i: value})


@pytest.mark.parametrize("value", [np.ones((1, 2), np.float32), np.ones((1, 2), np.int64), [[1, 2]], [[0.5, 1]]],
                         ids=["float32-array", "int64-array", "python-ints", "python-floats"])
def test_float64_feed_accepts_numbers_and_converts(g, value):
    got = tf.Session(g).run("x:0", {"x:0": value})
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, np.asarray(value, np.float64))


def test_bool_feed_refuses_numbers():
    with tf.Graph().as_default() as graph:
        b = tf.placeholder(tf.bool, [2], name="b")
    with pytest.raises(tf.FeedError, match="dtype int64 for Tensor 'b:0', which has dtype bool"):
        tf.Session(graph).run(b, {b: np.array([0, 1])})


def test_unfed_placeholder_message(g):
    with pytest.raises(tf.FetchError, match=re.escape(
            "You must feed a value for placeholder tensor 'x' with dtype float64 and shape (?, 2)")):
        tf.Session(g).run("y:0")


@pytest.mark.parametrize("key, message", [
    pytest.param("nope:0", "cannot interpret feed_dict key 'nope:0'", id="unknown-name"),
    pytest.param(3, "cannot interpret feed_dict key 3", id="int"),
])
def test_bad_feed_keys(g, key, message):
    with pytest.raises(tf.FeedError, match=re.escape(message)):
        tf.Session(g).run("y:0", {key: X})


def test_feeding_an_operation_is_refused(g):
    with pytest.raises(tf.FeedError, match="found operation 'x'"):
        tf.Session(g).run("y:0", {t(g, "x:0").op: X})


def test_feeding_a_tensor_twice_is_refused(g):
    with pytest.raises(tf.FeedError, match="'x:0' is fed more than once"):
        tf.Session(g).run("y:0", {t(g, "x:0"): X, "x:0": X})


def test_feeds_are_checked_on_every_run(g):
    sess = tf.Session(g)
    sess.run("y:0", {"x:0": X})
    with pytest.raises(tf.FeedError, match="shape"):
        sess.run("y:0", {"x:0": np.ones(3)})
    with pytest.raises(tf.FeedError, match="dtype"):
        sess.run("y:0", {"x:0": np.ones((1, 2), np.complex64)})


# -- pruning ----------------------------------------------------------------------------------
@pytest.fixture
def counting_op():
    """A user op `CountingIdentity` whose kernel counts its calls."""
    calls = []

    def kernel(x):
        calls.append(1)
        return x
    tf.register_op("CountingIdentity", kernel=kernel, infer=lambda inputs: inputs[0], num_inputs=1,
                   grad=lambda op, g: [g])
    yield lambda x: tf.get_default_graph().create_op("CountingIdentity", [x]).outputs[0], calls
    unregister_op("CountingIdentity")


def test_only_the_needed_subgraph_runs(counting_op):
    build, calls = counting_op
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float64, [2], name="x")
        counted = build(x)
        unrelated = tf.placeholder(tf.float64, [2], name="unrelated")
        other = build(unrelated) * 2.0
        wanted = x + 1.0
    sess = tf.Session(graph)
    np.testing.assert_array_equal(sess.run(wanted, {x: [1.0, 2.0]}), [2.0, 3.0])  # `unrelated` is not fed
    assert calls == []
    sess.run([counted, wanted], {x: [1.0, 2.0]})
    assert calls == [1]
    assert other is not None


def test_a_fed_tensor_cuts_the_graph_above_it(counting_op):
    build, calls = counting_op
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float64, [2])
        mid = build(x)
        y = mid * 3.0
    np.testing.assert_array_equal(tf.Session(graph).run(y, {mid: [1.0, 1.0]}), [3.0, 3.0])
    assert calls == []


# -- plan caching -----------------------------------------------------------------------------
@pytest.fixture
def compiles(monkeypatch):
    """The list of compile_plan calls made while the test runs."""
    calls = []
    original = session_module.compile_plan

    def counting(*args, **kwargs):
        calls.append(args[1])
        return original(*args, **kwargs)
    monkeypatch.setattr(session_module, "compile_plan", counting)
    return calls


def test_second_run_compiles_nothing(g, compiles):
    sess = tf.Session(g)
    for value in (X, X[:1], X * 2):
        sess.run("z:0", {"x:0": value})
    assert len(compiles) == 1 and len(sess._plans) == 1


def test_plan_per_fetch_and_feed_signature(g, compiles):
    sess = tf.Session(g)
    sess.run("z:0", {"x:0": X})
    sess.run(["z:0", "y:0"], {"x:0": X})
    sess.run("z:0", {"y:0": X})
    sess.run("z:0", {"x:0": X})
    sess.run(["z:0", "y:0"], {t(g, "x:0"): X})  # the tensor and its name are the same feed
    assert len(compiles) == 3


def test_close_drops_plans_and_refuses_runs(g):
    sess = tf.Session(g)
    sess.run("c:0")
    sess.close()
    assert sess._plans == {}
    with pytest.raises(tf.FailedPreconditionError, match="closed Session"):
        sess.run("c:0")
    with pytest.raises(tf.FailedPreconditionError, match="closed Session"):
        sess.run_batched("c:0", {"x:0": X})


def test_context_manager_is_the_default_session(g):
    with tf.Session(g) as sess:
        assert t(g, "c:0").eval() == 3.0
        assert t(g, "y:0").op.run({"x:0": X}) is None
        assert tf.get_default_graph() is g
    assert sess._closed


def test_eval_without_a_default_session_is_an_error(g):
    with pytest.raises(tf.FailedPreconditionError, match="no default session"):
        t(g, "c:0").eval()


# -- variables --------------------------------------------------------------------------------
@pytest.fixture
def vg():
    """A graph with variable v = [1, 2] and its initializer `init`."""
    with tf.Graph().as_default() as graph:
        tf.Variable(np.array([1.0, 2.0]), name="v")
        tf.global_variables_initializer()
        yield graph


def test_variable_needs_initialization(vg):
    with pytest.raises(tf.FailedPreconditionError, match="Attempting to use uninitialized value v"):
        tf.Session(vg).run("v:0")


def test_initializer_sets_the_initial_value(vg):
    sess = tf.Session(vg)
    assert sess.run("init") is None
    np.testing.assert_array_equal(sess.run("v:0"), [1.0, 2.0])


def test_variable_values_are_per_session(vg):
    with vg.as_default():
        v = tf.global_variables()[0]
        bump = v.assign_add([1.0, 1.0])
    first, second = tf.Session(vg), tf.Session(vg)
    first.run("init")
    second.run("init")
    first.run(bump)
    first.run(bump)
    np.testing.assert_array_equal(first.run(v), [3.0, 4.0])
    np.testing.assert_array_equal(second.run(v), [1.0, 2.0])


def test_variable_collections(vg):
    with vg.as_default():
        tf.Variable(1.0, trainable=False, name="step")
        assert [v.name for v in tf.global_variables()] == ["v:0", "step:0"]
        assert [v.name for v in tf.trainable_variables()] == ["v:0"]


def test_export_variables_gives_copies(vg):
    sess = tf.Session(vg)
    sess.run("init")
    exported = sess.export_variables()
    exported["v"][0] = 99.0
    np.testing.assert_array_equal(sess.run("v:0"), [1.0, 2.0])


def test_load_variables_checks_and_copies(vg):
    sess = tf.Session(vg)
    value = np.array([5.0, 6.0])
    sess.load_variables({"v": value})
    value[0] = 99.0
    np.testing.assert_array_equal(sess.run("v:0"), [5.0, 6.0])


@pytest.mark.parametrize("values, error, message", [
    pytest.param({"v": [1.0, 2.0, 3.0]}, tf.FeedError, "shape (3,) for Tensor 'v:0', which has shape (2,)",
                 id="shape"),
    pytest.param({"v": np.array([1, 2], np.complex64)}, tf.FeedError, "dtype complex64", id="dtype"),
    pytest.param({"nope": [1.0]}, tf.GraphError, "no operation named 'nope'", id="unknown"),
    pytest.param({"init": [1.0]}, tf.GraphError, "'init' is a NoOp, not a variable", id="not-a-variable"),
])
def test_load_variables_errors(vg, values, error, message):
    with pytest.raises(error, match=re.escape(message)):
        tf.Session(vg).load_variables(values)


def test_variable_load_and_eval_in_the_default_session(vg):
    with tf.Session(vg) as sess:
        v = tf.global_variables()[0]
        v.load([7.0, 8.0])
        np.testing.assert_array_equal(v.eval(), [7.0, 8.0])
        np.testing.assert_array_equal(sess.run(v), [7.0, 8.0])


def test_variable_needs_a_known_shape():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [None])
        with pytest.raises(tf.GraphError, match="fully known shape"):
            tf.Variable(x)


# -- a user-defined op ------------------------------------------------------------------------
@pytest.fixture
def cube():
    """A user op `Cube` (x ** 3) with kernel, shape rule, gradient and batching rule."""
    batch_calls = []

    def infer(inputs):
        (x,) = inputs
        if not x.dtype.is_floating:
            raise tf.DTypeError(f"Cube needs a floating input, found {x.dtype.name}")
        return x

    def batch(args, batched):
        batch_calls.append(batched)
        return args[0] ** 3

    tf.register_op("Cube", kernel=lambda x: x ** 3, infer=infer, num_inputs=1,
                   grad=lambda op, g: [3.0 * op.inputs[0] * op.inputs[0] * g], batch=batch)

    def build(x, name=None):
        return tf.get_default_graph().create_op("Cube", [tf.convert_to_tensor(x)], name=name).outputs[0]
    yield build, batch_calls
    unregister_op("Cube")


def test_user_op_runs_in_a_graph(cube):
    build, _ = cube
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float64, [None, 2])
        y = build(x, name="cubed") + 1.0
    assert y.op.inputs[0].op.type == "Cube" and y.op.inputs[0].op.name == "cubed"
    np.testing.assert_array_equal(tf.Session(graph).run(y, {x: X}), X ** 3 + 1.0)


def test_user_op_gradient(cube):
    build, _ = cube
    check_grads(build, [X], order=2)


def test_user_op_batching_rule(cube):
    build, batch_calls = cube
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float64, [2])
        y = build(x)
    np.testing.assert_array_equal(tf.Session(graph).run_batched(y, {x: X}), X ** 3)
    assert batch_calls == [(True,)]


def test_user_op_shape_rule_errors_name_the_op(cube):
    build, _ = cube
    with tf.Graph().as_default(), pytest.raises(tf.DTypeError, match="Cube 'Cube': Cube needs a floating input"):
        build(tf.constant([1, 2]))


def test_duplicate_registration_names_both_places(cube):
    with pytest.raises(tf.RegistryError) as info:
        tf.register_op("Cube", kernel=np.negative, infer=lambda inputs: inputs[0])
    message = str(info.value)
    assert message.count("test_session.py:") == 2
    assert "already registered at" in message and "registered again at" in message


def test_builtin_ops_name_their_file():
    assert "engine/ops/core.py" in tf.get_op("Const").defined_at.replace("\\", "/")


def test_unknown_op_suggests_close_matches(cube):
    with pytest.raises(tf.RegistryError, match="unknown op type 'Cueb'; did you mean .*Cube"):
        tf.get_op("Cueb")


def test_unknown_attr_kind_is_refused():
    with pytest.raises(tf.RegistryError, match="unknown kind 'matrix'"):
        tf.register_op("Bad", kernel=np.negative, infer=lambda inputs: inputs[0], attrs={"m": "matrix"})
    with pytest.raises(tf.RegistryError, match="unknown op type 'Bad'"):
        tf.get_op("Bad")


def test_missing_gradient_is_an_error_naming_the_op():
    tf.register_op("NoGrad", kernel=np.negative, infer=lambda inputs: inputs[0], num_inputs=1)
    try:
        with tf.Graph().as_default():
            x = tf.placeholder(tf.float64, [2])
            y = tf.get_default_graph().create_op("NoGrad", [x], name="ng").outputs[0]
            with pytest.raises(tf.GradientError, match="no gradient is defined for op type NoGrad \\(op 'ng'\\)"):
                tf.gradients(y, x)
    finally:
        unregister_op("NoGrad")


# -- run_batched ------------------------------------------------------------------------------
def test_run_batched_runs_a_row_graph_over_rows():
    with tf.Graph().as_default() as graph:
        row = tf.placeholder(tf.float64, [2], name="row")
        scale = tf.placeholder(tf.float64, [], name="scale")
        out = {"sum": tf.reduce_sum(row * 2.0), "scaled": row * scale}
    scales = np.array([1.0, 10.0, 100.0])
    got = tf.Session(graph).run_batched(out, {row: X, scale: scales})
    np.testing.assert_array_equal(got["sum"], (X * 2.0).sum(axis=1))
    np.testing.assert_array_equal(got["scaled"], X * scales[:, None])


def test_run_batched_feed_shape_error_mentions_rows():
    with tf.Graph().as_default() as graph:
        row = tf.placeholder(tf.float64, [2], name="row")
        y = row + 1.0
    with pytest.raises(tf.FeedError, match=re.escape(
            "Cannot feed a batch of rows of shape (3, 3) for Tensor 'row:0', which has shape (?, 2)")):
        tf.Session(graph).run_batched(y, {row: np.ones((3, 3))})


def test_run_batched_plans_are_cached_apart_from_plain_runs(compiles):
    with tf.Graph().as_default() as graph:
        row = tf.placeholder(tf.float64, [2])
        y = row * 2.0
    sess = tf.Session(graph)
    sess.run(y, {row: X[0]})
    sess.run_batched(y, {row: X})
    sess.run_batched(y, {row: X[:2]})
    assert len(compiles) == 2


def test_variable_made_under_control_dependencies_reads_without_them():
    with tf.Graph().as_default() as graph:
        n = tf.Variable(np.float64(0.0), name="n")
        bump = n.assign_add(1.0)
        with tf.control_dependencies([bump]):
            v = tf.Variable(np.float64(5.0), name="v")
    assert v.op.control_inputs == () and v.initializer.control_inputs == ()
    sess = tf.Session(graph)
    sess.run([n.initializer, v.initializer])
    sess.run(v)
    assert sess.run(n) == 0.0


def test_variable_shape_argument():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [None])
        assert tf.Variable(x, shape=np.int64(3)).shape.dims == (3,)


@pytest.mark.parametrize("kw", [
    pytest.param({"kernel": None}, id="kernel-None"),
    pytest.param({"infer": "x"}, id="infer-not-callable"),
    pytest.param({"grad": "none"}, id="grad-not-callable"),
    pytest.param({"batch": 3}, id="batch-not-callable"),
])
def test_register_op_checks_its_functions(kw):
    args = dict(kernel=np.negative, infer=lambda inputs: inputs[0]) | kw
    with pytest.raises(tf.RegistryError, match="'Broken'"):
        tf.register_op("Broken", **args)
    with pytest.raises(tf.RegistryError, match="unknown op type"):
        tf.get_op("Broken")
