"""The examples of the original TensorFrames README and k-means demo, ported by changing imports.

Only ``import tensorflow as tf`` became ``import engine as tf`` and
``sqlContext`` the ``spark`` fixture. The k-means step also swaps
``tf.variable_scope`` (no variables are created there) for ``tf.name_scope``,
and the engine's ``tile`` takes static multiples only, so the two ``tile``
outer sums are written as broadcasting and ``tile([1], num_points)`` as
``fill(num_points, 1)``; the map_blocks / aggregate calls are the demo's.
"""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.sql import Row

import engine as tf
import tensorframes as tfs


def test_add_3_to_a_column(spark):
    data = [Row(x=float(x)) for x in range(10)]
    df = spark.createDataFrame(data)
    with tf.Graph().as_default():
        x = tfs.block(df, "x")
        z = tf.add(x, 3, name='z')
        df2 = tfs.map_blocks(z, df)
    assert df2.collect() == [Row(x=float(x), z=x + 3.0) for x in range(10)]


def test_reduce_blocks_sum_and_min_of_2_vectors(spark, capsys):
    data = [Row(y=[float(y), float(-y)]) for y in range(10)]
    df = spark.createDataFrame(data)
    df2 = tfs.analyze(df)
    tfs.print_schema(df2)
    assert " |-- y: array double[?,2]" in capsys.readouterr().out
    df3 = df2.select(df2.y, df2.y.alias("z"))
    with tf.Graph().as_default():
        y_input = tfs.block(df3, 'y', tf_name="y_input")
        z_input = tfs.block(df3, 'z', tf_name="z_input")
        y = tf.reduce_sum(y_input, [0], name='y')
        z = tf.reduce_min(z_input, [0], name='z')
        (data_sum, data_min) = tfs.reduce_blocks([y, z], df3)
    np.testing.assert_array_equal(data_sum, [45., -45.])
    np.testing.assert_array_equal(data_min, [0., -9.])


def test_reduce_rows_sum(spark):
    data = [Row(x=float(x)) for x in range(5)]
    df = spark.createDataFrame(data)
    with tf.Graph().as_default():
        x_1 = tf.placeholder(tf.double, shape=[], name="x_1")
        x_2 = tf.placeholder(tf.double, shape=[], name="x_2")
        x = tf.add(x_1, x_2, name='x')
        res = tfs.reduce_rows(x, df)
    assert res == sum([r.x for r in data])


def test_aggregate_over_group_by(spark):
    data = [Row(x=float(x), key=str(x % 2)) for x in range(4)]
    df = spark.createDataFrame(data)
    gb = df.groupBy("key")
    with tf.Graph().as_default():
        x_input = tfs.block(df, "x", tf_name="x_input")
        x = tf.reduce_sum(x_input, [0], name='x')
        df2 = tfs.aggregate(x, gb)
    assert sorted(df2.collect()) == [Row(key='0', x=2.0), Row(key='1', x=4.0)]


# --- the k-means demo: one step is a map_blocks, then an aggregate over groupBy("indexes")


def tf_compute_distances(points, start_centers):
    with tf.name_scope("distances"):
        centers = tf.constant(start_centers)
        squares = tf.reduce_sum(tf.square(points), reduction_indices=1)
        center_squares = tf.reduce_sum(tf.square(centers), reduction_indices=1)
        prods = tf.matmul(points, centers, transpose_b=True)
        t1 = tf.expand_dims(center_squares, 0)
        t2 = tf.expand_dims(squares, 1)
        distances = t1 + t2 - 2 * prods
    return distances


def run_one_step(dataframe, start_centers):
    (num_centroids, num_features) = np.shape(start_centers)
    with tf.Graph().as_default():
        points = tf.placeholder(tf.double, shape=[None, num_features], name='features')
        num_points = tf.stack([tf.shape(points)[0]], name="num_points")
        distances = tf_compute_distances(points, start_centers)
        indexes = tf.argmin(distances, 1, name='indexes')
        min_distances = tf.reduce_min(distances, 1, name='min_distances')
        counts = tf.fill(num_points, 1, name='count')
        df2 = tfs.map_blocks([indexes, counts, min_distances], dataframe)
    gb = df2.groupBy("indexes")
    with tf.Graph().as_default():
        x_input = tfs.block(df2, "features", tf_name="features_input")
        count_input = tfs.block(df2, "count", tf_name="count_input")
        md_input = tfs.block(df2, "min_distances", tf_name="min_distances_input")
        x = tf.reduce_sum(x_input, [0], name='features')
        count = tf.reduce_sum(count_input, [0], name='count')
        min_distances = tf.reduce_sum(md_input, [0], name='min_distances')
        df3 = tfs.aggregate([x, count, min_distances], gb)
    df3_c = df3.collect()
    new_centers = np.array([np.array(row.features) / row['count'] for row in sorted(df3_c)])
    total_distances = np.sum([row['min_distances'] for row in df3_c])
    return (new_centers, total_distances)


@pytest.mark.parametrize("partitions", [1, 3])
def test_kmeans_step_matches_numpy(spark, partitions):
    rng = np.random.default_rng(2)
    points = rng.uniform(0.0, 1.0, size=(60, 3))
    centers = rng.uniform(0.0, 1.0, size=(4, 3))
    df = tfs.analyze(spark.createDataFrame([[p.tolist()] for p in points], "features array<double>")
                     .repartition(partitions))
    new_centers, total = run_one_step(df, centers)
    sq = ((points[:, None, :] - centers[None]) ** 2).sum(-1)
    nearest = sq.argmin(1)
    expected = np.array([points[nearest == k].mean(0) for k in sorted(set(nearest))])
    np.testing.assert_allclose(new_centers, expected)
    np.testing.assert_allclose(total, sq.min(1).sum())
