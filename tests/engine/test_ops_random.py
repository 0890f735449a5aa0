"""Random ops and TF 1.x seeding: distributions, static shapes, reproducibility
rules (same program same numbers, new numbers each run, other seeds other
numbers), GraphDef shipping, gradients through mean/stddev/bounds, errors."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine.ops import random as rnd
from engine.random_seed import DEFAULT_GRAPH_SEED, get_seed, set_random_seed

COVERED_OPS = {"RandomStandardNormal", "RandomUniform", "TruncatedNormal", "RandomUniformInt", "RandomShuffle",
               "Multinomial", "RandomGamma"}

BUILDERS = {
    "normal": lambda seed: rnd.random_normal([3, 4], seed=seed),
    "uniform": lambda seed: rnd.random_uniform([7], seed=seed),
    "uniform-int": lambda seed: rnd.random_uniform([7], 0, 1000, dtype=tf.int64, seed=seed),
    "truncated": lambda seed: rnd.truncated_normal([9], seed=seed),
    "shuffle": lambda seed: rnd.random_shuffle(tf.range(20), seed=seed),
    "multinomial": lambda seed: rnd.multinomial(tf.zeros([2, 10]), 8, seed=seed),
    "gamma": lambda seed: rnd.random_gamma([6], 2.0, seed=seed),
}


def _draws(build, seed=None, graph_seed=None, runs=2, sessions=1):
    """Values of the op built in a fresh graph: `runs` runs in each of `sessions` new sessions."""
    graph = tf.Graph()
    with graph.as_default():
        set_random_seed(graph_seed)
        t = build(seed)
    out = []
    for _ in range(sessions):
        with tf.Session(graph) as sess:
            out.append([sess.run(t) for _ in range(runs)])
    return out


@pytest.mark.parametrize("name", BUILDERS)
def test_the_same_program_gives_the_same_numbers_in_every_new_session(name):
    first, second = _draws(BUILDERS[name], seed=5, sessions=2)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", BUILDERS)
def test_each_run_draws_new_numbers(name):
    [(a, b)] = _draws(BUILDERS[name], seed=5)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("name", BUILDERS)
def test_another_seed_gives_other_numbers(name):
    [(a, _)] = _draws(BUILDERS[name], seed=5)
    [(b, _)] = _draws(BUILDERS[name], seed=6)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("name", BUILDERS)
def test_a_graph_level_seed_alone_makes_a_program_reproducible(name):
    first = _draws(BUILDERS[name], graph_seed=11)
    second = _draws(BUILDERS[name], graph_seed=11)
    np.testing.assert_array_equal(first, second)


def test_without_any_seed_numbers_differ_between_sessions():
    first, second = _draws(BUILDERS["normal"], runs=1, sessions=2)
    assert not np.array_equal(first, second)


def test_two_unseeded_ops_under_a_graph_seed_draw_different_streams():
    with tf.Graph().as_default():
        set_random_seed(1)
        a, b = rnd.random_normal([5]), rnd.random_normal([5])
        with tf.Session() as sess:
            va, vb = sess.run([a, b])
    assert not np.array_equal(va, vb)


def test_a_shipped_graph_def_draws_the_same_numbers():
    graph = tf.Graph()
    with graph.as_default():
        set_random_seed(2)
        rnd.random_uniform([4], -1.0, 1.0, name="u")
        rnd.random_shuffle(np.arange(10), name="s")
    wire = graph.as_graph_def().to_json()
    values = []
    for g in (graph, tf.Graph()):
        with g.as_default():
            if g is not graph:
                tf.import_graph_def(tf.GraphDef.from_json(wire), name="")
            with tf.Session(g) as sess:
                values.append(sess.run(["u:0", "s:0"]))
    for a, b in zip(*values):
        np.testing.assert_array_equal(a, b)


def test_seeds_are_attrs_of_the_sampling_op():
    with tf.Graph().as_default() as g:
        set_random_seed(3)
        rnd.random_normal([2], seed=9)
        op = g.get_operation_by_name("random_normal/RandomStandardNormal")
    assert (op.get_attr("seed"), op.get_attr("seed2")) == (3, 9)


# -- TF 1.x get_seed rules --------------------------------------------------------------------
def test_get_seed_with_both_seeds_uses_both():
    with tf.Graph().as_default():
        set_random_seed(4)
        assert get_seed(8) == (4, 8)


def test_get_seed_with_only_the_op_seed_uses_the_default_graph_seed():
    with tf.Graph().as_default():
        assert get_seed(8) == (DEFAULT_GRAPH_SEED, 8)


def test_get_seed_with_only_the_graph_seed_uses_the_last_op_id():
    with tf.Graph().as_default() as g:
        set_random_seed(4)
        tf.constant(1.0)
        tf.constant(2.0)
        assert get_seed(None) == (4, len(g.get_operations()))


def test_get_seed_without_seeds_is_nondeterministic():
    with tf.Graph().as_default():
        assert get_seed(None) == (None, None)


def test_get_seed_never_returns_zero_zero():
    with tf.Graph().as_default():
        set_random_seed(0)
        assert get_seed(0) == (0, 2 ** 31 - 1)


def test_seeds_are_truncated_to_int32():
    with tf.Graph().as_default():
        set_random_seed(2 ** 31 + 5)
        assert get_seed(2 ** 40) == (6, 2 ** 40 % (2 ** 31 - 1))


def test_get_seed_matches_tensorflow():
    tf1 = pytest.importorskip("tensorflow").compat.v1
    for graph_seed, op_seed in [(4, 8), (None, 8), (None, None), (0, 0), (2 ** 31 + 5, 2 ** 40)]:
        with tf1.Graph().as_default():
            tf1.set_random_seed(graph_seed)
            expected = tf1.get_seed(op_seed)
        with tf.Graph().as_default():
            set_random_seed(graph_seed)
            assert get_seed(op_seed) == expected


def test_set_random_seed_refuses_a_non_int():
    with pytest.raises(tf.InvalidArgumentError, match="int or None"):
        set_random_seed(1.5)


# -- distributions --------------------------------------------------------------------------
def _value(t):
    with tf.Session(t.graph) as sess:
        return sess.run(t)


def test_random_normal_has_the_asked_mean_and_stddev():
    with tf.Graph().as_default():
        x = _value(rnd.random_normal([20000], mean=3.0, stddev=2.0, seed=1))
    assert abs(x.mean() - 3.0) < 0.05 and abs(x.std() - 2.0) < 0.05


def test_truncated_normal_stays_within_two_stddev():
    with tf.Graph().as_default():
        x = _value(rnd.truncated_normal([20000], mean=1.0, stddev=0.5, seed=1, dtype=tf.float64))
    assert np.abs(x - 1.0).max() < 1.0
    assert abs(x.std() - 0.5 * 0.8796) < 0.01  # the stddev of a normal truncated at ±2 sigma


def test_random_uniform_floats_lie_in_the_half_open_range():
    with tf.Graph().as_default():
        x = _value(rnd.random_uniform([20000], -2.0, 3.0, seed=1))
    assert x.min() >= -2.0 and x.max() < 3.0 and abs(x.mean() - 0.5) < 0.05


def test_random_uniform_ints_cover_minval_up_to_maxval_exclusive():
    with tf.Graph().as_default():
        x = _value(rnd.random_uniform([5000], 3, 7, dtype=tf.int32, seed=1))
    assert x.dtype == np.int32 and set(np.unique(x)) == {3, 4, 5, 6}


def test_random_shuffle_permutes_the_first_dimension_only():
    m = np.arange(12.0).reshape(6, 2)
    with tf.Graph().as_default():
        x = _value(rnd.random_shuffle(m, seed=1))
    assert sorted(map(tuple, x)) == sorted(map(tuple, m))
    assert not np.array_equal(x, m)


def test_multinomial_frequencies_follow_the_softmax_of_the_logits():
    p = np.array([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0]])
    logits = np.array([np.log(p[0]), [0.0, -np.inf, -np.inf]])
    with tf.Graph().as_default():
        x = _value(rnd.multinomial(logits, 20000, seed=1))
    assert x.dtype == np.int64 and x.shape == (2, 20000)
    np.testing.assert_allclose(np.bincount(x[0], minlength=3) / 20000, p[0], atol=0.015)
    assert (x[1] == 0).all()  # zero-probability classes are never drawn


def test_categorical_takes_its_output_dtype_as_dtype():
    with tf.Graph().as_default():
        x = _value(rnd.categorical([[0.0, 0.0]], 4, dtype=tf.int32, seed=1))
    assert x.dtype == np.int32 and x.shape == (1, 4)


def test_random_gamma_has_mean_alpha_over_beta():
    with tf.Graph().as_default():
        x = _value(rnd.random_gamma([20000], [1.0, 4.0], beta=2.0, seed=1, dtype=tf.float64))
    assert x.shape == (20000, 2)
    np.testing.assert_allclose(x.mean(axis=0), [0.5, 2.0], rtol=0.03)


# -- static shapes, dtypes and names ------------------------------------------------------------
@pytest.mark.parametrize("build, shape, dtype", [
    (lambda: rnd.random_normal([2, 3]), (2, 3), tf.float32),
    (lambda: rnd.random_normal(tf.constant([4, 1]), dtype=tf.float64), (4, 1), tf.float64),
    (lambda: rnd.random_normal(tf.placeholder(tf.int32, [2])), (None, None), tf.float32),
    (lambda: rnd.random_uniform([5], maxval=9, dtype=tf.int64), (5,), tf.int64),
    (lambda: rnd.truncated_normal((3,)), (3,), tf.float32),
    (lambda: rnd.random_shuffle(tf.placeholder(tf.float64, [None, 3])), (None, 3), tf.float64),
    (lambda: rnd.multinomial(tf.placeholder(tf.float32, [4, 3]), 2), (4, None), tf.int64),
    (lambda: rnd.random_gamma([2], tf.placeholder(tf.float32, [3, 1])), (2, 3, 1), tf.float32),
], ids=["normal", "normal-const-shape", "normal-fed-shape", "uniform-int", "truncated", "shuffle", "multinomial",
        "gamma"])
def test_static_shape_and_dtype(build, shape, dtype):
    with tf.Graph().as_default():
        t = build()
    assert t.shape.as_list() == list(shape) and t.dtype is dtype


def test_builders_are_named_as_in_tensorflow():
    with tf.Graph().as_default():
        names = [rnd.random_normal([1]).name, rnd.random_normal([1]).name, rnd.random_uniform([1], name="u").name,
                 rnd.truncated_normal([1]).name]
    assert names == ["random_normal:0", "random_normal_1:0", "u:0", "truncated_normal:0"]


def test_a_fed_shape_draws_that_many_samples():
    with tf.Graph().as_default():
        n = tf.placeholder(tf.int32, [])
        x = rnd.random_normal(tf.stack([n, 2]), seed=1)
        with tf.Session() as sess:
            assert sess.run(x, {n: 3}).shape == (3, 2)


# -- gradients ------------------------------------------------------------------------------------
def test_gradients_reach_mean_and_stddev_but_not_the_sample():
    with tf.Graph().as_default():
        mean, std = tf.constant(1.0), tf.constant(2.0)
        x = rnd.random_normal([50], mean=mean, stddev=std, seed=1)
        dmean, dstd = tf.gradients(tf.reduce_sum(x), [mean, std])
        with tf.Session() as sess:
            xv, gm, gs = sess.run([x, dmean, dstd])
    assert gm == pytest.approx(50.0)
    assert gs == pytest.approx(((xv - 1.0) / 2.0).sum(), rel=1e-5)


def test_gradients_reach_the_uniform_bounds():
    with tf.Graph().as_default():
        low, high = tf.constant(-1.0), tf.constant(3.0)
        x = rnd.random_uniform([10], low, high, seed=1)
        dlow, dhigh = tf.gradients(tf.reduce_sum(x), [low, high])
        with tf.Session() as sess:
            xv, gl, gh = sess.run([x, dlow, dhigh])
    u = (xv + 1.0) / 4.0
    assert gh == pytest.approx(u.sum(), rel=1e-5) and gl == pytest.approx((1 - u).sum(), rel=1e-5)


def test_the_gamma_gradient_wrt_alpha_is_refused_by_name():
    with tf.Graph().as_default():
        alpha = tf.constant([1.0])
        with pytest.raises(tf.GradientError, match="RandomGamma 'random_gamma/RandomGamma'.*stop_gradient"):
            tf.gradients(rnd.random_gamma([3], alpha), [alpha])


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("build, error, match", [
    (lambda: rnd.random_normal([2], dtype=tf.int32), tf.DTypeError, "floating"),
    (lambda: rnd.random_uniform([2], dtype=tf.int32), tf.InvalidArgumentError, "needs maxval"),
    (lambda: rnd.random_uniform([2], 0, 5, dtype=tf.bool), tf.DTypeError, "int32 or int64"),
    (lambda: rnd.random_normal(tf.placeholder(tf.float32, [2])), tf.DTypeError, "shape must be integer"),
    (lambda: rnd.multinomial(tf.zeros([3]), 2), tf.ShapeError, r"Multinomial 'Multinomial'.*matrix"),
], ids=["normal-int-dtype", "int-without-maxval", "uniform-bool", "float-shape", "multinomial-vector"])
def test_build_time_errors(build, error, match):
    with tf.Graph().as_default(), pytest.raises(error, match=match):
        build()


@pytest.mark.parametrize("build, match", [
    (lambda: rnd.random_uniform([2], 5, 5, dtype=tf.int32), "minval < maxval"),
    (lambda: rnd.random_gamma([2], [-1.0]), "alpha > 0"),
    (lambda: rnd.multinomial(tf.zeros([2, 0]), 3), "at least one class"),
], ids=["empty-int-range", "negative-alpha", "no-classes"])
def test_run_time_errors(build, match):
    with tf.Graph().as_default():
        t = build()
        with tf.Session() as sess, pytest.raises(tf.InvalidArgumentError, match=match):
            sess.run(t)


def test_a_random_op_cannot_run_per_row_on_a_batched_feed():
    with tf.Graph().as_default():
        n = tf.placeholder(tf.int32, [1])
        x = rnd.random_normal(n, seed=1)
        with tf.Session() as sess, pytest.raises(tf.InvalidArgumentError, match="changes state"):
            sess.run_batched(x, {n: np.array([[2], [2]], np.int32)})


def test_reset_kernel_state_restarts_the_streams_from_their_seeds():
    with tf.Graph().as_default():
        x = rnd.random_normal([3], seed=2)
        with tf.Session() as sess:
            first = sess.run(x)
            sess.run(x)
            sess.reset_kernel_state()
            np.testing.assert_array_equal(sess.run(x), first)


@pytest.mark.parametrize("name", BUILDERS)
def test_another_stream_key_draws_other_numbers_from_the_same_seeds(name):
    graph = tf.Graph()
    with graph.as_default():
        t = BUILDERS[name](5)
    with tf.Session(graph) as sess:
        own = sess.run(t)
        sess.reset_kernel_state((1,))
        one = sess.run(t)
        sess.reset_kernel_state((2,))
        two = sess.run(t)
        sess.reset_kernel_state((1,))
        np.testing.assert_array_equal(sess.run(t), one)  # a key is a stream: restarting it redraws the same
    assert not np.array_equal(one, own) and not np.array_equal(one, two)


def test_the_empty_stream_key_is_the_sessions_own_stream():
    with tf.Graph().as_default():
        x = rnd.random_uniform([4], seed=3)
        fresh = tf.Session().run(x)
        with tf.Session() as sess:
            sess.reset_kernel_state((7, 1))
            sess.run(x)
            sess.reset_kernel_state(())
            np.testing.assert_array_equal(sess.run(x), fresh)


def test_partition_streams_keep_partition_0_on_the_sessions_own_and_key_the_others():
    from engine.random_seed import partition_stream
    assert partition_stream(None) == partition_stream(0) == ()
    assert [partition_stream(p) for p in (1, 2)] == [(1,), (2,)]


def test_a_random_op_that_reads_no_row_is_refused_per_row_instead_of_repeating_one_draw():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [], name="x")
        z = x + rnd.random_uniform([], seed=1, dtype=tf.float64)
        sess = tf.Session()
        with pytest.raises(tf.InvalidArgumentError, match="the same numbers in every row"):
            sess.run_batched(z, {x: np.zeros(4)})
        assert 0.0 <= sess.run(z, {x: 0.0}) < 1.0  # run as a whole graph, it draws as before
