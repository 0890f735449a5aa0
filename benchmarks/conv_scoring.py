"""Images/s of map_blocks scoring a LeNet-style model over an image DataFrame, against a
hand-written arrow_udf and pandas_udf running the same engine forward pass; run through
`python benchmarks/conv.py --spark` (see there).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
import pandas as pd
import pyarrow as pa
from pyspark.sql import functions as F
from pyspark.sql.functions import arrow_udf, pandas_udf

import engine
import tensorframes as tfs
from conv import SIZE, data, lenet_logits, timed
from tensorframes.arrow_convert import to_numpy
from tensorframes.schema import column_spec


def conv_same_relu(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """relu(conv2d(x, w, SAME)) for a 3x3 filter, by hand: im2col over a window view, one matmul."""
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    cols = sliding_window_view(xp, (3, 3), axis=(1, 2))  # (n, h, w, c, 3, 3)
    cols = np.ascontiguousarray(np.moveaxis(cols, 3, -1)).reshape(-1, 9 * x.shape[-1])
    return np.maximum(cols @ w.reshape(-1, w.shape[-1]), 0).reshape(x.shape[:3] + (w.shape[-1],))


def pool2(x: np.ndarray) -> np.ndarray:
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def numpy_forward(x: np.ndarray, weights: list) -> np.ndarray:
    """The LeNet model's predicted classes, written directly in numpy."""
    w1, w2, w3, w4 = weights
    h = pool2(conv_same_relu(pool2(conv_same_relu(x, w1)), w2))
    return np.argmax(np.maximum(h.reshape(len(x), -1) @ w3, 0) @ w4, axis=1)


def spark_scoring(rows: int, repeat: int) -> None:
    """Images/s of map_blocks scoring the LeNet model vs arrow_udf and pandas_udf with a numpy forward."""
    d = data()
    rng = np.random.default_rng(1)
    spark = tfs.get_spark("bench_conv", master="local[2]")
    images = rng.standard_normal((rows, SIZE, SIZE, 1)).astype(np.float32)
    df = tfs.images_frame(spark, images, id=np.arange(rows), num_partitions=2).cache()
    df.count()
    weights = [d[k] for k in ("w1", "w2", "w3", "w4")]
    with engine.Graph().as_default() as g:
        x = tfs.image_block(df, "image")
        logits = lenet_logits(engine, x, [engine.constant(w) for w in weights])
        predicted = engine.argmax(logits, 1, name="predicted")
    spec = column_spec(df, "image")

    @arrow_udf("long")
    def by_arrow(images: pa.Array) -> pa.Array:
        return pa.array(numpy_forward(to_numpy(images, spec), weights))

    @pandas_udf("long")
    def by_pandas(images: pd.Series) -> pd.Series:
        block = np.stack([np.stack([np.stack(r) for r in cell]) for cell in images]).astype(np.float32)
        return pd.Series(numpy_forward(block, weights))

    ways = {"map_blocks": lambda: tfs.map_blocks(predicted, df).agg(F.sum("predicted")).collect(),
            "arrow_udf": lambda: df.select(by_arrow("image").alias("p")).agg(F.sum("p")).collect(),
            "pandas_udf": lambda: df.select(by_pandas("image").alias("p")).agg(F.sum("p")).collect()}
    rates = {name: rows / timed(fn, repeat) for name, fn in ways.items()}
    with g.as_default():
        assert (engine.Session(g).run(predicted, {x: images[:64]}) == numpy_forward(images[:64], weights)).all()
    for name, rate in rates.items():
        print(f"scoring {rows:,} images  {name:10s} {rate:10,.0f} images/s  ({rate / rates['map_blocks']:.2f}x "
              "map_blocks)")
    spark.stop()
