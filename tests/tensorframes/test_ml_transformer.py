"""GraphTransformer: Params, running a graph over vector and array columns, saving and loading."""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.ml.linalg import DenseVector, Vectors

import engine as tf
from engine import saved_model
from tensorframes.errors import PersistenceError, StageParamError, UnsupportedColumnTypeError
from tensorframes.ml import GraphModel, GraphTransformer

W = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, -1.0]])


@pytest.fixture
def session() -> tf.Session:
    """x (?, 3) -> y = x @ w (?, 2) and its row sums s (?,); w is a variable."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, (None, 3), name="x")
        w = tf.Variable(np.zeros((3, 2)), name="w")
        y = tf.matmul(x, w, name="y")
        tf.reduce_sum(y, axis=1, name="s")
        init = tf.global_variables_initializer()
    sess = tf.Session(g)
    sess.run(init)
    sess.load_variables({"w": W})
    return sess


@pytest.fixture
def vectors(spark):
    return spark.createDataFrame([(Vectors.dense([1.0, 2.0, 3.0]),), (Vectors.sparse(3, [1], [5.0]),),
                                  (Vectors.dense([0.5, -1.0, 2.0]),)], ["v"])


ROWS = np.array([[1.0, 2.0, 3.0], [0.0, 5.0, 0.0], [0.5, -1.0, 2.0]])


def test_params_have_defaults_docs_and_copy(session):
    t = GraphTransformer()
    assert t.getInputMapping() == {} and t.getOutputMapping() == {} and t.getVectorOutput() is False
    assert not t.isDefined(t.graphDef)
    for param in t.params:
        assert param.doc and t.explainParam(param)
    t.setParams(graphDef=session, inputMapping={"v": "x"}, outputMapping={"y": "out"})
    copied = t.copy({t.outputMapping: {"s": "total"}})
    assert copied.uid == t.uid and copied.getOutputMapping() == {"s": "total"}
    assert t.getOutputMapping() == {"y": "out"} and copied.getGraphDef() == t.getGraphDef()


def test_param_values_are_checked(session):
    with pytest.raises(TypeError, match="pass the Session"):
        GraphTransformer(graphDef=session.graph)
    with pytest.raises(TypeError, match="Session, a GraphDef, a Graph or GraphDef JSON"):
        GraphTransformer(graphDef=42)
    with pytest.raises(TypeError, match="non-empty strings"):
        GraphTransformer(inputMapping={"v": 3})


def test_runs_over_dense_and_sparse_vectors(session, vectors):
    t = GraphTransformer(graphDef=session, inputMapping={"v": "x"}, outputMapping={"y": "y_out", "s:0": "total"})
    rows = t.transform(vectors).collect()
    np.testing.assert_allclose([r.y_out for r in rows], ROWS @ W)
    np.testing.assert_allclose([r.total for r in rows], (ROWS @ W).sum(axis=1))
    as_vectors = t.copy({t.vectorOutput: True}).transform(vectors)
    assert isinstance(as_vectors.first().y_out, DenseVector) and as_vectors.schema["total"].dataType.typeName() == "double"


def test_runs_over_array_columns(session, spark):
    df = spark.createDataFrame([(row.tolist(),) for row in ROWS], "a array<double>")
    out = GraphTransformer(graphDef=session, inputMapping={"a": "x:0"}, outputMapping={"s": "total"}).transform(df)
    np.testing.assert_allclose([r.total for r in out.collect()], (ROWS @ W).sum(axis=1))


def test_clear_errors_before_any_job(session, spark, vectors):
    t = GraphTransformer(graphDef=session, inputMapping={"v": "x"}, outputMapping={"y": "v"})
    with pytest.raises(StageParamError, match="output column 'v' already exists"):
        t.transform(vectors)
    with pytest.raises(StageParamError, match="outputMapping names a tensor the graph lacks.*'nope'"):
        t.copy({t.outputMapping: {"nope": "out"}}).transform(vectors)
    with pytest.raises(StageParamError, match="outputMapping is empty"):
        t.copy({t.outputMapping: {}}).transform(vectors)
    with pytest.raises(StageParamError, match="graphDef is not set"):
        GraphTransformer(outputMapping={"y": "out"}).transform(vectors)
    words = spark.createDataFrame([("a",)], ["v"])
    with pytest.raises(UnsupportedColumnTypeError, match="column 'v' has type string"):
        t.copy({t.outputMapping: {"y": "out"}}).transform(words)


def test_from_saved_model_names_columns_after_the_signature(session, vectors, tmp_path):
    path = str(tmp_path / "sm")
    saved_model.save(path, session, inputs={"v": "x"}, outputs={"scores": "y", "total": "s"})
    t = GraphTransformer.fromSavedModel(path, outputMapping={"total": "sum"})
    rows = t.transform(vectors).collect()
    np.testing.assert_allclose([r.sum for r in rows], saved_model.load(path).predict({"v": ROWS})["total"])
    with pytest.raises(StageParamError, match="has no output 'nope'; its outputs are \\['scores', 'total'\\]"):
        GraphTransformer.fromSavedModel(path, outputMapping={"nope": "out"})


def test_save_and_load(session, vectors, tmp_path):
    t = GraphTransformer(graphDef=session, inputMapping={"v": "x"}, outputMapping={"y": "y_out"}, vectorOutput=True)
    path = str(tmp_path / "t")
    t.save(path)
    loaded = GraphTransformer.load(path)
    assert loaded.uid == t.uid and loaded.getVectorOutput() is True
    assert loaded.transform(vectors).collect() == t.transform(vectors).collect()
    scored = saved_model.load(f"{path}/model").predict({"v": ROWS})  # the engine alone reads the same files
    np.testing.assert_array_equal(scored["y_out"], session.run("y:0", {"x:0": ROWS}))
    with pytest.raises(PersistenceError, match="holds a tensorframes.ml.transformer.GraphTransformer, not a "
                                               "tensorframes.ml.estimator.GraphModel"):
        GraphModel.load(path)
