"""engine.saved_model: the portable directory of graph, variable values and signature."""
from __future__ import annotations

import base64
import hashlib
import json
import os

import numpy as np
import pytest

import engine as tf
from engine import graphdef, saved_model
from engine.errors import FeedError, GraphError, SavedModelError
from engine.session import Session

X = np.random.default_rng(0).normal(size=(5, 3))


@pytest.fixture
def model():
    """A logistic model with trained-looking weights: x (?, 3) -> probability (?,)."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, (None, 3), name="x")
        w = tf.Variable(np.array([[0.5], [-1.0], [2.0]]), name="w")
        b = tf.Variable(np.float64(0.25), name="b")
        logits = tf.reshape(tf.matmul(x, w) + b, [-1], name="logits")
        p = tf.sigmoid(logits, name="p")
        init = tf.global_variables_initializer()
    sess = tf.Session(g)
    sess.run(init)
    sess.load_variables({"w": np.array([[1.5], [0.5], [-0.5]])})  # not the initial value
    return sess, x, logits, p


@pytest.fixture
def saved(tmp_path, model):
    sess, x, logits, p = model
    path = str(tmp_path / "model")
    saved_model.save(path, sess, inputs={"features": x}, outputs={"probability": p, "logits": logits})
    return path


def _edit(path: str, name: str, change, digest: bool) -> None:
    """Rewrite document `name` through `change(json)`; with `digest`, record the new SHA-256s too (the
    manifest's, and the GraphDef's own checksum), as a deliberate edit would."""
    file = os.path.join(path, name)
    with open(file) as f:
        data = json.load(f)
    change(data)
    if digest and "sha256" in data:
        data["sha256"] = graphdef.checksum(data)
    text = json.dumps(data, separators=(",", ":"))
    with open(file, "w") as f:
        f.write(text)
    if digest:
        manifest = os.path.join(path, saved_model.MANIFEST)
        with open(manifest) as f:
            data = json.load(f)
        data["graph_def_sha256"] = hashlib.sha256(text.encode()).hexdigest()
        with open(manifest, "w") as f:
            json.dump(data, f)


def _node(data: dict, name: str) -> dict:
    return next(n for n in data["nodes"] if n["name"] == name)


def test_round_trip_predicts_what_the_session_computes(saved, model):
    sess, x, logits, p = model
    loaded = saved_model.load(saved)
    out = loaded.predict({"features": X})
    assert set(out) == {"probability", "logits"}
    np.testing.assert_array_equal(out["probability"], sess.run(p, {x: X}))  # bit-exact
    np.testing.assert_array_equal(loaded.predict({"features": X}, ["logits"])["logits"], sess.run(logits, {x: X}))
    assert loaded.signature.inputs["features"] == saved_model.TensorInfo("x:0", tf.float64, (None, 3))
    assert loaded.signature.outputs["probability"].shape == (None,)
    np.testing.assert_array_equal(loaded.session.variables["w"], sess.variables["w"])


def test_layout_is_two_json_documents(saved):
    assert sorted(os.listdir(saved)) == ["graph_def.json", "saved_model.json"]
    with open(os.path.join(saved, "saved_model.json")) as f:
        manifest = json.load(f)
    assert manifest["format"] == "engine.SavedModel" and manifest["version"] == 1
    assert manifest["inputs"] == {"features": {"tensor": "x:0", "dtype": "float64", "shape": [None, 3]}}


def test_a_directory_of_part_files_reads_like_a_file(saved):
    """Spark's text writer leaves `name/part-00000-...txt` plus markers; that layout loads too."""
    for name in (saved_model.MANIFEST, saved_model.GRAPH_DEF):
        file = os.path.join(saved, name)
        with open(file) as f:
            text = f.read()
        os.remove(file)
        os.mkdir(file)
        with open(os.path.join(file, "part-00000-abc-c000.txt"), "w") as f:
            f.write(text + "\n")
        open(os.path.join(file, "_SUCCESS"), "w").close()
    assert saved_model.load(saved).predict({"features": X})["probability"].shape == (5,)


def test_predict_names_unknown_and_missing_inputs(saved):
    loaded = saved_model.load(saved)
    with pytest.raises(FeedError, match=r"unknown: \['x'\], missing: \['features'\]"):
        loaded.predict({"x": X})
    with pytest.raises(FeedError, match="no output named 'y'"):
        loaded.predict({"features": X}, ["y"])
    with pytest.raises(FeedError, match=r"shape \(5, 2\).*'x:0'"):
        loaded.predict({"features": X[:, :2]})


def test_save_refuses_to_replace_a_saved_model_unless_asked(saved, model):
    sess, x, _, p = model
    with pytest.raises(SavedModelError, match="overwrite=True"):
        saved_model.save(saved, sess, inputs={"x": x}, outputs={"p": p})
    saved_model.save(saved, sess, inputs={"x": x}, outputs={"p": p}, overwrite=True)
    assert list(saved_model.load(saved).signature.outputs) == ["p"]


def test_save_checks_the_signature(tmp_path, model):
    sess, x, logits, p = model
    with pytest.raises(GraphError, match="must be a placeholder, 'p:0' is a Sigmoid"):
        saved_model.save(str(tmp_path / "m"), sess, inputs={"x": p}, outputs={"p": p})
    with pytest.raises(GraphError, match="at least one output"):
        saved_model.save(str(tmp_path / "m"), sess, inputs={"x": x}, outputs={})
    with pytest.raises(GraphError, match="pass the Session"):
        saved_model.save(str(tmp_path / "m"), sess.graph, inputs={"x": x}, outputs={"p": p})


# -- tampering: every case fails with SavedModelError naming the file, and nothing runs --------------
def _retype(op: str):
    return lambda data: _node(data, "p").update(op=op)


def _truncate(data: dict) -> None:
    record = data["variable_values"]["w"]
    record["data"] = base64.b64encode(base64.b64decode(record["data"])[:-8]).decode()


def _reshape_value(data: dict) -> None:
    record = data["variable_values"]["w"]
    record["shape"] = [1, 3]


def _reshape_input(data: dict) -> None:
    data["inputs"]["features"]["shape"] = [None, 4]


TAMPERED = [
    pytest.param(saved_model.GRAPH_DEF, _retype("Tanh"), False,
                 "graph_def.json: SHA-256 .* differs .* the file was changed after saving", id="changed-op-type"),
    pytest.param(saved_model.GRAPH_DEF, _retype("Evaluate"), True,
                 "graph_def.json: node 'p' \\(Evaluate\\): .*Evaluate", id="unknown-op-type-with-new-digest"),
    pytest.param(saved_model.GRAPH_DEF, _truncate, True,
                 "graph_def.json: variable value 'w': .*needs 24 bytes, found 16", id="truncated-variable"),
    pytest.param(saved_model.GRAPH_DEF, _reshape_value, True,
                 r"graph_def.json: variable value 'w': found float64 \(1, 3\), the variable is float64 \(3, 1\)",
                 id="variable-of-wrong-shape"),
    pytest.param(saved_model.MANIFEST, _reshape_input, False,
                 r"saved_model.json: input 'features' is recorded as float64 \(\?, 4\), but tensor 'x:0' is "
                 r"float64 \(\?, 3\)", id="signature-of-wrong-shape"),
]


@pytest.mark.parametrize("name, change, digest, message", TAMPERED)
def test_tampered_files_fail_clearly_and_execute_nothing(saved, monkeypatch, name, change, digest, message):
    _edit(saved, name, change, digest)

    def refuse(*args, **kwargs):
        raise AssertionError("loading a saved model ran the graph")

    monkeypatch.setattr(Session, "_run", refuse)
    with pytest.raises(SavedModelError, match=message):
        saved_model.load(saved)


def test_missing_or_malformed_documents(saved, tmp_path):
    with pytest.raises(SavedModelError, match="no such directory"):
        saved_model.load(str(tmp_path / "nothing"))
    os.remove(os.path.join(saved, saved_model.GRAPH_DEF))
    with pytest.raises(SavedModelError, match="graph_def.json: missing"):
        saved_model.load(saved)
    with open(os.path.join(saved, saved_model.MANIFEST), "w") as f:
        f.write("{not json")
    with pytest.raises(SavedModelError, match="saved_model.json: not valid JSON"):
        saved_model.load(saved)
