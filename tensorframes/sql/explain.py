"""``tfs.explain``: which backend an entry point would run a graph on, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from pyspark.sql import DataFrame, GroupedData

import engine as tf
from tensorframes.frames import SparkColumns, columns_of
from tensorframes.program import compile_map, compile_reduce
from tensorframes.sql.backend import choose
from tensorframes.sql.backend import _emit  # the expressions the SQL path would select

KINDS = ("map_blocks", "map_rows", "reduce_blocks", "reduce_rows", "aggregate")
_SHOWN = 300  # characters of each output expression


@dataclass(frozen=True)
class Explanation:
    """``backend`` ("sql" or "arrow") for ``kind``; ``reason``: why not SQL; ``expressions`` per output."""

    kind: str
    backend: str
    reason: str = ""
    expressions: dict = field(default_factory=dict)

    def __str__(self) -> str:
        if self.backend == "arrow":
            return f"{self.kind}: Arrow path (Python workers): {self.reason}"
        lines = [f"{self.kind}: SQL path (Spark SQL expressions, no Python workers)"]
        for name, text in self.expressions.items():
            lines.append(f"  {name} = {text if len(text) <= _SHOWN else text[:_SHOWN] + ' ...'}")
        return "\n".join(lines)


def explain(fetches: Any, df: DataFrame | GroupedData, feed_dict: Mapping | None = None, *,
            kind: str = "map_blocks", inputs: Mapping | None = None, trim: bool = False,
            session: tf.Session | None = None, backend: str | None = None) -> Explanation:
    """How ``kind`` (map_blocks, map_rows, reduce_blocks, reduce_rows, aggregate) would run the fetches.

    Nothing runs. The Arrow path's reason names the op that kept the graph
    there: ``op 'twice' (BarTwice): no SQL rule``.

    >>> x = tfs.block(df, "x")
    >>> print(tfs.explain(tf.add(x, 3.0, name="z"), df))  # doctest: +ELLIPSIS
    map_blocks: SQL path (Spark SQL expressions, no Python workers)
      z = +(CASE WHEN isNull(x) THEN raise_error('NullValueError: column ...' has a null value; ...
    >>> print(tfs.explain(tf.reduce_sum(x, keepdims=True, name="s"), df, trim=True))
    map_blocks: Arrow path (Python workers): op 's' (Sum): reduces over the rows of a block (axis 0); a map keeps one value per row
    """
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r}: expected one of {', '.join(KINDS)}")
    frame = df._df if isinstance(df, GroupedData) else df
    if kind.startswith("map"):
        program = compile_map(fetches, columns_of(frame), feed_dict, rows=kind == "map_rows", trim=trim,
                              session=session)
    else:
        program = compile_reduce(fetches, SparkColumns(frame), inputs, feed_dict, rows=kind == "reduce_rows",
                                 session=session)
    choice = choose(program, backend, kind, frame.schema)
    if choice.translation is None:
        return Explanation(kind, "arrow", choice.reason)
    _, columns = _emit(choice.translation, frame.columns)
    shown = {o.spec.name: _text(c) for o, c in zip(program.outputs, columns)}
    return Explanation(kind, "sql", expressions=shown)


def _text(column: Any) -> str:
    text = str(column)
    return text[len("Column<'"):-2] if text.startswith("Column<'") else text
