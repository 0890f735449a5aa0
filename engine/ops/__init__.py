"""Op families; importing this package registers every built-in op.

Each module holds whole ops: builder, kernel, shape/dtype rule, gradient and
batching rule side by side (see engine.registry for the contracts).
"""
from . import array, compare, core, creation, indexing, joining, lbfgs, linalg, math, nn, reduction, state  # noqa: F401  (registration happens on import)
from . import summary  # noqa: F401
