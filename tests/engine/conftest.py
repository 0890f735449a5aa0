"""Fixtures for the engine tests: the two real data sets as numpy arrays.

The CSV files in examples/data are read with the csv module; categorical
columns are one-hot encoded with the first level dropped (so a model with an
intercept has a unique least-squares solution), and every feature column is
standardized with the training rows' mean and standard deviation.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
# Test data, not tests: data/tf/generate.py needs TensorFlow and runs by hand (--doctest-modules would import it).
collect_ignore_glob = ["data/*"]

# Scripts, not test modules: --doctest-modules must not import (and so run) them.
# tf1_programs/ runs through test_tf1_programs.py; data/ holds fixture generators that need TensorFlow.
collect_ignore = ["tf1_programs", "data"]


class Dataset(NamedTuple):
    """Standardized features and targets, split into training and held-out rows."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    names: list[str]


def read_columns(path: Path) -> dict[str, list[str]]:
    """Column name -> the column's values as strings."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return {name: [row[i] for row in rows[1:]] for i, name in enumerate(rows[0])}


def features(columns: dict[str, list[str]], numeric: list[str], categorical: list[str],
             rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Numeric columns, then 0/1 columns per categorical level (first level
    dropped), all standardized with the mean and std over `rows`."""
    parts = [np.array([columns[c] for c in numeric], dtype=np.float64).T]
    names = list(numeric)
    for c in categorical:
        values = np.array(columns[c])
        levels = sorted(set(values))[1:]
        parts.append((values[:, None] == np.array(levels)[None, :]).astype(np.float64))
        names += [f"{c}={level}" for level in levels]
    x = np.hstack(parts)
    return (x - x[rows].mean(axis=0)) / x[rows].std(axis=0), names


@pytest.fixture(scope="session")
def saratoga() -> Dataset:
    """House prices (1728 rows) from every other column; all rows are training rows."""
    columns = read_columns(DATA / "saratoga_houses.csv")
    numeric = ["lotSize", "age", "landValue", "livingArea", "pctCollege", "bedrooms", "fireplaces",
               "bathrooms", "rooms"]
    categorical = ["heating", "fuel", "sewer", "waterfront", "newConstruction", "centralAir"]
    y = np.array(columns["price"], dtype=np.float64)
    x, names = features(columns, numeric, categorical, np.arange(len(y)))
    return Dataset(x, y, x[:0], y[:0], names)


@pytest.fixture(scope="session")
def churn() -> Dataset:
    """Churn (yes = 1) of 5000 customers, split 80/20 by a seeded permutation.

    The *_charge columns are left out: each is its minutes column times a
    fixed rate (rounded to cents), so they add nothing but collinearity.
    """
    columns = read_columns(DATA / "mlc_churn.csv")
    numeric = ["account_length", "number_vmail_messages", "total_day_minutes", "total_day_calls",
               "total_eve_minutes", "total_eve_calls", "total_night_minutes", "total_night_calls",
               "total_intl_minutes", "total_intl_calls", "number_customer_service_calls"]
    categorical = ["state", "area_code", "international_plan", "voice_mail_plan"]
    y = (np.array(columns["churn"]) == "yes").astype(np.float64)
    order = np.random.default_rng(0).permutation(len(y))
    train, test = order[:int(0.8 * len(y))], order[int(0.8 * len(y)):]
    x, names = features(columns, numeric, categorical, train)
    return Dataset(x[train], y[train], x[test], y[test], names)
