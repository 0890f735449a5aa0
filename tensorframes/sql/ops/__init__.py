"""The SQL rules of the built-in ops, one module per engine op family (``engine/ops/<family>.py``)."""

from tensorframes.sql.ops import array, compare, linalg, math, nn, reduction  # noqa: F401
