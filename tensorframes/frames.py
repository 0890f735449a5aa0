"""What tensorframes sees of a DataFrame, Spark or pandas: column names and specs.

:func:`columns_of` wraps either kind of frame in the same small interface
(:class:`tensorframes.program.Columns`), so
placeholders and programs are built and validated the same way for both. A
pandas frame is also turned into Arrow arrays here, for the local path that
runs the executor without Spark.

>>> columns_of(pd.DataFrame({"x": [1.0, 2.0]})).spec("x")
ColumnSpec(name='x', dtype=dtype('float64'), cell_shape=(), kind='scalar')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame

from tensorframes.arrow_convert import to_arrow
from tensorframes.column_spec import ColumnSpec, check_dtype
from tensorframes.errors import (ColumnNotFoundError, NullValueError, ShapeMismatchError,
                                 UnsupportedColumnTypeError)
from tensorframes.schema import column_spec


class SparkColumns:
    """Columns of a Spark DataFrame, from its schema (no job runs)."""

    def __init__(self, df: DataFrame) -> None:
        self.schema = df.schema
        self.names = list(self.schema.names)

    def spec(self, name: str) -> ColumnSpec:
        return column_spec(self.schema, name)


class PandasColumns:
    """Columns of a pandas DataFrame; array cells are stacked to learn their shape."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        self.names = [str(c) for c in df.columns]
        self._labels = dict(zip(self.names, df.columns))
        self._values: dict[str, np.ndarray] = {}

    def spec(self, name: str) -> ColumnSpec:
        values = self.values(name)
        kind = "array" if values.ndim > 1 else "scalar"
        return ColumnSpec(name, values.dtype, values.shape[1:], kind)

    def arrow(self, name: str) -> pa.Array:
        """The column as the Arrow array Spark would send (lists for array cells)."""
        values = self.values(name)
        return to_arrow(values, values.ndim - 1)

    def values(self, name: str) -> np.ndarray:
        """The column as one numpy block ``(rows,) + cell_shape`` (converted once)."""
        if name not in self._values:
            self._values[name] = self._convert(name)
        return self._values[name]

    def _convert(self, name: str) -> np.ndarray:
        if name not in self._labels:
            available = ", ".join(self.names) or "(none)"
            raise ColumnNotFoundError(f"column {name!r} not found; available columns: {available}", name)
        column = self.df[self._labels[name]]
        values = column.to_numpy()  # NaN in a float column is a value, as in numpy
        if values.dtype == object:
            values = self._stack_cells(name, column)
        try:
            check_dtype(values.dtype)
        except TypeError:
            raise UnsupportedColumnTypeError(
                f"column {name!r} holds {values.dtype} values; tensorframes supports float64, float32, "
                "int32, int64 and bool numbers and (nested) arrays of them", name) from None
        return values

    @staticmethod
    def _stack_cells(name: str, column: pd.Series) -> np.ndarray:
        nulls = column.isna().to_numpy()
        if nulls.any():
            row = int(np.flatnonzero(nulls)[0])
            raise NullValueError(f"column {name!r} has a null value in row {row}; drop or fill it first",
                                 name, row)
        try:
            return np.stack([np.asarray(cell) for cell in column])
        except ValueError as e:
            raise ShapeMismatchError(f"column {name!r} is ragged: its cells must all have one shape ({e})",
                                     name) from None


def columns_of(df: Any) -> SparkColumns | PandasColumns:
    """The :class:`Columns` of a Spark or pandas DataFrame."""
    if isinstance(df, DataFrame):
        return SparkColumns(df)
    if isinstance(df, pd.DataFrame):
        return PandasColumns(df)
    raise TypeError(f"expected a Spark or pandas DataFrame, found {type(df).__name__}")
