"""tf.nn convolution and pooling: conv2d, its two gradient ops (conv2d_transpose),
bias_add, max_pool / avg_pool and their gradients.

Values against plain-loop references (one loop over every output pixel and
filter tap, the definition), against TensorFlow's own values (a stored .npz
made by tests/engine/data/make_conv_reference.py, and live when TensorFlow
is installed), gradients by finite differences over every padding / stride
/ dilation combination, batching rules and the build-time errors.
"""
from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest

import engine as tf
from engine.testing import check_grads, check_op

COVERED_OPS = {"Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "BiasAdd", "MaxPool", "MaxPoolGrad",
               "MaxPoolGradGrad", "AvgPool", "AvgPoolGrad"}

RNG = np.random.default_rng(13)
X = RNG.standard_normal((2, 5, 6, 2))
F = RNG.standard_normal((3, 2, 2, 3))
DISTINCT = RNG.permutation(X.size).reshape(X.shape) / 7.0  # no ties inside a pooling window
REFERENCE = Path(__file__).resolve().parent / "data" / "conv_reference.npz"

PADDINGS = ["SAME", "VALID"]
STRIDES = [(1, 1), (2, 3)]
DILATIONS = [(1, 1), (2, 1)]
GEOMETRIES = list(itertools.product(PADDINGS, STRIDES, DILATIONS))


# -- plain-loop references: the definitions, one tap at a time --------------------------------
def _taps(size, window, strides, dilations, padding):
    """(output pixel, tap, input pixel) for every tap that lands inside the input, TensorFlow's padding."""
    spans = [(k - 1) * d + 1 for k, d in zip(window, dilations)]
    if padding == "SAME":
        out = [-(-n // s) for n, s in zip(size, strides)]
        before = [max((o - 1) * s + e - n, 0) // 2 for o, s, e, n in zip(out, strides, spans, size)]
    else:
        out, before = [-(-(n - e + 1) // s) for n, e, s in zip(size, spans, strides)], [0, 0]
    for i, j, a, b in itertools.product(range(out[0]), range(out[1]), range(window[0]), range(window[1])):
        r, c = i * strides[0] + a * dilations[0] - before[0], j * strides[1] + b * dilations[1] - before[1]
        if 0 <= r < size[0] and 0 <= c < size[1]:
            yield (i, j), (a, b), (r, c), tuple(out)


def _out_size(x_shape, window, strides, dilations, padding):
    return next(_taps(x_shape[1:3], window, strides, dilations, padding))[3]


def loop_conv2d(x, f, strides=(1, 1), dilations=(1, 1), padding="SAME"):
    out = np.zeros((x.shape[0],) + _out_size(x.shape, f.shape[:2], strides, dilations, padding) + f.shape[3:])
    for o, t, p, _ in _taps(x.shape[1:3], f.shape[:2], strides, dilations, padding):
        out[:, o[0], o[1]] += x[:, p[0], p[1]] @ f[t]
    return out


def loop_conv2d_transpose(sizes, f, dy, strides=(1, 1), dilations=(1, 1), padding="SAME"):
    dx = np.zeros(sizes)
    for o, t, p, _ in _taps(sizes[1:3], f.shape[:2], strides, dilations, padding):
        dx[:, p[0], p[1]] += dy[:, o[0], o[1]] @ f[t].T
    return dx


def loop_conv2d_filter_grad(x, sizes, dy, strides=(1, 1), dilations=(1, 1), padding="SAME"):
    df = np.zeros(sizes)
    for o, t, p, _ in _taps(x.shape[1:3], sizes[:2], strides, dilations, padding):
        df[t] += x[:, p[0], p[1]].T @ dy[:, o[0], o[1]]
    return df


def loop_pool(x, ksize, strides, padding, reduce):
    """`reduce` over the input pixels of each window (padding never counts)."""
    out = _out_size(x.shape, ksize, strides, (1, 1), padding)
    members = {}
    for o, _, p, _ in _taps(x.shape[1:3], ksize, strides, (1, 1), padding):
        members.setdefault(o, []).append(x[:, p[0], p[1]])
    result = np.zeros((x.shape[0],) + out + x.shape[3:], x.dtype)
    for (i, j), values in members.items():
        result[:, i, j] = reduce(np.stack(values), axis=0)
    return result


def quad(pair):
    return [1, *pair, 1]


# -- values, batching and gradients against the loops ------------------------------------------
def conv_case(padding, strides, dilations):
    return pytest.param(lambda x, f: tf.nn.conv2d(x, f, quad(strides), padding, dilations=quad(dilations)), [X, F],
                        lambda x, f: loop_conv2d(x, f, strides, dilations, padding),
                        {"grad_order": 2 if strides == (1, 1) else 1},
                        id=f"Conv2D-{padding}-s{strides[0]}{strides[1]}-d{dilations[0]}{dilations[1]}")


def transpose_case(padding, strides, dilations):
    dy = RNG.standard_normal((2,) + _out_size(X.shape, F.shape[:2], strides, dilations, padding) + (3,))
    return pytest.param(lambda f, g: tf.nn.conv2d_transpose(g, f, list(X.shape), quad(strides), padding,
                                                            dilations=quad(dilations)), [F, dy],
                        lambda f, g: loop_conv2d_transpose(X.shape, f, g, strides, dilations, padding), {},
                        id=f"Conv2DBackpropInput-{padding}-s{strides[0]}{strides[1]}-d{dilations[0]}{dilations[1]}")


def filter_case(padding, strides, dilations):
    dy = RNG.standard_normal((2,) + _out_size(X.shape, F.shape[:2], strides, dilations, padding) + (3,))
    return pytest.param(lambda x, g: tf.nn.conv2d_backprop_filter(x, list(F.shape), g, quad(strides), padding,
                                                                  dilations=quad(dilations)), [X, dy],
                        lambda x, g: loop_conv2d_filter_grad(x, F.shape, g, strides, dilations, padding), {},
                        id=f"Conv2DBackpropFilter-{padding}-s{strides[0]}{strides[1]}-d{dilations[0]}{dilations[1]}")


def pool_case(op, reduce, padding, ksize, strides, x=DISTINCT):
    return pytest.param(lambda v: op(v, quad(ksize), quad(strides), padding), [x],
                        lambda v: loop_pool(v, ksize, strides, padding, reduce), {"grad_order": 2},
                        id=f"{op.__name__}-{padding}-k{ksize[0]}{ksize[1]}-s{strides[0]}{strides[1]}")


POOLS = list(itertools.product(PADDINGS, [(2, 2), (3, 2)], [(1, 1), (2, 2)]))
CASES = ([conv_case(*g) for g in GEOMETRIES] + [transpose_case(*g) for g in GEOMETRIES]
         + [filter_case(*g) for g in GEOMETRIES]
         + [pool_case(tf.nn.max_pool, np.max, *p) for p in POOLS]
         + [pool_case(tf.nn.avg_pool, np.mean, *p, x=X) for p in POOLS]
         + [pytest.param(tf.nn.bias_add, [X, RNG.standard_normal(2)], np.add, {"grad_order": 2}, id="BiasAdd"),
            pytest.param(lambda x, b: tf.nn.bias_add(x, b), [X[0, 0], RNG.standard_normal(2)], np.add, {},
                         id="BiasAdd-rank2")])


@pytest.mark.parametrize("build, args, reference, kw", CASES)
def test_op_matches_loop_reference(build, args, reference, kw):
    check_op(build, args, reference, **kw)


def loop_max_pool_grad(x, dy, ksize, strides, padding):
    """dy of each window added at the first maximum among its input pixels."""
    dx, best = np.zeros(x.shape), {}
    for o, _, p, _ in _taps(x.shape[1:3], ksize, strides, (1, 1), padding):
        for n, c in np.ndindex(x.shape[0], x.shape[3]):
            if (o, n, c) not in best or x[n, p[0], p[1], c] > x[(n,) + best[o, n, c] + (c,)]:
                best[o, n, c] = p
    for (o, n, c), p in best.items():
        dx[n, p[0], p[1], c] += dy[n, o[0], o[1], c]
    return dx


def loop_avg_pool_grad(sizes, dy, ksize, strides, padding):
    """dy of each window shared evenly by its input pixels."""
    taps = list(_taps(sizes[1:3], ksize, strides, (1, 1), padding))
    count = {o: sum(t[0] == o for t in taps) for o, *_ in taps}
    dx = np.zeros(sizes)
    for o, _, p, _ in taps:
        dx[:, p[0], p[1]] += dy[:, o[0], o[1]] / count[o]
    return dx


def pool_grad_case(padding, ksize, strides):
    dy = RNG.standard_normal((2,) + _out_size(X.shape, ksize, strides, (1, 1), padding) + (2,))
    args = quad(ksize), quad(strides), padding
    return [pytest.param(lambda x, g: tf.gradients(tf.nn.max_pool(x, *args), x, g)[0], [DISTINCT, dy],
                         lambda x, g: loop_max_pool_grad(x, g, ksize, strides, padding),
                         id=f"MaxPoolGrad-{padding}-k{ksize[0]}{ksize[1]}-s{strides[0]}{strides[1]}"),
            pytest.param(lambda g: _avg_pool_grad(g, args), [dy],
                         lambda g: loop_avg_pool_grad(X.shape, g, ksize, strides, padding),
                         id=f"AvgPoolGrad-{padding}-k{ksize[0]}{ksize[1]}-s{strides[0]}{strides[1]}")]


def _avg_pool_grad(g, args):
    x = tf.placeholder(g.dtype, X.shape)
    return tf.gradients(tf.nn.avg_pool(x, *args), x, g)[0]


@pytest.mark.parametrize("build, args, reference", [c for p in [("SAME", (3, 2), (2, 2)), ("VALID", (2, 2), (1, 1))]
                                                     for c in pool_grad_case(*p)])
def test_pool_gradient_ops_match_loop_reference(build, args, reference):
    """The gradient ops as ops of their own: values, batching, and their gradients in turn
    (MaxPoolGrad's in x is zero away from ties, which the differences confirm)."""
    check_op(build, args, reference)
    check_grads(build, args, order=2, wrt=[len(args) - 1])


# -- TensorFlow's own values ----------------------------------------------------------------
def _reference_cases():
    with np.load(REFERENCE) as data:
        arrays = {key: data[key] for key in data.files}
    cases = {}
    for key, value in arrays.items():
        case, name = key.split("/")
        cases.setdefault(case, {})[name] = value
    return cases


def _geometry(case):
    """"conv2d-SAME-s22-d11" -> ("conv2d", "SAME", (2, 2), (1, 1))."""
    op, padding, a, b = case.split("-")
    return op, padding, (int(a[1]), int(a[2])), (int(b[1]), int(b[2]))


def _engine_values(case, v):
    """The engine's y and gradients for one stored case."""
    op, padding, first, second = _geometry(case)
    with tf.Graph().as_default() as g:
        x = tf.constant(v["x"])
        if op == "conv2d":
            f = tf.constant(v["f"])
            y = tf.nn.conv2d(x, f, quad(first), padding, dilations=quad(second))
            wrt = [x, f]
        else:
            y = getattr(tf.nn, op)(x, quad(first), quad(second), padding)
            wrt = [x]
        grads = tf.gradients(y, wrt, tf.constant(v["dy"]))
        return tf.Session(g).run([y] + grads)


@pytest.mark.parametrize("case", sorted(_reference_cases()))
def test_values_and_gradients_match_TensorFlow_stored(case):
    v = _reference_cases()[case]
    names = ["y", "dx", "df"] if case.startswith("conv2d") else ["y", "dx"]
    for name, got in zip(names, _engine_values(case, v)):
        np.testing.assert_allclose(got, v[name], rtol=1e-10, atol=1e-12, err_msg=f"{case}: {name}")


def test_values_match_TensorFlow_live():
    """The same comparison against a live TensorFlow, when it is installed (skipped otherwise)."""
    tf1 = pytest.importorskip("tensorflow").compat.v1
    x, f = RNG.standard_normal((2, 9, 7, 3)), RNG.standard_normal((3, 3, 3, 5))
    graph = tf1.Graph()
    with graph.as_default():
        want = [tf1.nn.conv2d(x, f, [1, 2, 1, 1], "SAME"), tf1.nn.max_pool(x, [1, 3, 2, 1], [1, 2, 2, 1], "SAME"),
                tf1.nn.avg_pool(x, [1, 3, 3, 1], [1, 1, 2, 1], "SAME")]
        want = tf1.Session(graph=graph).run(want)
    with tf.Graph().as_default() as g:
        got = tf.Session(g).run([tf.nn.conv2d(x, f, [1, 2, 1, 1], "SAME"),
                                 tf.nn.max_pool(x, [1, 3, 2, 1], [1, 2, 2, 1], "SAME"),
                                 tf.nn.avg_pool(x, [1, 3, 3, 1], [1, 1, 2, 1], "SAME")])
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# -- dtypes, shapes, serialization ---------------------------------------------------------
def test_float32_stays_float32_through_forward_and_backward():
    x, f = X.astype(np.float32), F.astype(np.float32)
    with tf.Graph().as_default() as g:
        xt, ft = tf.constant(x), tf.constant(f)
        h = tf.nn.avg_pool(tf.nn.max_pool(tf.nn.bias_add(tf.nn.conv2d(xt, ft, 1, "SAME"), tf.constant(
            np.ones(3, np.float32))), 2, 2, "SAME"), 2, 1, "VALID")
        grads = tf.gradients(tf.reduce_sum(h), [xt, ft])
        values = tf.Session(g).run([h] + grads)
    assert [v.dtype for v in values] == [np.float32] * 3
    assert h.dtype is tf.float32 and all(t.dtype is tf.float32 for t in grads)


def test_static_shapes_with_unknown_batch():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 28, 28, 1])
        h = tf.nn.conv2d(x, tf.zeros([5, 5, 1, 32]), strides=[1, 2, 2, 1], padding="SAME")
        p = tf.nn.max_pool(h, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding="VALID")
        t = tf.nn.conv2d_transpose(p, tf.zeros([3, 3, 8, 32]), [4, 12, 12, 8], strides=2, padding="SAME")
        (dx,) = tf.gradients(tf.reduce_sum(p), [x])
    assert h.shape.dims == (None, 14, 14, 32)
    assert p.shape.dims == (None, 6, 6, 32)
    assert t.shape.dims == (4, 12, 12, 8)
    assert dx.shape.dims == (None, 28, 28, 1)


def test_strides_and_dilations_take_TensorFlow_forms():
    with tf.Graph().as_default():
        x, f = tf.placeholder(tf.float32, [1, 9, 9, 2]), tf.zeros([3, 3, 2, 4])
        shapes = {tf.nn.conv2d(x, f, s, "VALID").shape.dims for s in (2, [2, 2], [1, 2, 2, 1])}
        assert shapes == {(1, 4, 4, 4)}
        assert tf.nn.conv2d(x, filters=f, strides=1, padding="valid", dilations=[2, 2]).shape.dims == (1, 5, 5, 4)


def test_conv_net_graph_survives_GraphDef_round_trip():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float64, X.shape, name="x")
        y = tf.nn.max_pool(tf.nn.conv2d(x, tf.constant(F), [1, 2, 1, 1], "SAME", dilations=1), 2, 2, "SAME",
                           name="y")
        (dx,) = tf.gradients(tf.reduce_sum(y), [x])
        want = tf.Session(g).run([y, dx], {x: X})
    loaded = tf.Graph()
    with loaded.as_default():
        tf.import_graph_def(tf.GraphDef.from_json(g.as_graph_def().to_json()), name="")
    got = tf.Session(loaded).run([y.name, dx.name], {"x:0": X})
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


# -- bad input: clear errors naming the op and the shapes ------------------------------------
@pytest.mark.parametrize("build, message", [
    (lambda: tf.nn.conv2d(tf.placeholder(tf.float32, [None, 8, 8, 3]), tf.zeros([3, 3, 1, 4]), 1, "SAME"),
     "Conv2D 'Conv2D': the input has 3 channels but the filter expects 1 (input (?, 8, 8, 3), filter (3, 3, 1, 4)"),
    (lambda: tf.nn.conv2d(tf.placeholder(tf.float32, [8, 8]), tf.zeros([3, 3, 1, 4]), 1, "SAME"),
     "Conv2D 'Conv2D': input must be rank 4, found shape (8, 8) (inputs: float32 (8, 8), float32 (3, 3, 1, 4))"),
    (lambda: tf.nn.conv2d(tf.placeholder(tf.float32, [1, 2, 2, 1]), tf.zeros([3, 3, 1, 1]), 1, "VALID"),
     "a window of 3x3 (dilations [1, 1]) does not fit an input of 2x2 with VALID padding"),
    (lambda: tf.nn.bias_add(tf.placeholder(tf.float32, [2, 3]), tf.zeros([4])),
     "BiasAdd 'BiasAdd': bias has 4 entries but value has 3 channels"),
    (lambda: tf.nn.max_pool(tf.placeholder(tf.float32, [2, 3]), 2, 2, "SAME"), "MaxPool 'MaxPool': input must be rank 4"),
    (lambda: tf.nn.conv2d_transpose(tf.placeholder(tf.float32, [1, 4, 4, 2]), tf.zeros([3, 3, 5, 2]),
                                    [1, 9, 9, 5], 2, "SAME"),
     "out_backprop has shape (1, 4, 4, 2), but the convolution of an input of shape (1, 9, 9, 5) gives (1, 5, 5, 2)"),
], ids=["channels", "rank-2", "VALID-too-small", "BiasAdd-channels", "MaxPool-rank", "transpose-output-shape"])
def test_build_errors_name_the_op_and_shapes(build, message):
    with tf.Graph().as_default():
        with pytest.raises(tf.ShapeError, match=re.escape(message)):
            build()


@pytest.mark.parametrize("kwargs, message", [
    ({"strides": 0}, "strides must be positive, found [1, 0, 0, 1]"),
    ({"strides": [2, 1, 1, 1]}, "strides [2, 1, 1, 1]: only the height and width entries may differ from 1"),
    ({"strides": [1, 2, 3]}, "strides must have 1, 2 or 4 entries, found [1, 2, 3]"),
    ({"dilations": [1, 0]}, "dilations must be positive"),
    ({"padding": "FULL"}, "padding must be 'SAME' or 'VALID', found 'FULL'"),
    ({"data_format": "NCHW"}, "data_format 'NCHW' is not supported: images are NHWC"),
])
def test_bad_attrs_are_refused(kwargs, message):
    args = {"strides": 1, "padding": "SAME", **kwargs}
    with tf.Graph().as_default():
        with pytest.raises(tf.InvalidArgumentError, match=re.escape(message)):
            tf.nn.conv2d(tf.placeholder(tf.float32, [1, 4, 4, 1]), tf.zeros([2, 2, 1, 1]), **args)


def test_rank_2_value_fed_to_unknown_rank_input_fails_at_run_time_naming_shapes():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32)
        y = tf.nn.conv2d(x, tf.zeros([2, 2, 1, 1]), 1, "SAME")
        with pytest.raises(tf.InvalidArgumentError, match=re.escape(
                "Conv2D: input must be rank 4 (batch, height, width, channels), found shape (5, 5)")):
            tf.Session(g).run(y, {x: np.zeros((5, 5), np.float32)})


def test_channel_mismatch_at_run_time_names_both_shapes():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, None, None, None])
        y = tf.nn.conv2d(x, tf.zeros([2, 2, 1, 1]), 1, "SAME")
        with pytest.raises(tf.InvalidArgumentError, match=re.escape(
                "Conv2D: the input has 3 channels but the filter expects 1 (input (1, 4, 4, 3), filter (2, 2, 1, 1))")):
            tf.Session(g).run(y, {x: np.zeros((1, 4, 4, 3), np.float32)})
