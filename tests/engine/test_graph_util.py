"""graph_util: pruning a GraphDef and freezing variables into constants."""

from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine import graphdef, importer
from engine.errors import FailedPreconditionError, GraphError
from engine.graph_util import convert_variables_to_constants, extract_sub_graph


@pytest.fixture
def graph() -> tf.Graph:
    """y = x * w + 1 with a variable w; an unrelated placeholder and an update of w."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, [None], name="x")
        w = tf.Variable(np.array(2.0), name="w")
        tf.add(x * w, 1.0, name="y")
        tf.placeholder(tf.float64, [None], name="unused")
        w.assign_add(1.0, name="bump")
    return g


def node_names(gd: graphdef.GraphDef) -> list[str]:
    return [n["name"] for n in gd.nodes]


def test_extract_sub_graph_keeps_only_what_the_outputs_need(graph):
    names = node_names(extract_sub_graph(graph.as_graph_def(), ["y"]))
    assert "y" in names and "x" in names and "w" in names
    assert "unused" not in names and "bump" not in names


def test_extract_sub_graph_names_an_unknown_output(graph):
    with pytest.raises(GraphError, match="'nope' is not a node"):
        extract_sub_graph(graph.as_graph_def(), ["nope"])


def test_frozen_graph_computes_with_the_sessions_current_values(graph):
    sess = tf.Session(graph)
    sess.run(graph.get_operation_by_name("w/Assign"))
    sess.run(graph.get_operation_by_name("bump"))  # w = 3
    frozen = convert_variables_to_constants(sess, graph.as_graph_def(), ["y"])
    _, loaded = importer.load(frozen.to_json())
    np.testing.assert_array_equal(loaded.run("y:0", {"x:0": np.array([1.0, 2.0])}), [4.0, 7.0])


def test_frozen_graph_has_no_variables(graph):
    sess = tf.Session(graph)
    sess.run(graph.get_operation_by_name("w/Assign"))
    frozen = convert_variables_to_constants(sess, graph.as_graph_def(), ["y"])
    assert frozen.variables == [] and "VariableV2" not in [n["op"] for n in frozen.nodes]


def test_freezing_an_uninitialized_variable_names_it(graph):
    with pytest.raises(FailedPreconditionError, match="uninitialized value w"):
        convert_variables_to_constants(tf.Session(graph), graph.as_graph_def(), ["y"])


def test_an_update_cannot_be_frozen(graph):
    sess = tf.Session(graph)
    sess.run(graph.get_operation_by_name("w/Assign"))
    with pytest.raises(GraphError, match="AssignAdd 'bump'.*changes state"):
        convert_variables_to_constants(sess, graph.as_graph_def(), ["bump"])


def test_random_ops_freeze_with_their_seeds():
    with tf.Graph().as_default() as g:
        tf.set_random_seed(3)
        w = tf.Variable(np.float64(2.0), name="w")
        tf.multiply(w, tf.random_normal([3], dtype=tf.float64), name="out")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            expected = sess.run("out:0")
            frozen = convert_variables_to_constants(sess, g.as_graph_def(), ["out"])
    with tf.Graph().as_default() as h:
        tf.import_graph_def(frozen, name="")
        np.testing.assert_array_equal(tf.Session(h).run("out:0"), expected)
