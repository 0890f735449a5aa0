"""Programs: bindings validated on the driver, variables frozen, output specs inferred.

No Spark: a program is built from column specs, as a Spark schema gives them.
"""

from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine import graphdef, importer
from tensorframes.column_spec import ColumnSpec
from tensorframes.errors import (ColumnNotFoundError, FetchShapeError, OutputNameError, PlaceholderShapeError,
                                 PlaceholderTypeError, ProgramError, UnboundPlaceholderError)
from tensorframes.program import compile_map, compile_reduce


class SpecColumns:
    """Columns as a Spark schema describes them: x double, n int, y array<double> of unknown length."""

    specs = {"x": ColumnSpec("x", np.float64), "n": ColumnSpec("n", np.int32),
             "y": ColumnSpec("y", np.float64, (None,), "array")}
    names = list(specs)

    def spec(self, name: str) -> ColumnSpec:
        if name not in self.specs:
            raise ColumnNotFoundError(f"column {name!r} not found; available columns: x, n, y", name)
        return self.specs[name]


COLUMNS = SpecColumns()


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def block_map(fetches, **kwargs):
    return compile_map(fetches, COLUMNS, rows=False, **kwargs)


# --- bindings


def test_placeholders_bind_to_columns_of_their_name():
    x = tf.placeholder(tf.float64, [None], name="x")
    program = block_map(tf.add(x, 1.0, name="z"))
    assert [(f.placeholder, f.column) for f in program.feeds] == [("x:0", "x")]


def test_feed_dict_binds_a_placeholder_to_another_column():
    a = tf.placeholder(tf.float64, [None], name="a")
    program = block_map(tf.identity(a, name="z"), feed_dict={a: "x"})
    assert program.feeds[0].column == "x"


def test_feed_dict_accepts_placeholder_names():
    tf.placeholder(tf.float64, [None], name="a")
    program = block_map("a:0", feed_dict={"a": "x"}, trim=True)
    assert program.feeds[0].column == "x"


def test_placeholder_without_a_column_lists_the_columns():
    q = tf.placeholder(tf.float64, [None], name="q")
    with pytest.raises(UnboundPlaceholderError, match=r"'q'.*available: x, n, y.*feed_dict"):
        block_map(tf.identity(q, name="z"))


def test_feed_dict_naming_a_missing_column_lists_the_columns():
    q = tf.placeholder(tf.float64, [None], name="q")
    with pytest.raises(ColumnNotFoundError, match="'nope' not found; available columns: x, n, y"):
        block_map(tf.identity(q, name="z"), feed_dict={q: "nope"})


def test_feed_dict_key_must_be_a_placeholder():
    x = tf.placeholder(tf.float64, [None], name="x")
    z = tf.identity(x, name="z")
    with pytest.raises(ProgramError, match="'z:0' is a Identity, not a placeholder"):
        block_map(z, feed_dict={z: "x"})


def test_dtype_mismatch_names_column_placeholder_and_cast():
    x = tf.placeholder(tf.int32, [None], name="x")
    with pytest.raises(PlaceholderTypeError, match=r"'x' holds double values.*int32.*cast\('int'\)"):
        block_map(tf.identity(x, name="z"))


def test_block_placeholder_needs_a_row_dimension():
    x = tf.placeholder(tf.float64, [], name="x")
    with pytest.raises(PlaceholderShapeError, match="leading dimension for the rows"):
        block_map(tf.identity(x, name="z"), trim=True)


def test_block_placeholder_with_a_fixed_row_count_is_refused():
    x = tf.placeholder(tf.float64, [5], name="x")
    with pytest.raises(PlaceholderShapeError, match="make it None"):
        block_map(tf.identity(x, name="z"), trim=True)


def test_cell_rank_must_match_the_placeholder():
    y = tf.placeholder(tf.float64, [None, 2, 2], name="y")
    with pytest.raises(PlaceholderShapeError, match="cells have 1 dimension"):
        block_map(tf.identity(y, name="z"), trim=True)


def test_placeholder_dims_narrow_unknown_column_dims():
    y = tf.placeholder(tf.float64, [None, 2], name="y")
    program = block_map(tf.identity(y, name="z"))
    assert program.feeds[0].spec.cell_shape == (2,)


def test_map_rows_with_block_shaped_placeholders_runs_as_a_block_map():
    """The original TensorFrames: map_rows with shape=[None] on a scalar column ran on the whole column."""
    x = tf.placeholder(tf.float64, [None], name="x")
    y = tf.placeholder(tf.float64, [None, 3], name="y")
    program = compile_map(tf.add(x, tf.reduce_sum(y, 1), name="z"), COLUMNS, rows=True)
    assert not program.rows and program.outputs[0].spec.cell_shape == ()


def test_map_rows_with_row_and_block_shaped_placeholders_mixed_is_refused():
    x = tf.placeholder(tf.float64, [None], name="x")
    n = tf.placeholder(tf.int32, [], name="n")
    with pytest.raises(PlaceholderShapeError, match="cells have 0 dimension"):
        compile_map(tf.add(x, tf.cast(n, tf.float64), name="z"), COLUMNS, rows=True)


def test_row_placeholder_has_the_cell_shape():
    y = tf.placeholder(tf.float64, [3], name="y")
    program = compile_map(tf.identity(y, name="z"), COLUMNS, rows=True)
    assert program.feeds[0].spec.cell_shape == (3,) and program.rows


# --- outputs


def test_output_columns_are_named_after_ops_with_cell_shapes():
    y = tf.placeholder(tf.float64, [None, 2], name="y")
    program = block_map([tf.identity(y, name="a"), tf.reduce_sum(y, 1, name="b")])
    assert [o.spec for o in program.outputs] == [ColumnSpec("a", np.float64, (2,), "array"),
                                                 ColumnSpec("b", np.float64, (), "scalar")]


def test_output_clashing_with_a_column_is_refused():
    x = tf.placeholder(tf.float64, [None], name="x")
    with pytest.raises(OutputNameError, match="column 'y', which the DataFrame already has"):
        block_map(tf.identity(x, name="y"))


def test_trim_may_reuse_input_column_names():
    x = tf.placeholder(tf.float64, [None], name="x")
    assert block_map(tf.identity(x, name="x2"), trim=True).output_names == ["x2"]
    assert block_map(tf.identity(x, name="y"), trim=True).output_names == ["y"]


def test_the_same_fetch_twice_is_refused():
    x = tf.placeholder(tf.float64, [None], name="x")
    z = tf.identity(x, name="z")
    with pytest.raises(OutputNameError, match="both be written to column 'z'"):
        block_map([z, z])


def test_scalar_fetch_cannot_be_a_block_column():
    x = tf.placeholder(tf.float64, [None], name="x")
    with pytest.raises(FetchShapeError, match="'s:0' is a scalar"):
        block_map(tf.reduce_sum(x, name="s"))


def test_fixed_leading_dimension_cannot_match_the_rows():
    x = tf.placeholder(tf.float64, [None], name="x")
    with pytest.raises(FetchShapeError, match=r"'s:0' has shape \(1,\).*trim=True"):
        block_map(tf.reduce_sum(x, keepdims=True, name="s"))


def test_fetch_reading_no_column_needs_trim():
    with pytest.raises(UnboundPlaceholderError, match="read no column"):
        block_map(tf.constant([1.0, 2.0], name="c"))


def test_fetching_an_operation_is_refused():
    x = tf.placeholder(tf.float64, [None], name="x")
    with pytest.raises(ProgramError, match="is an operation"):
        block_map(tf.group(x, name="g"))


# --- variables


def test_variables_ship_with_their_value_in_the_default_session():
    x = tf.placeholder(tf.float64, [None], name="x")
    w = tf.Variable(np.array(2.0), name="w")
    z = tf.multiply(x, w, name="z")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(w.assign(5.0))
        program = block_map(z)
    _, loaded = importer.load(program.graph_def)
    np.testing.assert_array_equal(loaded.run("z:0", {"x:0": np.array([1.0, 2.0])}), [5.0, 10.0])


def test_variables_ship_from_the_session_argument():
    x = tf.placeholder(tf.float64, [None], name="x")
    w = tf.Variable(np.array(3.0), name="w")
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    program = block_map(tf.multiply(x, w, name="z"), session=sess)
    _, loaded = importer.load(program.graph_def)
    np.testing.assert_array_equal(loaded.run("z:0", {"x:0": np.array([1.0])}), [3.0])


def test_variables_without_a_session_ship_their_initial_values():
    """The original TensorFrames ran the initializers itself when no session held the variables."""
    x = tf.placeholder(tf.float64, [None], name="x")
    w = tf.Variable(np.array(2.0), name="w")
    program = block_map(tf.multiply(x, w, name="z"))
    _, loaded = importer.load(program.graph_def)
    np.testing.assert_array_equal(loaded.run("z:0", {"x:0": np.array([1.0, 3.0])}), [2.0, 6.0])


def test_a_variable_that_cannot_be_initialized_without_a_session_is_named():
    x = tf.placeholder(tf.float64, [None], name="x")
    size = tf.placeholder(tf.float64, [], name="size")
    w = tf.Variable(size * 2.0, name="w")
    with pytest.raises(ProgramError, match=r"cannot initialize variable\(s\) \['w'\] without a session.*size"):
        block_map(tf.multiply(x, w, name="z"))


def test_uninitialized_variable_is_named():
    x = tf.placeholder(tf.float64, [None], name="x")
    w = tf.Variable(np.array(2.0), name="w")
    with tf.Session(), pytest.raises(ProgramError, match="uninitialized value w"):
        block_map(tf.multiply(x, w, name="z"))


def test_shipped_graph_holds_only_what_the_fetches_need():
    x = tf.placeholder(tf.float64, [None], name="x")
    tf.placeholder(tf.float64, [None], name="labels")
    program = block_map(tf.add(x, 1.0, name="z"))
    assert "labels" not in [n["name"] for n in graphdef.GraphDef.from_json(program.graph_def).nodes]


def test_same_graph_gives_the_same_cache_key():
    x = tf.placeholder(tf.float64, [None], name="x")
    z = tf.add(x, 1.0, name="z")
    assert block_map(z).key == block_map(z).key


# --- reductions


def test_reduce_blocks_pairs_x_with_x_input_and_column_x():
    x_input = tf.placeholder(tf.float64, [None], name="x_input")
    program = compile_reduce(tf.reduce_sum(x_input, 0, name="x"), COLUMNS, rows=False)
    assert program.outputs[0].inputs == ("x_input:0",) and program.feeds[0].column == "x"


def test_reduce_rows_pairs_x_with_x_1_and_x_2():
    x_1 = tf.placeholder(tf.float64, [], name="x_1")
    x_2 = tf.placeholder(tf.float64, [], name="x_2")
    program = compile_reduce(tf.add(x_1, x_2, name="x"), COLUMNS, rows=True)
    assert program.outputs[0].inputs == ("x_1:0", "x_2:0")


def test_reduce_inputs_and_feed_dict_replace_the_naming_convention():
    values = tf.placeholder(tf.float64, [None], name="values")
    total = tf.reduce_sum(values, 0, name="total")
    program = compile_reduce(total, COLUMNS, inputs={total: values}, feed_dict={values: "x"}, rows=False)
    assert program.outputs[0].inputs == ("values:0",) and program.feeds[0].column == "x"


def test_reduce_without_the_conventional_placeholder_says_what_to_create():
    values = tf.placeholder(tf.float64, [None], name="values")
    with pytest.raises(UnboundPlaceholderError, match="placeholder 'x_input'.*inputs="):
        compile_reduce(tf.reduce_sum(values, 0, name="x"), COLUMNS, rows=False)


def test_reduce_input_must_take_the_fetchs_values():
    x_input = tf.placeholder(tf.float64, [None, 3], name="x_input")
    with pytest.raises(FetchShapeError, match="'x_input'.*partial values of fetch 'x:0'"):
        compile_reduce(tf.reduce_sum(x_input, name="x"), COLUMNS, rows=False)


def test_reduce_graph_reading_another_placeholder_is_refused():
    x_input = tf.placeholder(tf.float64, [None], name="x_input")
    scale = tf.placeholder(tf.float64, [], name="scale")
    with pytest.raises(UnboundPlaceholderError, match="'scale' is the input of no fetch"):
        compile_reduce(tf.multiply(tf.reduce_sum(x_input, 0), scale, name="x"), COLUMNS, rows=False)


def test_reduce_rows_needs_two_inputs_per_fetch():
    x_1 = tf.placeholder(tf.float64, [], name="x_1")
    x = tf.add(x_1, x_1, name="x")
    with pytest.raises(ProgramError, match="takes two placeholders as input, inputs= gives 1"):
        compile_reduce(x, COLUMNS, inputs={x: x_1}, rows=True)
