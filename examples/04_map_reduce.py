"""A tour of the DataFrame operations: map_blocks, map_rows, reduce_blocks, reduce_rows, aggregate.

Each one runs a graph on the executors over Arrow batches of the columns it
reads, and is checked here against plain Spark SQL. The tour ends with
k-means as in the original TensorFrames demo: each iteration assigns points
to their nearest center with map_blocks and averages them per center with
aggregate.

    python examples/04_map_reduce.py [--rows 1000000] [--iterations 20] [--master URL]
"""
from __future__ import annotations

import numpy as np
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

import _common
import engine as tf
import tensorframes as tfs

BLOB_CENTERS = np.array([[0.0, 0.0], [6.0, 6.0], [0.0, 6.0], [6.0, 0.0]])


def make_data(spark: SparkSession, rows: int) -> DataFrame:
    """x = 0, 1, 2...; key = x mod 3; y = [x, -x]; points drawn around BLOB_CENTERS."""
    k = len(BLOB_CENTERS)
    center = F.col("id") % k
    cx = F.element_at(F.array(*[F.lit(c) for c in BLOB_CENTERS[:, 0]]), (center + 1).cast("int"))
    cy = F.element_at(F.array(*[F.lit(c) for c in BLOB_CENTERS[:, 1]]), (center + 1).cast("int"))
    df = spark.range(rows).select(
        F.col("id").cast("double").alias("x"),
        (F.col("id") % 3).cast("string").alias("key"),
        F.array(F.col("id").cast("double"), -F.col("id").cast("double")).alias("y"),
        F.array(cx + F.randn(seed=1), cy + F.randn(seed=2)).alias("features"))
    # Array lengths aren't part of Spark types: analyze finds them (one job) and
    # stores them in the column metadata, where block/row placeholders read them.
    return tfs.analyze(df).cache()


def tour(df: DataFrame) -> dict:
    """Each operation once, next to the same figure computed by Spark SQL."""
    with tf.Graph().as_default():
        # map_blocks: the graph sees a block of rows at once (x: shape (?,)).
        x = tfs.block(df, "x")
        mapped = tfs.map_blocks(tf.add(x, 3.0, name="z"), df)
    _common.print_rows("map_blocks: z = x + 3", mapped.select("x", "z"))

    with tf.Graph().as_default():
        # map_rows: the graph is written for one row (y: shape (2,)) and runs
        # vectorized over blocks anyway, through the ops' batching rules.
        y = tfs.row(df, "y")
        norms = tfs.map_rows(tf.sqrt(tf.reduce_sum(y * y), name="norm"), df)
    _common.print_rows("map_rows: norm = |y|", norms.select("y", "norm"))

    with tf.Graph().as_default():
        # reduce_blocks: fetch y reduces placeholder y_input, a block of y values,
        # and again the partial results of the blocks and partitions.
        y_input = tfs.block(df, "y", tf_name="y_input")
        f_input = tfs.block(df, "features", tf_name="features_input")
        y_sum, f_min = tfs.reduce_blocks([tf.reduce_sum(y_input, [0], name="y"),
                                          tf.reduce_min(f_input, [0], name="features")], df)
    with tf.Graph().as_default():
        # reduce_rows: fetch x combines two rows, x_1 and x_2.
        x_1, x_2 = tfs.row(df, "x", tf_name="x_1"), tfs.row(df, "x", tf_name="x_2")
        x_sum = tfs.reduce_rows(tf.add(x_1, x_2, name="x"), df)
    with tf.Graph().as_default():
        # aggregate: a reduce_blocks graph per group.
        x_input = tfs.block(df, "x", tf_name="x_input")
        per_key = tfs.aggregate(tf.reduce_sum(x_input, [0], name="x"), df.groupBy("key"))
        per_key = {r.key: r.x for r in per_key.collect()}

    sql = df.select(F.sum("x"), F.min(F.col("features")[0]), F.min(F.col("features")[1])).first()
    sql_per_key = {r.key: r["sum(x)"] for r in df.groupBy("key").sum("x").collect()}
    _common.print_table("reductions, graph vs Spark SQL", ["operation", "figure", "graph", "Spark SQL"], [
        ("reduce_blocks", "sum of y[0]", y_sum[0], sql[0]),
        ("reduce_blocks", "min of features[0]", f_min[0], sql[1]),
        ("reduce_blocks", "min of features[1]", f_min[1], sql[2]),
        ("reduce_rows", "sum of x", x_sum, sql[0]),
        *[("aggregate", f"sum of x, key {k}", per_key[k], sql_per_key[k]) for k in sorted(sql_per_key)],
    ])
    matches = y_sum[0] == -y_sum[1] == x_sum == sql[0] and list(f_min) == list(sql[1:]) and per_key == sql_per_key
    return {"sum_x": x_sum, "sum_y": y_sum, "min_features": f_min, "sum_x_by_key": per_key,
            "matches_sql": bool(matches)}


def kmeans_step(points: DataFrame, centers: np.ndarray) -> tuple[np.ndarray, float]:
    """One k-means iteration: the new centers and the total squared distance to the old ones."""
    with tf.Graph().as_default():
        x = tfs.block(points, "features")
        c = tf.constant(centers)
        # |x - c|² = |x|² - 2 x·c + |c|², for every point and center at once: (?, k).
        distances = (tf.reduce_sum(tf.square(x), 1, keepdims=True)
                     - 2.0 * tf.matmul(x, c, transpose_b=True) + tf.reduce_sum(tf.square(c), 1))
        assigned = tfs.map_blocks([tf.argmin(distances, 1, name="center"),
                                   tf.reduce_min(distances, 1, name="distance"),
                                   tf.ones_like(x[:, 0], name="count")], points)
    with tf.Graph().as_default():
        # Per center: the sum of its points, their number and their distances.
        sums = [tf.reduce_sum(tfs.block(assigned, col, tf_name=f"{col}_input"), [0], name=col)
                for col in ("features", "count", "distance")]
        groups = tfs.aggregate(sums, assigned.groupBy("center")).collect()
    new = centers.copy()  # a center without points stays where it was
    for g in groups:
        new[g.center] = np.array(g.features) / g["count"]
    return new, float(sum(g.distance for g in groups))


def main() -> None:
    args = _common.parse_args(__doc__, rows=(200_000, 2_000, "rows of the generated DataFrame"),
                              iterations=(8, 3, "k-means iterations"))
    spark = _common.start_spark(args, "04_map_reduce")
    df = make_data(spark, args.rows)
    print("schema with the shapes analyze found:")
    tfs.print_schema(df)
    figures = tour(df)

    points = df.select("features")
    centers = np.random.default_rng(0).uniform(-1.0, 7.0, size=BLOB_CENTERS.shape)  # a random start
    distances = []
    for _ in range(args.iterations):
        centers, total = kmeans_step(points, centers)
        distances.append(total)
    _common.print_table("k-means, total squared distance per iteration", ["iteration", "distance"],
                        list(enumerate(distances, 1)))
    found = centers[np.argsort(np.linalg.norm(centers[:, None] - BLOB_CENTERS[None], axis=2).argmin(1))]
    _common.print_table("k-means centers", ["true x", "true y", "found x", "found y"],
                        [(*t, *f) for t, f in zip(BLOB_CENTERS, found)])
    _common.print_result(rows=args.rows, kmeans_distances=distances, kmeans_centers=found,
                         true_centers=BLOB_CENTERS, **figures)


if __name__ == "__main__":
    main()
