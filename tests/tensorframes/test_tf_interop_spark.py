"""A TensorFlow 1.x frozen model scores Spark DataFrames, and training runs show up in TensorBoard.

The MLP in tests/engine/data/tf was frozen and run by TensorFlow; here it
runs on Spark through the engine alone and must give TensorFlow's outputs.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import engine as tf
import tensorframes as tfs
from tensorframes.ml import GraphTransformer

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
DATA = Path(__file__).resolve().parents[1] / "engine" / "data" / "tf"


@pytest.fixture(scope="module")
def mlp():
    """The frozen MLP (engine GraphDef), its inputs and TensorFlow's outputs."""
    return tf.GraphDef.FromString((DATA / "mlp.pb").read_bytes()), dict(np.load(DATA / "mlp.npz"))


@pytest.fixture(scope="module")
def inputs_frame(spark, mlp):
    rows = [(i, x.tolist()) for i, x in enumerate(mlp[1]["input:0"])]
    df = spark.createDataFrame(rows, "id long, input array<float>").repartition(2)
    return tfs.append_shape(df, "input", [None, 8])


def test_tensorflow_mlp_scores_a_dataframe_with_map_blocks(inputs_frame, mlp):
    graph_def, want = mlp
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def, name="")
        fetches = [graph.get_tensor_by_name("probabilities:0"), graph.get_tensor_by_name("classes:0")]
        rows = sorted(tfs.map_blocks(fetches, inputs_frame).collect(), key=lambda r: r["id"])
    np.testing.assert_allclose(np.array([r["probabilities"] for r in rows], np.float32), want["probabilities:0"],
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal([r["classes"] for r in rows], want["classes:0"])


def test_graph_transformer_takes_a_tensorflow_graph_def_message(inputs_frame, mlp):
    from tensorboard.compat.proto import graph_pb2
    message = graph_pb2.GraphDef.FromString((DATA / "mlp.pb").read_bytes())
    stage = GraphTransformer(graphDef=message, outputMapping={"probabilities:0": "p"})
    rows = sorted(stage.transform(inputs_frame).collect(), key=lambda r: r["id"])
    np.testing.assert_allclose(np.array([r["p"] for r in rows], np.float32), mlp[1]["probabilities:0"],
                               rtol=1e-6, atol=1e-6)


def test_train_with_logdir_writes_the_loss_per_step_and_the_graph(spark, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    df = tfs.append_shape(spark.createDataFrame([(r.tolist(), float(r.sum())) for r in x], "x array<double>, y double"),
                          "x", [None, 3])
    with tf.Graph().as_default():
        features, y = tfs.block(df, "x"), tfs.block(df, "y")
        w = tf.Variable(np.zeros((3, 1)), name="w")
        loss = tf.reduce_mean(tf.square(tf.matmul(features, w)[:, 0] - y), name="loss")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            result = tfs.train(loss, df, tf.train.GradientDescentOptimizer(0.1), steps=3, mode="driver",
                               log_every=None, logdir=tmp_path / "run")
    board = event_accumulator.EventAccumulator(str(tmp_path / "run"))
    board.Reload()
    assert [(e.step, e.value) for e in board.Scalars("loss")] == \
        [(i + 1, pytest.approx(v, rel=1e-6)) for i, v in enumerate(result.losses)]
    assert "w" in {n.name for n in board.Graph().node}


def test_map_rows_runs_an_imported_row_graph():
    import pandas as pd
    with tf.Graph().as_default() as written:  # a row graph, as a TensorFlow GraphDef message
        x = tf.placeholder(tf.float32, [4], name="x")
        tf.sigmoid(tf.reduce_sum(x * tf.constant([0.5, -1.0, 2.0, 0.25])), name="score")
    message = written.as_tf_graph_def()
    df = pd.DataFrame({"x": [np.arange(4, dtype=np.float32) * i for i in range(3)]})
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(message, name="")
        out = tfs.map_rows(graph.get_tensor_by_name("score:0"), df)
    want = 1 / (1 + np.exp(-np.stack(df["x"]) @ np.array([0.5, -1.0, 2.0, 0.25], np.float32)))
    np.testing.assert_allclose(out["score"].to_numpy(np.float32), want, rtol=1e-6)
