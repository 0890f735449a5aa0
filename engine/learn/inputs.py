"""Checking what ``fit`` and ``predict`` are given, as scikit-learn's estimators do, without scikit-learn.

Arrays come in as anything numpy reads (lists, pandas frames, memory maps,
read-only arrays) and leave as float64 matrices; what numpy can't make one
of (sparse matrices, complex numbers, NaN or infinity, the wrong rank or
width, no rows) is refused with the message scikit-learn's own estimators
give, because scikit-learn's tools and checks match on those words.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np


def features(X: Any, n_features: Optional[int] = None, owner: str = "the estimator") -> np.ndarray:
    """``X`` as a finite float64 matrix (samples, features); ``n_features`` is the width fit saw."""
    _refuse_sparse(X)
    x = np.asarray(X)
    if x.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: X has dtype {x.dtype}")
    x = x.astype(np.float64)  # object arrays of numbers convert; anything else raises numpy's TypeError
    if x.ndim != 2:
        raise ValueError(f"Expected a 2D array, got a {x.ndim}D array of shape {x.shape} instead. Reshape "
                         "your data with array.reshape(-1, 1) if it has a single feature or "
                         "array.reshape(1, -1) if it holds a single sample")
    for axis, what in ((0, "sample"), (1, "feature")):
        if x.shape[axis] == 0:
            raise ValueError(f"Found array with 0 {what}(s) (shape={x.shape}) while a minimum of 1 is required.")
    if not np.isfinite(x).all():
        raise ValueError("Input X contains NaN or infinity; impute or drop those values first")
    if n_features is not None and x.shape[1] != n_features:
        raise ValueError(f"X has {x.shape[1]} features, but {owner} is expecting {n_features} features as input")
    return x


def targets(y: Any, rows: int, owner: str) -> np.ndarray:
    """``y`` as an array of ``rows`` labels or values (not yet typed), checked for presence and length."""
    if y is None:
        raise ValueError(f"{owner} requires y to be passed, but the target y is None")
    _refuse_sparse(y)
    y = np.asarray(y)
    if y.ndim == 0 or y.ndim > 2:
        raise ValueError(f"y should be a 1d array (or a 2d array of outputs), got an array of shape {y.shape}")
    if len(y) != rows:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: X has {rows}, "
                         f"y has {len(y)}")
    return y


def values(y: np.ndarray) -> np.ndarray:
    """Regression targets as finite float64: (samples,) or (samples, outputs)."""
    try:
        y = y.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"regression targets must be numbers, found dtype {y.dtype}") from None
    if not np.isfinite(y).all():
        raise ValueError("Input y contains NaN or infinity; drop those samples first")
    return y


def labels(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(classes, codes)`` of class labels: the sorted distinct labels and each sample's index among them.

    Labels are any hashable values of one kind (ints, strings, integral
    floats); real-valued targets are refused as scikit-learn's classifiers
    do ("Unknown label type: continuous").
    """
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y should be a 1d array of class labels, got an array of shape {y.shape}")
    if y.dtype.kind == "f":
        if not np.isfinite(y).all():
            raise ValueError("Input y contains NaN or infinity; drop those samples first")
        if not np.array_equal(y, np.round(y)):
            raise ValueError("Unknown label type: continuous. A classifier takes class labels (ints, strings "
                             "or integral floats); for real-valued targets use a regressor")
    elif y.dtype.kind == "O":
        kinds = {type(v) for v in y}
        if len(kinds) > 1:
            raise ValueError(f"Unknown label type: labels of mixed types {sorted(k.__name__ for k in kinds)}")
    classes, codes = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(f"a classifier needs samples of at least 2 classes, found 1 class ({classes[0]!r})")
    return classes, codes


def _refuse_sparse(a: Any) -> None:
    if type(a).__module__.startswith("scipy.sparse"):
        raise TypeError(f"sparse input ({type(a).__name__}) is not supported: densify it with .toarray()")
