"""int8, int16, uint8 and float16 tensors: constants, feeds and fetches, arithmetic in the dtype
(numpy's, which wraps like TF's), casts, float16 gradients, GraphDef round trips, names."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf

SMALL = [(tf.int8, np.int8), (tf.int16, np.int16), (tf.uint8, np.uint8), (tf.float16, np.float16)]


@pytest.mark.parametrize("dtype, np_dtype", SMALL, ids=[d.name for d, _ in SMALL])
def test_feed_compute_and_fetch_in_the_dtype(dtype, np_dtype):
    with tf.Graph().as_default():
        a, b = tf.placeholder(dtype, [3]), tf.placeholder(dtype, [3])
        out = [a + b, a * b, tf.maximum(a, b), tf.reduce_sum(a), tf.cast(a, tf.float32)]
        values = np.array([1, 2, 3], np_dtype), np.array([4, 5, 6], np_dtype)
        got = tf.Session().run(out, {a: values[0], b: values[1]})
    expected = [values[0] + values[1], values[0] * values[1], np.maximum(*values),
                np.sum(values[0], dtype=np_dtype), values[0].astype(np.float32)]
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype
        np.testing.assert_array_equal(g, e)
    assert all(t.dtype is d for t, d in zip(out, [dtype] * 4 + [tf.float32]))


def test_uint8_wraps_around_as_in_tensorflow():
    with tf.Graph().as_default():
        x = tf.constant(np.array([250], np.uint8)) + tf.constant(np.array([10], np.uint8))
        assert tf.Session().run(x).tolist() == [4]


def test_python_numbers_take_the_small_dtype():
    with tf.Graph().as_default():
        a = tf.placeholder(tf.int16)
        assert tf.Session().run(a * 3 + 1, {a: 2}) == 7


def test_float16_gradients():
    with tf.Graph().as_default():
        h = tf.placeholder(tf.float16, [2])
        y = tf.reduce_sum(h * h)
        [g] = tf.gradients(y, [h])
        got = tf.Session().run(g, {h: [1.5, 2.0]})
    assert got.dtype == np.float16 and got.tolist() == [3.0, 4.0]


def test_small_dtypes_round_trip_through_a_graph_def():
    with tf.Graph().as_default() as g:
        for d, np_d in SMALL:
            tf.constant(np.array([1, 2], np_d), name=f"c_{d.name}")
    wire = g.as_graph_def().to_json()
    with tf.Graph().as_default() as h:
        tf.import_graph_def(tf.GraphDef.from_json(wire), name="")
        for d, np_d in SMALL:
            value = tf.Session(h).run(f"c_{d.name}:0")
            assert value.dtype == np_d and value.tolist() == [1, 2]


def test_names_and_aliases():
    assert tf.as_dtype("half") is tf.float16 is tf.half
    assert [d.proto_name for d, _ in SMALL] == ["DT_INT8", "DT_INT16", "DT_UINT8", "DT_HALF"]
    assert tf.uint8.is_integer and tf.uint8.is_unsigned and not tf.int8.is_unsigned
    assert tf.int8.min == -128 and tf.uint8.max == 255


def test_float16_random_normal():
    with tf.Graph().as_default():
        x = tf.Session().run(tf.random_uniform([1000], dtype=tf.float16, seed=1))
    assert x.dtype == np.float16 and x.min() >= 0 and x.max() < 1
