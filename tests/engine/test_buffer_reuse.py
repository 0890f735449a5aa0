"""Buffer reuse (engine.buffer_reuse): ufunc steps write into dead input buffers, never into
anything a caller, a constant, a variable or an alias still holds."""
from __future__ import annotations

import numpy as np

import engine as tf
from engine.buffer_reuse import REUSE_BYTES, reusable_slots, reusing

# -- buffer reuse -----------------------------------------------------------------------------
BIG = np.random.default_rng(1).uniform(0.5, 1.5, 60_000)  # above the size at which buffers are reused


def test_buffer_reuse_keeps_fetched_intermediates():
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float64, [None])
        a = x * x
        b = a + x
        c = (b - x) / x
    got_a, got_c = tf.Session(graph).run([a, c], {x: BIG})
    np.testing.assert_array_equal(got_a, BIG * BIG)
    np.testing.assert_allclose(got_c, BIG)


def test_buffer_reuse_leaves_constants_and_variables_alone():
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float64, [None])
        c = tf.constant(BIG)
        v = tf.Variable(BIG)
        y = ((c + x) * v - x) * 2.0
    sess = tf.Session(graph)
    sess.run(v.initializer)
    expected = ((BIG + BIG) * BIG - BIG) * 2.0
    for _ in range(2):
        np.testing.assert_array_equal(sess.run(y, {x: BIG}), expected)
    np.testing.assert_array_equal(sess.run(c), BIG)
    np.testing.assert_array_equal(sess.run(v), BIG)


def test_buffer_reuse_never_writes_into_a_smaller_broadcast_input():
    with tf.Graph().as_default() as graph:
        row = tf.placeholder(tf.float64, [1, None])
        col = tf.placeholder(tf.float64, [None, 1])
        y = (row * 2.0) + (col * 2.0)
    r, c = BIG[None, :1000], BIG[:100, None]
    np.testing.assert_array_equal(tf.Session(graph).run(y, {row: r, col: c}), r * 2.0 + c * 2.0)


def test_buffer_reuse_with_aliasing_readers():
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float64, [None])
        a = x * 2.0
        alias = tf.identity(a)
        y = a + 1.0
    got_alias, got_y = tf.Session(graph).run([alias, y], {x: BIG})
    np.testing.assert_array_equal(got_alias, BIG * 2.0)
    np.testing.assert_array_equal(got_y, BIG * 2.0 + 1.0)


def test_dead_large_buffers_are_reused():
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float64, [None])
        y = (x * x + x) * x
    sess = tf.Session(graph)
    np.testing.assert_allclose(sess.run(y, {x: BIG}), (BIG * BIG + BIG) * BIG)
    plan, = sess._plans.values()
    assert [isinstance(step.kernel, np.ufunc) for step in plan.steps] == [True, False, False]


def test_reusing_writes_into_the_buffer_only_when_large_and_of_the_result_shape():
    add = reusing(np.add, 1)
    big, small = np.ones(REUSE_BYTES // 8), np.ones(8)
    assert add(big, big.copy()) is not big  # position 1 is the buffer given up, not position 0
    kept = np.ones(REUSE_BYTES // 8)
    assert add(big, kept) is kept
    assert add(small, small.copy()) is not small
    row = np.ones((1, REUSE_BYTES // 8))
    assert add(np.ones((2, 1)), row).shape == (2, REUSE_BYTES // 8)  # broadcast result: a new array


def test_only_outputs_of_ufunc_steps_read_only_by_ufunc_steps_are_reusable():
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float64, [None])
        a = x * 2.0
        b = a + 1.0
        tf.identity(b)
    ops = [op for op in graph.get_operations() if op.type != "Placeholder"]
    slot_of = {t: i for i, t in enumerate([x] + [t for op in ops for t in op.outputs])}
    assert reusable_slots(ops, slot_of, keep={slot_of[x]}) == {slot_of[a]}  # b is read by Identity
