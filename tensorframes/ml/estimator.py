"""GraphEstimator and GraphModel: training a graph as a Spark ML Estimator.

Two ways to say what to train:

- a model-building function ``modelFn(features) -> output`` and an
  ``objective`` ("binary", "multiclass", "regression"): at fit time the
  estimator makes a float placeholder for ``featuresCol`` (its width read from
  the column), calls the function, and adds the loss and the output columns
  Spark ML's evaluators expect (``rawPrediction`` and ``probability`` as
  Vectors, ``prediction`` as a double);
- a graph (``graphDef``: a Session holding its variables) with placeholders
  fed by ``inputMapping``, a scalar mean loss named by ``lossTensor`` and the
  tensors ``outputMapping`` writes to prediction columns.

``fit`` trains by distributed training (``tensorframes.training``) with the
optimizer and settings in the Params, and returns a :class:`GraphModel`
holding the trained graph, frozen to what its outputs need.

>>> def linear(x):
...     w = tf.Variable(tf.zeros([x.shape[1], 1], tf.float64))
...     return tf.matmul(x, w)[:, 0] + tf.Variable(np.float64(0.0))
>>> est = GraphEstimator(modelFn=linear, objective="regression", featuresCol="y", labelCol="x",
...                      optimizer="adam", learningRate=0.1, steps=5)
>>> model = est.fit(df)  # df.y: array double[?,2], df.x: double
>>> model.transform(df).columns
['x', 'y', 'key', 'prediction']
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np
from pyspark.ml import Estimator, Model
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import (HasFeaturesCol, HasLabelCol, HasPredictionCol, HasProbabilityCol,
                                     HasRawPredictionCol, HasSeed, HasTol)
from pyspark.ml.util import MLReadable
from pyspark.sql import DataFrame
from pyspark.sql import types as T

import engine as tf
from engine import losses
from engine.errors import EngineError
from engine.graph import tensor_of
from engine.graph_util import convert_variables_to_constants
from engine.op_types import PLACEHOLDER
from tensorframes.errors import PersistenceError, StageParamError
from tensorframes.ml.persistence import GraphStageReader, GraphStageWriter
from tensorframes.ml.transformer import GraphRunner, GraphStage
from tensorframes.schema import analyze, column_spec
from tensorframes.spark_columns import column_ref
from tensorframes.training import train

ModelFn = Callable[[tf.Tensor], tf.Tensor]

# Optimizer names -> engine.train classes (their extra arguments keep TensorFlow's defaults).
_OPTIMIZERS = {"sgd": "GradientDescentOptimizer", "adam": "AdamOptimizer", "adagrad": "AdagradOptimizer",
               "adadelta": "AdadeltaOptimizer", "rmsprop": "RMSPropOptimizer", "ftrl": "FtrlOptimizer"}


class ObjectiveOutputs(NamedTuple):
    """What an objective adds to the model's output: the loss and the output tensors by column Param."""

    loss: tf.Tensor
    outputs: dict[str, tf.Tensor]


def _binary(logits: tf.Tensor, label: tf.Tensor) -> ObjectiveOutputs:
    z = tf.reshape(logits, [-1])
    p = tf.sigmoid(z)
    return ObjectiveOutputs(losses.sigmoid_cross_entropy(label, z), {
        "rawPredictionCol": tf.stack([-z, z], axis=1, name="rawPrediction"),
        "probabilityCol": tf.stack([1.0 - p, p], axis=1, name="probability"),
        "predictionCol": tf.cast(z > 0.0, tf.float64, name="prediction")})


def _multiclass(logits: tf.Tensor, label: tf.Tensor) -> ObjectiveOutputs:
    classes = tf.cast(label, tf.int64)
    return ObjectiveOutputs(losses.sparse_softmax_cross_entropy(classes, logits), {
        "rawPredictionCol": tf.identity(logits, name="rawPrediction"),
        "probabilityCol": tf.nn.softmax(logits, name="probability"),
        "predictionCol": tf.cast(tf.argmax(logits, axis=1), tf.float64, name="prediction")})


def _regression(output: tf.Tensor, label: tf.Tensor) -> ObjectiveOutputs:
    y = tf.reshape(output, [-1], name="prediction")
    return ObjectiveOutputs(losses.mean_squared_error(label, y), {"predictionCol": y})


OBJECTIVES: dict[str, Callable[[tf.Tensor, tf.Tensor], ObjectiveOutputs]] = {
    "binary": _binary, "multiclass": _multiclass, "regression": _regression}


class GraphModel(GraphRunner, Model, MLReadable["GraphModel"]):
    """A trained graph that appends its outputs as prediction columns (from GraphEstimator.fit).

    ``lossHistory`` holds the training losses per step (not saved).
    """

    _VECTOR_OUTPUT = True

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.lossHistory: list[float] = []

    @classmethod
    def read(cls) -> GraphStageReader:
        return GraphStageReader(cls)


class _TrainingParams(HasFeaturesCol, HasLabelCol, HasPredictionCol, HasRawPredictionCol, HasProbabilityCol,
                      HasSeed, HasTol):
    """The training settings of GraphEstimator."""

    objective: Param[str] = Param(
        Params._dummy(), "objective",
        f"with modelFn: what the model's output means, which sets the loss and the output columns: "
        f"{', '.join(OBJECTIVES)} (logits of one class / of each class / values)",
        typeConverter=TypeConverters.toString)
    lossTensor: Param[str] = Param(
        Params._dummy(), "lossTensor", "with graphDef: the scalar loss (mean over rows) to minimize",
        typeConverter=TypeConverters.toString)
    optimizer: Param[str] = Param(
        Params._dummy(), "optimizer", f"optimizer name: {', '.join(_OPTIMIZERS)}, momentum",
        typeConverter=TypeConverters.toString)
    learningRate: Param[float] = Param(Params._dummy(), "learningRate", "learning rate (> 0)",
                                       typeConverter=TypeConverters.toFloat)
    steps: Param[int] = Param(Params._dummy(), "steps", "training steps (>= 0); 0: epochs decides",
                              typeConverter=TypeConverters.toInt)
    epochs: Param[int] = Param(Params._dummy(), "epochs", "passes over the data (>= 0); 0: steps decides",
                               typeConverter=TypeConverters.toInt)
    batchSize: Param[int] = Param(Params._dummy(), "batchSize", "rows per step over all partitions; 0: all",
                                  typeConverter=TypeConverters.toInt)
    mode: Param[str] = Param(
        Params._dummy(), "mode", "distributed training mode: 'barrier' (one barrier stage holding the data in "
        "numpy; needs a free task slot per partition) or 'driver' (a Spark job per step; any partitioning)",
        typeConverter=TypeConverters.toString)

    def __init__(self) -> None:
        super().__init__()
        self._setDefault(objective="regression", lossTensor="loss", optimizer="adam", learningRate=0.01,
                         steps=100, epochs=0, batchSize=0, mode="barrier", seed=0, tol=0.0)


class GraphEstimator(GraphStage, _TrainingParams, Estimator, MLReadable["GraphEstimator"]):
    """Trains a graph over a DataFrame; ``fit`` returns a :class:`GraphModel`.

    Give ``modelFn`` (a Python function, built at fit time; call
    :meth:`build` to get a copy holding the built graph, which can be saved)
    or ``graphDef`` with ``inputMapping``, ``lossTensor`` and ``outputMapping``.
    Training stops after ``steps`` or ``epochs`` (whichever comes first; 0
    leaves one out), or once the loss improved by less than ``tol``
    (relative) three times in a row (0: never). Numeric labels of any type
    are cast to the label placeholder's dtype.
    """

    def __init__(self, *, modelFn: ModelFn | None = None, **params: Any) -> None:
        super().__init__()
        self.modelFn = modelFn
        self._setGiven(**params)

    def setParams(self, **params: Any) -> "GraphEstimator":
        """Set any Params by name (learningRate=0.1, steps=50, ...)."""
        return self._setGiven(**params)

    def build(self, dataset: DataFrame) -> "GraphEstimator":
        """A copy holding the graph ``modelFn`` builds for ``dataset``'s features (savable)."""
        if self.modelFn is None:
            return self.copy()
        objective = self.getOrDefault(self.objective)
        if objective not in OBJECTIVES:
            raise StageParamError(f"{self.uid}: objective {objective!r} is not one of {sorted(OBJECTIVES)}")
        features = self.getFeaturesCol()
        graph = tf.Graph()
        with graph.as_default():
            x = tf.placeholder(*_feature_spec(dataset, features), name="features")
            label = tf.placeholder(tf.float64, (None,), name="label")
            head = OBJECTIVES[objective](self.modelFn(x), label)
            loss = tf.identity(head.loss, name="loss")
            init = tf.global_variables_initializer()
        session = tf.Session(graph)
        session.run(init)
        built = self.copy()
        built.modelFn = None
        return built._set(graphDef=session, inputMapping={features: x.name, self.getLabelCol(): label.name},
                          lossTensor=loss.name,
                          outputMapping={t.name: self.getOrDefault(p) for p, t in head.outputs.items()})

    def _fit(self, dataset: DataFrame) -> GraphModel:
        if self.modelFn is not None:
            return self.build(dataset)._fit(dataset)
        graph, session = self.loadGraph()
        try:
            loss = tensor_of(graph, self.getOrDefault(self.lossTensor))
        except EngineError as e:
            raise StageParamError(f"{self.uid}: lossTensor is not a tensor of the graph: {e}") from None
        _initialize_missing(graph, session)
        feed = {placeholder: column for column, placeholder in self.getInputMapping().items()}
        result = train(loss, _numeric_labels(dataset, self, graph), optimizer=self._optimizer(),
                       feed_dict=feed, session=session, **self._settings())
        model = self._model(graph, session)
        model.lossHistory = list(result.losses)
        return model

    def _settings(self) -> dict[str, Any]:
        get = self.getOrDefault
        mode = get(self.mode)
        if mode not in ("driver", "barrier"):
            raise StageParamError(f"{self.uid}: mode must be 'driver' or 'barrier', found {mode!r}")
        return {"steps": get(self.steps) or None, "epochs": get(self.epochs) or None,
                "batch_size": get(self.batchSize) or None, "mode": mode, "seed": get(self.seed),
                "tol": get(self.tol) or None}

    def _optimizer(self) -> tf.train.Optimizer:
        name, rate = self.getOrDefault(self.optimizer), self.getOrDefault(self.learningRate)
        if not rate > 0:
            raise StageParamError(f"{self.uid}: learningRate must be > 0, found {rate}")
        if name == "momentum":
            return tf.train.MomentumOptimizer(rate, momentum=0.9)
        if name not in _OPTIMIZERS:
            raise StageParamError(f"{self.uid}: unknown optimizer {name!r}; choose one of "
                                  f"{', '.join([*_OPTIMIZERS, 'momentum'])}")
        return getattr(tf.train, _OPTIMIZERS[name])(rate)

    def _model(self, graph: tf.Graph, session: tf.Session) -> GraphModel:
        """The trained graph, frozen to what the outputs need, as a GraphModel."""
        outputs = self.getOutputMapping()
        if not outputs:
            raise StageParamError(f"{self.uid}: outputMapping is empty; map the prediction tensors to columns")
        try:
            names = [tensor_of(graph, t).op.name for t in outputs]
            frozen = convert_variables_to_constants(session, graph.as_graph_def(), names)
        except EngineError as e:
            raise StageParamError(f"{self.uid}: outputMapping does not fit the graph: {e}") from None
        kept = {n["name"] for n in frozen.nodes if n["op"] == PLACEHOLDER}
        inputs = {c: p for c, p in self.getInputMapping().items() if p.split(":")[0] in kept}
        model = GraphModel(graphDef=frozen, inputMapping=inputs, outputMapping=outputs)
        return model

    def copy(self, extra: dict | None = None) -> "GraphEstimator":
        that = super().copy(extra)
        that.modelFn = self.modelFn
        return that

    def write(self) -> GraphStageWriter:
        """A writer of the built graph and the Params; a modelFn cannot be saved (call build first)."""
        if self.modelFn is not None:
            raise PersistenceError(
                f"{self.uid}: a model-building Python function cannot be saved safely (that would need "
                "pickle); save est.build(df), which holds the built graph, or the fitted model")
        return super().write()

    @classmethod
    def read(cls) -> GraphStageReader:
        return GraphStageReader(cls)


def _feature_spec(dataset: DataFrame, column: str) -> tuple[np.dtype, tuple]:
    """dtype and block shape of the features placeholder: one row of numbers per row."""
    spec = column_spec(dataset.schema, column)
    if spec.rank != 1:
        raise StageParamError(f"featuresCol {column!r} ({spec.describe()}) must hold one Vector or one "
                              "array of numbers per row; assemble scalar columns with VectorAssembler")
    if spec.cell_shape[0] is None:
        spec = column_spec(analyze(dataset.select(column_ref(column))).schema, column)
    if spec.cell_shape[0] is None:
        raise StageParamError(f"featuresCol {column!r} holds rows of different lengths")
    return spec.dtype, (None, spec.cell_shape[0])


def _initialize_missing(graph: tf.Graph, session: tf.Session) -> None:
    """Run the initializers of variables the GraphDef carried no value for."""
    missing = [v for v in tf.global_variables(graph) if v.op.name not in session.variables]
    if missing:
        with graph.as_default():
            session.run(tf.variables_initializer(missing))


def _numeric_labels(dataset: DataFrame, est: GraphEstimator, graph: tf.Graph) -> DataFrame:
    """``dataset`` with a numeric label column cast to its placeholder's dtype, as Spark ML accepts any number."""
    column = est.getLabelCol()
    placeholder = est.getInputMapping().get(column)
    if placeholder is None or column not in dataset.columns:
        return dataset
    field = dataset.schema[column]
    if not isinstance(field.dataType, T.NumericType):
        return dataset
    dtype = {np.dtype(np.float64): "double", np.dtype(np.float32): "float"}.get(
        tensor_of(graph, placeholder).dtype.np)
    return dataset.withColumn(column, column_ref(column).cast(dtype)) if dtype else dataset
