"""The executor over Arrow batches, without Spark: the functions Spark runs in its workers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import engine as tf
from tensorframes import executor
from tensorframes.errors import EmptyReductionError, FetchShapeError, NullValueError
from tensorframes.frames import PandasColumns
from tensorframes.program import Program, compile_map, compile_reduce

FRAME = pd.DataFrame({"x": np.arange(6.0), "v": list(np.arange(12.0).reshape(6, 2))})
COLUMNS = PandasColumns(FRAME)
X = pa.array(FRAME["x"].to_numpy())
V = COLUMNS.arrow("v")


def block_program(build, trim: bool = False) -> Program:
    """map_blocks program of ``build(x, v)`` (placeholders x (?,) and v (?, 2))."""
    with tf.Graph().as_default():
        fetches = build(tf.placeholder(tf.float64, [None], name="x"), tf.placeholder(tf.float64, [None, 2], name="v"))
        return compile_map(fetches, COLUMNS, rows=False, trim=trim)


def batches_of(*columns: pa.Array, size: int):
    """The columns cut into batches of ``size`` rows, as Spark sends them to an arrow_udf."""
    return (tuple(c.slice(i, size) for c in columns) for i in range(0, len(columns[0]), size))


def test_one_fetch_comes_back_as_one_column_per_batch():
    program = block_program(lambda x, v: tf.add(x * 2.0, 1.0, name="y"))
    out = list(executor.map_arrays(program, batches_of(X, size=4)))
    assert [len(a) for a in out] == [4, 2]
    np.testing.assert_array_equal(pa.concat_arrays(out).to_numpy(), FRAME["x"] * 2 + 1)


def test_several_fetches_come_back_as_one_struct():
    program = block_program(lambda x, v: [tf.identity(v, name="w"), tf.reduce_sum(v * v, 1, name="z")])
    (out,) = executor.map_arrays(program, batches_of(V, size=6))
    assert out.type.names == ["_0", "_1"]
    np.testing.assert_array_equal(out.field(1).to_numpy(), (np.stack(FRAME["v"]) ** 2).sum(1))
    assert out.field(0).to_pylist() == np.stack(FRAME["v"]).tolist()


def test_graph_is_loaded_once_per_process():
    program = block_program(lambda x, v: tf.identity(x, name="y"))
    assert executor.runner(program) is executor.runner(program)


def test_fetch_with_other_rows_than_its_batch_is_named():
    program = block_program(lambda x, v: tf.identity(x[:-1], name="short"))
    with pytest.raises(FetchShapeError, match=r"fetch 'short:0' gave 3 rows for a batch of 4 rows.*trim=True"):
        list(executor.map_arrays(program, batches_of(X, size=4)))


def test_errors_name_the_row_within_the_partition():
    program = block_program(lambda x, v: tf.identity(x, name="y"))
    with_null = pa.array([0.0, 1.0, 2.0, None])
    with pytest.raises(NullValueError, match="row 3"):
        list(executor.map_arrays(program, batches_of(with_null, size=2)))


def test_trim_returns_the_fetches_rows():
    program = block_program(lambda x, v: tf.reduce_sum(x, keepdims=True, name="s"), trim=True)
    batches = [pa.RecordBatch.from_arrays([X.slice(i, 3)], names=["x"]) for i in (0, 3)]
    out = list(executor.map_batches(program, iter(batches)))
    assert [b.to_pydict() for b in out] == [{"s": [3.0]}, {"s": [12.0]}]


def test_trim_fetches_must_agree_on_their_rows():
    program = block_program(lambda x, v: [tf.identity(x, name="a"), tf.identity(x[:1], name="b")], trim=True)
    with pytest.raises(FetchShapeError, match="as many rows as each other"):
        list(executor.map_batches(program, iter([pa.RecordBatch.from_arrays([X], names=["x"])])))


def test_row_graph_runs_over_a_batch():
    with tf.Graph().as_default():
        v = tf.placeholder(tf.float64, [2], name="v")
        program = compile_map(tf.reduce_sum(v * v, name="z"), COLUMNS, rows=True)
    (out,) = executor.map_arrays(program, iter([V]))
    np.testing.assert_array_equal(out.to_numpy(), (np.stack(FRAME["v"]) ** 2).sum(1))


def test_row_graph_output_that_reads_no_column_repeats_per_row():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [], name="x")
        program = compile_map([tf.identity(x, name="y"), tf.constant([1.0, 2.0], name="c")], COLUMNS, rows=True)
    (out,) = executor.map_arrays(program, iter([X]))
    assert out.field(1).to_pylist() == [[1.0, 2.0]] * 6


# --- reductions


def reduce_program(rows: bool) -> Program:
    """Sum of column x: x_input (blocks) or x_1 + x_2 (rows)."""
    with tf.Graph().as_default():
        if rows:
            x = tf.add(tf.placeholder(tf.float64, [], name="x_1"), tf.placeholder(tf.float64, [], name="x_2"),
                       name="x")
        else:
            x = tf.reduce_sum(tf.placeholder(tf.float64, [None], name="x_input"), 0, name="x")
        return compile_reduce(x, COLUMNS, rows=rows)


@pytest.mark.parametrize("rows", [False, True], ids=["blocks", "rows"])
@pytest.mark.parametrize("size", [1, 2, 4, 5])
def test_partition_reduces_to_one_row_of_partials(rows, size):
    batches = [pa.RecordBatch.from_arrays([X.slice(i, size)], names=["x"]) for i in range(0, 6, size)]
    (out,) = executor.reduce_partition(reduce_program(rows), iter(batches))
    assert out.to_pydict() == {"x": [15.0]}


def test_empty_partition_yields_nothing():
    empty = pa.RecordBatch.from_arrays([pa.array([], pa.float64())], names=["x"])
    assert list(executor.reduce_partition(reduce_program(False), iter([empty]))) == []


def test_combining_no_partials_is_an_error():
    with pytest.raises(EmptyReductionError, match=r"no rows to reduce for fetches \['x'\]"):
        executor.combine(reduce_program(True), [np.zeros(0)])


def test_aggregate_function_prefixes_the_group_keys():
    run = executor.aggregate_function(reduce_program(False), ["key"])
    batch = pa.RecordBatch.from_arrays([X], names=["x"])
    (out,) = run((pa.scalar("a"),), iter([batch]))
    assert out.to_pydict() == {"key": ["a"], "x": [15.0]}


def _noise_in_partition(monkeypatch, program: Program, partition: int) -> np.ndarray:
    """What a task of ``partition`` gives for the seeded noise program (the runner cached, as in a reused worker)."""
    monkeypatch.setattr(executor, "task_partition", lambda: partition)
    return pa.concat_arrays(list(executor.map_arrays(program, batches_of(X, size=4)))).to_numpy()


def test_a_task_draws_its_partitions_stream_whatever_ran_before_and_on_a_retry(monkeypatch):
    program = block_program(lambda x, v: tf.add(x, tf.random_uniform(tf.shape(x), seed=3, dtype=tf.float64),
                                                name="noisy"))
    first = {p: _noise_in_partition(monkeypatch, program, p) for p in (0, 1, 2)}
    again = {p: _noise_in_partition(monkeypatch, program, p) for p in (2, 1, 0)}  # retries, in another order
    for p in first:
        np.testing.assert_array_equal(again[p], first[p])
    assert len({first[p].tobytes() for p in first}) == 3
    alone = executor.Runner(program).map([FRAME["x"].to_numpy()])[0]  # a fresh session: partition 0's stream
    np.testing.assert_array_equal(first[0], alone)
