"""``map_blocks`` and ``map_rows``: a graph's fetches as new DataFrame columns.

Spark plan (measured, see benchmarks/README.md): appending columns goes
through one scalar-iterator ``arrow_udf``, which ships only the columns the
graph reads to Python and back only the new ones; several fetches travel as
one struct column that a ``select`` splits (Spark evaluates the UDF once).
``trim=True`` drops the input columns and may change the row count, so it
is a ``mapInArrow``. A pandas DataFrame runs the same executor code locally.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.functions import arrow_udf

import engine as tf
from tensorframes import executor
from tensorframes.arrow_convert import to_numpy
from tensorframes.errors import ProgramError
from tensorframes.frames import PandasColumns, columns_of
from tensorframes.program import Program, compile_map
from tensorframes.schema import output_field
from tensorframes.spark_columns import column_ref, fed_columns
from tensorframes.sql import backend as sql_backend


def map_blocks(fetches: Any, df: DataFrame | pd.DataFrame, feed_dict: Mapping | None = None,
               trim: bool = False, session: tf.Session | None = None,
               backend: str | None = None) -> DataFrame | pd.DataFrame:
    """Run the graph on blocks of rows; append one column per fetch (named after its op).

    Placeholders are fed by the columns of the same name, or as ``feed_dict``
    maps them (``{placeholder or name: column}``); a block placeholder has a
    leading dimension None for the rows (:func:`tensorframes.block`). Each
    fetch must have one value per input row, unless ``trim=True``: then only
    the fetches are returned, with as many rows as they have. Variables are
    shipped with their values in ``session`` (default: the default session).
    Lazy for Spark DataFrames; a pandas DataFrame is computed at once.
    ``backend``: "auto" (default: Spark SQL expressions when every op has a
    SQL rule, else Arrow), "sql" or "arrow" (see :mod:`tensorframes.sql`).

    >>> x = tfs.block(df, "x")
    >>> df2 = tfs.map_blocks(tf.add(x, 3.0, name="z"), df)
    >>> [r.z for r in df2.collect()]
    [4.0, 5.0, 6.0, 7.0]
    """
    program = compile_map(fetches, columns_of(df), feed_dict, rows=False, trim=trim, session=session)
    return _run(program, df, trim, backend, "map_blocks")


def map_rows(fetches: Any, df: DataFrame | pd.DataFrame, feed_dict: Mapping | None = None,
             session: tf.Session | None = None, backend: str | None = None) -> DataFrame | pd.DataFrame:
    """Run a graph written for one row on every row; append one column per fetch.

    Placeholders have the shape of one cell (:func:`tensorframes.row`). The
    graph runs vectorized over whole batches through the ops' batching
    rules, not row by row. Bindings, variables and ``backend`` as in :func:`map_blocks`.

    >>> x = tfs.row(df, "x")
    >>> df2 = tfs.map_rows(tf.multiply(x, x, name="x2"), df)
    >>> [r.x2 for r in df2.collect()]
    [1.0, 4.0, 9.0, 16.0]
    """
    program = compile_map(fetches, columns_of(df), feed_dict, rows=True, session=session)
    return _run(program, df, False, backend, "map_rows")


def _run(program: Program, df: DataFrame | pd.DataFrame, trim: bool, backend: str | None,
         kind: str) -> DataFrame | pd.DataFrame:
    if isinstance(df, pd.DataFrame):
        if sql_backend.resolve(backend) == "sql":
            raise ProgramError(f"{kind}(backend='sql') needs a Spark DataFrame; a pandas DataFrame runs locally")
        return _run_local(program, df, trim)
    choice = sql_backend.choose(program, backend, kind, df.schema)
    if choice.translation is not None:
        return sql_backend.map_sql(choice.translation, df, trim)
    if trim:
        schema = T.StructType([output_field(o.spec) for o in program.outputs])
        frame, reader = fed_columns(df, program)
        return frame.mapInArrow(partial(executor.map_batches, reader), schema)
    return _append(program, df)


def _append(program: Program, df: DataFrame) -> DataFrame:
    """``df`` plus the outputs, computed by one Arrow UDF over the fed columns only."""
    fields = [output_field(o.spec) for o in program.outputs]
    return_type = fields[0].dataType if len(fields) == 1 else \
        T.StructType([T.StructField(f"_{i}", f.dataType, False) for i, f in enumerate(fields)])
    udf = arrow_udf(executor.arrow_udf_function(program), return_type)
    result = udf(*[column_ref(f.column) for f in program.feeds])
    if len(fields) == 1:
        return df.select("*", result.alias(fields[0].name, metadata=fields[0].metadata))
    packed = _unused_name(df.columns)
    wide = df.select("*", result.alias(packed))
    return wide.select(*[column_ref(c) for c in df.columns],
                       *[F.col(packed).getField(f"_{i}").alias(f.name, metadata=f.metadata)
                         for i, f in enumerate(fields)])


def _unused_name(names: list[str]) -> str:
    name = "__tensorframes_outputs"
    while name in names:
        name += "_"
    return name


def _run_local(program: Program, df: pd.DataFrame, trim: bool) -> pd.DataFrame:
    """The executor over the whole pandas frame as one batch."""
    frame = PandasColumns(df)
    if trim:
        names = list(dict.fromkeys(f.column for f in program.feeds))
        batch = pa.RecordBatch.from_arrays([frame.arrow(n) for n in names], names=names)
        out = next(executor.map_batches(program, iter([batch])))
        arrays = out.columns
    else:
        packed = next(executor.map_arrays(program, iter([tuple(frame.arrow(f.column) for f in program.feeds)])))
        arrays = [packed] if len(program.outputs) == 1 else packed.flatten()
    cells = {o.spec.name: _pandas_column(to_numpy(a, o.spec)) for a, o in zip(arrays, program.outputs)}
    return pd.DataFrame(cells) if trim else df.assign(**cells)


def _pandas_column(values: np.ndarray) -> np.ndarray | list[np.ndarray]:
    """A numpy block as a pandas column: scalars as is, array cells as ndarrays."""
    return values if values.ndim == 1 else list(values)
