"""Making a DataFrame acceptable as the input of a barrier stage.

Spark runs a barrier stage only if every RDD inside the stage has as many
partitions as the stage has tasks. A ``coalesce()`` or a ``union()`` in the
last stage of the DataFrame's plan breaks that; Spark then raises
``BarrierJobUnsupportedRDDChainException`` while submitting, and Spark 4.3
shuts the SparkContext down after it. So the plan is read before submitting
(no job), and such a DataFrame gets an explicit ``repartition`` to as many
partitions as it has: one shuffle, the data otherwise as it was.
"""

from __future__ import annotations

import re

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

#: Physical operators that change the partition count inside a stage.
UNSUPPORTED = frozenset({"Coalesce", "Union"})
_NODE = re.compile(r"^([\s:|+-]*)(?:\*\(\d+\)\s*)?(\w+)")


def barrier_ready(df: DataFrame) -> DataFrame:
    """``df``, repartitioned when its last stage holds an operator barrier stages reject."""
    if not UNSUPPORTED & last_stage_operators(_plan_text(df)):
        return df
    return df.repartition(_partitions(df))


def last_stage_operators(plan: str) -> set[str]:
    """The operator names of a physical plan's tree string above its first shuffles.

    >>> sorted(last_stage_operators("Coalesce 2\\n+- Exchange RoundRobinPartitioning(3)\\n   +- Union"))
    ['Coalesce', 'Exchange']
    """
    names, below = set(), None  # below: the depth of the Exchange being skipped
    for line in plan.splitlines():
        found = _NODE.match(line)
        if not found:
            continue
        depth, name = len(found.group(1)), found.group(2)
        if below is not None and depth > below:
            continue
        below = depth if name.endswith("Exchange") else None
        names.add(name)
    return names


def _plan_text(df: DataFrame) -> str:
    jdf = getattr(df, "_jdf", None)
    if jdf is not None:
        return jdf.queryExecution().executedPlan().treeString()
    text = df._explain_string(mode="simple")  # Spark Connect: "== Physical Plan ==" and the tree
    return text.split("== Physical Plan ==", 1)[-1]


def _partitions(df: DataFrame) -> int:
    jdf = getattr(df, "_jdf", None)
    if jdf is not None:
        return max(1, jdf.rdd().getNumPartitions())
    return max(1, df.select(F.spark_partition_id()).distinct().count())
