"""engine.atomic and the saves built on it: a failed save never costs the old copy."""
from __future__ import annotations

import os

import numpy as np
import pytest

import engine as tf
from engine import atomic, saved_model
from engine.errors import GraphError

X = np.ones((2, 1))


def _save(path: str, factor: float, overwrite: bool = False) -> None:
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float64, [None, 1], name="x")
        y = tf.multiply(x, factor, name="y")
    saved_model.save(path, g, inputs={"x": x}, outputs={"y": y}, overwrite=overwrite)


def _prediction(path: str) -> float:
    return float(saved_model.load(path).predict({"x": X})["y"][0, 0])


@pytest.fixture
def old(tmp_path) -> str:
    path = str(tmp_path / "model")
    _save(path, 2.0)
    return path


@pytest.mark.parametrize("at", [0, 1])
def test_a_failed_document_write_leaves_the_old_saved_model(old, disk_full, at):
    disk_full(atomic, "write_file", at)
    with pytest.raises(disk_full.error):
        _save(old, 3.0, overwrite=True)
    assert _prediction(old) == 2.0
    assert os.listdir(os.path.dirname(old)) == ["model"]  # no temporary left behind


def test_a_failed_swap_puts_the_old_saved_model_back(old, disk_full):
    disk_full(os, "rename", 1)  # the rename of the new copy into place
    with pytest.raises(disk_full.error):
        _save(old, 3.0, overwrite=True)
    assert _prediction(old) == 2.0
    assert os.listdir(os.path.dirname(old)) == ["model"]


def test_an_invalid_signature_is_refused_before_the_old_copy_is_touched(old):
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float64, [None, 1], name="x")
        with pytest.raises(GraphError, match="at least one output"):
            saved_model.save(old, g, inputs={"x": x}, outputs={}, overwrite=True)
    assert _prediction(old) == 2.0


def test_overwrite_replaces_the_whole_directory(old):
    open(os.path.join(old, "stale.txt"), "w").close()
    _save(old, 3.0, overwrite=True)
    assert _prediction(old) == 3.0 and "stale.txt" not in os.listdir(old)


def test_write_file_failure_keeps_the_old_file(tmp_path, disk_full):
    path = tmp_path / "f.bin"
    atomic.write_file(path, b"old")
    disk_full(os, "replace", 0)
    with pytest.raises(disk_full.error):
        atomic.write_file(path, b"new")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["f.bin"]
