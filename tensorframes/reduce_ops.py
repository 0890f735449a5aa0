"""``reduce_blocks``, ``reduce_rows`` and ``aggregate``: a graph that combines values.

A reduction graph maps values of a fetch ``x`` to one value of the same
kind: ``reduce_blocks`` takes a block of them (placeholder ``x_input`` of
shape ``(None,) + x.shape``), ``reduce_rows`` two of them (placeholders
``x_1`` and ``x_2`` of ``x``'s shape). The executors reduce each Arrow batch,
then the partial results of each partition, with the graph; the driver
reduces the few per-partition results with the same graph. The order of the
combinations is unspecified, so the operation must be associative (and
commutative), as a sum, min or max is.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Mapping

from pyspark.sql import DataFrame, GroupedData
from pyspark.sql import types as T

import engine as tf
from tensorframes import executor
from tensorframes.arrow_convert import to_numpy
from tensorframes.errors import OutputNameError
from tensorframes.frames import SparkColumns
from tensorframes.program import compile_reduce
from tensorframes.schema import output_field
from tensorframes.spark_columns import column_ref, fed_columns, reading, select_internal
from tensorframes.sql import backend as sql_backend


def reduce_blocks(fetches: Any, df: DataFrame, inputs: Mapping | None = None,
                  feed_dict: Mapping | None = None, session: tf.Session | None = None,
                  backend: str | None = None) -> Any:
    """Reduce columns with a graph over blocks; a numpy value (a list for several fetches).

    Fetch ``x`` takes its values from placeholder ``x_input`` (shape
    ``(None,) + x.shape``), fed by column ``x``. Other names are given
    explicitly: ``inputs={fetch: placeholder}`` pairs a fetch with its input,
    ``feed_dict={placeholder: column}`` picks the column it reads. Runs a job.
    ``backend`` as in :func:`~tensorframes.map_blocks`: a sum, mean, max,
    min, any or all over axis 0 of the placeholder is Spark's aggregate.

    >>> y_input = tfs.block(df, "y", tf_name="y_input")  # df.y: array double[?,2], rows [i, -i] for i = 1..4
    >>> tfs.reduce_blocks(tf.reduce_sum(y_input, [0], name="y"), df)
    array([ 10., -10.])
    """
    return _reduce(fetches, df, inputs, feed_dict, session, backend, rows=False)


def reduce_rows(fetches: Any, df: DataFrame, inputs: Mapping | None = None,
                feed_dict: Mapping | None = None, session: tf.Session | None = None,
                backend: str | None = None) -> Any:
    """Reduce columns pairwise with a graph of two rows; a numpy value (a list for several).

    Fetch ``x`` combines placeholders ``x_1`` and ``x_2`` (each of ``x``'s
    shape), both fed from column ``x``; ``inputs={fetch: (p1, p2)}`` and
    ``feed_dict={p1: column}`` name others. Pairs are combined vectorized,
    half a batch against the other half, until one value is left. On the
    SQL path (``backend``), a fetch that is ``x_1 + x_2``, maximum, minimum,
    logical_and or logical_or of its placeholders is Spark's aggregate.

    >>> x = tf.add(tfs.row(df, "x", "x_1"), tfs.row(df, "x", "x_2"), name="x")  # df.x: 1.0 .. 4.0
    >>> tfs.reduce_rows(x, df)
    np.float64(10.0)
    """
    return _reduce(fetches, df, inputs, feed_dict, session, backend, rows=True)


def _reduce(fetches: Any, df: DataFrame, inputs: Mapping | None, feed_dict: Mapping | None,
            session: tf.Session | None, backend: str | None, rows: bool) -> Any:
    program = compile_reduce(fetches, SparkColumns(df), inputs, feed_dict, rows=rows, session=session)
    choice = sql_backend.choose(program, backend, "reduce_rows" if rows else "reduce_blocks", df.schema)
    if choice.translation is not None:
        values = sql_backend.reduce_sql(choice.translation, df)
        return values if isinstance(fetches, (list, tuple)) else values[0]
    schema = T.StructType([output_field(o.spec) for o in program.outputs])
    frame, reader = fed_columns(df, program)
    table = frame.mapInArrow(partial(executor.reduce_partition, reader), schema).toArrow()
    blocks = [to_numpy(table.column(i), o.spec) for i, o in enumerate(program.outputs)]
    values = executor.combine(program, blocks)
    return values if isinstance(fetches, (list, tuple)) else values[0]


def aggregate(fetches: Any, grouped_data: GroupedData, inputs: Mapping | None = None,
              feed_dict: Mapping | None = None, session: tf.Session | None = None,
              backend: str | None = None) -> DataFrame:
    """Reduce each group with a ``reduce_blocks`` graph; a DataFrame of keys and fetches.

    Same naming conventions and arguments (``backend`` too) as :func:`reduce_blocks`. Lazy;
    each group is reduced batch by batch, never held whole in memory.

    >>> x_input = tfs.block(df, "x", tf_name="x_input")
    >>> sums = tfs.aggregate(tf.reduce_sum(x_input, [0], name="x"), df.groupBy("key"))
    >>> sums
    DataFrame[key: string, x: double]
    >>> sorted(sums.collect())
    [Row(key='a', x=6.0), Row(key='b', x=4.0)]
    """
    keys = grouped_data.count().schema.fields[:-1]  # the grouping columns, then `count`
    df = grouped_data._df  # what pyspark's own applyInArrow reads too
    program = compile_reduce(fetches, SparkColumns(df), inputs, feed_dict, rows=False, session=session)
    key_names = [f.name for f in keys]
    clash = set(key_names) & set(program.output_names)
    if clash:
        raise OutputNameError(f"aggregate: fetch column(s) {sorted(clash)} clash with grouping column(s) "
                              "of the same name; name the ops differently")
    choice = sql_backend.choose(program, backend, "aggregate", df.schema)
    if choice.translation is not None:
        return sql_backend.aggregate_sql(choice.translation, df, grouped_data, key_names)
    schema = T.StructType(list(keys) + [output_field(o.spec) for o in program.outputs])
    if set(key_names) <= set(df.columns):  # plain column keys: group only what the graph reads, safely named
        frame, mapping = select_internal(df, key_names + [f.column for f in program.feeds])
        grouped_data = frame.groupBy(*[column_ref(mapping[k]) for k in key_names])
        program = reading(program, mapping)
    return grouped_data.applyInArrow(executor.aggregate_function(program, key_names), schema)
