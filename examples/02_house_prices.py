"""Supervised learning of house prices: the talk's two houses, then a real data set on Spark.

Part 1 is the talk's linear regression, price = w * size + b, on two houses:
the error at the starting point w = 1000, b = 100, then the loop initialise,
compute the error, optimise w and b, repeat until the error stops dropping.

Part 2 predicts the prices of 1,728 houses in Saratoga County, NY from
several features prepared with Spark ML, trained over a Spark DataFrame by
distributed training, and compares the held-out RMSE with Spark MLlib's
LinearRegression on the same split.

    python examples/02_house_prices.py [--repeat 100] [--steps 200] [--mode driver] [--master URL]
"""
from __future__ import annotations

import time

import numpy as np
from pyspark.ml.evaluation import RegressionEvaluator
from pyspark.ml.regression import LinearRegression
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

import _common
import engine as tf
import tensorframes as tfs
from engine.layers import Dense

NUMERIC = ["lotSize", "age", "landValue", "livingArea", "pctCollege", "bedrooms", "fireplaces", "bathrooms",
           "rooms"]
CATEGORICAL = ["heating", "fuel", "sewer", "waterfront", "newConstruction", "centralAir"]


def two_houses() -> dict:
    """The talk's regression on two houses (90 m² for 160,000, 120 m² for 230,000)."""
    with tf.Graph().as_default():
        size = tf.placeholder(tf.float64, [None], name="size")
        price = tf.placeholder(tf.float64, [None], name="price")
        w = tf.Variable(np.float64(1000.0), name="w")
        b = tf.Variable(np.float64(100.0), name="b")
        predicted = w * size + b
        error = tf.losses.mean_squared_error(labels=price, predictions=predicted)
        # Sizes near 100 make the error ~10,000 times steeper along w than along b:
        # plain gradient descent would need a tiny step and crawl. L-BFGS learns
        # that curvature from the gradients it has seen.
        train_op = tf.train.LBFGSOptimizer().minimize(error)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            houses = {size: [90.0, 120.0], price: [160_000.0, 230_000.0]}
            history = tf.train.train_until_converged(sess, train_op, error, houses, tol=1e-9, patience=5)
            learned_w, learned_b = sess.run([w, b])
            new_sizes = [120.0, 150.0, 100.0]
            predictions = sess.run(predicted, {size: new_sizes})

    print(f"MSE at w = 1000, b = 100: {history[0]:,.0f}")
    _common.print_table("learning w and b", ["step", "MSE"],
                        [(i + 1, history[i]) for i in range(min(5, len(history) - 1))]
                        + [(len(history), history[-1])])
    print(f"\nlearned: w = {learned_w:,.2f} per m², b = {learned_b:,.2f}")
    _common.print_table("predicted prices", ["size (m²)", "price"], list(zip(new_sizes, predictions)))
    return {"first_mse": history[0], "w": learned_w, "b": learned_b, "predictions": predictions}


def rmse(predictions: DataFrame) -> float:
    """The root mean squared error of column ``prediction`` against ``price``."""
    return RegressionEvaluator(labelCol="price", predictionCol="prediction", metricName="rmse").evaluate(predictions)


def saratoga(spark, args) -> dict:
    """A linear model of Saratoga house prices trained with tfs.train, next to MLlib's LinearRegression."""
    houses = _common.load_csv(spark, "saratoga_houses.csv").withColumn("price", F.col("price").cast("double"))
    train, test = _common.split(houses)
    features = _common.fit_features(train, NUMERIC, CATEGORICAL)
    train, test = features.transform(train), features.transform(test)
    df = _common.for_training(_common.repeat(train, args.repeat), ["features", "price"])

    with tf.Graph().as_default():
        x = tfs.block(df, "features")
        predicted = tf.identity(Dense(1, seed=0).linear(x)[:, 0], name="prediction")
        loss = tf.losses.mean_squared_error(labels=tfs.block(df, "price"), predictions=predicted)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            start = time.perf_counter()
            result = tfs.train(loss, df, tf.train.LBFGSOptimizer(), steps=args.steps, tol=1e-10, mode=args.mode)
            ours_seconds = time.perf_counter() - start
            # Scoring: the trained graph, shipped with its variables, appends column "prediction".
            ours = rmse(tfs.map_blocks(predicted, test))

    start = time.perf_counter()
    mllib_model = LinearRegression(featuresCol="features", labelCol="price").fit(df)
    mllib_seconds = time.perf_counter() - start
    mllib = rmse(mllib_model.transform(test))

    _common.print_table(f"Saratoga house prices: {df.count():,} training rows, {test.count():,} held out, "
                        f"{_common.feature_count(train)} features",
                        ["model", "method", "held-out RMSE ($)", "seconds"],
                        [(f"tfs.train ({result.mode} mode)", f"L-BFGS, {result.steps} steps", ours, ours_seconds),
                         ("MLlib LinearRegression", "normal equations", mllib, mllib_seconds)])
    return {"rmse": ours, "mllib_rmse": mllib, "steps": result.steps}


def main() -> None:
    args = _common.parse_args(__doc__, steps=(100, 30, "L-BFGS steps at most"),
                              repeat=(1, 1, "train on this many copies of the training rows"),
                              mode=("barrier", "barrier", "how tfs.train runs: barrier or driver"))

    print("Part 1: the talk's two houses\n")
    figures = two_houses()
    print("\nPart 2: Saratoga houses on Spark")
    figures.update(saratoga(_common.start_spark(args, "02_house_prices"), args))
    _common.print_result(**figures)


if __name__ == "__main__":
    main()
