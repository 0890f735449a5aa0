"""Fuzzing the TensorFlow GraphDef importer: mutated fixture bytes fail only with GraphDefError.

Flipped, overwritten, inserted and deleted bytes and truncations of the real
frozen graphs must never raise anything else, hang or allocate without bound.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine as tf

pytest.importorskip("tensorboard.compat.proto.graph_pb2")

FIXTURES = [p.read_bytes() for p in sorted((Path(__file__).parent / "data" / "tf").glob("*.pb"))]
EDIT = st.tuples(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]), st.floats(0, 1, exclude_max=True),
                 st.integers(0, 255))


def mutate(data: bytes, edits: list) -> bytes:
    out = bytearray(data)
    for kind, where, byte in edits:
        if not out:
            break
        i = int(where * len(out))
        if kind == "flip":
            out[i] ^= 1 << (byte % 8)
        elif kind == "set":
            out[i] = byte
        elif kind == "insert":
            out.insert(i, byte)
        elif kind == "delete":
            del out[i]
        else:
            del out[i:]
    return bytes(out)


@settings(max_examples=300, deadline=2000, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(FIXTURES))), st.lists(EDIT, min_size=1, max_size=4))
def test_mutated_graph_def_bytes_raise_only_graph_def_errors(index, edits):
    data = mutate(FIXTURES[index], edits)
    try:
        graph_def = tf.GraphDef.FromString(data)
    except tf.GraphDefError:
        return
    tf.import_graph_def(graph_def, name="", graph=tf.Graph())  # what parsed must also build


def retype(data: bytes, node_pick: float, attr_pick: float, kind: str, number: int) -> bytes:
    """The graph with one attribute of one node replaced by a value of another (or the same) kind."""
    from tensorboard.compat.proto import graph_pb2
    message = graph_pb2.GraphDef.FromString(data)
    node = message.node[int(node_pick * len(message.node))]
    keys = sorted(node.attr) + ["value", "T", "N", "shape"]
    attr = node.attr[keys[int(attr_pick * len(keys))]]
    attr.Clear()
    if kind == "list":
        attr.list.i.extend([number, -number])
    elif kind == "shape":
        attr.shape.dim.add(size=number)
    elif kind == "tensor":
        attr.tensor.dtype, attr.tensor.int_val[:] = abs(number) % 30, [number % (1 << 31)]
        attr.tensor.tensor_shape.dim.add(size=abs(number) % 7)
    elif kind != "none":
        setattr(attr, kind, {"s": b"NCHW", "f": float(number), "b": bool(number % 2)}.get(kind, number))
    return message.SerializeToString()


@settings(max_examples=300, deadline=2000, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(FIXTURES))), st.floats(0, 1, exclude_max=True), st.floats(0, 1, exclude_max=True),
       st.sampled_from(["i", "f", "b", "s", "type", "list", "shape", "tensor", "none"]),
       st.integers(-(1 << 40), 1 << 40))
def test_attributes_of_the_wrong_kind_or_value_raise_only_graph_def_errors(index, node_pick, attr_pick, kind, number):
    data = retype(FIXTURES[index], node_pick, attr_pick, kind, number if kind != "type" else number % 40)
    try:
        graph_def = tf.GraphDef.FromString(data)
    except tf.GraphDefError:
        return
    tf.import_graph_def(graph_def, name="", graph=tf.Graph())
