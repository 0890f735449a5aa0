"""Barrier training over coalesce()d and union()ed DataFrames: trained as usual, the SparkContext alive."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import engine as tf
import tensorframes as tfs
from tensorframes.training.barrier_input import barrier_ready, last_stage_operators

_spec = importlib.util.spec_from_file_location("training_cases", Path(__file__).with_name("training_cases.py"))
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)


@pytest.fixture(scope="module")
def halves(spark):
    x, y = cases.linear_data(200)
    return cases.spark_frame(spark, x[:100], y[:100], 1), cases.spark_frame(spark, x[100:], y[100:], 1), (x, y)


@pytest.mark.parametrize("shape", ["coalesce", "union"])
def test_barrier_training_over_a_rejected_rdd_chain_trains_and_keeps_the_context(spark, halves, shape):
    first, second, (x, y) = halves
    df = first.union(second) if shape == "union" else first.union(second).repartition(3).coalesce(2)
    model = cases.Model(cases.FEATURES)
    tfs.train(model.loss, df, tf.train.GradientDescentOptimizer(0.1), steps=2, mode="barrier",
              session=model.session, log_every=None)
    expected = cases.reference(cases.FEATURES, False, lambda: tf.train.GradientDescentOptimizer(0.1), 2, x, y)
    np.testing.assert_allclose(model.values()["w"], expected["w"], rtol=1e-9)
    assert spark.range(5).count() == 5


def test_an_acceptable_plan_is_left_alone(spark):
    df = spark.range(8, numPartitions=2)
    assert barrier_ready(df) is df
    assert {"Coalesce"} <= last_stage_operators(df.coalesce(1)._jdf.queryExecution().executedPlan().treeString())
