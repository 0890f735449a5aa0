"""The SQL backend: graphs compiled to Spark SQL expressions, no Python on the executors.

When every op a program needs has a SQL rule, ``map_blocks``, ``map_rows``,
``reduce_blocks``, ``reduce_rows`` and ``aggregate`` run it as Catalyst
expressions (``backend="auto"``, the default, or ``"sql"``); otherwise on
the Arrow path. :func:`explain` says which and why. Rules live in one
module per op family under ``tensorframes/sql/ops``; :func:`sql_rule`
adds one for an op of your own.
"""

from tensorframes.sql.compiler import elementwise, sql_rule
from tensorframes.sql.explain import Explanation, explain

__all__ = ["explain", "Explanation", "sql_rule", "elementwise"]
