"""TensorFlow's histogram of a tensor for TensorBoard (core/lib/histogram/histogram.cc).

Buckets are TensorFlow's defaults, so TensorBoard draws the same picture
TensorFlow would: limits +-1e-12 * 1.1**k up to 1e20, zero, and +-DBL_MAX;
a value falls in the first bucket whose limit exceeds it, and runs of empty
buckets are merged into one, as TensorFlow encodes them.
"""
from __future__ import annotations

import functools
import sys
from typing import Any

import numpy as np

from ..tf_graphdef import protos


@functools.cache
def bucket_limits() -> np.ndarray:
    """TensorFlow's default bucket limits (ascending)."""
    positive, v = [], 1.0e-12
    while v < 1.0e20:
        positive.append(v)
        v *= 1.1
    positive.append(sys.float_info.max)
    limits = np.array([-p for p in reversed(positive)] + [0.0] + positive)
    limits.flags.writeable = False
    return limits


def histogram_proto(values: np.ndarray) -> Any:
    """A HistogramProto of the elements of `values` (as float64)."""
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    proto = protos.module("summary_pb2").HistogramProto()
    if x.size == 0:
        return proto
    if not np.all(np.isfinite(x)):
        raise ValueError(f"a histogram needs finite values, found {int(np.sum(~np.isfinite(x)))} NaN or infinite")
    limits = bucket_limits()
    counts = np.bincount(np.searchsorted(limits, x, side="right"), minlength=len(limits))[:len(limits)]
    proto.min, proto.max, proto.num = float(x.min()), float(x.max()), float(x.size)
    proto.sum, proto.sum_squares = float(x.sum()), float(np.dot(x, x))
    i = 0
    while i < len(counts):
        end, j = limits[i], i + 1
        if counts[i] == 0:  # a run of empty buckets becomes one
            while j < len(counts) and counts[j] == 0:
                end, j = limits[j], j + 1
        proto.bucket_limit.append(float(end))
        proto.bucket.append(float(counts[i]))
        i = j
    return proto
