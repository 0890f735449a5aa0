"""Adding a new op: the Huber loss (huber_op.py), checked, then used to train on Spark.

An op is one registry entry: kernel, shape rule, gradient and batching rule.
This script shows each at work, checks the gradient against finite
differences with check_grads, and fits a line to data with outliers by
distributed training: with the squared error the outliers drag the line
away, with the Huber loss it stays close to the true one.

The executors learn the op by importing huber_op: the module is shipped with
addPyFile (or spark-submit --py-files) and named in ENGINE_OP_MODULES.

    python examples/05_custom_op.py [--rows 1000000] [--steps 200] [--master URL]
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession

import _common
import engine as tf
import huber_op
import tensorframes as tfs
from engine.extend import check_grads
from huber_op import huber

TRUE_W, TRUE_B, DELTA = 2.0, 1.0, 1.0


def show_the_op() -> None:
    """The shape rule at build time, the kernel, and an error that names the op."""
    with tf.Graph().as_default():
        r = tf.placeholder(tf.float64, [None], name="r")
        loss = huber(r, DELTA)
        print(f"huber of a {r.shape} placeholder has static shape {loss.shape}, dtype {loss.dtype.name}")
        values = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])
        _common.print_table(f"the kernel, delta = {DELTA}", ["r", "huber(r)", "r²/2"],
                            [(v, h, v * v / 2) for v, h in zip(values, tf.Session().run(loss, {r: values}))])
        try:
            huber(tf.placeholder(tf.int32, [None, 3], name="counts"))
        except tf.DTypeError as e:
            print(f"\nthe shape rule refuses integer input when the graph is built:\n  {e}")


def check_gradients() -> None:
    """First and second derivatives against central differences (away from the kinks at ±delta)."""
    points = np.array([-3.0, -0.7, 0.2, 0.9, 2.5])
    check_grads(lambda r: huber(r, DELTA), [points], order=2)
    print("\ncheck_grads: first and second derivatives match finite differences")


def make_data(spark: SparkSession, rows: int) -> DataFrame:
    """y = 2x + 1 + noise, with one row in ten an outlier 30 above the line."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-3.0, 3.0, rows)
    y = TRUE_W * x + TRUE_B + rng.normal(0.0, 0.3, rows) + np.where(rng.uniform(size=rows) < 0.1, 30.0, 0.0)
    return spark.createDataFrame(pd.DataFrame({"x": x, "y": y}))


def fit_line(df: DataFrame, loss_of_residuals: Callable[[tf.Tensor], tf.Tensor],
             steps: int) -> tuple[float, float, int]:
    """Fit y ≈ w x + b over the DataFrame by distributed training; (w, b, steps taken)."""
    with tf.Graph().as_default():
        x, y = tfs.block(df, "x"), tfs.block(df, "y")
        w = tf.Variable(np.float64(0.0), name="w")
        b = tf.Variable(np.float64(0.0), name="b")
        loss = tf.reduce_mean(loss_of_residuals(w * x + b - y))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            result = tfs.train(loss, df, tf.train.LBFGSOptimizer(), steps=steps, tol=1e-9, log_every=None)
            return float(sess.run(w)), float(sess.run(b)), result.steps


def main() -> None:
    args = _common.parse_args(__doc__, rows=(100_000, 2_000, "rows of the generated DataFrame"),
                              steps=(100, 50, "L-BFGS steps at most"))

    show_the_op()
    check_gradients()

    # Executors load the shipped graphs by op type, so they must register Huber
    # too: the module goes along with the job and they import it when needed.
    spark = _common.start_spark(args, "05_custom_op", **{"spark.executorEnv.ENGINE_OP_MODULES": "huber_op"})
    spark.sparkContext.addPyFile(huber_op.__file__)
    df = _common.for_training(make_data(spark, args.rows), ["x", "y"])

    # The batching rule at work: a graph for one row, run over whole blocks.
    with tf.Graph().as_default():
        r = tfs.row(df, "y") - (TRUE_W * tfs.row(df, "x") + TRUE_B)
        scored = tfs.map_rows(huber(r, DELTA, name="huber"), df)
    _common.print_rows("map_rows with the new op on the executors: huber of the residual from the true line",
                       scored)

    fits = {"squared error": fit_line(df, tf.square, args.steps),
            "huber": fit_line(df, lambda r: huber(r, DELTA), args.steps)}
    _common.print_table(f"y = {TRUE_W:g}x + {TRUE_B:g} with 10 % outliers, {args.rows:,} rows",
                        ["loss", "w", "b", "steps"],
                        [("true line", TRUE_W, TRUE_B, "")] + [(name, *fit) for name, fit in fits.items()])
    _common.print_result(rows=args.rows, true=[TRUE_W, TRUE_B],
                         squared_error=list(fits["squared error"][:2]), huber=list(fits["huber"][:2]))


if __name__ == "__main__":
    main()
