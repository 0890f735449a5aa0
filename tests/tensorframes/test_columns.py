"""The column layer without Spark: ColumnSpec, Arrow -> numpy -> Arrow."""

from __future__ import annotations


import numpy as np
import pyarrow as pa
import pytest

from tensorframes.arrow_convert import VECTOR_ARROW_TYPE, arrow_type, to_arrow, to_numpy
from tensorframes.column_spec import ColumnSpec
from tensorframes.errors import ColumnTypeError, NullValueError, ShapeMismatchError, TensorFramesError


def array_spec(name: str, *cell_shape: int | None, dtype=np.float64) -> ColumnSpec:
    return ColumnSpec(name, dtype, cell_shape, "array")


def vectors(rows: list[tuple]) -> pa.StructArray:
    """Arrow vectors as Spark sends them: (1, None, None, values) or (0, size, indices, values)."""
    return pa.array(
        [{"type": t, "size": s, "indices": i, "values": v} for t, s, i, v in rows], type=VECTOR_ARROW_TYPE)


# --- ColumnSpec


def test_spec_normalizes_dtype_and_describes_block_shape():
    spec = ColumnSpec("y", "float64", [None, 2], "array")
    assert spec.dtype == np.dtype(np.float64)
    assert spec.cell_shape == (None, 2)
    assert spec.block_shape == (None, None, 2)
    assert spec.describe() == "double[?,?,2]"
    assert not spec.shape_known


def test_spec_rejects_unsupported_dtype():
    with pytest.raises(TypeError, match="column 'x': dtype uint8 is not supported"):
        ColumnSpec("x", np.uint8)


def test_spec_rejects_scalar_with_cell_shape():
    with pytest.raises(ValueError, match="scalar column has cell shape"):
        ColumnSpec("x", np.float64, (2,), "scalar")


# --- primitive columns


def test_float64_column_is_zero_copy():
    arr = pa.array(np.arange(5, dtype=np.float64))
    out = to_numpy(arr, ColumnSpec("x", np.float64))
    data_buffer = np.frombuffer(arr.buffers()[1], dtype=np.float64)
    assert np.shares_memory(out, data_buffer)
    np.testing.assert_array_equal(out, np.arange(5.0))


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64, np.bool_])
def test_primitive_dtypes_convert_exactly(dtype):
    values = np.array([1, 0, 1, 1], dtype=dtype)
    out = to_numpy(pa.array(values), ColumnSpec("x", dtype))
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out, values)


def test_chunked_array_is_combined():
    chunked = pa.chunked_array([[1.0, 2.0], [3.0]])
    np.testing.assert_array_equal(to_numpy(chunked, ColumnSpec("x", np.float64)), [1.0, 2.0, 3.0])


def test_null_scalar_names_column_and_row():
    with pytest.raises(NullValueError, match=r"column 'x' has a null value in row 2") as info:
        to_numpy(pa.array([1.0, 2.0, None]), ColumnSpec("x", np.float64))
    assert (info.value.column, info.value.row) == ("x", 2)


def test_row_offset_is_added_to_reported_rows():
    with pytest.raises(NullValueError, match="in row 1002"):
        to_numpy(pa.array([1.0, 2.0, None]), ColumnSpec("x", np.float64), row_offset=1000)


def test_arrow_type_other_than_spec_is_an_error():
    with pytest.raises(ColumnTypeError, match=r"column 'x': expected double\[\?\] \(Arrow double\), found Arrow int32"):
        to_numpy(pa.array([1, 2], type=pa.int32()), ColumnSpec("x", np.float64))


# --- arrays


def test_list_column_becomes_matrix_without_copy():
    arr = to_arrow(np.arange(6.0).reshape(3, 2), 1)
    out = to_numpy(arr, array_spec("y", None))
    assert out.shape == (3, 2)
    assert np.shares_memory(out, np.frombuffer(arr.values.buffers()[1], dtype=np.float64))


def test_sliced_list_array_respects_slice_offset():
    arr = pa.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]]).slice(1, 2)
    np.testing.assert_array_equal(to_numpy(arr, array_spec("y", 2)), [[2.0, 3.0], [4.0, 5.0]])


def test_sliced_nested_list_array_respects_slice_offsets():
    cube = np.arange(24.0).reshape(4, 3, 2)
    arr = pa.array(cube.tolist()).slice(2, 2)
    np.testing.assert_array_equal(to_numpy(arr, array_spec("m", 3, 2)), cube[2:4])


def test_rank3_nested_arrays():
    block = np.arange(2 * 3 * 4 * 5, dtype=np.int64).reshape(2, 3, 4, 5)
    out = to_numpy(pa.array(block.tolist()), array_spec("t", None, None, None, dtype=np.int64))
    assert out.shape == (2, 3, 4, 5)
    np.testing.assert_array_equal(out, block)


def test_fixed_size_list_is_accepted():
    arr = pa.FixedSizeListArray.from_arrays(pa.array(np.arange(8.0)), 2).slice(1, 2)
    np.testing.assert_array_equal(to_numpy(arr, array_spec("y", None)), [[2.0, 3.0], [4.0, 5.0]])


def test_boolean_arrays():
    out = to_numpy(pa.array([[True, False], [False, False]]), array_spec("b", 2, dtype=np.bool_))
    np.testing.assert_array_equal(out, [[True, False], [False, False]])


def test_empty_batch_has_zero_rows_and_known_dims():
    out = to_numpy(pa.array([], type=pa.list_(pa.float64())), array_spec("y", 3))
    assert out.shape == (0, 3)


def test_null_array_cell_names_row():
    with pytest.raises(NullValueError, match=r"column 'y' has a null value in row 1"):
        to_numpy(pa.array([[1.0, 2.0], None, [3.0, 4.0]]), array_spec("y", 2))


def test_null_inside_nested_array_names_row_and_level():
    arr = pa.array([[[1.0], [2.0]], [[3.0], [4.0]], [[5.0], [None]]])
    with pytest.raises(NullValueError, match=r"null element inside its array \(nesting level 2\) in row 2"):
        to_numpy(arr, array_spec("m", 2, 1))


def test_ragged_array_names_expected_shape_length_and_row():
    arr = pa.array([[1.0, 2.0], [3.0, 4.0], [5.0]])
    with pytest.raises(ShapeMismatchError) as info:
        to_numpy(arr, array_spec("y", None))
    message = str(info.value)
    assert "column 'y' is ragged" in message
    assert "shape [2] (length 2 at nesting level 1, as in row 0), found length 1 in row 2" in message
    assert info.value.row == 2


def test_ragged_inner_level_reports_top_level_row():
    arr = pa.array([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]], [[9.0, 10.0], [11.0]]])
    with pytest.raises(ShapeMismatchError, match=r"shape \[2,2\] \(length 2 at nesting level 2, as in row 0\), "
                                                 r"found length 1 in row 2"):
        to_numpy(arr, array_spec("m", None, None))


def test_length_other_than_known_shape_is_an_error():
    with pytest.raises(ShapeMismatchError,
                       match=r"column 'y': expected cells of shape \[3\], found an array of length 2 "
                             r"at nesting level 1 in row 0"):
        to_numpy(pa.array([[1.0, 2.0]]), array_spec("y", 3))


def test_nesting_shallower_than_spec_is_a_type_error():
    with pytest.raises(ColumnTypeError, match="found double at nesting level 2"):
        to_numpy(pa.array([[1.0, 2.0]]), array_spec("m", None, None))


def test_column_errors_share_one_base():
    assert issubclass(ShapeMismatchError, TensorFramesError)
    assert issubclass(NullValueError, ValueError)


# --- ml Vectors (the Arrow struct Spark sends)


def test_dense_vectors_become_matrix_without_copy():
    arr = vectors([(1, None, None, [1.0, 2.0, 3.0]), (1, None, None, [4.0, 5.0, 6.0])])
    out = to_numpy(arr, ColumnSpec("v", np.float64, (None,), "vector"))
    np.testing.assert_array_equal(out, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert np.shares_memory(out, np.frombuffer(arr.field("values").values.buffers()[1], dtype=np.float64))


def test_sparse_and_dense_vectors_mix():
    arr = vectors([
        (0, 4, [1, 3], [7.0, 8.0]),
        (1, None, None, [1.0, 2.0, 3.0, 4.0]),
        (0, 4, [], []),
        (0, 4, [0], [5.0]),
    ])
    out = to_numpy(arr.slice(0), ColumnSpec("v", np.float64, (4,), "vector"))
    np.testing.assert_array_equal(out, [[0, 7, 0, 8], [1, 2, 3, 4], [0, 0, 0, 0], [5, 0, 0, 0]])


def test_sliced_sparse_vectors():
    arr = vectors([(0, 3, [0], [1.0]), (0, 3, [2], [2.0]), (1, None, None, [3.0, 4.0, 5.0])]).slice(1, 2)
    out = to_numpy(arr, ColumnSpec("v", np.float64, (None,), "vector"))
    np.testing.assert_array_equal(out, [[0, 0, 2.0], [3.0, 4.0, 5.0]])


def test_vectors_of_different_sizes_are_an_error():
    arr = vectors([(1, None, None, [1.0, 2.0]), (0, 3, [0], [1.0])])
    with pytest.raises(ShapeMismatchError, match=r"column 'v': expected vectors of size 2 \(as in row 0\), "
                                                 r"found size 3 in row 1"):
        to_numpy(arr, ColumnSpec("v", np.float64, (None,), "vector"))


def test_null_vector_names_row():
    arr = vectors([(1, None, None, [1.0])]).take([0, 0])
    arr = pa.StructArray.from_arrays(arr.flatten(), fields=list(VECTOR_ARROW_TYPE),
                                     mask=pa.array([False, True]))
    with pytest.raises(NullValueError, match="column 'v' has a null value in row 1"):
        to_numpy(arr, ColumnSpec("v", np.float64, (1,), "vector"))


# --- numpy -> Arrow


def test_to_arrow_rank1_is_primitive_and_zero_copy():
    values = np.arange(4.0)
    arr = to_arrow(values, 0)
    assert arr.type == pa.float64()
    assert np.shares_memory(np.frombuffer(arr.buffers()[1], dtype=np.float64), values)


def test_to_arrow_nests_lists_with_int32_offsets():
    arr = to_arrow(np.zeros((2, 3, 4), dtype=np.float32), 2)
    assert arr.type == arrow_type(np.float32, 2)
    assert arr.type == pa.list_(pa.field("element", pa.list_(pa.field("element", pa.float32(), False)), False))
    assert arr.offsets.type == pa.int32()


@pytest.mark.parametrize("shape", [(5,), (5, 3), (4, 3, 2), (3, 0, 2), (0, 2)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32, np.int64, np.bool_])
def test_round_trip_numpy_arrow_numpy(shape, dtype):
    values = (np.arange(int(np.prod(shape))) % 3).astype(dtype).reshape(shape)
    spec = ColumnSpec("c", dtype, shape[1:], "array" if len(shape) > 1 else "scalar")
    back = to_numpy(to_arrow(values, spec), spec)
    assert back.dtype == values.dtype and back.shape == values.shape
    np.testing.assert_array_equal(back, values)


def test_to_arrow_non_contiguous_input():
    values = np.arange(12.0).reshape(3, 4)[:, ::2]
    np.testing.assert_array_equal(to_numpy(to_arrow(values, 1), array_spec("y", 2)), values)


def test_to_arrow_vector_spec_makes_dense_vectors():
    spec = ColumnSpec("v", np.float64, (2,), "vector")
    arr = to_arrow(np.array([[1.0, 2.0], [3.0, 4.0]]), spec)
    assert arr.type == VECTOR_ARROW_TYPE
    assert arr.to_pylist()[0] == {"type": 1, "size": None, "indices": None, "values": [1.0, 2.0]}
    np.testing.assert_array_equal(to_numpy(arr, spec), [[1.0, 2.0], [3.0, 4.0]])


def test_to_arrow_checks_dtype_against_spec():
    with pytest.raises(ColumnTypeError, match="column 'y': expected float64 values, found float32"):
        to_arrow(np.zeros((2, 2), dtype=np.float32), array_spec("y", 2))


def test_to_arrow_checks_shape_against_spec():
    with pytest.raises(ShapeMismatchError, match=r"column 'y': expected cells of shape \[3\], found \[2\]"):
        to_arrow(np.zeros((4, 2)), array_spec("y", 3))


def test_to_arrow_checks_rank():
    with pytest.raises(ShapeMismatchError, match=r"expected an array of rank 2 .* found shape \(4,\)"):
        to_arrow(np.zeros(4), 1)


def test_to_arrow_rejects_unsupported_dtype():
    with pytest.raises(ColumnTypeError, match="dtype float16 is not supported"):
        to_arrow(np.zeros(3, dtype=np.float16), 0)
