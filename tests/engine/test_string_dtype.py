"""`string` tensors as in TF 1.x: constants and feeds of str/bytes, fetched as bytes (object arrays of
bytes when not scalars), structural ops and equality, numeric ops refused, GraphDef round trips."""
from __future__ import annotations

import json

import numpy as np
import pytest

import engine as tf
from engine import graphdef, tf_graphdef


@pytest.fixture
def sess():
    with tf.Graph().as_default() as g:
        yield tf.Session(g)


def test_hello_constant_is_fetched_as_bytes(sess):
    hello = tf.constant("Hello, TensorFlow!")
    assert hello.dtype is tf.string and hello.shape.as_list() == []
    assert sess.run(hello) == b"Hello, TensorFlow!" and type(sess.run(hello)) is bytes
    assert sess.run(tf.constant(b"Hello")) == b"Hello"


def test_a_list_of_strings_is_an_object_array_of_bytes_utf8_encoded(sess):
    got = sess.run(tf.constant([["a", "é"], [b"", b"\x00\xff"]]))
    assert got.dtype == object and got.shape == (2, 2)
    assert got.tolist() == [[b"a", "é".encode()], [b"", b"\x00\xff"]]


def test_numpy_str_and_bytes_arrays_become_string_constants(sess):
    assert sess.run(tf.constant(np.array(["x", "yz"]))).tolist() == [b"x", b"yz"]
    assert sess.run(tf.constant(np.array([b"x"]), dtype=tf.string)).tolist() == [b"x"]
    assert sess.run(tf.constant("ab", shape=[2])).tolist() == [b"ab", b"ab"]


def test_string_placeholder_takes_str_bytes_and_arrays(sess):
    p = tf.placeholder(tf.string, [None])
    out = tf.identity(p)
    assert out.dtype is tf.string and out.shape.as_list() == [None]
    assert sess.run(out, {p: ["a", b"b"]}).tolist() == [b"a", b"b"]
    assert sess.run(out, {p: np.array(["c"])}).tolist() == [b"c"]
    assert sess.run(out, {p: np.array([b"d"], dtype=object)}).tolist() == [b"d"]


@pytest.mark.parametrize("value", [[1, 2], np.array([1.5]), np.array([b"a", 3], dtype=object), ["a", None]])
def test_string_placeholder_refuses_non_text(sess, value):
    p = tf.placeholder(tf.string, [None])
    with pytest.raises(tf.FeedError, match="dtype string"):
        sess.run(p, {p: value})


def test_string_feed_is_checked_against_the_shape(sess):
    p = tf.placeholder(tf.string, [2])
    with pytest.raises(tf.FeedError, match="shape"):
        sess.run(p, {p: ["a"]})


def test_structural_ops_work_on_strings(sess):
    m = tf.constant([["a", "b"], ["c", "d"]])
    ops = [tf.reshape(m, [4]), tf.stack([m[0], m[1]]), tf.concat([m, m], 0), tf.gather(m, [1]), tf.transpose(m)]
    got = sess.run(ops)
    assert all(t.dtype is tf.string for t in ops)
    assert [t.shape.as_list() for t in ops] == [[4], [2, 2], [4, 2], [1, 2], [2, 2]]
    assert got[0].tolist() == [b"a", b"b", b"c", b"d"] and got[2].shape == (4, 2)
    assert got[3].tolist() == [[b"c", b"d"]] and got[4].tolist() == [[b"a", b"c"], [b"b", b"d"]]


def test_equal_on_strings_is_elementwise(sess):
    words = tf.placeholder(tf.string, [3])
    eq, ne = tf.equal(words, "b"), tf.not_equal(words, b"b")
    assert eq.dtype is tf.bool and eq.shape.as_list() == [3]
    got = sess.run([eq, ne], {words: ["a", "b", "c"]})
    assert got[0].tolist() == [False, True, False] and got[1].tolist() == [True, False, True]


@pytest.mark.parametrize("op, name", [
    (lambda s: s + s, "Add"), (lambda s: tf.reduce_sum(s), "Sum"), (lambda s: tf.maximum(s, s), "Maximum"),
    (lambda s: tf.less(s, s), "Less"), (lambda s: tf.negative(s), "Neg"),
])
def test_numeric_ops_refuse_strings_naming_op_and_dtype(sess, op, name):
    with pytest.raises(tf.DTypeError, match=f"{name} .*found string"):
        op(tf.constant(["a"]))


@pytest.mark.parametrize("source, target", [("string", "float32"), ("float32", "string")])
def test_cast_between_strings_and_numbers_is_refused(sess, source, target):
    x = tf.placeholder(getattr(tf, source), [1])
    with pytest.raises(tf.DTypeError, match=f"cannot cast {source} to {target}"):
        tf.cast(x, getattr(tf, target))


@pytest.mark.parametrize("value, dtype", [(1, tf.string), ("1", tf.float32), (np.array([1.0]), tf.string),
                                          (np.array(["1"]), tf.int32), ([1, "a"], None)])
def test_strings_and_numbers_do_not_convert_to_each_other(sess, value, dtype):
    with pytest.raises(tf.DTypeError):
        tf.constant(value, dtype=dtype)


def _graph_with_strings() -> tf.Graph:
    with tf.Graph().as_default() as g:
        tf.constant("Hello", name="hello")
        tf.constant([["a", "é"], ["", b"\x00\xff"]], name="grid")
        tf.constant(np.empty((0, 2), dtype=object), name="empty")
    return g


def _run_all(graph: tf.Graph) -> list:
    return tf.Session(graph).run(["hello:0", "grid:0", "empty:0"])


def _assert_same_strings(got: list) -> None:
    assert got[0] == b"Hello" and got[1].tolist() == [[b"a", "é".encode()], [b"", b"\x00\xff"]]
    assert got[2].dtype == object and got[2].shape == (0, 2)


def test_string_constants_round_trip_through_the_json_graph_def():
    wire = _graph_with_strings().as_graph_def().to_json()
    grid = next(n for n in json.loads(wire)["nodes"] if n["name"] == "grid")["attrs"]["value"]
    assert grid == {"dtype": "string", "shape": [2, 2], "data": ["YQ==", "w6k=", "", "AP8="]}  # base64 each
    with tf.Graph().as_default() as h:
        tf.import_graph_def(tf.GraphDef.from_json(wire), name="")
    _assert_same_strings(_run_all(h))


@pytest.mark.parametrize("data, message", [
    ("YQ==", "list of base64"), (["YQ=="], "needs 4 elements"), (["YQ==", "!!", "", ""], "not base64"),
    ([1, "", "", ""], "list of base64"),
])
def test_malformed_string_constants_are_refused_on_load(data, message):
    wire = json.loads(_graph_with_strings().as_graph_def().to_json())
    next(n for n in wire["nodes"] if n["name"] == "grid")["attrs"]["value"]["data"] = data
    wire["sha256"] = graphdef.checksum(wire)  # edited on purpose: refused for its contents, not its checksum
    with tf.Graph().as_default(), pytest.raises(tf.GraphDefError, match=message):
        tf.import_graph_def(tf.GraphDef.from_json(json.dumps(wire)), name="")


def test_string_constants_round_trip_through_tensorflow_protobuf_string_val():
    msg = tf_graphdef.as_message(_graph_with_strings(), strict=False)
    grid = next(n for n in msg.node if n.name == "grid").attr["value"].tensor
    assert list(grid.string_val) == [b"a", "é".encode(), b"", b"\x00\xff"] and not grid.tensor_content
    with tf.Graph().as_default() as h:
        tf.import_graph_def(tf_graphdef.from_message(msg), name="")
    _assert_same_strings(_run_all(h))


def test_tensorflow_string_val_repeats_its_last_value_and_refuses_too_many():
    msg = tf_graphdef.as_message(_graph_with_strings(), strict=False)
    grid = next(n for n in msg.node if n.name == "grid").attr["value"].tensor
    del grid.string_val[1:]
    with tf.Graph().as_default() as h:
        tf.import_graph_def(tf_graphdef.from_message(msg), name="")
    assert tf.Session(h).run("grid:0").tolist() == [[b"a", b"a"], [b"a", b"a"]]
    grid.string_val.extend([b"x"] * 4)
    with pytest.raises(tf.GraphDefError, match="5 string_val entries"):
        tf_graphdef.from_message(msg)


def test_summary_ops_still_return_string_scalars_fetched_as_bytes(sess):
    from tensorboard.compat.proto import summary_pb2
    s = tf.summary.scalar("loss", tf.constant(0.5))
    assert s.dtype is tf.string and s.shape.as_list() == []
    summary = summary_pb2.Summary.FromString(sess.run(s))
    assert summary.value[0].tag == "loss" and summary.value[0].simple_value == 0.5
