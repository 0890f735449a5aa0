"""TF 1.x ops and functions the tutorials use: values against numpy, static shapes, gradients, batching, errors.

Ops with a registry entry are listed in COVERED_OPS; the composites (tensordot, diag, split, ...)
are checked the same way through the ops they are built from.
"""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine.testing import check_op

COVERED_OPS = {"TruncateDiv", "TruncateMod", "Cumsum", "Cumprod", "Where", "TopKV2", "InTopKV2", "UnsortedSegmentSum",
               "MatrixInverse", "MatrixDeterminant", "Print", "PrintV2", "PlaceholderWithDefault"}

R = np.random.default_rng(7)
M = R.standard_normal((3, 4))
SQ = R.standard_normal((3, 3)) + 3 * np.eye(3)
I = np.array([-7, 7, -6, 5], np.int64)
J = np.array([2, -2, 4, 3], np.int64)


def _cum(fn, x, axis=0, exclusive=False, reverse=False):
    x = np.flip(x, axis) if reverse else x
    out = fn(x, axis=axis)
    if exclusive:
        ident = 0 if fn is np.cumsum else 1
        out = np.concatenate([np.full_like(np.take(out, [0], axis), ident), np.delete(out, -1, axis)], axis)
    return np.flip(out, axis) if reverse else out


def case(id, build, args, reference, **kw):
    return pytest.param(build, args, reference, kw, id=id)


CASES = [
    case("TruncateDiv", tf.truncatediv, [I, J], lambda x, y: (np.trunc(x / y)).astype(np.int64)),
    case("TruncateMod", tf.truncatemod, [I, J], np.fmod),
    case("TruncateMod-float", tf.truncatemod, [M, np.full((3, 4), 0.7)], np.fmod, grad=False),
    case("Cumsum", lambda x: tf.cumsum(x, 1), [M], lambda x: np.cumsum(x, 1)),
    case("Cumsum-exclusive-reverse", lambda x: tf.cumsum(x, 0, exclusive=True, reverse=True), [M],
         lambda x: _cum(np.cumsum, x, 0, True, True)),
    case("Cumprod", lambda x: tf.cumprod(x, 1), [M], lambda x: np.cumprod(x, 1)),
    case("Cumprod-exclusive", lambda x: tf.cumprod(x, -1, exclusive=True), [M],
         lambda x: _cum(np.cumprod, x, 1, True)),
    case("TopKV2-values", lambda x: tf.nn.top_k(x, 2)[0], [M], lambda x: -np.sort(-x, 1)[:, :2]),
    case("TopKV2-indices", lambda x: tf.nn.top_k(x, 3)[1], [M], lambda x: np.argsort(-x, 1)[:, :3].astype(np.int32)),
    case("MatrixInverse", tf.matrix_inverse, [SQ], np.linalg.inv, rtol=1e-5),
    case("MatrixInverse-adjoint", lambda x: tf.matrix_inverse(x, adjoint=True), [SQ], lambda x: np.linalg.inv(x.T),
         rtol=1e-5),
    case("MatrixDeterminant", tf.matrix_determinant, [SQ], np.linalg.det, rtol=1e-5),
    case("PlaceholderWithDefault", lambda x: tf.placeholder_with_default(x, [None, 4]) * 2.0, [M], lambda x: 2 * x),
    # composites
    case("tensordot", lambda a, b: tf.tensordot(a, b, 1), [M, M.T], lambda a, b: np.tensordot(a, b, 1), batch=False),
    case("tensordot-axes", lambda a, b: tf.tensordot(a, b, [[0], [0]]), [M, M],
         lambda a, b: np.tensordot(a, b, [[0], [0]]), batch=False),
    case("reduce_logsumexp", lambda x: tf.reduce_logsumexp(x, 1), [M], lambda x: np.log(np.exp(x).sum(1))),
    case("reduce_logsumexp-keepdims", lambda x: tf.reduce_logsumexp(x, keepdims=True), [M * 300],
         lambda x: x.max() + np.log(np.exp(x - x.max()).sum(keepdims=True))),
    case("matrix_diag", tf.matrix_diag, [M], lambda x: np.stack([np.diag(r) for r in x])),
    case("matrix_diag_part", tf.matrix_diag_part, [SQ], np.diag),
    case("diag", tf.diag, [np.arange(1.0, 4.0)], np.diag, batch=False),
    case("diag_part", tf.diag_part, [SQ], np.diag, batch=False),
    case("trace", tf.trace, [SQ], np.trace),
    case("split", lambda x: tf.split(x, [1, -1], 1)[1], [M], lambda x: x[:, 1:], batch=False),
    case("clip_by_norm", lambda x: tf.clip_by_norm(x, 1.0), [M], lambda x: x / np.linalg.norm(x), batch=False),
    case("count_nonzero", lambda x: tf.count_nonzero(x, axis=1), [np.array([[0, 1, 2], [0, 0, 3]])],
         lambda x: np.count_nonzero(x, 1)),
    case("embedding_lookup", lambda p: tf.nn.embedding_lookup(p, [2, 0, 2]), [M], lambda p: p[[2, 0, 2]]),
    case("to_float", tf.to_float, [I], lambda x: x.astype(np.float32)),
    case("arg_max", lambda x: tf.arg_max(x, 1), [M], lambda x: x.argmax(1)),
    case("arg_min", lambda x: tf.arg_min(x, 0), [M], lambda x: x.argmin(0)),
]


@pytest.mark.parametrize("build, args, reference, kw", CASES)
def test_op_matches_numpy(build, args, reference, kw):
    check_op(build, args, reference, **kw)


@pytest.mark.parametrize("build, args, reference", [
    (lambda c: tf.where(c), [M > 0], lambda c: np.argwhere(c)),
    (lambda x: tf.boolean_mask(x, x > 0), [M], lambda x: x[x > 0]),
    (lambda x: tf.boolean_mask(x, x[:, 0] > 0), [M], lambda x: x[x[:, 0] > 0]),
    (lambda x, i: tf.unsorted_segment_sum(x, i, 3), [M, np.array([2, 0, 2])],
     lambda x, i: np.stack([x[i == s].sum(0) for s in range(3)])),
    (lambda x, i: tf.unsorted_segment_mean(x, i, 3), [M, np.array([2, 0, 2])],
     lambda x, i: np.stack([x[i == s].mean(0) if (i == s).any() else np.zeros(4) for s in range(3)])),
    (lambda x: tf.nn.in_top_k(x, np.array([0, 1, 2], np.int32), 2), [M],
     lambda x: np.array([(x[r] > x[r, t]).sum() < 2 for r, t in enumerate([0, 1, 2])])),
], ids=["where-one-arg", "boolean_mask-elements", "boolean_mask-rows", "unsorted_segment_sum",
        "unsorted_segment_mean", "in_top_k"])
def test_value_sized_ops_match_numpy(build, args, reference):
    check_op(build, args, reference, batch=False)


@pytest.mark.parametrize("build, shape, dtype", [
    (lambda: tf.where(tf.placeholder(tf.bool, [None, 3])), (None, 2), tf.int64),
    (lambda: tf.boolean_mask(tf.placeholder(tf.float32, [None, 3]), tf.placeholder(tf.bool, [None])), (None, 3),
     tf.float32),
    (lambda: tf.nn.top_k(tf.placeholder(tf.float32, [5, 7]), 3)[1], (5, 3), tf.int32),
    (lambda: tf.nn.in_top_k(tf.placeholder(tf.float32, [5, 7]), tf.placeholder(tf.int32, [5]), 1), (5,), tf.bool),
    (lambda: tf.unsorted_segment_sum(tf.placeholder(tf.float64, [None, 2]), tf.placeholder(tf.int32, [None]), 4),
     (4, 2), tf.float64),
    (lambda: tf.matrix_determinant(tf.placeholder(tf.float32, [6, 2, 2])), (6,), tf.float32),
    (lambda: tf.cumsum(tf.placeholder(tf.int32, [None, 3]), 1), (None, 3), tf.int32),
    (lambda: tf.placeholder_with_default(np.zeros((2, 3)), [None, 3]), (None, 3), tf.float64),
    (lambda: tf.tensordot(tf.placeholder(tf.float32, [None, 3, 4]), tf.placeholder(tf.float32, [4, 5]), 1),
     (None, 3, 5), tf.float32),
    (lambda: tf.eye(2, 3, batch_shape=[4]), (4, 2, 3), tf.float32),
    (lambda: tf.linspace(0.0, 1.0, 7), (7,), tf.float32),
    (lambda: tf.count_nonzero(tf.placeholder(tf.float32, [3])), (), tf.int64),
], ids=["where", "boolean_mask", "top_k", "in_top_k", "segment_sum", "det", "cumsum", "with_default", "tensordot",
        "eye", "linspace", "count_nonzero"])
def test_static_shape_and_dtype(build, shape, dtype):
    with tf.Graph().as_default():
        t = build()
    assert t.shape.as_list() == list(shape) and t.dtype is dtype


def test_placeholder_with_default_takes_a_fed_value():
    with tf.Graph().as_default():
        training = tf.placeholder_with_default(False, shape=(), name="training")
        with tf.Session() as sess:
            assert sess.run(training) == False and sess.run(training, {training: True}) == True  # noqa: E712


def test_top_k_breaks_ties_by_the_lower_index_and_routes_gradients_to_the_chosen_entries():
    with tf.Graph().as_default():
        x = tf.constant([[1.0, 3.0, 3.0, 0.0]])
        values, indices = tf.nn.top_k(x, 2)
        [g] = tf.gradients(tf.reduce_sum(values * [[10.0, 1.0]]), [x])
        with tf.Session() as sess:
            assert sess.run(indices).tolist() == [[1, 2]] and sess.run(g).tolist() == [[0.0, 10.0, 1.0, 0.0]]


def test_print_passes_its_input_through_and_prints_first_n_times(capsys):
    with tf.Graph().as_default():
        x = tf.constant([1, 2, 3, 4])
        y = tf.Print(x, [x, tf.shape(x)], "x is ", first_n=2, summarize=2)
        with tf.Session() as sess:
            for _ in range(3):
                assert sess.run(y).tolist() == [1, 2, 3, 4]
    assert capsys.readouterr().err == "x is [1 2...][4]\n" * 2


def test_print_has_the_gradient_of_identity():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        [g] = tf.gradients(tf.reduce_sum(tf.Print(x, [x]) * 3.0), [x])
        assert tf.Session().run(g).tolist() == [3.0, 3.0]


def test_tf_print_prints_tensors_and_python_values_when_run(capsys):
    import sys
    with tf.Graph().as_default():
        op = tf.print("loss:", tf.constant(0.5), {"step": 1}, output_stream=sys.stdout)
        tf.Session().run(op)
    assert capsys.readouterr().out == "loss: 0.5 {'step': 1}\n"


def test_clip_by_global_norm_scales_all_tensors_together():
    a, b = np.array([3.0, 0.0]), np.array([[4.0]])
    with tf.Graph().as_default():
        (ca, none, cb), norm = tf.clip_by_global_norm([tf.constant(a), None, tf.constant(b)], 1.0)
        got = tf.Session().run([ca, cb, norm])
    assert none is None and got[2] == 5.0
    np.testing.assert_allclose(got[0], a / 5) and np.testing.assert_allclose(got[1], b / 5)


def test_linspace_includes_both_ends():
    with tf.Graph().as_default():
        np.testing.assert_allclose(tf.Session().run(tf.lin_space(1.0, 2.0, 5)), np.linspace(1, 2, 5))


@pytest.mark.parametrize("build, error, match", [
    (lambda: tf.nn.top_k(tf.zeros([2, 3]), 4), tf.ShapeError, "at least k=4 columns"),
    (lambda: tf.nn.in_top_k(tf.zeros([2]), tf.zeros([2], tf.int32), 1), tf.ShapeError, r"\[batch, classes\]"),
    (lambda: tf.matrix_inverse(tf.zeros([2, 3])), tf.ShapeError, "square matrix"),
    (lambda: tf.matrix_inverse(tf.zeros([2, 2], tf.int32)), tf.DTypeError, "floating"),
    (lambda: tf.boolean_mask(tf.zeros([3]), tf.zeros([3])), tf.DTypeError, "mask must be bool"),
    (lambda: tf.split(tf.zeros([5, 2]), 2), tf.ShapeError, "5 elements can't be cut into 2 equal parts"),
    (lambda: tf.tensordot(tf.zeros([2, 3]), tf.zeros([4, 2]), 1), tf.ShapeError, "do not match"),
    (lambda: tf.unsorted_segment_sum(tf.zeros([3]), tf.zeros([3]), 2), tf.DTypeError, "segment_ids must be integer"),
    (lambda: tf.placeholder_with_default(tf.zeros([2]), [3]), tf.ShapeError, r"\(3,\) and \(2,\) are incompatible"),
    (lambda: tf.nn.embedding_lookup([tf.zeros([2, 2]), tf.zeros([2, 2])], [0]), ValueError, "sharded"),
], ids=["top_k-too-few", "in_top_k-vector", "inverse-not-square", "inverse-int", "mask-not-bool", "split-uneven",
        "tensordot-mismatch", "segment-float-ids", "default-shape", "embedding-sharded"])
def test_build_time_errors(build, error, match):
    with tf.Graph().as_default(), pytest.raises(error, match=match):
        build()


@pytest.mark.parametrize("build, match", [
    (lambda: tf.matrix_inverse(tf.zeros([2, 2])), "not invertible"),
    (lambda: tf.truncatediv(tf.constant([1]), tf.constant([0])), "division by zero"),
    (lambda: tf.unsorted_segment_sum(tf.zeros([2]), tf.constant([0, 5]), 2), "< num_segments=2"),
    (lambda: tf.nn.in_top_k(tf.zeros([1, 2]), tf.constant([3]), 1), r"class index in \[0, 2\)"),
], ids=["singular", "int-div-zero", "segment-out-of-range", "in_top_k-bad-target"])
def test_run_time_errors(build, match):
    with tf.Graph().as_default():
        t = build()
        with tf.Session() as sess, pytest.raises(tf.InvalidArgumentError, match=match):
            sess.run(t)


def test_matches_tensorflow():
    tf1 = pytest.importorskip("tensorflow").compat.v1
    x = R.standard_normal((4, 5)).astype(np.float32)

    def program(t):
        v = t.constant(x)
        return [t.truncatediv(t.constant([-7, 7]), t.constant([2, -2])), t.truncatemod(t.constant([-7, 7]),
                                                                                         t.constant([2, -2])),
                t.cumsum(v, 1, exclusive=True, reverse=True), t.cumprod(v, 0), t.nn.top_k(v, 3)[1],
                t.nn.in_top_k(v, t.constant([0, 1, 2, 3]), 2), t.where(v > 0), t.boolean_mask(v, v[:, 0] > 0),
                t.unsorted_segment_sum(v, t.constant([1, 0, 1, 1]), 3), t.reduce_logsumexp(v, 1),
                t.count_nonzero(v > 0, 0), t.tensordot(v, t.transpose(v), 1), t.diag(v[0]),
                t.matrix_diag_part(t.tensordot(v, t.transpose(v), 1)), t.linspace(0.0, 1.0, 4)]
    with tf1.Graph().as_default():
        expected = tf1.Session().run(program(tf1))
    with tf.Graph().as_default():
        got = tf.Session().run(program(tf))
    for e, g in zip(expected, got):
        assert e.shape == g.shape
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


def test_softmax_cross_entropy_casts_labels_to_the_logits_dtype_as_tensorflow():
    with tf.Graph().as_default():
        logits = tf.constant([[1.0, 2.0]])
        loss = tf.nn.softmax_cross_entropy_with_logits(labels=tf.constant([[0, 1]]), logits=logits)
        loss_v2 = tf.nn.softmax_cross_entropy_with_logits_v2(labels=tf.constant([[0.0, 1.0]], tf.float64),
                                                             logits=logits)
        with tf.Session() as sess:
            got, got_v2 = sess.run([loss, loss_v2])
    np.testing.assert_allclose(got, [np.log1p(np.exp(-1.0))], rtol=1e-6)
    np.testing.assert_array_equal(got, got_v2)
