"""``engine.learn`` estimators on Spark DataFrames: :func:`learn_stage`.

The estimators stay Spark-free (``engine`` never imports pyspark); on a
DataFrame the same network is trained by wrapping it in the existing
:class:`~tensorframes.ml.GraphEstimator`, which trains with ``tfs.train``
and returns a :class:`~tensorframes.ml.GraphModel`. So there is one
distributed training path, and the result is a Spark ML stage: it fits in a
``Pipeline`` after ``VectorAssembler``/``StandardScaler``, works with
``CrossValidator`` and saves with ML persistence, and its output columns
(``prediction``, and ``rawPrediction``/``probability`` for classifiers) are
what Spark ML's evaluators read.

>>> from engine.learn import LinearRegressor
>>> stage = learn_stage(LinearRegressor(optimizer="adam", learning_rate=0.1, steps=20), featuresCol="y", labelCol="x")
>>> model = stage.fit(df)
>>> model.transform(df).columns
['x', 'y', 'key', 'prediction']
"""

from __future__ import annotations

from typing import Any, Optional

from tensorframes.errors import StageParamError
from tensorframes.ml.estimator import GraphEstimator


def learn_stage(estimator: Any, n_classes: Optional[int] = None, **params: Any) -> GraphEstimator:
    """A GraphEstimator that trains ``estimator``'s network (an ``engine.learn`` estimator) on a DataFrame.

    The estimator's optimizer, learning rate, batch size, steps, epochs and
    seed become the stage's Params, and its network starts from the same
    seeded weights, so full-batch training gives what ``estimator.fit`` gives
    on the same rows (exact gradient averaging). Classifiers need
    ``n_classes`` (labels are class indices 0..n_classes-1, as StringIndexer
    writes them) unless the estimator was fitted. ``params`` are more
    GraphEstimator Params (``featuresCol``, ``labelCol``, ``mode``, ...).
    Dropout is refused: it needs a new random mask fed every step, which a
    training over DataFrame columns doesn't feed.
    """
    if getattr(estimator, "dropout", None):
        raise StageParamError(f"{type(estimator).__name__}(dropout={estimator.dropout}) can't train on Spark: "
                              "dropout masks are fed per step, and distributed training feeds DataFrame "
                              "columns only; use dropout=None")
    if not hasattr(estimator, "predict_proba"):  # a regressor
        objective, outputs = "regression", 1
    else:
        classes = n_classes if n_classes is not None else len(getattr(estimator, "classes_", ()))
        if classes < 2:
            raise StageParamError(f"{type(estimator).__name__}: say how many classes the labels have "
                                  "(n_classes=...; labels are 0..n_classes-1), or fit the estimator first")
        objective, outputs = ("binary", 1) if classes == 2 else ("multiclass", classes)
    settings = {"objective": objective, "optimizer": estimator.optimizer,
                "learningRate": float(estimator.learning_rate), "steps": estimator.steps or 0,
                "epochs": estimator.epochs or 0, "batchSize": estimator.batch_size or 0,
                "seed": estimator.seed or 0}
    return GraphEstimator(modelFn=estimator.network(outputs), **{**settings, **params})
