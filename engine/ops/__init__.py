"""Op families; importing this package registers every built-in op.

Each module holds whole ops: builder, kernel, shape/dtype rule, gradient and
batching rule side by side (see engine.registry for the contracts). Below
the families sit `toolkit` (conversion, op creation, shared rules) and
`elementwise` (the elementwise-op builders and the broadcasting gradient pair).
"""
from . import (array, compare, composite, conv, core, creation, elementwise, indexing, joining, lbfgs,  # noqa: F401
               linalg, logging_ops, math, nn, pooling, random, reduction, scan, selection, state)  # (registration on import)
from . import summary  # noqa: F401
