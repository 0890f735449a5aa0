"""ENGINE_OP_MODULES: a process that only loads graphs (a Spark executor) imports the user's op modules."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import engine as tf
from engine.registry import OP_MODULES_ENV, get_op, unregister_op

MODULE = "engine_test_user_ops"
SOURCE = """
import engine
engine.register_op("UserOpsTestCube", kernel=lambda x: x ** 3, infer=lambda inputs: inputs[0], num_inputs=1)
"""


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """A module that registers UserOpsTestCube, on the path but not imported yet."""
    (tmp_path / f"{MODULE}.py").write_text(SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    if MODULE in sys.modules:
        del sys.modules[MODULE]
        unregister_op("UserOpsTestCube")


def test_a_graph_with_a_user_op_loads_once_its_module_is_named(user_module, monkeypatch):
    with tf.Graph().as_default() as graph:
        import engine_test_user_ops  # noqa: F401  (the driver registers the op by importing the module)
        x = tf.placeholder(tf.float64, [None], name="x")
        graph.create_op("UserOpsTestCube", [x], name="cube")
    text = graph.as_graph_def().to_json()
    unregister_op("UserOpsTestCube")
    del sys.modules[MODULE]  # now like an executor, which never imported it

    with pytest.raises(tf.GraphDefError, match=f"unknown op type 'UserOpsTestCube'.*{OP_MODULES_ENV}"):
        tf.importer.load(text)
    monkeypatch.setenv(OP_MODULES_ENV, f" json , {MODULE}")  # spaces are fine, imported modules are skipped
    loaded, sess = tf.importer.load(text)
    cube = loaded.get_tensor_by_name("cube:0")
    np.testing.assert_array_equal(sess.run(cube, {loaded.get_tensor_by_name("x:0"): [2.0, -1.0]}), [8.0, -1.0])


def test_a_module_that_cannot_be_imported_says_how_to_ship_it(monkeypatch):
    monkeypatch.setenv(OP_MODULES_ENV, "no_such_module_anywhere")
    with pytest.raises(tf.RegistryError, match="no_such_module_anywhere.*can't be imported.*--py-files"):
        get_op("NoSuchOpType")
