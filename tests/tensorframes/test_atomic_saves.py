"""Stage saves and checkpoints: a failure at any write leaves the old copy intact and loadable."""

from __future__ import annotations

import os

import numpy as np
import pytest
from pyspark.ml.util import DefaultParamsWriter
from pyspark.sql.readwriter import DataFrameWriter

import engine as tf
from tensorframes.errors import CheckpointError, PersistenceError, StageParamError
from tensorframes.ml import GraphTransformer
from tensorframes.training.snapshot import CHECKPOINT_FILE, Snapshot, load_checkpoint, save_checkpoint


def _stage(factor: float) -> GraphTransformer:
    with tf.Graph().as_default() as g:
        tf.multiply(tf.placeholder(tf.float64, [None], name="x"), factor, name="y")
    return GraphTransformer(graphDef=g, inputMapping={"v": "x"}, outputMapping={"y": "out"})


def _scores(spark, path: str) -> list[float]:
    df = spark.createDataFrame([(1.0,)], ["v"])
    return [r.out for r in GraphTransformer.load(path).transform(df).collect()]


@pytest.fixture
def old(spark, tmp_path) -> str:
    path = str(tmp_path / "stage")
    _stage(2.0).save(path)
    return path


def test_an_invalid_stage_is_refused_before_the_old_one_is_touched(spark, old):
    bad = GraphTransformer(graphDef=_stage(3.0).getGraphDef(), inputMapping={"v": "x"},
                           outputMapping={"nope": "out"})
    with pytest.raises(StageParamError, match="nope"):
        bad.write().overwrite().save(old)
    assert _scores(spark, old) == [2.0]


@pytest.mark.parametrize("owner, name, at", [(DefaultParamsWriter, "saveMetadata", 0),
                                             (DataFrameWriter, "text", 0),
                                             (DataFrameWriter, "text", 1),
                                             (os, "rename", 1)],
                         ids=["metadata", "graph_def", "manifest", "swap"])
def test_a_failed_write_leaves_the_old_stage_loadable(spark, old, monkeypatch, disk_full, owner, name, at):
    disk_full(owner, name, at)
    with pytest.raises(disk_full.error):
        _stage(3.0).write().overwrite().save(old)
    monkeypatch.undo()
    assert _scores(spark, old) == [2.0]
    assert os.listdir(os.path.dirname(old)) == ["stage"]


def test_overwrite_replaces_and_plain_save_refuses(spark, old):
    with pytest.raises(PersistenceError, match="overwrite"):
        _stage(3.0).save(old)
    _stage(3.0).write().overwrite().save(old)
    assert _scores(spark, old) == [3.0]


def test_a_failed_checkpoint_write_keeps_the_previous_checkpoint(tmp_path, disk_full):
    save_checkpoint(tmp_path, Snapshot(2, np.array([1.0, 0.5]), {"w": np.zeros(2)}))
    disk_full(os, "replace", 0)
    with pytest.raises(disk_full.error):
        save_checkpoint(tmp_path, Snapshot(3, np.array([1.0, 0.5, 0.2]), {"w": np.ones(2)}))
    assert load_checkpoint(tmp_path).step == 2 and os.listdir(tmp_path) == [CHECKPOINT_FILE]


def test_a_truncated_checkpoint_is_a_checkpoint_error_naming_the_path(tmp_path):
    save_checkpoint(tmp_path, Snapshot(2, np.array([1.0, 0.5]), {"w": np.zeros(2)}))
    path = tmp_path / CHECKPOINT_FILE
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(CheckpointError, match=str(path)):
        load_checkpoint(tmp_path)
