"""Round trip: a model trained by tfs.train on Spark, saved, served; its predictions over TF Serving's
REST API, the Open Inference Protocol's REST API and gRPC equal map_blocks over the same rows to the last bit."""
from __future__ import annotations

import csv
import gc
from pathlib import Path

import httpx
import numpy as np
import pytest
from pyspark.sql import types as T

import engine as tf
import tensorframes as tfs
from engine import saved_model
from engine.layers import Dense

pytest.importorskip("tritonclient")
import tritonclient.grpc as grpcclient  # noqa: E402
import tritonclient.http as httpclient  # noqa: E402

from serving.repository import ModelConfig  # noqa: E402
from serving.server import ModelServer, ServerOptions  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "examples" / "data" / "mlc_churn.csv"
pytestmark = pytest.mark.slow  # three training jobs, a map_blocks job and a server: several seconds

NUMERIC = ["account_length", "number_vmail_messages", "total_day_minutes", "total_day_calls", "total_eve_minutes",
           "total_eve_calls", "total_night_minutes", "total_night_calls", "total_intl_minutes", "total_intl_calls",
           "number_customer_service_calls"]


def churn_rows() -> tuple[np.ndarray, np.ndarray]:
    """Standardized numeric features and labels (1.0: churned) of the first 1,300 customers."""
    with open(DATA, newline="") as f:
        records = list(csv.DictReader(f))[:1300]
    x = np.array([[float(r[c]) for c in NUMERIC] for r in records])
    return (x - x.mean(axis=0)) / x.std(axis=0), np.array([float(r["churn"] == "yes") for r in records])


@pytest.fixture(scope="module")
def churn(spark):
    """(1,000 training rows in 2 partitions, 300 held-out rows in 1 partition, the held-out features)."""
    x, y = churn_rows()
    schema = T.StructType([T.StructField("features", T.ArrayType(T.DoubleType(), False), False),
                           T.StructField("label", T.DoubleType(), False)])
    frame = lambda rows: tfs.append_shape(spark.createDataFrame(rows, schema), "features", [None, len(NUMERIC)])
    train = frame([(a.tolist(), float(b)) for a, b in zip(x[:1000], y[:1000])]).repartition(2).cache()
    test = frame([(a.tolist(), 0.0) for a in x[1000:]]).coalesce(1).select("features")
    return train, test, x[1000:]


def test_a_model_trained_on_spark_serves_the_numbers_map_blocks_gives(churn, tmp_path):
    train, test, rows = churn
    with tf.Graph().as_default():
        x = tfs.block(train, "features")
        logits = Dense(1, seed=2).linear(Dense(16, activation="relu", seed=1)(x))[:, 0]
        loss = tf.losses.sigmoid_cross_entropy(tfs.block(train, "label"), logits)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            tfs.train(loss, train, tf.train.AdamOptimizer(0.05), steps=3, mode="driver", log_every=None)
            score = tf.sigmoid(logits, name="churn")
            spark_scores = np.array([r.churn for r in tfs.map_blocks(score, test).select("churn").collect()])
            saved_model.save(str(tmp_path / "1"), sess, inputs={"features": x}, outputs={"churn": score})

    with ModelServer([ModelConfig("churn", str(tmp_path))], ServerOptions(rest_port=0, grpc_port=0)) as server:
        tfs_rows = httpx.post(f"{server.rest_url}/v1/models/churn:predict", json={"instances": rows.tolist()})
        tfs_cols = httpx.post(f"{server.rest_url}/v1/models/churn:predict", json={"inputs": rows.tolist()})
        answers = {"TF Serving rows": np.array(tfs_rows.json()["predictions"]),
                   "TF Serving columns": np.array(tfs_cols.json()["outputs"])}
        for name, module, address in [("OIP REST", httpclient, server.rest_url.removeprefix("http://")),
                                      ("OIP gRPC", grpcclient, server.grpc_address)]:
            tensor = module.InferInput("features", list(rows.shape), "FP64")
            tensor.set_data_from_numpy(rows)
            with module.InferenceServerClient(address) as client:
                answers[name] = client.infer("churn", [tensor]).as_numpy("churn")
            del client
            gc.collect()  # tritonclient.http closes again in __del__: here, not in a server thread

    assert len(spark_scores) == 300 and 0 < spark_scores.min() < spark_scores.max() < 1
    for name, answer in answers.items():
        assert answer.dtype == np.float64, name
        np.testing.assert_array_equal(answer, spark_scores, err_msg=name)
