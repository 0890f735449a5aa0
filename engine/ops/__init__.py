"""Op families; importing this package registers every built-in op.

Each module holds whole ops: builder, kernel, shape/dtype rule, gradient and
batching rule side by side (see engine.registry for the contracts).
"""
from . import (array, compare, composite, conv, core, creation, indexing, joining, lbfgs, linalg, logging_ops,  # noqa: F401
               math, nn, random, reduction, scan, selection, state)  # (registration happens on import)
