"""Images in DataFrames: Spark's image data source and rank-3 array columns.

An image column that graphs read is an array column of rank 3, (height,
width, channels), with its shape in the column metadata, so ``tfs.block(df,
"image")`` is a ``(None, height, width, channels)`` placeholder that conv2d
takes as is. Two ways to get one:

- :func:`image_column` converts the struct column of Spark's image data
  source (``spark.read.format("image")``: ``origin``, ``height``, ``width``,
  ``nChannels``, ``mode``, ``data`` as BGR(A) bytes) lazily, with one Arrow
  UDF: bytes to floats (``scale``, default 1/255), BGR to RGB, optionally
  ``channels=`` (gray <-> RGB, alpha dropped) and ``size=`` (bilinear
  resize). Without ``size``, one job checks that all images have one size
  and says which two differ (naming their files) if not.
- :func:`images_frame` makes a DataFrame from a numpy array of images (and
  other numpy columns), through Arrow, with the metadata set.

:func:`image_block` is the placeholder for either: ``image_column`` first
when given the image source's struct column, for instance (a folder of images)::

    df = tfs.image_column(spark.read.format("image").load("digits/"), size=(8, 8), channels=1)
    x = tfs.image_block(df, "image")        # x.shape: TensorShape((?, 8, 8, 1))
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.functions import arrow_udf

import engine as tf
from tensorframes.arrow_convert import to_arrow
from tensorframes.errors import ColumnTypeError, NullValueError, ShapeMismatchError
from tensorframes.spark_columns import column_ref
from tensorframes.placeholders import block
from tensorframes.schema import shape_metadata, spark_type, with_shape_metadata

IMAGE_FIELDS = ("origin", "height", "width", "nChannels", "mode", "data")
_LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601, what PIL's convert("L") uses


# -- numpy: decoding, channels, resizing (executor side, no Spark) ---------------------------
def resize_bilinear(images: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """Images (n, h, w, c) resized to (n, H, W, c) by bilinear interpolation with half-pixel
    centers (as PIL and TensorFlow 2's ``tf.image.resize``; no antialiasing), in one pass.

    >>> resize_bilinear(np.arange(4.0).reshape(1, 2, 2, 1), (4, 4))[0, :, :, 0].round(2)[0]
    array([0.  , 0.25, 0.75, 1.  ])
    """
    out = images.astype(np.float64, copy=False)
    for axis, target in ((1, size[0]), (2, size[1])):
        n = out.shape[axis]
        if n == target:
            continue
        centers = np.clip((np.arange(target) + 0.5) * n / target - 0.5, 0, n - 1)
        low = np.floor(centers).astype(np.intp)
        high = np.minimum(low + 1, n - 1)
        weight = (centers - low).reshape((-1,) + (1,) * (out.ndim - axis - 1))
        out = np.take(out, low, axis=axis) * (1 - weight) + np.take(out, high, axis=axis) * weight
    return out


def convert_channels(images: np.ndarray, channels: int) -> np.ndarray:
    """RGB(A) or gray images (n, h, w, c) with `channels` 1 or 3: gray repeated, alpha dropped,
    RGB to gray by BT.601 luma; ValueError for other counts."""
    have = images.shape[-1]
    if have == channels:
        return images
    if have == 4:
        images, have = images[..., :3], 3
    if have == channels:
        return images
    if have == 1 and channels == 3:
        return np.repeat(images, 3, axis=-1)
    if have == 3 and channels == 1:
        return (images @ _LUMA.astype(images.dtype))[..., None]
    raise ValueError(f"cannot convert images of {images.shape[-1]} channels to {channels}")


def decode_images(structs: pa.StructArray, name: str, *, size: tuple | None, channels: int | None,
                  dtype: np.dtype, scale: float, rgb: bool, first_row: int = 0) -> np.ndarray:
    """Image-source structs -> float images (n, H, W, C); rows of each size are decoded together.

    Without `size` / `channels`, every image must have the first one's (or the expected) size,
    else ShapeMismatchError naming the row and its origin.
    """
    fields = dict(zip(IMAGE_FIELDS, structs.flatten()))  # flatten() honours a sliced batch's offset
    _check_present(structs, fields, name, first_row)
    heights, widths, depths = (fields[f].to_numpy(zero_copy_only=False).astype(np.int64)
                               for f in ("height", "width", "nChannels"))
    offsets = _binary_offsets(fields["data"])
    first = (int(heights[0]), int(widths[0])) if len(structs) else (0, 0)
    target = first if size is None else tuple(size)
    depth = channels or (int(depths[0]) if len(structs) else 1)
    out = np.empty((len(structs),) + tuple(target) + (depth,), dtype)
    buffer = np.frombuffer(fields["data"].buffers()[2], np.uint8) if len(structs) else None
    kinds = np.stack([heights, widths, depths], axis=1)
    for kind in np.unique(kinds, axis=0):
        rows = np.flatnonzero((kinds == kind).all(axis=1))
        h, w, c = (int(v) for v in kind)
        if (size is None and (h, w) != target) or (channels is None and c != depth):
            _mixed_sizes(fields, name, rows[0], (h, w, c), (*target, depth), first_row)
        starts = offsets[rows]
        if not (np.diff(offsets)[rows] == h * w * c).all():
            r = int(rows[np.flatnonzero(np.diff(offsets)[rows] != h * w * c)[0]])
            raise ShapeMismatchError(f"column {name!r}: image {_origin(fields, r)} (row {r + first_row}) holds "
                                     f"{int(np.diff(offsets)[r])} bytes, not height x width x nChannels = "
                                     f"{h * w * c}", name, r + first_row)
        pixels = buffer[starts[:, None] + np.arange(h * w * c)].reshape(len(rows), h, w, c)
        if rgb and c >= 3:
            pixels = np.concatenate([pixels[..., 2::-1], pixels[..., 3:]], axis=-1)  # Spark stores BGR(A)
        values = pixels.astype(np.float64) * scale
        if channels is not None:
            values = convert_channels(values, channels)
        if (h, w) != target:
            values = resize_bilinear(values, target)
        out[rows] = values
    return out


def _binary_offsets(data: pa.Array) -> np.ndarray:
    """Byte offsets of each value of a (large) binary array into its data buffer, slice-aware."""
    width = np.int64 if pa.types.is_large_binary(data.type) else np.int32
    raw = np.frombuffer(data.buffers()[1], width)
    return raw[data.offset:data.offset + len(data) + 1].astype(np.int64)


def _check_present(structs: pa.StructArray, fields: dict, name: str, first_row: int) -> None:
    invalid = ~structs.is_valid().to_numpy(zero_copy_only=False)
    invalid |= fields["height"].to_numpy(zero_copy_only=False) <= 0  # the source's mark of an unreadable file
    if invalid.any():
        r = int(np.flatnonzero(invalid)[0])
        raise NullValueError(f"column {name!r}: row {r + first_row} ({_origin(fields, r)}) is not a readable "
                             "image; read with dropInvalid=True or filter it out", name, r + first_row)


def _origin(fields: dict, row: int) -> str:
    return repr(fields["origin"][int(row)].as_py())


def _mixed_sizes(fields: dict, name: str, row: int, found: tuple, expected: tuple, first_row: int) -> None:
    raise ShapeMismatchError(
        f"column {name!r}: images differ in size: row {row + first_row} ({_origin(fields, row)}) is "
        f"{found[0]}x{found[1]} with {found[2]} channel(s), expected {expected[0]}x{expected[1]} with "
        f"{expected[2]} channel(s); pass size=(height, width) to resize and/or channels= to convert",
        name, row + first_row)


def convert_function(**options: Any) -> Callable[[Iterator[pa.Array]], Iterator[pa.Array]]:
    """The scalar-iterator Arrow UDF body (with the type hints arrow_udf reads): image structs in,
    rank-3 float arrays out; `options` are decode_images' keywords."""
    def run(batches: Iterator[pa.Array]) -> Iterator[pa.Array]:
        start = 0
        for structs in batches:
            images = decode_images(structs, first_row=start, **options)
            start += len(structs)
            yield to_arrow(images, 3)
    return run


# -- Spark: conversion and construction ------------------------------------------------------
def is_image_struct(dt: T.DataType) -> bool:
    """True for the struct type of Spark's image data source."""
    return isinstance(dt, T.StructType) and tuple(f.name for f in dt.fields) == IMAGE_FIELDS


def image_column(df: DataFrame, col: str = "image", size: Sequence[int] | None = None,
                 channels: int | None = None, dtype: Any = np.float32, scale: float = 1 / 255,
                 channel_order: str = "RGB", output_col: str | None = None) -> DataFrame:
    """``df`` with the image-source struct column ``col`` replaced by (or, with ``output_col``,
    joined by) a float array column (height, width, channels) whose shape is in its metadata.

    Pixel values are multiplied by ``scale``; ``channel_order="RGB"`` turns Spark's BGR(A)
    into RGB(A) ("BGR" keeps it); ``channels`` (1 or 3) converts, ``size`` resizes. Without
    ``size``/``channels``, one job finds the images' sizes and raises ShapeMismatchError
    naming two files that differ.
    """
    field = next((f for f in df.schema.fields if f.name == col), None)
    if field is None or not is_image_struct(field.dataType):
        found = "no such column" if field is None else field.dataType.simpleString()
        raise ColumnTypeError(f"column {col!r}: expected the struct of Spark's image data source "
                              f"({', '.join(IMAGE_FIELDS)}), found {found}; columns: {df.columns}", col)
    if channel_order not in ("RGB", "BGR"):
        raise ValueError(f"channel_order must be 'RGB' or 'BGR', found {channel_order!r}")
    if channels not in (None, 1, 3):
        raise ValueError(f"channels must be 1, 3 or None (keep the images' own), found {channels!r}")
    target = None if size is None else tuple(int(d) for d in size)
    if target is None or channels is None:
        target, channels = _common_size(df, col, target, channels)
    out = output_col or col
    np_dtype = np.dtype(dtype)
    options = dict(name=col, size=target, channels=channels, dtype=np_dtype, scale=float(scale),
                   rgb=channel_order == "RGB")
    udf = arrow_udf(convert_function(**options), spark_type(np_dtype, 3))
    cell = target + (channels,)
    converted = udf(column_ref(col)).alias(out, metadata=shape_metadata(cell, np_dtype))
    names = [column_ref(c) if c != out else converted for c in df.columns]
    return df.select(*names) if out in df.columns else df.select(*names, converted)


def _common_size(df: DataFrame, col: str, size: tuple | None, channels: int | None) -> tuple:
    """(size, channels) shared by all images, filling the ones not given; one job."""
    c = column_ref(col)
    keys = ([] if size else [c.height.alias("h"), c.width.alias("w")]) + ([] if channels else [c.nChannels.alias("c")])
    kinds = (df.where(c.height > 0).groupBy(*keys).agg(F.min(c.origin).alias("origin")).limit(2).collect())
    if not kinds:
        raise ShapeMismatchError(f"column {col!r}: no readable images to take a size from; pass size= and "
                                 "channels=", col)
    if len(kinds) > 1:
        a, b = (_describe(k) for k in kinds)
        raise ShapeMismatchError(f"column {col!r}: images differ in size: {a} but {b}; pass size=(height, width) "
                                 "to resize and/or channels= to convert them to one shape", col)
    kind = kinds[0].asDict()
    return size or (kind["h"], kind["w"]), channels or kind["c"]


def _describe(kind: Any) -> str:
    k = kind.asDict()
    parts = [f"{k['h']}x{k['w']}" if "h" in k else "", f"{k['c']} channel(s)" if "c" in k else ""]
    return f"{k['origin']!r} is " + " with ".join(p for p in parts if p)


def images_frame(spark: SparkSession, images: np.ndarray, name: str = "image", num_partitions: int | None = None,
                 **columns: np.ndarray) -> DataFrame:
    """A DataFrame with a rank-3 array column ``name`` from ``images`` (n, h, w, c), shape in its
    metadata, beside the 1-D numpy ``columns`` (labels, ids...), built through Arrow.

    >>> df = tfs.images_frame(spark, np.zeros((4, 8, 8, 1)), label=np.arange(4))
    >>> tfs.image_block(df, "image").shape
    TensorShape((?, 8, 8, 1))
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ShapeMismatchError(f"images_frame: expected images of shape (n, height, width, channels), "
                                 f"found {images.shape}", name)
    arrays = {name: to_arrow(images, 3)}
    for key, values in columns.items():
        values = np.asarray(values)
        if values.shape[:1] != images.shape[:1]:
            raise ShapeMismatchError(f"images_frame: column {key!r} has {len(values)} rows, the images "
                                     f"{len(images)}", key)
        arrays[key] = to_arrow(values, values.ndim - 1)
    df = spark.createDataFrame(pa.table(arrays))
    if num_partitions:
        df = df.repartition(num_partitions)
    return with_shape_metadata(df, name, images.shape[1:])


def image_block(df: DataFrame, col: str = "image", tf_name: str | None = None) -> tf.Tensor:
    """The (None, height, width, channels) placeholder of image column ``col``; an image-source
    struct column must go through :func:`image_column` first (this says so)."""
    field = next((f for f in df.schema.fields if f.name == col), None)
    if field is not None and is_image_struct(field.dataType):
        raise ColumnTypeError(f"column {col!r} holds Spark image structs: convert it first, "
                              f"df = tfs.image_column(df, {col!r}, size=(height, width))", col)
    placeholder = block(df, col, tf_name)
    if len(placeholder.shape) != 4:
        raise ShapeMismatchError(f"column {col!r}: expected image cells (height, width, channels), found cells of "
                                 f"shape {placeholder.shape.dims[1:]}", col)
    return placeholder
