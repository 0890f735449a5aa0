"""Fixtures for the model server tests: saved models on disk and servers on free loopback ports.

Every server binds 127.0.0.1 with ports chosen by the OS and is stopped
when its test (or module) ends; none of these tests starts Spark.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import engine as tf
from engine import saved_model
from engine.layers import Dense
from serving.batching import BatchingOptions
from serving.repository import ModelConfig
from serving.server import ModelServer, ServerOptions

FEATURES = 5


def save_affine(path: Path, scale: float, shift: float = 0.0) -> None:
    """y = x * scale + shift on float32 rows of FEATURES: elementwise, so exact in any batch."""
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, (None, FEATURES), name="x")
        y = tf.add(tf.multiply(x, np.float32(scale)), np.float32(shift), name="y")
    saved_model.save(str(path), g, {"x": x}, {"y": y})


def save_two_inputs(path: Path) -> None:
    """Inputs a (float64 [?, 2]) and n (int32 [?]); outputs sum (a summed + n) and twice (2a)."""
    with tf.Graph().as_default() as g:
        a = tf.placeholder(tf.float64, (None, 2), name="a")
        n = tf.placeholder(tf.int32, (None,), name="n")
        total = tf.add(tf.reduce_sum(a, axis=1), tf.cast(n, tf.float64), name="sum")
        twice = tf.multiply(a, 2.0, name="twice")
    saved_model.save(str(path), g, {"a": a, "n": n}, {"sum": total, "twice": twice})


def save_mlp(path: Path, seed: int = 0) -> tf.Sequential:
    """The churn-sized MLP (two hidden layers of 32 ReLUs, a sigmoid) as engine.Sequential saves it."""
    model = tf.Sequential([Dense(32, activation="relu"), Dense(32, activation="relu"),
                           Dense(1, activation="sigmoid")], seed=seed)
    model.build((None, FEATURES))
    model.save(str(path))
    return model


def write_version(base: Path, version: int, save: Callable[[Path], object]) -> None:
    """Write a version as an atomic writer does: into a temporary name, then rename."""
    tmp = base / f".tmp-{version}"
    save(tmp)
    os.rename(tmp, base / str(version))


@pytest.fixture
def models() -> SimpleNamespace:
    """The model writers above, for tests (test modules cannot import a conftest)."""
    return SimpleNamespace(affine=save_affine, two_inputs=save_two_inputs, mlp=save_mlp,
                           write_version=write_version, FEATURES=FEATURES)


@pytest.fixture
def rows() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(8, FEATURES)).astype(np.float32)


@pytest.fixture
def start_server() -> Iterator[Callable[..., ModelServer]]:
    """start_server(models, **options): a started ModelServer on free ports, stopped after the test."""
    servers: list[ModelServer] = []

    def start(models: dict[str, Path], batching: BatchingOptions | None = None, **options) -> ModelServer:
        opts = ServerOptions(rest_port=0, grpc_port=0, poll_seconds=options.pop("poll_seconds", 0.05),
                             batching=batching or BatchingOptions(num_batch_threads=2), **options)
        server = ModelServer([ModelConfig(name, str(path)) for name, path in models.items()], opts)
        servers.append(server.start())
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelServer]:
    """One server for a module: `mlp` (version 1), `affine` (1: x, 2: 2x + 1) and `two` (two inputs)."""
    base = tmp_path_factory.mktemp("models")
    save_mlp(base / "mlp" / "1")
    save_affine(base / "affine" / "1", 1.0)
    save_affine(base / "affine" / "2", 2.0, 1.0)
    save_two_inputs(base / "two" / "1")
    options = ServerOptions(rest_port=0, grpc_port=0, poll_seconds=0, max_body_bytes=64 << 10,
                            batching=BatchingOptions(num_batch_threads=2))
    configs = [ModelConfig("mlp", str(base / "mlp")),
               ModelConfig("affine", str(base / "affine"), policy="all"),
               ModelConfig("two", str(base / "two"))]
    with ModelServer(configs, options) as server:
        yield server
