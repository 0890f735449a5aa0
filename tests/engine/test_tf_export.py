"""Exporting engine graphs as TensorFlow GraphDefs: TensorFlow runs them, the importer reads them back.

Every exporter rule has a case (a graph over one placeholder `x`); each case
must give the same outputs after export -> re-import without TensorFlow and,
where TensorFlow is installed, when TensorFlow itself runs the exported graph.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

import engine as tf
from engine import graph_util
from engine import tf_graphdef
from engine.tf_graphdef.exporter import RULES

pytest.importorskip("tensorboard.compat.proto.graph_pb2")

UNARY = ["Abs", "Ceil", "Cos", "Elu", "Exp", "Floor", "Identity", "Log", "Log1p", "Neg", "Reciprocal", "Relu",
         "Round", "Rsqrt", "Sigmoid", "Sign", "Sin", "Softplus", "Sqrt", "Square", "StopGradient", "Tanh"]
BINARY = ["Add", "Sub", "Mul", "RealDiv", "Maximum", "Minimum", "Pow", "SquaredDifference", "FloorDiv", "FloorMod",
          "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual"]


def _op(op_type: str, *inputs, **attrs) -> tf.Tensor:
    return tf.get_default_graph().create_op(op_type, list(inputs), attrs, name=op_type).outputs[0]


def _other(x: tf.Tensor) -> tf.Tensor:
    return x * 0.5 + 0.75


CASES: dict[str, Callable[[tf.Tensor], tf.Tensor]] = {
    **{t: (lambda t: lambda x: _op(t, x))(t) for t in UNARY},
    **{t: (lambda t: lambda x: _op(t, x, _other(x)))(t) for t in BINARY},
    "LogicalAnd": lambda x: tf.logical_and(x > 1.0, x < 1.5),
    "LogicalOr": lambda x: tf.logical_or(x > 1.5, x < 0.7),
    "LogicalNot": lambda x: tf.logical_not(x > 1.0),
    "AddN": lambda x: tf.add_n([x, _other(x), x]),
    "ClipByValue": lambda x: tf.clip_by_value(x, 0.7, 1.5),
    "SelectV2": lambda x: tf.where(x > 1.0, x, -x),
    "MatMul": lambda x: tf.matmul(x, tf.constant(np.arange(12, dtype=np.float32).reshape(3, 4) / 10),
                                  transpose_b=True),
    "Softmax": lambda x: tf.nn.softmax(x),
    "LogSoftmax": lambda x: tf.nn.log_softmax(x),
    "Cast": lambda x: tf.cast(x * 10.0, tf.int32),
    "Reshape": lambda x: tf.reshape(x, [-1, 2, 2]),
    "Squeeze": lambda x: tf.squeeze(tf.reshape(x, [-1, 1, 4]), axis=[1]),
    "ExpandDims": lambda x: tf.expand_dims(x, 1),
    "ConcatV2": lambda x: tf.concat([x, _other(x)], axis=1),
    "Pack": lambda x: tf.stack([x, _other(x)], axis=2),
    "Unpack": lambda x: tf.unstack(tf.reshape(x, [-1, 2, 2]), axis=1)[1],
    "ArgMax": lambda x: tf.argmax(x, axis=1),
    "ArgMin": lambda x: tf.argmin(x, axis=0),
    "Sum": lambda x: tf.reduce_sum(x, axis=1),
    "Mean": lambda x: tf.reduce_mean(x),
    "Max": lambda x: tf.reduce_max(x, axis=0, keepdims=True),
    "Min": lambda x: tf.reduce_min(x, axis=[0, 1]),
    "Prod": lambda x: tf.reduce_prod(x, axis=1),
    "All": lambda x: tf.reduce_all(x > 0.6, axis=1),
    "Any": lambda x: tf.reduce_any(x > 1.8),
    "StridedSlice": lambda x: x[1:, ::2],
    "Transpose": lambda x: tf.transpose(x),
    "Tile": lambda x: tf.tile(x, [2, 1]),
    "GatherV2": lambda x: tf.gather(x, tf.constant([3, 0]), axis=1),
    "Shape": lambda x: tf.shape(x),
    "Size": lambda x: tf.size(x),
    "Rank": lambda x: tf.rank(x),
    "OneHot": lambda x: tf.one_hot(tf.argmax(x, axis=1, output_type=tf.int32), 4),
    "Conv2D": lambda x: tf.nn.conv2d(tf.reshape(x, [-1, 2, 2, 1]), tf.constant(np.linspace(-1, 1, 8, dtype=np.float32)
                                                                              .reshape(2, 2, 1, 2)), [1, 1, 1, 1], "SAME"),
    "MaxPool": lambda x: tf.nn.max_pool(tf.reshape(x, [-1, 2, 2, 1]), [1, 2, 2, 1], [1, 1, 1, 1], "VALID"),
    "AvgPool": lambda x: tf.nn.avg_pool(tf.reshape(x, [-1, 2, 2, 1]), [1, 2, 2, 1], [1, 1, 1, 1], "SAME"),
    "BiasAdd": lambda x: tf.nn.bias_add(x, tf.constant([1.0, -2.0, 0.5, 3.0])),
    "Const": lambda x: tf.constant([[1, 2], [3, 4]], dtype=tf.int64),
    "Placeholder": lambda x: x,
}
FEED = np.random.default_rng(7).uniform(0.5, 2.0, (5, 4)).astype(np.float32)


def build(case: str) -> tf.Graph:
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        tf.identity(CASES[case](x), name="y")
    return graph


def run_engine(graph_def) -> np.ndarray:
    graph = tf.Graph()
    tf.import_graph_def(graph_def, name="", graph=graph)
    with tf.Session(graph=graph) as sess:
        return sess.run("y:0", {"x:0": FEED})


def test_every_exporter_rule_has_a_case():
    untested = sorted(set(RULES) - set(CASES) - {"NoOp", "VariableV2", "Assign", "AssignAdd", "AssignSub"})
    assert not untested, f"exporter rules without a round-trip case: {untested}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_export_then_import_gives_the_same_outputs(case):
    graph = build(case)
    with tf.Session(graph=graph) as sess:
        want = sess.run("y:0", {"x:0": FEED})
    got = run_engine(graph.as_tf_graph_def())
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_tensorflow_runs_every_exported_graph_with_the_same_outputs():
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    for case in sorted(CASES):
        graph = build(case)
        with tf.Session(graph=graph) as sess:
            want = sess.run("y:0", {"x:0": FEED})
        message = tf1.GraphDef.FromString(graph.as_tf_graph_def().SerializeToString())
        with tf1.Graph().as_default() as tf_graph:
            tf1.import_graph_def(message, name="")
            with tf1.Session(graph=tf_graph) as sess:
                got = sess.run("y:0", {"x:0": FEED})
        assert np.asarray(got).dtype == want.dtype, case
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=case)


def test_frozen_trained_model_written_by_write_graph_reads_back(tmp_path):
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        w = tf.Variable(np.linspace(-1, 1, 8, dtype=np.float32).reshape(4, 2), name="w")
        tf.nn.softmax(tf.matmul(x, w), name="y")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            want = sess.run("y:0", {x: FEED})
            frozen = graph_util.convert_variables_to_constants(sess, graph.as_graph_def(), ["y"])
    for as_text, name in [(False, "model.pb"), (True, "model.pbtxt")]:
        path = tf.train.write_graph(frozen, str(tmp_path), name, as_text=as_text)
        np.testing.assert_array_equal(run_engine(tf_graphdef.read(path)), want)


def test_strict_export_names_an_op_without_a_tensorflow_twin():
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        tf.gradients(tf.reduce_sum(x * x), [x])
    with pytest.raises(tf.GraphDefError, match="no TensorFlow equivalent"):
        graph.as_tf_graph_def()


def test_lenient_export_keeps_every_op_for_tensorboard():
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        w = tf.Variable(np.ones((4, 1), np.float32), name="w")
        tf.train.GradientDescentOptimizer(0.1).minimize(tf.reduce_mean(tf.square(tf.matmul(x, w))))
    message = graph.as_tf_graph_def(strict=False)
    assert {op.name for op in graph.get_operations()} <= {n.name for n in message.node}


def test_write_graph_of_a_training_session_needs_strict_false(tmp_path):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        w = tf.Variable(np.ones((4, 1), np.float32), name="w")
        tf.train.AdamOptimizer(0.1).minimize(tf.reduce_mean(tf.square(tf.matmul(x, w))))
        with tf.Session() as sess:
            with pytest.raises(tf.GraphDefError, match="strict=False"):
                tf.train.write_graph(sess.graph_def, str(tmp_path), "train.pbtxt")
            path = tf.train.write_graph(sess.graph_def, str(tmp_path), "train.pbtxt", strict=False)
    assert 'op: "VariableV2"' in open(path).read() and list(tmp_path.iterdir()) == [tmp_path / "train.pbtxt"]
