"""Arrow record batch columns <-> numpy blocks, on the executor.

Only pyarrow and numpy: these functions run inside Spark's Python workers and
in tests without Spark.  No Python loop runs per row.

- :func:`to_numpy` turns one Arrow column into a ``(rows,) + cell_shape``
  array, zero-copy for primitive columns and for (nested) lists of numbers;
  nulls and ragged arrays raise errors naming the column and row.
- :func:`to_arrow` turns a numpy block back into the Arrow type Spark accepts
  from ``mapInArrow``: primitives, nested ``list<element: T not null>`` with
  int32 offsets (Spark rejects ``large_list`` and ``fixed_size_list``), or the
  VectorUDT struct for vector columns.

>>> import pyarrow as pa
>>> spec = ColumnSpec("y", np.float64, (2,), "array")
>>> to_numpy(pa.array([[1.0, 2.0], [3.0, 4.0]]), spec).shape
(2, 2)
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tensorframes.column_spec import ColumnSpec, check_dtype, format_shape
from tensorframes.errors import ColumnTypeError, NullValueError, ShapeMismatchError

_ARROW_TYPES: dict[np.dtype, pa.DataType] = {
    np.dtype(np.float64): pa.float64(),
    np.dtype(np.float32): pa.float32(),
    np.dtype(np.int32): pa.int32(),
    np.dtype(np.int64): pa.int64(),
    np.dtype(np.bool_): pa.bool_(),
}

# How Spark encodes a pyspark.ml VectorUDT in Arrow (measured with mapInArrow):
# type 1 = dense (size and indices null), 0 = sparse.
VECTOR_ARROW_TYPE = pa.struct([
    pa.field("type", pa.int8(), nullable=False),
    pa.field("size", pa.int32()),
    pa.field("indices", pa.list_(pa.field("element", pa.int32(), nullable=False))),
    pa.field("values", pa.list_(pa.field("element", pa.float64(), nullable=False))),
])
_VECTOR_FIELDS = [f.name for f in VECTOR_ARROW_TYPE]
_DENSE, _SPARSE = 1, 0
_MAX_INT32 = 2**31 - 1


def arrow_type(dtype: object, cell_rank: int = 0) -> pa.DataType:
    """Arrow type of a column of ``dtype`` elements nested ``cell_rank`` deep.

    >>> arrow_type(np.float64, 1)
    ListType(list<element: double not null>)
    """
    t = _ARROW_TYPES[check_dtype(dtype)]
    for _ in range(cell_rank):
        t = pa.list_(pa.field("element", t, nullable=False))
    return t


def to_numpy(array: pa.Array | pa.ChunkedArray, spec: ColumnSpec, row_offset: int = 0) -> np.ndarray:
    """Arrow column -> numpy array of shape ``(rows,) + cell_shape``.

    The result shares memory with the Arrow buffers (and is read-only) except
    for booleans (bit-packed in Arrow), sparse vectors and multi-chunk input.
    ``row_offset`` is added to row numbers in error messages, so a caller
    can report rows of a partition rather than of one batch.

    Raises NullValueError, ShapeMismatchError (ragged cells or cells that differ
    from ``spec.cell_shape``) and ColumnTypeError (Arrow type differs from spec).
    """
    if isinstance(array, pa.ChunkedArray):
        array = array.chunk(0) if array.num_chunks == 1 else array.combine_chunks()
    if spec.kind == "vector":
        return _vectors_to_numpy(array, spec, row_offset)
    parents: list[np.ndarray] = []  # raw offsets of each list level, to map an index back to its row
    dims: list[int] = []
    child = array
    for level, known in enumerate(spec.cell_shape, start=1):
        t = child.type
        if not (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)):
            raise ColumnTypeError(
                f"column {spec.name!r}: expected {spec.describe()}, i.e. Arrow lists nested {spec.rank} deep, "
                f"found {t} at nesting level {level}", spec.name)
        _check_no_nulls(child, spec, level - 1, parents, row_offset)
        if pa.types.is_fixed_size_list(t):
            offsets = np.arange(len(child) + 1, dtype=np.int64) * t.list_size + child.offset * t.list_size
        else:
            offsets = child.offsets.to_numpy()
        lengths = np.diff(offsets)
        d = known if known is not None else (int(lengths[0]) if len(lengths) else 0)
        if len(lengths) and (lengths != d).any():
            _raise_shape_mismatch(spec, level, known, d, dims, lengths, parents, row_offset)
        dims.append(d)
        parents.append(offsets)
        # `.values` ignores the slice offset of `child`: cut the child by the first/last offset.
        child = child.values.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
    expected = _ARROW_TYPES[spec.dtype]
    if child.type != expected:
        where = f" inside {spec.rank} levels of lists" if spec.rank else ""
        raise ColumnTypeError(
            f"column {spec.name!r}: expected {spec.describe()} (Arrow {expected}{where}), found Arrow {child.type}",
            spec.name)
    _check_no_nulls(child, spec, spec.rank, parents, row_offset)
    flat = child.to_numpy(zero_copy_only=spec.dtype != np.bool_)
    return flat.reshape((len(array),) + tuple(dims))


def to_arrow(values: np.ndarray, spec_or_rank: ColumnSpec | int) -> pa.Array:
    """numpy block ``(rows,) + cell_shape`` -> Arrow array Spark accepts.

    ``spec_or_rank`` is the output column's spec (dtype and known dims are
    checked, vectors become VectorUDT structs) or just its cell rank.
    Primitive data is not copied unless it is non-contiguous.

    >>> to_arrow(np.zeros((3, 2)), 1).type
    ListType(list<element: double not null>)
    """
    spec = spec_or_rank if isinstance(spec_or_rank, ColumnSpec) else None
    rank = spec.rank if spec is not None else int(spec_or_rank)  # type: ignore[arg-type]
    where = f"column {spec.name!r}: " if spec is not None else ""
    name = spec.name if spec is not None else None
    values = np.asarray(values)
    if values.ndim != rank + 1:
        raise ShapeMismatchError(
            f"{where}expected an array of rank {rank + 1} (rows and {rank} cell dims), "
            f"found shape {values.shape}", name)
    if spec is not None:
        if values.dtype != spec.dtype:
            raise ColumnTypeError(f"{where}expected {spec.dtype} values, found {values.dtype}", name)
        if any(k is not None and k != d for k, d in zip(spec.cell_shape, values.shape[1:])):
            raise ShapeMismatchError(
                f"{where}expected cells of shape {format_shape(spec.cell_shape)}, "
                f"found {format_shape(values.shape[1:])} (block shape {values.shape})", name)
    else:
        try:
            check_dtype(values.dtype)
        except TypeError as e:
            raise ColumnTypeError(str(e)) from None
    out = pa.array(np.ascontiguousarray(values).reshape(-1), type=_ARROW_TYPES[values.dtype])
    for level in range(rank, 0, -1):
        out = _wrap_in_lists(out, math.prod(values.shape[:level]), values.shape[level], where)
    if spec is not None and spec.kind == "vector":
        return _dense_vectors(out)
    return out


def _wrap_in_lists(child: pa.Array, count: int, length: int, where: str) -> pa.Array:
    if count * length > _MAX_INT32:
        raise ShapeMismatchError(
            f"{where}{count * length} elements do not fit Spark's int32 list offsets; "
            f"use smaller batches (spark.sql.execution.arrow.maxRecordsPerBatch)")
    offsets = np.arange(count + 1, dtype=np.int64) * length
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), child,
                                    type=pa.list_(pa.field("element", child.type, nullable=False)))


def _dense_vectors(values: pa.ListArray) -> pa.StructArray:
    n = len(values)
    return pa.StructArray.from_arrays(
        [pa.array(np.full(n, _DENSE, dtype=np.int8)), pa.nulls(n, pa.int32()),
         pa.nulls(n, VECTOR_ARROW_TYPE.field("indices").type), values],
        fields=list(VECTOR_ARROW_TYPE))


def _vectors_to_numpy(array: pa.Array, spec: ColumnSpec, row_offset: int) -> np.ndarray:
    t = array.type
    if not pa.types.is_struct(t) or [f.name for f in t] != _VECTOR_FIELDS:
        raise ColumnTypeError(
            f"column {spec.name!r}: expected a pyspark.ml Vector (Arrow {VECTOR_ARROW_TYPE}), found {t}",
            spec.name)
    _check_no_nulls(array, spec, 0, [], row_offset)
    rows = len(array)
    values = array.field("values")
    _check_no_nulls(values, spec, 0, [], row_offset)
    vo = values.offsets.to_numpy()
    vlen = np.diff(vo)
    flat_values = values.values.slice(int(vo[0]), int(vo[-1] - vo[0]))
    _check_no_nulls(flat_values, spec, 1, [vo], row_offset)
    flat = flat_values.to_numpy(zero_copy_only=True)
    dense = array.field("type").to_numpy(zero_copy_only=False) == _DENSE
    all_dense = bool(dense.all())
    sizes = vlen if all_dense else np.where(dense, vlen, pc.fill_null(array.field("size"), -1).to_numpy())
    n = spec.cell_shape[0]
    if n is None:
        n = int(sizes[0]) if rows else 0
    bad = np.flatnonzero(sizes != n)
    if bad.size:
        r = int(bad[0])
        expected = f"size {n}" + ("" if spec.cell_shape[0] is not None else " (as in row %d)" % row_offset)
        raise ShapeMismatchError(
            f"column {spec.name!r}: expected vectors of {expected}, found size {int(sizes[r])} "
            f"in row {r + row_offset}", spec.name, r + row_offset)
    if all_dense:
        return flat.reshape(rows, n)
    # Scatter every stored value to (row, column) in one fancy assignment.
    row_of = np.repeat(np.arange(rows), vlen)
    pos = np.arange(len(flat)) - (vo[:-1] - vo[0])[row_of]
    cols = pos.copy()
    indices = array.field("indices")
    io = indices.offsets.to_numpy()
    bad = np.flatnonzero(~dense & (np.diff(io) != vlen))
    if bad.size:
        r = int(bad[0])
        raise ShapeMismatchError(
            f"column {spec.name!r}: sparse vector in row {r + row_offset} has {int(np.diff(io)[r])} indices "
            f"but {int(vlen[r])} values", spec.name, r + row_offset)
    sparse_value = ~dense[row_of]
    flat_idx = indices.values.slice(int(io[0]), int(io[-1] - io[0])).to_numpy(zero_copy_only=False)
    cols[sparse_value] = flat_idx[(io[:-1] - io[0])[row_of[sparse_value]] + pos[sparse_value]]
    out_of_range = np.flatnonzero((cols < 0) | (cols >= n))
    if out_of_range.size:
        j = int(out_of_range[0])
        r = int(row_of[j])
        raise ShapeMismatchError(
            f"column {spec.name!r}: sparse vector in row {r + row_offset} has index {int(cols[j])} "
            f"outside its size {n}", spec.name, r + row_offset)
    out = np.zeros((rows, n), dtype=np.float64)
    out[row_of, cols] = flat
    return out


def _row_of(index: int, parents: list[np.ndarray]) -> int:
    """Map an element index at depth ``len(parents)`` back to its top-level row."""
    for offsets in reversed(parents):
        index = int(np.searchsorted(offsets - offsets[0], index, side="right")) - 1
    return index


def _check_no_nulls(arr: pa.Array, spec: ColumnSpec, depth: int, parents: list[np.ndarray],
                    row_offset: int) -> None:
    if not arr.null_count:
        return
    first = int(np.flatnonzero(~arr.is_valid().to_numpy(zero_copy_only=False))[0])
    row = _row_of(first, parents[:depth]) + row_offset
    what = "value" if depth == 0 else f"element inside its array (nesting level {depth})"
    raise NullValueError(
        f"column {spec.name!r} has a null {what} in row {row}; tensorframes does not fill "
        f"missing values: drop or fill them first (e.g. df.na.drop / df.na.fill)", spec.name, row)


def _raise_shape_mismatch(spec: ColumnSpec, level: int, known: int | None, d: int, dims: list[int],
                          lengths: np.ndarray, parents: list[np.ndarray], row_offset: int) -> None:
    j = int(np.flatnonzero(lengths != d)[0])
    row = _row_of(j, parents) + row_offset
    found = int(lengths[j])
    if known is not None:
        raise ShapeMismatchError(
            f"column {spec.name!r}: expected cells of shape {format_shape(spec.cell_shape)}, found an array "
            f"of length {found} at nesting level {level} in row {row}", spec.name, row)
    seen = tuple(dims) + (d,) + spec.cell_shape[level:]
    row0 = _row_of(0, parents) + row_offset
    raise ShapeMismatchError(
        f"column {spec.name!r} is ragged: expected every cell to have shape {format_shape(seen)} "
        f"(length {d} at nesting level {level}, as in row {row0}), found length {found} in row {row}; "
        f"tensorframes needs arrays of one fixed shape per column", spec.name, row)
