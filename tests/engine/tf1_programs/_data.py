"""Small data that ships: scikit-learn's digits (8x8 images, 10 classes) and the Saratoga houses csv."""
from __future__ import annotations

import csv
import os

import numpy as np

HOUSES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "examples", "data", "saratoga_houses.csv")


def digits(test_fraction: float = 0.25):
    """(x_train, y_train_onehot, x_test, y_test_onehot) as float32, pixels scaled to [0, 1], a fixed split."""
    from sklearn.datasets import load_digits
    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[data.target]
    order = np.random.default_rng(0).permutation(len(x))
    cut = int(len(x) * (1 - test_fraction))
    train, test = order[:cut], order[cut:]
    return x[train], y[train], x[test], y[test]


def houses():
    """(features [n, 3]: living area, bedrooms, bathrooms; price [n, 1]) as float64."""
    with open(HOUSES, newline="") as f:
        rows = list(csv.DictReader(f))
    x = np.array([[float(r["livingArea"]), float(r["bedrooms"]), float(r["bathrooms"])] for r in rows])
    y = np.array([[float(r["price"])] for r in rows])
    return x, y


class Batches:
    """Mini-batches over (x, y) in a fixed order, like mnist.train.next_batch."""

    def __init__(self, x, y, seed: int = 0):
        self.x, self.y, self.rng, self.pos = x, y, np.random.default_rng(seed), len(x)

    def next_batch(self, n: int):
        if self.pos + n > len(self.x):
            self.order, self.pos = self.rng.permutation(len(self.x)), 0
        take = self.order[self.pos:self.pos + n]
        self.pos += n
        return self.x[take], self.y[take]
