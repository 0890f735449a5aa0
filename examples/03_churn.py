"""Churn prediction on telecom customers: features with Spark, models trained on Spark.

5,000 customers of a telecom company, 14 % of whom left (examples/data).
Spark ML prepares the features (index and one-hot encode the categorical
columns, assemble, standardize); a logistic regression and a neural network
(two hidden layers) are trained over the DataFrame by distributed training;
map_blocks scores the held-out customers with the trained graphs; Spark
MLlib's LogisticRegression is trained on the same rows for comparison.

    python examples/03_churn.py [--epochs 30] [--repeat 10] [--mode driver] [--master URL] [--save DIR]

With ``--save DIR`` the trained network is also published for serving as
the next version of ``DIR`` (``DIR/1``, then ``DIR/2``, ...: an
engine.saved_model written under a temporary name and renamed, so a
running ``tensorframes-serve --model_base_path DIR`` swaps it in).
"""
from __future__ import annotations

import os
import time

from pyspark.ml.classification import LogisticRegression
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

import _common
import engine as tf
import tensorframes as tfs
from engine import saved_model
from engine.layers import Dense


def logistic_regression(x: tf.Tensor) -> tf.Tensor:
    """The logit of churning: a weighted sum of the features."""
    return Dense(1, seed=0).linear(x)[:, 0]


def mlp(x: tf.Tensor) -> tf.Tensor:
    """The logit of churning from two hidden layers of 32 ReLUs: interactions a weighted sum misses."""
    hidden = Dense(32, activation="relu", seed=1)(Dense(32, activation="relu", seed=0)(x))
    return Dense(1, seed=2).linear(hidden)[:, 0]


def publish(base: str, sess: tf.Session, features: tf.Tensor, score: tf.Tensor) -> str:
    """Save the model as the next version under ``base`` (temporary name, then rename); its path."""
    os.makedirs(base, exist_ok=True)
    version = 1 + max((int(n) for n in os.listdir(base) if n.isdigit()), default=0)
    tmp, path = os.path.join(base, f".tmp-{version}"), os.path.join(base, str(version))
    saved_model.save(tmp, sess, inputs={"features": features}, outputs={"churn": score})
    os.rename(tmp, path)
    return path


def train_and_score(model, df: DataFrame, test: DataFrame, optimizer: tf.train.Optimizer, save: str = "",
                    **how: object) -> tuple[DataFrame, str, float]:
    """Train ``model`` with tfs.train; (``test`` with column ``score``, what ran, seconds).

    With ``save``, the trained model is published there for serving.
    """
    with tf.Graph().as_default():
        features = tfs.block(df, "features")
        logits = model(features)
        loss = tf.losses.sigmoid_cross_entropy(tfs.block(df, "label"), logits)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            start = time.perf_counter()
            result = tfs.train(loss, df, optimizer, **how)
            seconds = time.perf_counter() - start
            # The trained graph, variables included, scores every held-out customer.
            score = tf.sigmoid(logits, name="score")
            scored = tfs.map_blocks(score, test)
            if save:
                print(f"saved model: {publish(save, sess, features, score)}")
    return scored, f"{optimizer.get_name()}, {result.steps} steps", seconds


def evaluate(scored: DataFrame) -> dict:
    """Accuracy, AUC and confusion matrix of column ``score`` (P(churn)) against ``label``."""
    auc = BinaryClassificationEvaluator(rawPredictionCol="score", labelCol="label").evaluate(scored)
    counts = {(r.label, r.churn): r["count"] for r in
              scored.groupBy("label", (F.col("score") > 0.5).cast("double").alias("churn")).count().collect()}
    tp, fp, fn, tn = (counts.get(k, 0) for k in ((1.0, 1.0), (0.0, 1.0), (1.0, 0.0), (0.0, 0.0)))
    return {"accuracy": (tp + tn) / (tp + fp + fn + tn), "auc": auc, "tp": tp, "fp": fp, "fn": fn, "tn": tn}


def main() -> None:
    args = _common.parse_args(__doc__, steps=(100, 30, "L-BFGS steps at most (logistic regression)"),
                              epochs=(15, 3, "passes over the data (neural network)"),
                              repeat=(1, 1, "train on this many copies of the training rows"),
                              mode=("barrier", "barrier", "how tfs.train runs: barrier or driver"),
                              save=("", "", "publish the neural network for serving as the next version of DIR"))

    spark = _common.start_spark(args, "03_churn")
    train, test = _common.churn_data(spark)
    df = _common.for_training(_common.repeat(train, args.repeat), ["features", "label"])
    test = test.select("features", "label").cache()

    # The baseline: Spark MLlib's logistic regression on the same rows.
    start = time.perf_counter()
    mllib = LogisticRegression(featuresCol="features", labelCol="label").fit(df)
    seconds = time.perf_counter() - start
    mllib_scored = mllib.transform(test).withColumn("score", vector_to_array("probability")[1])
    runs = {"MLlib LogisticRegression": (evaluate(mllib_scored),
                                         f"L-BFGS, {mllib.summary.totalIterations} iterations", seconds)}
    for name, model, optimizer, how in [
            ("logistic regression", logistic_regression, tf.train.LBFGSOptimizer(),
             {"steps": args.steps, "tol": 1e-10}),
            ("neural network", mlp, tf.train.AdamOptimizer(0.01),
             {"epochs": args.epochs, "batch_size": 64, "save": args.save})]:
        scored, trained_by, seconds = train_and_score(model, df, test, optimizer, mode=args.mode, **how)
        runs[name] = (evaluate(scored), trained_by, seconds)
    first = scored.select("features", "score").first()  # the network's score of a held-out customer

    figures = {name: f for name, (f, _, _) in runs.items()}
    majority = 1.0 - test.agg(F.mean("label")).first()[0]  # always guessing "stays"
    _common.print_table(f"churn of {test.count():,} held-out customers ({df.count():,} training rows, "
                        f"{_common.feature_count(train)} features); always guessing 'stays' is "
                        f"{majority:.1%} accurate",
                        ["model", "trained by", "accuracy", "AUC", "seconds"],
                        [(name, how, f["accuracy"], f["auc"], seconds) for name, (f, how, seconds) in runs.items()])
    for name, f in figures.items():
        _common.print_table(f"confusion matrix, {name}", ["", "predicted churn", "predicted stay"],
                            [("churned", f["tp"], f["fn"]), ("stayed", f["fp"], f["tn"])])
    if args.save:
        print("score it over HTTP once served (tensorframes-serve --model_name churn --model_base_path DIR):\n"
              f"  curl -s -X POST localhost:8501/v1/models/churn:predict "
              f"-d '{{\"instances\": [{first.features.toArray().tolist()}]}}'")
    _common.print_result(majority_accuracy=majority, logistic_regression=figures["logistic regression"],
                         neural_network=figures["neural network"], mllib=figures["MLlib LogisticRegression"],
                         first_customer=first.features.toArray().tolist(), first_score=first.score)


if __name__ == "__main__":
    main()
