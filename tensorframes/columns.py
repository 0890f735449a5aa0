"""The column layer: Spark column types as tensors, Arrow columns as numpy.

One import for the whole layer; the pieces live in

- :mod:`tensorframes.column_spec`: :class:`ColumnSpec` (numpy only),
- :mod:`tensorframes.schema`: Spark types and shape metadata (driver side),
- :mod:`tensorframes.arrow_convert`: Arrow <-> numpy (executor side, no Spark).

Executor code should import :mod:`tensorframes.arrow_convert` directly.
"""

from tensorframes.arrow_convert import VECTOR_ARROW_TYPE, arrow_type, to_arrow, to_numpy
from tensorframes.column_spec import SUPPORTED_DTYPES, ColumnSpec, format_shape
from tensorframes.schema import (
    METADATA_KEY,
    analyze,
    column_spec,
    format_schema,
    print_schema,
    read_shape_metadata,
    shape_metadata,
    spark_type,
    with_shape_metadata,
)

__all__ = [
    "ColumnSpec", "SUPPORTED_DTYPES", "format_shape",
    "column_spec", "spark_type", "METADATA_KEY", "shape_metadata", "read_shape_metadata",
    "with_shape_metadata", "analyze", "format_schema", "print_schema",
    "to_numpy", "to_arrow", "arrow_type", "VECTOR_ARROW_TYPE",
]
