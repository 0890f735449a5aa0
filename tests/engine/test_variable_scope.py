"""get_variable / variable_scope / collections: TF 1.x naming, sharing and reuse rules, defaults and errors."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf


@pytest.fixture(autouse=True)
def graph():
    with tf.Graph().as_default() as g:
        yield g


def _values(*tensors):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(list(tensors))


def test_variables_are_named_by_the_enclosing_scopes():
    with tf.variable_scope("outer"), tf.variable_scope("inner"):
        v = tf.get_variable("v", [1])
    assert v.name == "outer/inner/v:0" and v.shape.as_list() == [1] and v.dtype is tf.float32


def test_reuse_true_returns_the_same_variable():
    with tf.variable_scope("layer"):
        w = tf.get_variable("w", [2, 3])
    with tf.variable_scope("layer", reuse=True):
        assert tf.get_variable("w") is w
        assert tf.get_variable("w", [2, 3]) is w


def test_reuse_variables_switches_the_open_scope_to_reuse():
    with tf.variable_scope("layer") as scope:
        w = tf.get_variable("w", [1])
        scope.reuse_variables()
        assert tf.get_variable("w") is w and scope.reuse is True


def test_reuse_is_inherited_by_nested_scopes():
    with tf.variable_scope("a"), tf.variable_scope("b"):
        v = tf.get_variable("v", [1])
    with tf.variable_scope("a", reuse=True), tf.variable_scope("b", reuse=False):
        assert tf.get_variable("v") is v


def test_auto_reuse_creates_then_reuses():
    def layer(x):
        with tf.variable_scope("shared", reuse=tf.AUTO_REUSE):
            return x * tf.get_variable("scale", [], initializer=tf.constant_initializer(2.0))
    a, b = layer(tf.constant(1.0)), layer(tf.constant(3.0))
    assert len(tf.global_variables()) == 1
    assert _values(a, b) == [2.0, 6.0]


def test_reentering_a_scope_by_name_opens_a_new_name_scope_for_ops():
    with tf.variable_scope("layer"):
        first = tf.identity(tf.get_variable("w", [1]))
    with tf.variable_scope("layer", reuse=True):
        second = tf.identity(tf.get_variable("w"))
    assert (first.name, second.name) == ("layer/Identity:0", "layer_1/Identity:0")


def test_reentering_a_scope_object_reuses_its_name_scope():
    with tf.variable_scope("layer") as scope:
        pass
    with tf.variable_scope(scope):
        t = tf.constant(1.0, name="c")
    assert t.name == "layer/c:0" and scope.original_name_scope == "layer/"


def test_default_names_are_made_unique():
    names = []
    for _ in range(3):
        with tf.variable_scope(None, default_name="dense"):
            names.append(tf.get_variable("kernel", [1]).name)
    assert names == ["dense/kernel:0", "dense_1/kernel:0", "dense_2/kernel:0"]


def test_tf_variable_inside_a_variable_scope_takes_its_name_scope():
    with tf.variable_scope("scope"):
        assert tf.Variable(1.0, name="v").name == "scope/v:0"


def test_the_scope_initializer_is_the_default_of_its_variables():
    with tf.variable_scope("s", initializer=tf.constant_initializer(3.0)):
        with tf.variable_scope("t"):
            v = tf.get_variable("v", [2])
        u = tf.get_variable("u", [2], initializer=tf.zeros_initializer())
    np.testing.assert_array_equal(_values(v, u), [[3.0, 3.0], [0.0, 0.0]])


def test_the_default_initializer_is_glorot_uniform_for_floats_and_zeros_for_ints():
    w = tf.get_variable("w", [30, 50])
    n = tf.get_variable("n", [3], dtype=tf.int32)
    wv, nv = _values(w, n)
    limit = np.sqrt(6 / 80)
    assert np.abs(wv).max() <= limit and np.abs(wv).max() > 0.9 * limit
    assert nv.dtype == np.int32 and (nv == 0).all()


def test_an_initial_value_as_initializer_gives_the_shape_and_dtype():
    v = tf.get_variable("v", initializer=np.arange(3.0))
    c = tf.get_variable("c", initializer=tf.constant([[1, 2]]))
    assert v.dtype is tf.float64 and c.shape.as_list() == [1, 2] and c.dtype is tf.int32
    np.testing.assert_array_equal(_values(v)[0], [0.0, 1.0, 2.0])


def test_a_plain_callable_initializer_receives_shape_and_dtype():
    seen = []

    def init(shape, dtype):
        seen.append((shape, dtype))
        return np.full(shape, 5.0, dtype.np)
    v = tf.get_variable("v", [2], dtype=tf.float64, initializer=init)
    assert seen == [([2], tf.float64)] and list(_values(v)[0]) == [5.0, 5.0]


def test_trainable_false_and_collections_decide_the_collections():
    step = tf.get_variable("step", [], dtype=tf.int64, trainable=False)
    local = tf.get_variable("local", [1], collections=[tf.GraphKeys.LOCAL_VARIABLES])
    assert tf.global_variables() == [step] and tf.trainable_variables() == [local]
    assert tf.local_variables() == [local]


def test_a_regularizer_adds_its_loss_to_the_collection():
    w = tf.get_variable("w", initializer=np.array([1.0, 2.0]), regularizer=lambda v: tf.reduce_sum(v * v))
    [loss] = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert loss.name.startswith("w/Regularizer/")
    assert _values(loss) == [5.0]
    assert w.name == "w:0"


def test_get_collection_filters_by_scope_regex():
    with tf.variable_scope("gen"):
        g = tf.get_variable("w", [1])
    with tf.variable_scope("disc"):
        tf.get_variable("w", [1])
    assert tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope="gen") == [g]
    assert len(tf.get_collection("trainable_variables", "gen|disc")) == 2


def test_collection_helpers(graph):
    tf.add_to_collection("mine", 1)
    tf.add_to_collections(["mine", "other"], 2)
    tf.get_collection_ref("mine").append(3)
    assert tf.get_collection("mine") == [1, 2, 3] and tf.get_collection("other") == [2]


def test_local_variables_initializer_initializes_local_variables():
    local = tf.get_variable("l", [2], collections=[tf.GraphKeys.LOCAL_VARIABLES],
                            initializer=tf.ones_initializer())
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        assert list(sess.run(local)) == [1.0, 1.0]


def test_scope_get_variable_and_scope_variable_lists():
    with tf.variable_scope("s") as scope:
        pass
    v = scope.get_variable("v", [1])
    assert v.name == "s/v:0" and scope.global_variables() == [v] and scope.trainable_variables() == [v]


# -- errors ------------------------------------------------------------------------------------------
def test_creating_an_existing_variable_without_reuse_is_refused():
    tf.get_variable("w", [1])
    with pytest.raises(ValueError, match="Variable w already exists, disallowed.*reuse=True"):
        tf.get_variable("w", [1])


def test_reusing_a_missing_variable_is_refused():
    with tf.variable_scope("s", reuse=True), pytest.raises(ValueError, match="Variable s/w does not exist"):
        tf.get_variable("w", [1])


def test_sharing_with_another_shape_or_dtype_is_refused():
    tf.get_variable("w", [2])
    with tf.variable_scope(tf.get_variable_scope(), reuse=True):
        with pytest.raises(tf.ShapeError, match=r"specified shape \(3,\) and found shape \(2,\)"):
            tf.get_variable("w", [3])
        with pytest.raises(tf.DTypeError, match="specified dtype float64 and found dtype float32"):
            tf.get_variable("w", dtype=tf.float64)


def test_a_new_variable_needs_a_full_shape():
    with pytest.raises(tf.ShapeError, match=r"Shape of a new variable \(w\) must be fully defined"):
        tf.get_variable("w", [None, 2])


def test_a_constant_initializer_value_with_a_shape_is_refused():
    with pytest.raises(ValueError, match="do not specify shape"):
        tf.get_variable("w", [2], initializer=np.zeros(2))


def test_variable_scope_needs_a_name():
    with pytest.raises(ValueError, match="name_or_scope or a default_name"):
        tf.variable_scope(None)


def test_matches_tensorflow_naming():
    tf1 = pytest.importorskip("tensorflow").compat.v1

    def program(t):
        names = []
        with t.variable_scope("layer1"):
            names.append(t.get_variable("w", [2, 2]).name)
            names.append(t.identity(t.constant(1.0), name="out").name)
        with t.variable_scope("layer1", reuse=True):
            names.append(t.get_variable("w").name)
            names.append(t.identity(t.constant(1.0), name="out").name)
        for _ in range(2):
            with t.variable_scope(None, default_name="dense"):
                names.append(t.get_variable("k", [1]).name)
        with t.variable_scope("a", reuse=t.AUTO_REUSE):
            names.append(t.get_variable("v", [1]).name)
        return names
    with tf1.Graph().as_default():
        expected = program(tf1)
    assert program(tf) == expected
