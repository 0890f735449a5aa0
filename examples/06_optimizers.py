"""Every optimizer of engine.train on the same problem.

The problem is logistic regression on the churn data (features prepared
with Spark ML, as in 03_churn.py), full batch, from the same start, for the
same number of steps, run by the engine in this process: comparing update
rules needs no cluster (tfs.train takes the very same steps on Spark). The
table shows how far each optimizer got; the loss curves go to a PNG when
matplotlib is installed (``pip install '.[plot]'``), to a CSV otherwise.
With ``--logdir``, each optimizer's run (loss per step and its graph) is
also written for TensorBoard: ``tensorboard --logdir optimizer_runs``
overlays the nine curves and draws the training graph.

    python examples/06_optimizers.py [--steps 3000] [--out optimizer_losses] [--logdir optimizer_runs] [--master URL]
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
from pyspark.ml.functions import vector_to_array

import _common
import engine as tf
from engine.layers import Dense

# Learning rates picked for this problem (standardized features): about the
# largest that don't diverge. RMSProp's steps stay about learning_rate long,
# so near the optimum it jitters; Adadelta's first steps are about
# sqrt(epsilon) long, so with TensorFlow's default of 1e-8 it barely moves.
OPTIMIZERS: dict[str, Callable[[], tf.train.Optimizer]] = {
    "GradientDescent": lambda: tf.train.GradientDescentOptimizer(2.0),
    "Momentum": lambda: tf.train.MomentumOptimizer(0.5, momentum=0.9),
    "Nesterov": lambda: tf.train.MomentumOptimizer(0.5, momentum=0.9, use_nesterov=True),
    "Adagrad": lambda: tf.train.AdagradOptimizer(1.0),
    "Adadelta": lambda: tf.train.AdadeltaOptimizer(1.0, epsilon=1e-3),
    "Adam": lambda: tf.train.AdamOptimizer(0.2),
    "Ftrl": lambda: tf.train.FtrlOptimizer(2.0),
    "RMSProp": lambda: tf.train.RMSPropOptimizer(0.1),
    "L-BFGS": lambda: tf.train.LBFGSOptimizer(),
}


def losses_of(optimizer: tf.train.Optimizer, x: np.ndarray, y: np.ndarray, steps: int,
              logdir: Path | None = None) -> tuple[list[float], float]:
    """The loss before each step of a fresh logistic regression, and the seconds the steps took;
    with `logdir`, the losses and the graph also go to a TensorBoard event file there."""
    with tf.Graph().as_default():
        features = tf.placeholder(tf.float64, [None, x.shape[1]], name="features")
        label = tf.placeholder(tf.float64, [None], name="label")
        logits = Dense(1, seed=0).linear(features)[:, 0]
        loss = tf.losses.sigmoid_cross_entropy(label, logits)
        step = optimizer.minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            start = time.perf_counter()
            losses = [float(sess.run([loss, step], {features: x, label: y})[0]) for _ in range(steps)]
            seconds = time.perf_counter() - start
        if logdir is not None:
            write_run(logdir, tf.get_default_graph(), losses)
        return losses, seconds


def write_run(logdir: Path, graph: tf.Graph, losses: list[float]) -> None:
    """A TensorBoard run: the training graph and the loss at each step (from 1)."""
    with tf.summary.FileWriter(logdir, graph) as writer:
        for i, value in enumerate(losses, 1):
            writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="loss", simple_value=value)]), i)


def save_curves(curves: dict[str, list[float]], stem: Path) -> Path:
    """Loss per step and optimizer: a PNG with matplotlib, else a CSV (one column per optimizer)."""
    best = min(min(c) for c in curves.values())

    def draw(ax) -> None:
        for name, losses in curves.items():
            # The distance to the best loss seen, on a log scale: where each method stalls shows.
            ax.semilogy(np.arange(1, len(losses) + 1), np.array(losses) - best + 1e-12, label=name)
        ax.set(xlabel="step", ylabel="loss - best loss", title="logistic regression on the churn data")
        ax.legend(loc="center left", bbox_to_anchor=(1, 0.5))  # beside the plot, off the curves

    steps = range(1, len(next(iter(curves.values()))) + 1)
    return _common.save_plot(stem, {"step": steps, **curves}, draw)


def main() -> None:
    args = _common.parse_args(__doc__, steps=(300, 10, "steps per optimizer"),
                              out=(Path("optimizer_losses"), Path("optimizer_losses"),
                                   "where the curves go, without suffix (.png or .csv is added)"),
                              logdir=("", "", "a folder for TensorBoard event files, one run per optimizer "
                                      "(not written when empty)"))

    spark = _common.start_spark(args, "06_optimizers")
    train, _ = _common.churn_data(spark)
    rows = train.select(vector_to_array("features").alias("x"), "label").toPandas()
    x, y = np.stack(rows["x"]), rows["label"].to_numpy()
    curves, table = {}, []
    for name, make in OPTIMIZERS.items():
        losses, seconds = losses_of(make(), x, y, args.steps, Path(args.logdir) / name if args.logdir else None)
        curves[name] = losses
        table.append((name, losses[min(9, len(losses) - 1)], losses[-1], seconds))
    _common.print_table(f"logistic regression on {len(y):,} customers, full batch, {args.steps} steps from the "
                        "same start", ["optimizer", "loss at step 10", "last loss", "seconds"], table)
    path = save_curves(curves, args.out)
    print(f"\nloss curves: {path}")
    if args.logdir:
        print(f"TensorBoard runs: tensorboard --logdir {args.logdir}")
    _common.print_result(steps=args.steps, start_loss=curves["L-BFGS"][0], curves_file=str(path),
                         final_losses={name: c[-1] for name, c in curves.items()})


if __name__ == "__main__":
    main()
