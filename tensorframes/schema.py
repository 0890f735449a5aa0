"""Spark column types -> :class:`ColumnSpec`, and the shape metadata of columns.

Driver side.  Supported: double, float, int, long, boolean columns, arrays of
them nested to any depth, and pyspark.ml Vectors.  Array lengths are not part
of a Spark type, so a known cell shape lives in the column's metadata under
:data:`METADATA_KEY`; :func:`analyze` finds it with one aggregation job,
:func:`with_shape_metadata` sets it without a scan.

>>> print_schema(analyze(spark.createDataFrame([(1.0, [1.0, 2.0])], "x double, y array<double>")))
root
 |-- x: double double[?]
 |-- y: array double[?,2]
"""

from __future__ import annotations

import difflib
from typing import Any, Mapping, Sequence

import numpy as np
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from tensorframes.column_spec import ColumnSpec, check_dtype
from tensorframes.errors import ColumnNotFoundError, ShapeMismatchError, UnsupportedColumnTypeError
from tensorframes.spark_columns import column_ref

#: Column metadata key: ``{"tensorframes": {"shape": [-1, 2], "dtype": "float64"}}``.
#: ``shape`` is the block shape, leading row dimension included; -1 marks an
#: unknown dimension (Spark metadata cannot hold nulls inside arrays).
METADATA_KEY = "tensorframes"

_SCALARS: dict[type, np.dtype] = {
    T.DoubleType: np.dtype(np.float64),
    T.FloatType: np.dtype(np.float32),
    T.IntegerType: np.dtype(np.int32),
    T.LongType: np.dtype(np.int64),
    T.BooleanType: np.dtype(np.bool_),
}
_SPARK_TYPES: dict[np.dtype, T.DataType] = {dt: cls() for cls, dt in _SCALARS.items()}
_SUPPORTED = "double, float, int, long, boolean, arrays of them and ml Vectors"


def _is_vector(dt: T.DataType) -> bool:
    # pyspark.ml.linalg.VectorUDT and the older pyspark.mllib.linalg.VectorUDT.
    return isinstance(dt, T.UserDefinedType) and type(dt).__name__ == "VectorUDT"


def spark_type(dtype: object, cell_rank: int = 0) -> T.DataType:
    """Spark type of an output column: ``dtype`` nested in ``cell_rank`` arrays.

    Arrays are declared ``containsNull=False``: tensorframes never writes nulls.

    >>> spark_type(np.float64, 1)
    ArrayType(DoubleType(), False)
    """
    t = _SPARK_TYPES[check_dtype(dtype)]
    for _ in range(cell_rank):
        t = T.ArrayType(t, containsNull=False)
    return t


def output_field(spec: ColumnSpec) -> T.StructField:
    """The Spark field of an output column: never null, its cell shape and dtype in the metadata.

    >>> output_field(ColumnSpec("y", np.float64, (2,), "array")).dataType
    ArrayType(DoubleType(), False)
    """
    return T.StructField(spec.name, spark_type(spec.dtype, spec.rank), nullable=False,
                         metadata=shape_metadata(spec.cell_shape, spec.dtype))


def shape_metadata(cell_shape: tuple[int | None, ...], dtype: object = None) -> dict[str, Any]:
    """Metadata entry that records ``cell_shape`` (and the dtype when given).

    >>> shape_metadata((None, 2), np.float64)
    {'tensorframes': {'shape': [-1, -1, 2], 'dtype': 'float64'}}
    """
    entry: dict[str, Any] = {"shape": [-1] + [-1 if d is None else int(d) for d in cell_shape]}
    if dtype is not None:
        entry["dtype"] = str(np.dtype(dtype))  # type: ignore[call-overload]
    return {METADATA_KEY: entry}


def read_shape_metadata(metadata: Mapping[str, Any] | None) -> tuple[int | None, ...] | None:
    """Cell shape recorded by :func:`shape_metadata`, or None if there is none."""
    entry = (metadata or {}).get(METADATA_KEY)
    shape = entry.get("shape") if isinstance(entry, Mapping) else None
    if not isinstance(shape, list) or not shape or not all(isinstance(d, int) for d in shape):
        return None
    return tuple(None if d < 0 else d for d in shape[1:])


def _element_type(dt: T.DataType) -> tuple[T.DataType, int]:
    depth = 0
    while isinstance(dt, T.ArrayType):
        dt, depth = dt.elementType, depth + 1
    return dt, depth


def _field_spec(field: T.StructField) -> ColumnSpec:
    dt = field.dataType
    if _is_vector(dt):
        size = _recorded_shape(field, 1)
        if size is None:  # VectorAssembler records the size under ml_attr.
            ml_attr = (field.metadata or {}).get("ml_attr")
            n = ml_attr.get("num_attrs") if isinstance(ml_attr, Mapping) else None
            size = (n,) if isinstance(n, int) and n >= 0 else (None,)
        return ColumnSpec(field.name, np.float64, size, "vector")
    elem, depth = _element_type(dt)
    dtype = _SCALARS.get(type(elem))
    if dtype is None:
        raise UnsupportedColumnTypeError(
            f"column {field.name!r} has type {dt.simpleString()}; tensorframes supports {_SUPPORTED}",
            field.name)
    if depth == 0:
        return ColumnSpec(field.name, dtype)
    shape = _recorded_shape(field, depth, dtype) or (None,) * depth
    return ColumnSpec(field.name, dtype, shape, "array")


def _recorded_shape(field: T.StructField, rank: int, dtype: np.dtype | None = None) -> tuple | None:
    shape = read_shape_metadata(field.metadata)
    entry = (field.metadata or {}).get(METADATA_KEY, {})
    # Stale metadata (another rank or dtype than the column now has) is ignored.
    if shape is None or len(shape) != rank:
        return None
    if dtype is not None and entry.get("dtype", str(dtype)) != str(dtype):
        return None
    return shape


def _find_field(schema: T.StructType, name: str) -> T.StructField:
    for field in schema.fields:
        if field.name == name:
            return field
    names = schema.names
    close = difflib.get_close_matches(name, names, n=1) or [n for n in names if n.lower() == name.lower()]
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ColumnNotFoundError(
        f"column {name!r} not found; available columns: {', '.join(names) or '(none)'}{hint}", name)


def column_spec(schema: T.StructType | DataFrame, name: str) -> ColumnSpec:
    """Spec of column ``name``: dtype from its Spark type, shape from metadata.

    >>> column_spec(T.StructType([T.StructField("y", T.ArrayType(T.DoubleType()))]), "y")
    ColumnSpec(name='y', dtype=dtype('float64'), cell_shape=(None,), kind='array')
    """
    if isinstance(schema, DataFrame):
        schema = schema.schema
    return _field_spec(_find_field(schema, name))


def with_shape_metadata(df: DataFrame, col: str, cell_shape: tuple[int | None, ...]) -> DataFrame:
    """Record ``cell_shape`` (no leading row dim) in the metadata of ``col``.

    Other metadata of the column is kept.  Raises ValueError if the rank does
    not match the column's nesting depth.

    >>> column_spec(with_shape_metadata(spark.createDataFrame([([1.0, 2.0],)], "y array<double>"), "y", (2,)), "y")
    ColumnSpec(name='y', dtype=dtype('float64'), cell_shape=(2,), kind='array')
    """
    field = _find_field(df.schema, col)
    spec = _field_spec(field)
    cell_shape = tuple(cell_shape)
    if len(cell_shape) != spec.rank:
        raise ValueError(
            f"column {col!r} ({field.dataType.simpleString()}) has cells of rank {spec.rank}, "
            f"got cell shape {cell_shape} of rank {len(cell_shape)}")
    ColumnSpec(spec.name, spec.dtype, cell_shape, spec.kind)  # validates the dims
    metadata = dict(field.metadata or {})
    metadata.update(shape_metadata(cell_shape, spec.dtype))
    # withMetadata parses `col` (a dot would make it a field reference): replace the column by name instead
    return df.withColumn(col, column_ref(col).alias(col, metadata=metadata))


def append_shape(df: DataFrame, col: str | Column, shape: Sequence[int | None]) -> DataFrame:
    """Record the shape of array column ``col`` in its metadata, without a scan.

    ``shape`` is the block shape, with the leading row dimension (``[None, 2]``,
    as in TensorFrames), or the cell shape (``[2]``); -1 or None marks an
    unknown dimension. You vouch for it: cells that differ fail when read.

    >>> tfs.print_schema(tfs.append_shape(spark.createDataFrame([([1.0, 2.0],)], "y array<double>"), "y", [None, 2]))
    root
     |-- y: array double[?,2]
    """
    name = col if isinstance(col, str) else df.select(col).columns[0]
    dims = [None if d is None or d == -1 else d for d in shape]
    rank = column_spec(df.schema, name).rank
    if len(dims) == rank + 1:
        if dims[0] is not None:
            raise ShapeMismatchError(f"append_shape: the leading dimension of {shape} counts the rows of a "
                                     "block and must be None or -1", name)
        dims = dims[1:]
    return with_shape_metadata(df, name, tuple(dims))


def _level_sizes(col: Column, level: int) -> tuple[Column, Column]:
    """Per-row min and max length of the arrays at nesting ``level`` (1 = the cell)."""
    if level == 1:
        size = F.when(col.isNotNull(), F.size(col))
        return size, size
    inner = col
    for _ in range(level - 2):
        inner = F.flatten(inner)
    sizes = F.transform(inner, lambda a: F.when(a.isNotNull(), F.size(a)))
    return F.array_min(sizes), F.array_max(sizes)


def analyze(df: DataFrame) -> DataFrame:
    """Find the fixed cell shapes of array and vector columns; record them.

    One Spark job of min/max aggregations over the array sizes at every
    nesting level (no data is collected).  A level whose lengths differ
    (ragged) stays unknown; nulls are skipped.  Returns ``df`` with
    :func:`shape_metadata` set on every array and vector column.
    """
    from pyspark.ml.functions import vector_to_array

    specs = []
    aggs: list[Column] = []
    for field in df.schema.fields:
        try:
            spec = _field_spec(field)
        except UnsupportedColumnTypeError:
            continue
        col = column_ref(field.name)
        if spec.kind == "vector":
            col = vector_to_array(col)
        elif spec.kind != "array":
            continue
        specs.append(spec)
        for level in range(1, spec.rank + 1):
            lo, hi = _level_sizes(col, level)
            aggs += [F.min(lo), F.max(hi)]
    if not aggs:
        return df
    found = df.agg(*aggs).collect()[0]
    i = 0
    for spec in specs:
        shape = []
        for level in range(spec.rank):
            lo, hi = found[i], found[i + 1]
            i += 2
            if lo is None:  # no data at this level: keep what was known
                shape.append(spec.cell_shape[level])
            else:
                shape.append(lo if lo == hi else None)
        df = with_shape_metadata(df, spec.name, tuple(shape))
    return df


def format_schema(df: DataFrame | T.StructType) -> str:
    """TensorFrames-style schema: Spark type, element type and block shape per column.

    ``?`` is an unknown dimension; the first one is the row (block) dimension.
    """
    schema = df.schema if isinstance(df, DataFrame) else df
    lines = ["root"]
    for field in schema.fields:
        dt = field.dataType
        try:
            kind = "vector" if _is_vector(dt) else "array" if isinstance(dt, T.ArrayType) else dt.simpleString()
            desc = f"{kind} {_field_spec(field).describe()}"
        except UnsupportedColumnTypeError:
            desc = dt.simpleString() + " (not supported by tensorframes)"
        lines.append(f" |-- {field.name}: {desc}")
    return "\n".join(lines)


def print_schema(df: DataFrame | T.StructType) -> None:
    """Print :func:`format_schema`, e.g. `` |-- y: array double[?,2]``."""
    print(format_schema(df))


__all__ = [
    "METADATA_KEY", "spark_type", "output_field", "shape_metadata", "read_shape_metadata",
    "column_spec", "with_shape_metadata", "append_shape", "analyze", "format_schema", "print_schema",
]
