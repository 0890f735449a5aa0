"""What a DataFrame column looks like as a tensor: :class:`ColumnSpec`.

Pure numpy: importable on executors and in tests without Spark.

A column holds one *cell* per row; a block of rows is a tensor of shape
``(rows,) + cell_shape``.  Unknown dimensions are ``None`` (shown as ``?``).

>>> spec = ColumnSpec("y", np.float64, (2,), "array")
>>> spec.block_shape, spec.describe()
((None, 2), 'double[?,2]')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Kind = Literal["scalar", "array", "vector"]
KINDS: tuple[str, ...] = ("scalar", "array", "vector")

#: numpy dtype -> Spark SQL simple type name, for every dtype a column may hold.
DTYPE_NAMES: dict[np.dtype, str] = {
    np.dtype(np.float64): "double",
    np.dtype(np.float32): "float",
    np.dtype(np.int32): "int",
    np.dtype(np.int64): "bigint",
    np.dtype(np.bool_): "boolean",
}
SUPPORTED_DTYPES: tuple[np.dtype, ...] = tuple(DTYPE_NAMES)

def format_shape(shape: tuple[int | None, ...]) -> str:
    """``(None, 2)`` -> ``'[?,2]'`` (TensorFrames' notation)."""
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def check_dtype(dtype: object, where: str = "") -> np.dtype:
    """Return ``np.dtype(dtype)`` if tensorframes supports it, else raise TypeError."""
    dt = np.dtype(dtype)  # type: ignore[call-overload]
    if dt not in DTYPE_NAMES:
        names = ", ".join(str(d) for d in SUPPORTED_DTYPES)
        raise TypeError(f"{where}dtype {dt} is not supported; expected one of {names}")
    return dt


@dataclass(frozen=True)
class ColumnSpec:
    """Name, element dtype, per-row cell shape and kind of one column.

    ``kind`` is ``"scalar"`` (cell shape ``()``), ``"array"`` (one entry per
    nesting level of ``array<...>``) or ``"vector"`` (a pyspark.ml Vector:
    float64, cell shape ``(size,)``).
    """

    name: str
    dtype: np.dtype
    cell_shape: tuple[int | None, ...] = ()
    kind: Kind = "scalar"

    def __post_init__(self) -> None:
        where = f"column {self.name!r}: "
        object.__setattr__(self, "dtype", check_dtype(self.dtype, where))
        shape = tuple(self.cell_shape)
        for d in shape:
            if d is not None and (not isinstance(d, (int, np.integer)) or d < 0):
                raise ValueError(f"{where}cell shape {shape} must hold ints >= 0 or None")
        object.__setattr__(self, "cell_shape", tuple(None if d is None else int(d) for d in shape))
        if self.kind not in KINDS:
            raise ValueError(f"{where}kind {self.kind!r} is not one of {KINDS}")
        if self.kind == "scalar" and shape:
            raise ValueError(f"{where}a scalar column has cell shape (), not {shape}")
        if self.kind == "array" and not shape:
            raise ValueError(f"{where}an array column needs one cell dimension per nesting level")
        if self.kind == "vector" and (len(shape) != 1 or self.dtype != np.float64):
            raise ValueError(f"{where}a vector column is float64 with cell shape (size,)")

    @property
    def rank(self) -> int:
        """Number of cell dimensions (0 for scalars)."""
        return len(self.cell_shape)

    @property
    def block_shape(self) -> tuple[int | None, ...]:
        """Shape of a block of rows: ``(None,) + cell_shape``."""
        return (None,) + self.cell_shape

    @property
    def shape_known(self) -> bool:
        """True when every cell dimension is known."""
        return None not in self.cell_shape

    @property
    def type_name(self) -> str:
        """Spark simple name of the element type (``double``, ``bigint``, ...)."""
        return DTYPE_NAMES[self.dtype]

    def describe(self) -> str:
        """Element type and block shape, e.g. ``'double[?,2]'``."""
        return self.type_name + format_shape(self.block_shape)
