"""Fuzzing GraphDef and saved-model loading with mutated valid files: only our own errors, never another.

A mutation is a byte replaced, deleted or inserted at a drawn position of
the JSON text. A GraphDef records the SHA-256 of its contents and a saved
model that of its GraphDef file, so a mutation either raises one of our
errors or leaves the very same graph (a space between tokens, say): never a
silently changed weight or node.
"""
from __future__ import annotations

import json
import os
import shutil

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import engine as tf
from engine import graphdef, importer, saved_model
from engine.errors import EngineError, SavedModelError

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _model():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, [None, 2], name="x")
        w = tf.Variable(np.array([[1.0], [2.0]]), name="w")
        y = tf.nn.relu(tf.matmul(x, w) + 0.5, name="y")
        init = tf.global_variables_initializer()
    sess = tf.Session(g)
    sess.run(init)
    return sess, x, y


SESSION, X, Y = _model()
TEXT = SESSION.graph.as_graph_def(SESSION.export_variables()).to_json()
_WEIGHT = TEXT.index('"data":"', TEXT.index('"variable_values"')) + len('"data":"') + 2  # a byte of w's value
WEIGHT_FLIP = ("replace", (_WEIGHT + 0.5) / len(TEXT), chr(ord(TEXT[_WEIGHT]) ^ 1))
SPACE = ("insert", (TEXT.index(',"nodes"') + 1.5) / len(TEXT), " ")
mutations = st.tuples(st.sampled_from(["replace", "delete", "insert"]), st.floats(0, 1, exclude_max=True),
                      st.characters(codec="utf-8"))


def _mutate(text: str, mutation) -> str:
    kind, where, char = mutation
    i = int(where * len(text))
    return {"replace": text[:i] + char + text[i + 1:], "delete": text[:i] + text[i + 1:],
            "insert": text[:i] + char + text[i:]}[kind]


@FUZZ
@given(mutation=mutations)
@example(mutation=WEIGHT_FLIP)  # a valid GraphDef with another weight: only the checksum tells
@example(mutation=SPACE)  # the same graph
def test_a_mutated_graph_def_is_refused_or_loads_the_same_graph(mutation):
    try:
        graph, session = importer.load(graphdef.GraphDef.from_json(_mutate(TEXT, mutation)))
    except EngineError:
        return
    assert graph.as_graph_def(session.export_variables()).to_json() == TEXT
    np.testing.assert_array_equal(session.run("y:0", {"x:0": np.ones((1, 2))}), [[3.5]])


def test_the_fuzzed_graph_def_carries_its_checksum():
    assert json.loads(TEXT)["sha256"] == graphdef.checksum(json.loads(TEXT))


@FUZZ
@given(document=st.sampled_from([saved_model.MANIFEST, saved_model.GRAPH_DEF]), mutation=mutations)
def test_a_mutated_saved_model_is_refused_or_loads_the_same_graph(tmp_path_factory, document, mutation):
    path = str(tmp_path_factory.mktemp("fuzz") / "model")
    saved_model.save(path, SESSION, inputs={"x": X}, outputs={"y": Y})
    file = os.path.join(path, document)
    with open(file, encoding="utf-8") as f:
        text = f.read()
    mutated = _mutate(text, mutation)
    with open(file, "w", encoding="utf-8") as f:
        f.write(mutated)
    try:
        model = saved_model.load(path)
    except SavedModelError:
        return
    finally:
        shutil.rmtree(path)
    assert model.graph_def.to_json() == TEXT  # only a manifest change that keeps it valid can load
    np.testing.assert_array_equal(model.session.run("y:0", {"x:0": np.ones((1, 2))}), [[3.5]])
