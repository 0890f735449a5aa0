"""learn_stage: an engine.learn estimator trained on a DataFrame learns what fit learns on the same rows."""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.ml.linalg import Vectors

from engine.learn import DNNClassifier, DNNRegressor, LinearClassifier
from tensorframes.errors import StageParamError
from tensorframes.ml import GraphModel, learn_stage

sklearn_datasets = pytest.importorskip("sklearn.datasets")


@pytest.fixture(scope="module")
def cancer(spark):
    """Breast-cancer features (standardized numpy) and the same rows as a DataFrame of 2 partitions."""
    x, y = sklearn_datasets.load_breast_cancer(return_X_y=True)
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    df = spark.createDataFrame([(Vectors.dense(row), float(label)) for row, label in zip(x, y)],
                               ["features", "label"])
    return x, y, df.repartition(2).cache()


def test_full_batch_on_spark_equals_fit(cancer):
    x, y, df = cancer
    estimator = DNNClassifier(hidden_units=(8,), optimizer="adam", learning_rate=0.01, batch_size=None, steps=25)
    model = learn_stage(estimator, n_classes=2).fit(df)
    assert isinstance(model, GraphModel)
    on_spark = np.array([r.probability[1] for r in model.transform(df.orderBy("label")).collect()])
    local = estimator.fit(x, y).predict_proba(x[np.argsort(y, kind="stable")])[:, 1]
    np.testing.assert_allclose(np.sort(on_spark), np.sort(local), rtol=1e-6)  # exact gradient averaging


def test_settings_become_params_and_classes_come_from_a_fit(cancer):
    x, y, _ = cancer
    stage = learn_stage(LinearClassifier(optimizer="sgd", learning_rate=0.5, steps=7, seed=3).fit(x, y),
                        labelCol="target")
    get = stage.getOrDefault
    assert (get("objective"), get("optimizer"), get("learningRate"), get("steps"), get("batchSize"),
            get("seed"), get("labelCol")) == ("binary", "sgd", 0.5, 7, 32, 3, "target")


def test_what_spark_cannot_train_is_refused():
    with pytest.raises(StageParamError, match="dropout=None"):
        learn_stage(DNNRegressor(dropout=0.2))
    with pytest.raises(StageParamError, match="n_classes"):
        learn_stage(DNNClassifier())
