"""GraphEstimator and GraphModel: fitting in a Pipeline, tuning, saving, and scoring without Spark."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.feature import StandardScaler, VectorAssembler
from pyspark.ml.tuning import CrossValidator, ParamGridBuilder
from pyspark.sql import functions as F

import engine as tf
from engine import saved_model
from engine.errors import SavedModelError
from tensorframes.errors import PersistenceError, StageParamError
from tensorframes.ml import GraphEstimator, GraphModel

ROOT = Path(__file__).resolve().parents[2]
CHURN = ROOT / "examples" / "data" / "mlc_churn.csv"
NUMERIC = ["account_length", "number_vmail_messages", "total_day_minutes", "total_day_calls",
           "total_eve_minutes", "total_night_minutes", "total_intl_minutes", "total_intl_calls",
           "number_customer_service_calls"]
ROWS = 1000  # a subset keeps the tests fast; the churn rate is about the same as in all 5,000


def logistic(x: tf.Tensor) -> tf.Tensor:
    """Logistic regression's logits (a linear model's outputs), from zero weights."""
    w = tf.Variable(tf.zeros([x.shape[1], 1], tf.float64), name="w")
    b = tf.Variable(np.float64(0.0), name="b")
    return tf.matmul(x, w) + b


@pytest.fixture(scope="module")
def churn(spark):
    """id, the numeric columns and label (churn: 1.0, else 0.0), in 2 partitions."""
    df = spark.read.csv(str(CHURN), header=True, inferSchema=True).limit(ROWS)
    df = df.select(F.monotonically_increasing_id().alias("id"), *NUMERIC,
                   (F.col("churn") == "yes").cast("double").alias("label"))
    return df.repartition(2, "id").cache()


def pipeline(**params) -> Pipeline:
    estimator = GraphEstimator(modelFn=logistic, objective="binary", featuresCol="scaled", optimizer="adam",
                               learningRate=0.1, steps=30, **params)
    return Pipeline(stages=[VectorAssembler(inputCols=NUMERIC, outputCol="raw"),
                            StandardScaler(inputCol="raw", outputCol="scaled", withMean=True), estimator])


@pytest.fixture(scope="module")
def fitted(churn):
    return pipeline().fit(churn)


def scores(df) -> dict[int, tuple]:
    return {r.id: (tuple(r.probability.toArray()), r.prediction) for r in df.collect()}


def assert_same_scores(probabilities, predictions, expected_probabilities, expected_predictions) -> None:
    """The same classes, and the same probabilities but for the last bit.

    BLAS and numpy's vectorized kernels may round the last bit of a row
    differently when it sits elsewhere in a batch (another partitioning, one
    block instead of several), so probabilities are compared to 1e-13.
    """
    np.testing.assert_array_equal(predictions, expected_predictions)
    np.testing.assert_allclose(probabilities, expected_probabilities, rtol=1e-13, atol=0)


def test_estimator_params_have_defaults_docs_and_copy():
    est = GraphEstimator()
    defaults = {"objective": "regression", "lossTensor": "loss", "optimizer": "adam", "learningRate": 0.01,
                "steps": 100, "epochs": 0, "batchSize": 0, "mode": "barrier", "seed": 0, "tol": 0.0,
                "featuresCol": "features", "labelCol": "label", "predictionCol": "prediction",
                "rawPredictionCol": "rawPrediction", "probabilityCol": "probability"}
    assert {name: est.getOrDefault(name) for name in defaults} == defaults
    assert all(p.doc for p in est.params)
    est = GraphEstimator(modelFn=logistic, learningRate=0.5)
    tuned = est.copy({est.learningRate: 0.05})
    assert tuned.modelFn is logistic and tuned.getOrDefault("learningRate") == 0.05
    assert GraphModel().getVectorOutput() is True


def test_pipeline_fits_and_predicts_churn(fitted, churn):
    out = fitted.transform(churn)
    assert {"rawPrediction", "probability", "prediction"} <= set(out.columns)
    auc = BinaryClassificationEvaluator().evaluate(out)
    accuracy = out.where("prediction = label").count() / ROWS
    assert auc > 0.75 and accuracy > 0.85  # logistic regression on these columns: AUC about 0.8
    model = fitted.stages[-1]
    assert isinstance(model, GraphModel) and model.lossHistory[-1] < model.lossHistory[0]


def test_saved_pipeline_predicts_identically_in_a_fresh_spark_session(fitted, churn, tmp_path):
    path, data = str(tmp_path / "pipeline"), str(tmp_path / "data")
    fitted.save(path)
    churn.write.parquet(data)
    script = (
        "import json, sys\n"
        "from pyspark.ml import PipelineModel\n"
        "from tensorframes.spark import get_spark\n"
        "spark = get_spark(master='local[1]')\n"
        f"out = PipelineModel.load({path!r}).transform(spark.read.parquet({data!r}))\n"
        "rows = [(r.id, r.probability.toArray().tolist(), r.prediction) for r in out.collect()]\n"
        "print('SCORES ' + json.dumps(rows))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("SCORES "))
    fresh = {i: (p, pred) for i, p, pred in json.loads(line[len("SCORES "):])}
    here = scores(fitted.transform(churn))
    assert sorted(fresh) == sorted(here)
    assert_same_scores([fresh[i][0] for i in here], [fresh[i][1] for i in here],
                       [here[i][0] for i in here], [here[i][1] for i in here])


def test_saved_model_scores_identically_with_the_engine_alone(fitted, churn, tmp_path):
    path = str(tmp_path / "pipeline")
    fitted.save(path)
    (model_dir,) = glob.glob(f"{path}/stages/*GraphModel*/model")
    rows = fitted.transform(churn).select("scaled", "probability", "rawPrediction", "prediction").collect()
    x = np.array([r.scaled.toArray() for r in rows])
    out = saved_model.load(model_dir).predict({"scaled": x})
    assert_same_scores(out["probability"], out["prediction"],
                       [r.probability.toArray() for r in rows], [r.prediction for r in rows])
    np.testing.assert_allclose(out["rawPrediction"], [r.rawPrediction.toArray() for r in rows], rtol=1e-13)


def test_tampered_saved_model_fails_to_load_clearly(fitted, tmp_path):
    path = str(tmp_path / "model")
    fitted.stages[-1].save(path)
    (part,) = glob.glob(f"{path}/model/graph_def.json/part-*")
    for crc in glob.glob(f"{path}/model/graph_def.json/.*.crc"):
        os.remove(crc)  # Hadoop's checksums would catch the edit first, with a Java stack trace
    with open(part) as f:
        text = f.read()
    with open(part, "w") as f:
        f.write(text.replace('"op":"Sigmoid"', '"op":"Tanh"', 1))
    with pytest.raises(SavedModelError, match="graph_def.json: SHA-256 .* the file was changed after saving"):
        GraphModel.load(path)


def test_cross_validator_picks_a_learning_rate_and_reports_metrics(fitted, churn):
    features = PipelineModel(fitted.stages[:2]).transform(churn).cache()
    est = GraphEstimator(modelFn=logistic, objective="binary", featuresCol="scaled", optimizer="sgd", steps=10)
    grid = ParamGridBuilder().addGrid(est.learningRate, [0.001, 1.0]).build()
    cv = CrossValidator(estimator=est, estimatorParamMaps=grid, evaluator=BinaryClassificationEvaluator(),
                        numFolds=2, seed=7).fit(features)
    assert len(cv.avgMetrics) == 2 and all(0.5 < m <= 1.0 for m in cv.avgMetrics)
    best = int(np.argmax(cv.avgMetrics))
    assert grid[best][est.learningRate] == 1.0  # ten steps of 0.001 barely move the weights
    assert isinstance(cv.bestModel, GraphModel)


def test_a_model_function_cannot_be_saved_but_its_built_graph_can(churn, tmp_path):
    est = GraphEstimator(modelFn=logistic, objective="binary", featuresCol="raw", steps=3)
    with pytest.raises(PersistenceError, match="cannot be saved safely.*est.build\\(df\\)"):
        est.save(str(tmp_path / "fn"))
    df = VectorAssembler(inputCols=NUMERIC, outputCol="raw").transform(churn)
    built = est.build(df)
    assert built.modelFn is None and built.getInputMapping() == {"raw": "features:0", "label": "label:0"}
    built.save(str(tmp_path / "built"))
    loaded = GraphEstimator.load(str(tmp_path / "built"))
    assert loaded.getOrDefault("steps") == 3 and loaded.getGraphDef() == built.getGraphDef()
    assert scores(loaded.fit(df).transform(df)) == scores(est.fit(df).transform(df))


def test_clear_errors_for_unusable_features_and_settings(churn):
    est = GraphEstimator(modelFn=logistic, objective="binary", featuresCol="total_day_calls")
    with pytest.raises(StageParamError, match="featuresCol 'total_day_calls' .* must hold one Vector"):
        est.fit(churn)
    with pytest.raises(StageParamError, match="objective 'poisson' is not one of"):
        est.copy({est.objective: "poisson"}).fit(churn)


def test_regression_on_an_array_column_of_unknown_width(spark):
    """Array features work like Vectors; their width is found by one scan when the schema lacks it."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 3))
    y = x @ np.array([1.5, -2.0, 0.5]) + 1.0
    df = spark.createDataFrame([(row.tolist(), float(t)) for row, t in zip(x, y)], "x array<double>, label double")
    est = GraphEstimator(modelFn=logistic, featuresCol="x", optimizer="sgd", learningRate=0.5, steps=300)
    out = est.fit(df).transform(df).collect()
    np.testing.assert_allclose([r.prediction for r in out], [r.label for r in out], atol=1e-6)
