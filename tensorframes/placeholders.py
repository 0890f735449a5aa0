"""Placeholders shaped after DataFrame columns: :func:`block` and :func:`row`.

The dtype comes from the column's type and the shape from its cell shape,
known for scalars and from the shape metadata of array columns (see
:func:`tensorframes.analyze`); unknown dimensions are None.
"""

from __future__ import annotations

from typing import Any

import engine as tf
from tensorframes.frames import columns_of


def block(df: Any, col: str, tf_name: str | None = None) -> tf.Tensor:
    """A placeholder for a block of rows of column ``col``: shape ``(None,) + cell shape``.

    Named ``tf_name``, else after the column, so map_blocks feeds it by name.

    >>> x = tfs.block(df, "y")  # df.y: array double[?,2]
    >>> x.shape
    TensorShape((?, 2))
    """
    spec = columns_of(df).spec(col)
    return tf.placeholder(spec.dtype, spec.block_shape, name=tf_name or col)


def row(df: Any, col: str, tf_name: str | None = None) -> tf.Tensor:
    """A placeholder for one cell of column ``col`` (its shape is the cell shape).

    >>> x = tfs.row(df, "y")
    >>> x.shape
    TensorShape((2,))
    """
    spec = columns_of(df).spec(col)
    return tf.placeholder(spec.dtype, spec.cell_shape, name=tf_name or col)
