"""Which backend runs a program, and the SQL backend's DataFrame operations.

``backend="auto"`` (the default) runs a program as Spark SQL expressions
when every op it needs translates (and no rule says its SQL would be
slower, as a large matmul's higher-order functions are), else on the
Arrow path; ``"sql"``
insists (and raises :class:`~tensorframes.errors.SqlTranslationError`
naming the first op that doesn't translate); ``"arrow"`` always takes the
Arrow path. The environment variable ``TENSORFRAMES_BACKEND`` changes the
default (the test suite runs its Spark modules once with ``arrow``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from pyspark.sql import Column, DataFrame, GroupedData
from pyspark.sql import functions as F
from pyspark.sql import types as T

from tensorframes.errors import EmptyReductionError, ProgramError, SqlTranslationError
from tensorframes.spark_columns import column_ref
from tensorframes.program import Output, Program
from tensorframes.schema import shape_metadata
from tensorframes.sql.compiler import Translation, Value, translate
from tensorframes.sql.expr import Emitted, Node, emit
from tensorframes.sql.ops.reduction import pairwise_rows

BACKENDS = ("auto", "sql", "arrow")
#: Environment variable: the backend used when an entry point gets ``backend=None``.
BACKEND_ENV = "TENSORFRAMES_BACKEND"


def resolve(backend: str | None) -> str:
    """``backend``, or the default from TENSORFRAMES_BACKEND (else "auto"); checked."""
    chosen = backend if backend is not None else os.environ.get(BACKEND_ENV, "auto")
    if chosen not in BACKENDS:
        where = "backend=" if backend is not None else f"{BACKEND_ENV}="
        raise ProgramError(f"{where}{chosen!r}: expected one of {', '.join(BACKENDS)}")
    return chosen


@dataclass(frozen=True)
class Choice:
    """The backend that runs a program: its translation on the SQL path, or why not."""

    translation: Translation | None
    reason: str = ""

    @property
    def backend(self) -> str:
        return "sql" if self.translation is not None else "arrow"


def choose(program: Program, backend: str | None, kind: str, schema: T.StructType) -> Choice:
    """Translate the program unless the Arrow path is asked for; "sql" raises when it can't."""
    chosen = resolve(backend)
    if chosen == "arrow":
        return Choice(None, "backend='arrow' was asked for")
    try:
        translation = _translate(program, kind, schema)
    except SqlTranslationError as e:
        if chosen == "sql":
            raise
        return Choice(None, str(e))
    if translation.slow and chosen == "auto":
        return Choice(None, translation.slow[0])
    return Choice(translation)


def _translate(program: Program, kind: str, schema: T.StructType) -> Translation:
    if kind == "reduce_rows":
        return pairwise_rows(program, schema)
    translation = translate(program, schema, reduce=kind in ("reduce_blocks", "aggregate"))
    for output, value in zip(program.outputs, translation.outputs):
        _check_output(kind, program, output, value)
    return translation


def _check_output(kind: str, program: Program, output: Output, value: Value) -> None:
    op = output.tensor.rsplit(":", 1)[0]
    if kind in ("map_blocks", "map_rows") and value.aggregated:
        raise SqlTranslationError("(fetch)", op, "reduces over the rows, which a map can't")
    if kind in ("reduce_blocks", "aggregate") and not value.aggregated:
        raise SqlTranslationError("(fetch)", op, "is not a Spark aggregate of the rows (reduce them with "
                                  "reduce_sum/mean/max/min/any/all over axis 0 of the placeholder)")
    if kind == "map_blocks" and not value.rowwise:
        raise SqlTranslationError("(fetch)", op, "depends on no column, so it has no rows (Arrow path)")


# -- running ---------------------------------------------------------------------------------
def _cells(value: Value, block: bool) -> np.ndarray:
    """The value's elements per row, as Nodes (block values drop their row axis)."""
    elems = np.asarray(value.elems, dtype=object)
    if block and value.rowwise:
        elems = elems[0, ...]
    nodes = np.empty(elems.shape, dtype=object)
    for index in np.ndindex(elems.shape):
        nodes[index] = value.node((0,) + index if block and value.rowwise else index)
    return nodes


def _assemble(cells: np.ndarray, built: dict[int, Column]) -> Column:
    if cells.ndim == 0:
        return built[id(cells[()])]
    return F.array(*[_assemble(cells[i, ...], built) for i in range(len(cells))])


def _emit(translation: Translation, df_columns: Sequence[str]) -> tuple[Emitted, list[Column]]:
    program = translation.program
    cells = [_cells(v, not program.rows) for v in translation.outputs]
    roots: list[Node] = [n for c in cells for n in c.flat]
    prefix = "__tfs_"
    while any(c.startswith(prefix) for c in df_columns):
        prefix += "_"
    emitted = emit(roots, prefix)
    built = {id(n): col for n, col in zip(roots, emitted.roots)}
    columns = []
    for c, output in zip(cells, program.outputs):
        spec = output.spec
        columns.append(_assemble(c, built).alias(spec.name, metadata=shape_metadata(spec.cell_shape, spec.dtype)))
    return emitted, columns


def _staged(df: DataFrame, emitted: Emitted) -> DataFrame:
    for stage in emitted.stages:
        df = df.select("*", *[c.alias(name) for name, c in stage])
    return df


def map_sql(translation: Translation, df: DataFrame, trim: bool) -> DataFrame:
    """``df`` plus (or, trimmed, only) the outputs as SQL expressions."""
    emitted, outputs = _emit(translation, df.columns)
    staged = _staged(df, emitted)
    if trim:
        return staged.select(*outputs)
    return staged.select(*[column_ref(c) for c in df.columns], *outputs)


def reduce_sql(translation: Translation, df: DataFrame) -> list[np.ndarray]:
    """The outputs aggregated over all rows in one Spark job, as numpy values."""
    emitted, outputs = _emit(translation, df.columns)
    row = _staged(df, emitted).agg(*outputs).collect()[0]
    values = []
    for value, output in zip(row, translation.program.outputs):
        if value is None or np.any(np.asarray(value, dtype=object) == None):  # noqa: E711
            raise EmptyReductionError(f"no rows to reduce for fetches {translation.program.output_names}: "
                                      "reducing an empty DataFrame (or group) has no value")
        values.append(np.asarray(value, dtype=output.spec.dtype)[()])  # a numpy scalar for a scalar fetch
    return values


def aggregate_sql(translation: Translation, df: DataFrame, grouped: GroupedData,
                  key_names: Sequence[str]) -> DataFrame:
    """Keys and the outputs aggregated per group (lazy)."""
    emitted, outputs = _emit(translation, df.columns)
    if emitted.stages:
        if not set(key_names) <= set(df.columns):
            raise SqlTranslationError("(aggregate)", "groupBy", "grouping by expressions while the graph needs "
                                      "intermediate columns")
        grouped = _staged(df, emitted).groupBy(*[column_ref(k) for k in key_names])
    return grouped.agg(*outputs)
