"""map_blocks and map_rows on a pandas DataFrame: the same executor, run locally without Spark."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import engine as tf
import tensorframes as tfs
from tensorframes.errors import ShapeMismatchError

RNG = np.random.default_rng(3)
FRAME = pd.DataFrame({"x": RNG.normal(size=5), "v": list(RNG.normal(size=(5, 2, 3)))})


def test_block_placeholder_takes_the_shape_of_the_cells():
    with tf.Graph().as_default():
        assert tfs.block(FRAME, "v").shape == (None, 2, 3)
        assert tfs.row(FRAME, "v").shape == (2, 3)


def test_map_blocks_appends_columns_and_leaves_the_input_alone():
    with tf.Graph().as_default():
        x, v = tfs.block(FRAME, "x"), tfs.block(FRAME, "v")
        out = tfs.map_blocks([tf.add(x, 3.0, name="z"), tf.reduce_sum(v, 2, name="s")], FRAME)
    assert list(out.columns) == ["x", "v", "z", "s"] and list(FRAME.columns) == ["x", "v"]
    np.testing.assert_allclose(out["z"], FRAME["x"] + 3)
    np.testing.assert_allclose(np.stack(out["s"]), np.stack(FRAME["v"]).sum(2))


def test_map_rows_runs_a_row_graph():
    with tf.Graph().as_default():
        v = tfs.row(FRAME, "v")
        out = tfs.map_rows(tf.reduce_max(v, name="m"), FRAME)
    np.testing.assert_allclose(out["m"], np.stack(FRAME["v"]).max(axis=(1, 2)))


def test_trim_gives_a_frame_of_the_fetches():
    with tf.Graph().as_default():
        x = tfs.block(FRAME, "x")
        out = tfs.map_blocks(tf.reduce_sum(x, keepdims=True, name="total"), FRAME, trim=True)
    assert list(out.columns) == ["total"]
    np.testing.assert_allclose(out["total"], [FRAME["x"].sum()])


def test_ragged_cells_are_refused_naming_the_column():
    ragged = pd.DataFrame({"r": [np.zeros(2), np.zeros(3)]})
    with tf.Graph().as_default(), pytest.raises(ShapeMismatchError, match="column 'r' is ragged"):
        tfs.block(ragged, "r")
