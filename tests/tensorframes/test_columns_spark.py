"""The column layer against a real local Spark: schemas, metadata, analyze, mapInArrow."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pytest
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.linalg import DenseVector, Vectors, VectorUDT
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from tensorframes.arrow_convert import to_arrow, to_numpy
from tensorframes.column_spec import ColumnSpec
from tensorframes.errors import ColumnNotFoundError, UnsupportedColumnTypeError
from tensorframes.schema import (
    METADATA_KEY,
    analyze,
    column_spec,
    format_schema,
    print_schema,
    spark_type,
    with_shape_metadata,
)


def schema(**fields: T.DataType) -> T.StructType:
    return T.StructType([T.StructField(name, dt) for name, dt in fields.items()])


# --- Spark type -> ColumnSpec


@pytest.mark.parametrize("spark_dt, dtype", [
    (T.DoubleType(), np.float64), (T.FloatType(), np.float32), (T.IntegerType(), np.int32),
    (T.LongType(), np.int64), (T.BooleanType(), np.bool_),
])
def test_scalar_types_map_to_numpy_dtypes(spark_dt, dtype):
    assert column_spec(schema(x=spark_dt), "x") == ColumnSpec("x", dtype, (), "scalar")


def test_nested_arrays_have_one_unknown_dim_per_level():
    dt = T.ArrayType(T.ArrayType(T.ArrayType(T.IntegerType())))
    assert column_spec(schema(t=dt), "t") == ColumnSpec("t", np.int32, (None, None, None), "array")


def test_vector_column_is_float64_of_unknown_size():
    assert column_spec(schema(v=VectorUDT()), "v") == ColumnSpec("v", np.float64, (None,), "vector")


@pytest.mark.parametrize("dt, shown", [
    (T.StringType(), "string"),
    (T.ArrayType(T.StringType()), "array<string>"),
    (T.MapType(T.StringType(), T.DoubleType()), "map<string,double>"),
    (schema(a=T.DoubleType()), "struct<a:double>"),
    (T.BinaryType(), "binary"),
    (T.DateType(), "date"),
    (T.DecimalType(10, 2), "decimal(10,2)"),
    (T.ShortType(), "smallint"),
])
def test_unsupported_type_names_column_and_type(dt, shown):
    with pytest.raises(UnsupportedColumnTypeError) as info:
        column_spec(schema(state=dt), "state")
    assert str(info.value) == (
        f"column 'state' has type {shown}; tensorframes supports double, float, int, long, boolean, "
        "arrays of them and ml Vectors")


def test_missing_column_lists_available_columns():
    with pytest.raises(ColumnNotFoundError,
                       match=r"column 'X' not found; available columns: x, yy; did you mean 'x'\?"):
        column_spec(schema(x=T.DoubleType(), yy=T.DoubleType()), "X")


def test_spark_type_nests_non_null_arrays():
    assert spark_type(np.int64, 2) == T.ArrayType(T.ArrayType(T.LongType(), False), False)
    assert spark_type("bool") == T.BooleanType()


# --- shape metadata


def test_shape_metadata_is_read_back_by_column_spec(spark: SparkSession):
    df = spark.createDataFrame([([[1.0, 2.0]] * 3,)], "m array<array<double>>")
    df2 = with_shape_metadata(df, "m", (3, 2))
    assert df2.schema["m"].metadata[METADATA_KEY] == {"shape": [-1, 3, 2], "dtype": "float64"}
    assert column_spec(df2.schema, "m").cell_shape == (3, 2)
    assert column_spec(df2.select(F.col("m").alias("n")), "n").cell_shape == (3, 2)


def test_shape_metadata_keeps_other_metadata_and_unknown_dims(spark: SparkSession):
    df = spark.createDataFrame([([1.0],)], "y array<double>").withMetadata("y", {"comment": "hi"})
    df2 = with_shape_metadata(df, "y", (None,))
    assert df2.schema["y"].metadata["comment"] == "hi"
    assert column_spec(df2, "y").cell_shape == (None,)


def test_shape_metadata_rank_must_match_nesting(spark: SparkSession):
    df = spark.createDataFrame([([1.0],)], "y array<double>")
    with pytest.raises(ValueError, match=r"column 'y' \(array<double>\) has cells of rank 1, got cell shape"):
        with_shape_metadata(df, "y", (1, 2))


def test_stale_metadata_of_another_rank_is_ignored():
    field = T.StructField("y", T.ArrayType(T.DoubleType()), metadata={METADATA_KEY: {"shape": [-1, 2, 2]}})
    assert column_spec(T.StructType([field]), "y").cell_shape == (None,)


# --- analyze


def test_analyze_records_fixed_shapes(spark: SparkSession):
    df = spark.createDataFrame(
        [(1.0, [1.0, 2.0], [[1, 2, 3], [4, 5, 6]]), (2.0, [3.0, 4.0], [[7, 8, 9], [1, 2, 3]])],
        "x double, y array<double>, m array<array<long>>")
    analyzed = analyze(df)
    assert column_spec(analyzed, "y").cell_shape == (2,)
    assert column_spec(analyzed, "m").cell_shape == (2, 3)
    assert column_spec(analyzed, "x").cell_shape == ()
    assert analyzed.collect() == df.collect()


def test_analyze_leaves_ragged_levels_unknown(spark: SparkSession):
    df = spark.createDataFrame(
        [([1.0, 2.0], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), ([3.0], [[7.0, 8.0]])],
        "r array<double>, m array<array<double>>")
    analyzed = analyze(df)
    assert column_spec(analyzed, "r").cell_shape == (None,)
    assert column_spec(analyzed, "m").cell_shape == (None, 2)


def test_analyze_skips_nulls_and_unsupported_columns(spark: SparkSession):
    df = spark.createDataFrame([("a", [1.0, 2.0]), ("b", None)], "s string, y array<double>")
    assert column_spec(analyze(df), "y").cell_shape == (2,)


def test_analyze_finds_vector_size(spark: SparkSession):
    df = spark.createDataFrame([(Vectors.dense([1.0, 2.0, 3.0]),), (Vectors.sparse(3, [1], [5.0]),)],
                               schema(v=VectorUDT()))
    assert column_spec(analyze(df), "v").cell_shape == (3,)


def test_vector_assembler_size_comes_from_ml_attr_metadata(spark: SparkSession):
    df = spark.createDataFrame([(1.0, 2.0)], "a double, b double")
    assembled = VectorAssembler(inputCols=["a", "b"], outputCol="v").transform(df)
    assert column_spec(assembled, "v") == ColumnSpec("v", np.float64, (2,), "vector")


# --- print_schema


def test_print_schema_shows_tensor_shapes(spark: SparkSession, capsys):
    df = spark.createDataFrame(
        [(1.0, [1.0, 2.0], [[1, 2]], Vectors.dense([1.0] * 10), "x"),
         (2.0, [3.0, 4.0], [[1], [2]], Vectors.sparse(10, [], []), "y")],
        schema(x=T.DoubleType(), y=T.ArrayType(T.DoubleType()), m=T.ArrayType(T.ArrayType(T.IntegerType())),
               v=VectorUDT(), s=T.StringType()))
    print_schema(analyze(df))
    assert capsys.readouterr().out == (
        "root\n"
        " |-- x: double double[?]\n"
        " |-- y: array double[?,2]\n"
        " |-- m: array int[?,?,?]\n"
        " |-- v: vector double[?,10]\n"
        " |-- s: string (not supported by tensorframes)\n")


def test_format_schema_of_a_struct_type():
    assert format_schema(schema(flag=T.BooleanType(), n=T.LongType())) == (
        "root\n |-- flag: boolean boolean[?]\n |-- n: bigint bigint[?]")


# --- what arrives in mapInArrow, and what Spark accepts back


def _convert_in_workers(df, specs: list[ColumnSpec], out_rank: int = 1):
    """mapInArrow that turns each spec'd column into numpy and writes it back as `out`."""

    def convert(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            blocks = [to_numpy(batch.column(s.name), s) for s in specs]
            flat = np.concatenate([b.reshape(len(b), -1).astype(np.float64) for b in blocks], axis=1)
            yield pa.RecordBatch.from_arrays([to_arrow(flat, out_rank)], ["out"])

    return df.mapInArrow(convert, T.StructType([T.StructField("out", spark_type(np.float64, out_rank))]))


def test_vector_assembler_dense_and_sparse_vectors(spark: SparkSession):
    cols = ["a", "b", "c", "d", "e", "f"]
    df = spark.createDataFrame([(1.0, 2.0, 3.0, 4.0, 5.0, 6.0), (0.0, 0.0, 4.0, 0.0, 0.0, 0.0)],
                               ", ".join(f"{c} double" for c in cols))
    assembled = VectorAssembler(inputCols=cols, outputCol="v").transform(df).select("v")
    kinds = {type(r.v).__name__ for r in assembled.collect()}
    assert kinds == {"DenseVector", "SparseVector"}
    out = _convert_in_workers(assembled.coalesce(1), [column_spec(assembled, "v")]).collect()
    assert [r.out for r in out] == [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [0.0, 0.0, 4.0, 0.0, 0.0, 0.0]]


def test_sparse_vectors_from_vectors_sparse(small_batches: SparkSession):
    rows = [(Vectors.sparse(4, [i % 4], [float(i)]),) for i in range(7)] + [(Vectors.dense([1.0, 2, 3, 4]),)]
    df = small_batches.createDataFrame(rows, schema(v=VectorUDT())).coalesce(1)
    out = _convert_in_workers(df, [column_spec(df, "v")]).collect()
    expected = np.zeros((7, 4))
    expected[np.arange(7), np.arange(7) % 4] = np.arange(7.0)
    np.testing.assert_array_equal(np.array([r.out for r in out]), np.vstack([expected, [[1, 2, 3, 4]]]))


def test_round_trip_numpy_arrow_spark_arrow_numpy(small_batches: SparkSession):
    """Blocks written by one mapInArrow are read back exactly by the next one (batches of 3 rows)."""
    out_schema = T.StructType([
        T.StructField("id", T.LongType()),
        T.StructField("x", spark_type(np.float32)),
        T.StructField("m", spark_type(np.float64, 2)),
        T.StructField("b", spark_type(np.bool_, 1)),
        T.StructField("v", VectorUDT()),
    ])

    def blocks(ids: np.ndarray) -> dict[str, np.ndarray]:
        return {
            "x": ids.astype(np.float32) / 2,
            "m": ids[:, None, None] + np.arange(6.0).reshape(1, 3, 2),
            "b": (ids[:, None] + np.arange(4)) % 2 == 0,
            "v": ids[:, None] * np.ones((1, 5)),
        }

    specs = {
        "x": ColumnSpec("x", np.float32),
        "m": ColumnSpec("m", np.float64, (3, 2), "array"),
        "b": ColumnSpec("b", np.bool_, (4,), "array"),
        "v": ColumnSpec("v", np.float64, (5,), "vector"),
    }

    def write(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            ids = batch.column("id").to_numpy()
            made = blocks(ids)
            yield pa.RecordBatch.from_arrays(
                [batch.column("id")] + [to_arrow(made[k], specs[k]) for k in specs], ["id", *specs])

    def check(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            ids = batch.column("id").to_numpy()
            want = blocks(ids)
            ok = all(np.array_equal(to_numpy(batch.column(k), specs[k]), want[k]) for k in specs)
            yield pa.RecordBatch.from_pydict({"rows": [batch.num_rows], "ok": [ok]})

    written = small_batches.range(20, numPartitions=2).mapInArrow(write, out_schema)
    assert written.schema == out_schema
    checked = written.mapInArrow(check, "rows long, ok boolean").collect()
    assert sum(r.rows for r in checked) == 20
    assert all(r.ok for r in checked)
    first = written.orderBy("id").first()
    assert first.m == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    assert first.v == DenseVector([0.0] * 5)
