"""tf.cond / tf.case / tf.while_loop: values, gradients, structures, and refusals."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf


@pytest.fixture(autouse=True)
def graph():
    with tf.Graph().as_default() as g:
        yield g


def test_cond_gives_the_chosen_branch_and_its_gradient():
    x = tf.placeholder(tf.float64, [])
    y = tf.cond(x > 0, lambda: x * x, lambda: -3.0 * x)
    [g] = tf.gradients(y, [x])
    with tf.Session() as sess:
        assert sess.run([y, g], {x: 2.0}) == [4.0, 4.0]
        assert sess.run([y, g], {x: -1.0}) == [3.0, -3.0]


def test_cond_branches_may_return_nested_structures():
    p = tf.placeholder(tf.bool, [])
    a, (b, c) = tf.cond(p, lambda: (tf.constant(1), (tf.constant(2.0), tf.constant([3.0]))),
                        lambda: (tf.constant(-1), (tf.constant(-2.0), tf.constant([-3.0]))))
    with tf.Session() as sess:
        assert sess.run([a, b], {p: False}) == [-1, -2.0] and list(sess.run(c, {p: True})) == [3.0]


def test_cond_with_a_python_bool_builds_one_branch():
    built = []
    out = tf.cond(True, lambda: built.append("t") or tf.constant(1), lambda: built.append("f") or tf.constant(0))
    assert built == ["t"] and tf.Session().run(out) == 1


def test_cond_with_a_random_branch_as_dropout_during_training():
    training = tf.placeholder_with_default(False, [])
    x = tf.ones([1000])
    y = tf.cond(training, lambda: x * tf.floor(tf.random_uniform([1000], seed=1) + 0.5) * 2.0, lambda: x)
    with tf.Session() as sess:
        assert (sess.run(y) == 1.0).all()
        kept = sess.run(y, {training: True})
    assert set(np.unique(kept)) == {0.0, 2.0}


def test_cond_refuses_a_branch_that_assigns():
    v = tf.Variable(0.0)
    with pytest.raises(tf.GraphError, match="must not change state.*Assign"):
        tf.cond(tf.constant(True) & tf.constant(True), lambda: v.assign(1.0), lambda: v.value())


@pytest.mark.parametrize("pred, match", [(tf.constant, "scalar bool"), (None, "needs true_fn")])
def test_cond_errors(pred, match):
    with pytest.raises((tf.GraphError, TypeError), match=match):
        if pred is None:
            tf.cond(tf.constant(True), None, None)
        else:
            tf.cond(pred([True, False]), lambda: 1, lambda: 2)


def test_cond_branches_must_have_the_same_structure():
    with pytest.raises(tf.GraphError, match="same structure"):
        tf.cond(tf.placeholder(tf.bool, []), lambda: (tf.constant(1), tf.constant(2)), lambda: tf.constant(3))


def test_case_takes_the_first_true_predicate_else_the_default():
    x = tf.placeholder(tf.int32, [])
    y = tf.case([(tf.less(x, 0), lambda: tf.constant(-1)), (tf.less(x, 10), lambda: tf.constant(1))],
                default=lambda: tf.constant(99))
    with tf.Session() as sess:
        assert [sess.run(y, {x: v}) for v in (-5, 5, 50)] == [-1, 1, 99]


def test_while_loop_of_the_tf_docs():
    i = tf.constant(0)
    r = tf.while_loop(lambda i: tf.less(i, 10), lambda i: tf.add(i, 1), [i])
    assert isinstance(r, tf.Tensor) and tf.Session().run(r) == 10


def test_while_loop_with_several_variables_and_a_constant_condition():
    i0, total0 = tf.constant(0), tf.constant(0.0, tf.float64)
    i, total = tf.while_loop(lambda i, t: i < 5, lambda i, t: (i + 1, t + tf.cast(i, tf.float64) ** 2), (i0, total0))
    assert tf.Session().run([i, total]) == [5, 30.0]


def test_while_loop_on_a_fed_value_is_bounded_by_maximum_iterations():
    x = tf.placeholder(tf.float64, [])
    value, steps = tf.while_loop(lambda a, k: a < 100.0, lambda a, k: (a * 2.0, k + 1), (x, tf.constant(0)),
                                 maximum_iterations=20)
    [g] = tf.gradients(value, [x])
    with tf.Session() as sess:
        assert sess.run([value, steps, g], {x: 3.0}) == [192.0, 6, 64.0]
        assert sess.run([value, steps], {x: 500.0}) == [500.0, 0]


def test_while_loop_maximum_iterations_caps_a_static_loop():
    r = tf.while_loop(lambda i: i < 100, lambda i: i + 1, [tf.constant(0)], maximum_iterations=7)
    assert tf.Session().run(r) == 7


def test_while_loop_on_fed_values_without_a_bound_is_refused():
    x = tf.placeholder(tf.float64, [])
    with pytest.raises(tf.InvalidArgumentError, match="pass maximum_iterations="):
        tf.while_loop(lambda a: a < 100.0, lambda a: a * 2.0, [x])


def test_while_loop_body_must_keep_count_and_dtypes():
    with pytest.raises(tf.GraphError, match="as many values as loop_vars"):
        tf.while_loop(lambda i, j: i < 3, lambda i, j: i + 1, [tf.constant(0), tf.constant(1)])
    with pytest.raises(tf.GraphError, match="changed dtype from int32 to float32"):
        tf.while_loop(lambda i: i < 3, lambda i: tf.cast(i, tf.float32) + 1.0, [tf.constant(0)])


def test_matches_tensorflow():
    tf1 = pytest.importorskip("tensorflow").compat.v1

    def program(t):
        x = t.placeholder(t.float32, [])
        c = t.cond(x > 1.0, lambda: x * 3.0, lambda: x - 1.0)
        w = t.while_loop(lambda a, k: a < 50.0, lambda a, k: (a * 1.5, k + 1), (x, t.constant(0)),
                         maximum_iterations=30)
        k = t.case([(x < 0.0, lambda: t.constant(-1.0)), (x < 2.0, lambda: t.constant(1.0))],
                   default=lambda: t.constant(5.0))
        return x, [c, w[0], w[1], k, t.gradients(c, x)[0], t.gradients(w[0], x)[0]]
    with tf1.Graph().as_default():
        x, fetches = program(tf1)
        with tf1.Session() as sess:
            expected = [sess.run(fetches, {x: v}) for v in (0.5, 3.0, -2.0)]
    with tf.Graph().as_default():
        x, fetches = program(tf)
        with tf.Session() as sess:
            got = [sess.run(fetches, {x: v}) for v in (0.5, 3.0, -2.0)]
    np.testing.assert_allclose(np.array(got, dtype=float), np.array(expected, dtype=float), rtol=1e-6)
