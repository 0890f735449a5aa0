"""The bad-input matrix, engine side: each wrong thing a user does gives our class and a message naming it.

One table per area: feeds, graph building and running (ops), optimizers, GraphDef files and
saved-model files. Each case is (id, action, exception class, words the message must hold).
"""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

import engine as tf
from engine import extend, graphdef, saved_model
from engine.errors import (DTypeError, FailedPreconditionError, FeedError, FetchError, GraphDefError, GraphError,
                           InvalidArgumentError, KernelOutputError, SavedModelError, ShapeError)
from engine.registry import unregister_op


def _graph():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, [None, 2], name="x")
        y = tf.reduce_sum(x, 1, name="y")
    return g, x, y


def _feed(value, key=None):
    g, x, y = _graph()
    return tf.Session(g).run(y, {x if key is None else key: value})


def _run(build, feed=None):
    with tf.Graph().as_default() as g:
        fetch = build()
    return tf.Session(g).run(fetch, feed)


def _user_op(kernel, infer):
    """Run an op of one's own ('mine', of type BadInputsUserOp) on a float64 (2,) constant."""
    tf.register_op("BadInputsUserOp", kernel=kernel, infer=infer, num_inputs=1)
    try:
        return _run(lambda: extend.make("BadInputsUserOp", [tf.constant(np.ones(2))], "mine"))
    finally:
        unregister_op("BadInputsUserOp")


FEEDS = [
    ("wrong cell shape", lambda: _feed(np.ones((2, 3))), FeedError, "shape (2, 3) for Tensor 'x:0'"),
    ("scalar for a block", lambda: _feed(1.0), FeedError, "shape () for Tensor 'x:0'"),
    ("strings", lambda: _feed(np.array([["a", "b"]])), FeedError, "expected numbers or booleans"),
    ("ragged lists", lambda: _feed([[1.0, 2.0], [1.0]]), FeedError, "Tensor 'x:0' of dtype float64"),
    ("None", lambda: _feed(None), FeedError, "Cannot feed value None"),
    ("int64 above 2**53", lambda: _feed(np.array([[2 ** 60, 1]], np.int64)), FeedError, "above 2**53"),
    ("unknown feed key", lambda: _feed(np.ones((1, 2)), "nope:0"), FeedError, "no operation named 'nope'"),
    ("bool from numbers", lambda: _run(lambda: tf.logical_not(tf.placeholder(tf.bool, [1], name="b")),
                                       {"b:0": np.array([2])}), FeedError, "which has dtype bool"),
    ("int overflow into int32", lambda: _run(lambda: tf.placeholder(tf.int32, [1], name="i") * 2, {"i:0": [2 ** 40]}),
     FeedError, "out of its range"),
    ("unfed placeholder", lambda: tf.Session(_graph()[0]).run("y:0"), FetchError, "must feed a value for placeholder"),
    ("fetch None", lambda: tf.Session(_graph()[0]).run(None), FetchError, "fetch argument None"),
    ("fetch unknown name", lambda: tf.Session(_graph()[0]).run("nope:0"), GraphError, "no operation named 'nope'"),
]

OPS = [
    ("matmul inner dims", lambda: tf.matmul(tf.constant(np.ones((2, 3))), tf.constant(np.ones((2, 3)))),
     ShapeError, "MatMul 'MatMul': inner dimensions differ"),
    ("add dtypes", lambda: tf.add(tf.constant(np.ones(2)), tf.constant(np.ones(2, np.int32))),
     DTypeError, "Add 'Add': inputs must have the same dtype"),
    ("static reshape", lambda: tf.reshape(tf.constant(np.ones(6)), [4, 2]), ShapeError, "Reshape 'Reshape'"),
    ("reduce axis", lambda: tf.reduce_sum(tf.constant(np.ones((2, 2))), 5), ShapeError, "axis 5 is out of range"),
    ("concat ranks", lambda: tf.concat([tf.constant(np.ones((2, 2))), tf.constant(np.ones(2))], 0), ShapeError,
     "different ranks"),
    ("unknown dtype", lambda: tf.placeholder("float99", [2]), DTypeError, "unsupported dtype 'float99'"),
    ("negative dimension", lambda: tf.placeholder(tf.float64, [-3]), ShapeError, "invalid dimension -3"),
    ("run-time reshape", lambda: _run(lambda: tf.reshape(tf.placeholder(tf.float64, [None], name="p"), [-1, 2]),
                                      {"p:0": np.ones(3)}),
     InvalidArgumentError, "Reshape 'Reshape': cannot reshape"),
    ("integer division by zero", lambda: _run(lambda: tf.floordiv(tf.constant(np.ones(2, np.int32)),
                                                                  tf.constant(np.zeros(2, np.int32)))),
     InvalidArgumentError, "FloorDiv 'FloorDiv': integer division by zero"),
    ("gather out of range", lambda: _run(lambda: tf.gather(tf.constant(np.ones(3)), tf.constant([5]))),
     InvalidArgumentError, "GatherV2 'GatherV2': gather index 5 is not in [0, 3)"),
    ("run-time broadcast", lambda: _run(lambda: tf.add(tf.placeholder(tf.float64, [None], name="p"), np.ones(3)),
                                        {"p:0": np.ones(2)}),
     InvalidArgumentError, "Add 'Add': ValueError: operands could not be broadcast"),
    ("user kernel raising", lambda: _user_op(lambda x: x[5], lambda inputs: inputs[0]), InvalidArgumentError,
     "BadInputsUserOp 'mine': IndexError: index 5 is out of bounds"),
    ("user kernel dtype against infer", lambda: _user_op(lambda x: x.astype(np.int32), lambda inputs: inputs[0]),
     KernelOutputError, "BadInputsUserOp 'mine': the kernel's output 0 is int32 (2,), but the op's infer rule says "
                        "float64 (2,)"),
    ("user kernel shape against infer", lambda: _user_op(lambda x: x[:1], lambda inputs: inputs[0]),
     KernelOutputError, "the kernel's output 0 is float64 (1,), but the op's infer rule says float64 (2,)"),
    ("uninitialized variable", lambda: _run(lambda: tf.Variable(np.ones(2), name="v")), FailedPreconditionError,
     "uninitialized value v"),
]


def _minimize(make_optimizer):
    with tf.Graph().as_default():
        v = tf.Variable(np.ones(2), name="v")
        make_optimizer().minimize(tf.reduce_sum(v * v))


OPTIMIZERS = [
    ("NaN learning rate", lambda: _minimize(lambda: tf.train.GradientDescentOptimizer(float("nan"))),
     InvalidArgumentError, "learning_rate must be a finite number (or a tensor), found nan"),
    ("infinite learning rate", lambda: _minimize(lambda: tf.train.MomentumOptimizer(float("inf"), 0.9)),
     InvalidArgumentError, "learning_rate must be a finite number"),
    ("NaN beta1", lambda: _minimize(lambda: tf.train.AdamOptimizer(0.1, beta1=float("nan"))),
     InvalidArgumentError, "beta1 must be a finite number"),
    ("string learning rate", lambda: _minimize(lambda: tf.train.GradientDescentOptimizer("fast")),
     InvalidArgumentError, "found 'fast'"),
]


@pytest.fixture(scope="module")
def graph_text() -> str:
    return _graph()[0].as_graph_def().to_json()


def _mutated(text: str, change) -> str:
    """The GraphDef edited by hand, without its checksum (as files written before it existed)."""
    data = json.loads(text)
    data.pop("sha256")
    change(data)
    return json.dumps(data)


def _tampered(text: str, change) -> str:
    """The GraphDef edited, its checksum kept."""
    data = json.loads(text)
    change(data)
    return json.dumps(data)


def _set(key, value):
    return lambda data: data.__setitem__(key, value)


GRAPH_DEFS = [
    ("not JSON", lambda t: "{nope", "not valid JSON"),
    ("a list", lambda t: "[]", "expected an object with keys"),
    ("an empty object", lambda t: "{}", "expected an object with keys"),
    ("another format", lambda t: _mutated(t, _set("format", "tf.GraphDef")), "format"),
    ("a future version", lambda t: _mutated(t, _set("version", 99)), "version"),
    ("an unknown op", lambda t: _mutated(t, lambda d: d["nodes"][1].__setitem__("op", "NoSuchOp")), "NoSuchOp"),
    ("an input naming no node", lambda t: _mutated(t, lambda d: d["nodes"][1].__setitem__("inputs", ["ghost:0"])),
     "ghost"),
    ("a node without a name", lambda t: _mutated(t, lambda d: d["nodes"][0].pop("name")), "name"),
    ("a changed attr under its checksum",
     lambda t: _tampered(t, lambda d: d["nodes"][1]["attrs"].__setitem__("axis", [0])), "checksum mismatch"),
    ("a renamed node under its checksum", lambda t: _tampered(t, lambda d: d["nodes"][0].__setitem__("name", "z")),
     "checksum mismatch"),
    ("a checksum that is not a string", lambda t: _tampered(t, _set("sha256", 7)), "sha256 must be a string"),
]


@pytest.fixture
def saved(tmp_path) -> str:
    g, x, y = _graph()
    path = str(tmp_path / "model")
    saved_model.save(path, g, inputs={"x": x}, outputs={"y": y})
    return path


def _rewrite(path: str, name: str, change) -> None:
    file = os.path.join(path, name)
    with open(file) as f:
        text = f.read()
    with open(file, "w") as f:
        f.write(change(text))


SAVED_MODELS = [
    ("missing directory", lambda p: saved_model.load(p + "-nope"), "no such directory"),
    ("manifest missing", lambda p: (os.remove(os.path.join(p, saved_model.MANIFEST)), saved_model.load(p)),
     "saved_model.json: missing"),
    ("manifest not JSON", lambda p: (_rewrite(p, saved_model.MANIFEST, lambda t: t[:10]), saved_model.load(p)),
     "not valid JSON"),
    ("graph changed after saving", lambda p: (_rewrite(p, saved_model.GRAPH_DEF, lambda t: t.replace("y", "z", 1)),
                                             saved_model.load(p)), "was changed after saving"),
    ("graph truncated", lambda p: (_rewrite(p, saved_model.GRAPH_DEF, lambda t: t[: len(t) // 2]),
                                   saved_model.load(p)), "SHA-256"),
    ("signature names a missing tensor",
     lambda p: (_rewrite(p, saved_model.MANIFEST, lambda t: t.replace('"y:0"', '"q:0"')), saved_model.load(p)),
     "output 'y'"),
    ("saving over a saved model", lambda p: saved_model.save(p, _graph()[0], {"x": "x:0"}, {"y": "y:0"}),
     "overwrite=True"),
]


def _ids(table):
    return [case[0] for case in table]


@pytest.mark.parametrize("name, action, error, words", FEEDS, ids=_ids(FEEDS))
def test_bad_feeds(name, action, error, words):
    with pytest.raises(error) as caught:
        action()
    assert words in str(caught.value)


@pytest.mark.parametrize("name, action, error, words", OPS, ids=_ids(OPS))
def test_bad_ops(name, action, error, words):
    with tf.Graph().as_default(), pytest.raises(error) as caught:
        action()
    assert words in str(caught.value)


@pytest.mark.parametrize("name, action, error, words", OPTIMIZERS, ids=_ids(OPTIMIZERS))
def test_bad_optimizer_settings(name, action, error, words):
    with pytest.raises(error) as caught:
        action()
    assert words in str(caught.value)


@pytest.mark.parametrize("name, change, words", GRAPH_DEFS, ids=_ids(GRAPH_DEFS))
def test_bad_graph_defs(graph_text, name, change, words):
    with pytest.raises(GraphDefError) as caught:
        tf.import_graph_def(graphdef.GraphDef.from_json(change(graph_text)), name="")
    assert words in str(caught.value)


@pytest.mark.parametrize("name, action, words", SAVED_MODELS, ids=_ids(SAVED_MODELS))
def test_bad_saved_models(saved, name, action, words):
    with pytest.raises(SavedModelError) as caught:
        action(saved)
    assert words in str(caught.value)
