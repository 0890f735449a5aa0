"""engine.visualize: graphs drawn as Mermaid and DOT text."""
from __future__ import annotations

import numpy as np

import engine as tf
from engine.visualize import to_dot, to_mermaid


def _model() -> tuple[tf.Graph, tf.Tensor]:
    graph = tf.Graph()
    with graph.as_default():
        size = tf.placeholder(tf.float64, [None], name="size")
        w = tf.Variable(np.float64(1000.0), name="w")
        price = tf.add(w * size, 100.0, name="price")
        with tf.control_dependencies([price]):
            tf.no_op(name="done")
    return graph, price


def test_mermaid_draws_every_op_with_its_shape_and_every_edge():
    graph, _ = _model()
    assert to_mermaid(graph).splitlines() == [
        "flowchart TD",
        '    n0(["size<br/>Placeholder"])',
        '    n1{{"w/initial_value<br/>Const"}}',
        '    n2[("w<br/>VariableV2")]',
        '    n3["w/Assign<br/>Assign"]',
        '    n4["Mul"]',
        '    n5{{"Const"}}',
        '    n6["price<br/>Add"]',
        '    n7["done<br/>NoOp"]',
        '    n2 -->|"float64 ()"| n3',
        '    n1 -->|"float64 ()"| n3',
        '    n2 -->|"float64 ()"| n4',
        '    n0 -->|"float64 (?,)"| n4',
        '    n4 -->|"float64 (?,)"| n6',
        '    n5 -->|"float64 ()"| n6',
        "    n6 -.-> n7",
    ]


def test_dot_draws_the_same_nodes_and_edges():
    graph, _ = _model()
    dot = to_dot(graph).splitlines()
    assert dot[0] == "digraph {" and dot[-1] == "}"
    assert '    n0 [label="size\\nPlaceholder", shape=parallelogram];' in dot
    assert '    n4 [label="Mul"];' in dot
    assert '    n0 -> n4 [label="float64 (?,)"];' in dot
    assert "    n6 -> n7 [style=dotted];" in dot
    assert sum("->" in line for line in dot) == 7


def test_a_subset_of_ops_keeps_only_the_edges_between_them_and_the_default_graph_is_used():
    graph, price = _model()
    mul = graph.get_operation_by_name("Mul")
    assert to_mermaid(graph, ops=[mul, price.op]).splitlines()[1:] == [
        '    n0["Mul"]', '    n1["price<br/>Add"]', '    n0 -->|"float64 (?,)"| n1']
    with graph.as_default():
        assert to_dot() == to_dot(graph)
