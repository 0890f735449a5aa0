"""GraphDef: round trips through JSON text and bytes, bit-exact tensors, and
validation of untrusted input (every error names the node; nothing executes)."""
from __future__ import annotations

import base64
import builtins
import copy
import json
import os
import pickle

import numpy as np
import pytest

import engine as tf
from engine import graphdef, importer, tf_graphdef
from engine.registry import unregister_op

X = np.array([[1.0, 2.0], [3.0, 4.0]])


def build_model() -> tuple[tf.Graph, tf.Session]:
    """x -> y = (x @ w + b) * c with variables w, b (initialized, then changed)."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float64, [None, 2], name="x")
        w = tf.Variable(np.array([[1.0], [-1.0]]), name="w")
        b = tf.Variable(np.array([0.5]), name="b", trainable=False)
        c = tf.constant(np.array([2.0]), name="c")
        with tf.name_scope("out"):
            y = tf.multiply(tf.matmul(x, w) + b, c, name="y")
        with tf.control_dependencies([y]):
            tf.no_op(name="after")
        tf.global_variables_initializer()
    sess = tf.Session(graph)
    sess.run("init")
    sess.run(w.assign([[0.25], [4.0]]))
    return graph, sess


def expected_y(x: np.ndarray) -> np.ndarray:
    return (x @ np.array([[0.25], [4.0]]) + 0.5) * 2.0


@pytest.fixture
def model():
    return build_model()


@pytest.fixture
def wire(model) -> dict:
    """The model's GraphDef, with variable values, as parsed JSON without its checksum: the tests that
    edit it are about the contents of a hand-written or older file (the checksum tests are below)."""
    graph, sess = model
    data = json.loads(graph.as_graph_def(sess.export_variables()).to_json())
    del data["sha256"]
    return data


# -- round trips ------------------------------------------------------------------------------
SERIALIZATIONS = [
    pytest.param(lambda d: graphdef.GraphDef.from_json(d.to_json()), id="json-text"),
    pytest.param(lambda d: graphdef.GraphDef.from_bytes(d.to_bytes()), id="bytes"),
    pytest.param(lambda d: graphdef.GraphDef.from_dict(json.loads(d.to_json())), id="dict"),
    pytest.param(lambda d: d.to_json(), id="import-takes-text"),
    pytest.param(lambda d: d.to_bytes(), id="import-takes-bytes"),
]


@pytest.mark.parametrize("serialize", SERIALIZATIONS)
def test_round_trip_gives_the_same_results(model, serialize):
    graph, sess = model
    wire_form = serialize(graph.as_graph_def(sess.export_variables()))
    loaded, loaded_sess = importer.load(wire_form)
    np.testing.assert_array_equal(loaded_sess.run("out/y:0", {"x:0": X}), expected_y(X))
    np.testing.assert_array_equal(sess.run("out/y:0", {"x:0": X}), expected_y(X))


def test_round_trip_preserves_nodes_order_and_variables(model):
    graph, sess = model
    original = graph.as_graph_def(sess.export_variables())
    loaded, loaded_sess = importer.load(original.to_json())
    assert loaded.as_graph_def(loaded_sess.export_variables()) == original
    assert [v.name for v in tf.global_variables(loaded)] == ["w:0", "b:0"]
    assert [v.name for v in tf.trainable_variables(loaded)] == ["w:0"]
    assert loaded.get_operation_by_name("after").control_inputs == (loaded.get_operation_by_name("out/y"),)


def test_imported_variables_initialize_from_their_initial_values(model):
    graph, _ = model
    loaded, sess = importer.load(graph.as_graph_def().to_json())
    with pytest.raises(tf.FailedPreconditionError):
        sess.run("w:0")
    sess.run("init")
    np.testing.assert_array_equal(sess.run("w:0"), [[1.0], [-1.0]])


def test_import_prefixes_names(model):
    graph, _ = model
    with tf.Graph().as_default() as target:
        assert tf.import_graph_def(graph.as_graph_def()) is None
        tf.import_graph_def(graph.as_graph_def(), name="net")
    names = {op.name for op in target.get_operations()}
    assert {"import/x", "import/out/y", "net/x", "net/out/y"} <= names


def test_import_with_input_map_and_return_elements(model):
    graph, sess = model
    with tf.Graph().as_default() as target:
        features = tf.placeholder(tf.float64, [None, 2], name="features")
        y, after, w = tf.import_graph_def(graph.as_graph_def(), input_map={"x:0": features * 2.0},
                                          return_elements=["out/y:0", "after", "w:0"], name="m")
    assert (y.name, after.name, w.name) == ("m/out/y:0", "m/after", "m/w:0")
    assert y.op.inputs[0].op.inputs[0].op.inputs[0].op.type == "Mul"  # matmul reads the mapped tensor
    target_sess = tf.Session(target)
    target_sess.load_variables({"m/w": sess.run("w:0"), "m/b": sess.run("b:0")})
    np.testing.assert_array_equal(target_sess.run(y, {features: X}), expected_y(X * 2.0))


def test_input_map_key_without_index_means_output_0(model):
    graph, _ = model
    with tf.Graph().as_default():
        x2 = tf.placeholder(tf.float64, [None, 2])
        y, = tf.import_graph_def(graph.as_graph_def(), input_map={"x": x2}, return_elements=["out/y:0"])
    assert y.op.inputs[0].op.inputs[0].op.inputs[0] is x2


def test_readable_nodes(model):
    graph, _ = model
    nodes = {n.name: n for n in graph.as_graph_def().node}
    assert nodes["c"].op == "Const" and nodes["c"].attr["dtype"] is tf.float64
    assert nodes["out/y"].input == ["out/Add:0", "c:0"]
    assert nodes["after"].input == ["^out/y"]


# -- bit-exact tensors ------------------------------------------------------------------------
EXACT_VALUES = [
    pytest.param(np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 5e-324, 1.7976931348623157e308]), id="float64-special"),
    pytest.param(np.array([np.nan, -np.inf, -0.0, 1e-45, 3.4028235e38], np.float32), id="float32-special"),
    pytest.param(np.frombuffer(np.array([0x7FF8000000000001, 0xFFF0000000000001], np.uint64).tobytes(), np.float64),
                 id="float64-nan-payloads"),
    pytest.param(np.array([np.iinfo(np.int64).min, -1, 0, np.iinfo(np.int64).max]), id="int64-extremes"),
    pytest.param(np.array([np.iinfo(np.int32).min, np.iinfo(np.int32).max], np.int32), id="int32-extremes"),
    pytest.param(np.array([[True, False], [False, True]]), id="bool"),
    pytest.param(np.float64(np.pi), id="float64-scalar"),
    pytest.param(np.zeros((0, 3), np.float32), id="empty"),
    pytest.param(np.random.default_rng(5).standard_normal((3, 4, 5)), id="float64-3d"),
    pytest.param(np.arange(6, dtype=np.float64).reshape(2, 3).T, id="non-contiguous"),
]


def bits(value: np.ndarray) -> tuple:
    value = np.asarray(value)
    return value.dtype, value.shape, np.ascontiguousarray(value).tobytes()


@pytest.mark.parametrize("value", EXACT_VALUES)
def test_constants_round_trip_bit_exactly(value):
    with tf.Graph().as_default() as graph:
        tf.constant(value, name="c")
    loaded, sess = importer.load(graph.as_graph_def().to_json())
    assert bits(sess.run("c:0")) == bits(value)


@pytest.mark.parametrize("value", [p for p in EXACT_VALUES if np.ndim(p.values[0]) > 0 and np.size(p.values[0])])
def test_variable_values_round_trip_bit_exactly(value):
    with tf.Graph().as_default() as graph:
        v = tf.Variable(np.zeros_like(value), name="v")
    sess = tf.Session(graph)
    sess.load_variables({"v": value})
    loaded, loaded_sess = importer.load(graph.as_graph_def(sess.export_variables()).to_bytes())
    assert bits(loaded_sess.run("v:0")) == bits(value)
    assert v.dtype.np == value.dtype


@pytest.fixture
def tagged():
    """A user op `Tagged` (identity) with an attr of every kind."""
    attrs = {"tag": "str", "scale": "float", "count": "int", "flag": "bool", "axes": "ints", "dims": "shape?",
             "kind": "type", "note": "str?"}
    tf.register_op("Tagged", kernel=lambda x, **attrs: x, infer=lambda inputs, **attrs: inputs[0], attrs=attrs,
                   num_inputs=1, grad=lambda op, g: [g])
    yield
    unregister_op("Tagged")


ATTR_VALUES = {"tag": "__import__('os').system('echo owned')", "scale": float("-inf"), "count": -3, "flag": True,
               "axes": (0, -1), "dims": (None, 2), "kind": tf.int64, "note": None}


def test_attrs_of_every_kind_round_trip_as_data(tagged):
    with tf.Graph().as_default() as graph:
        graph.create_op("Tagged", [tf.constant(1.0)], dict(ATTR_VALUES), name="t")
    loaded, _ = importer.load(graph.as_graph_def().to_json())
    assert loaded.get_operation_by_name("t").attrs == ATTR_VALUES


def test_nan_float_attr_round_trips(tagged):
    with tf.Graph().as_default() as graph:
        graph.create_op("Tagged", [tf.constant(1.0)], dict(ATTR_VALUES, scale=float("nan")), name="t")
    loaded, _ = importer.load(graph.as_graph_def().to_json())
    assert np.isnan(loaded.get_operation_by_name("t").get_attr("scale"))


# -- validation -------------------------------------------------------------------------------
def node(d: dict, name: str) -> dict:
    return next(n for n in d["nodes"] if n["name"] == name)


def tensor_record(value: np.ndarray) -> dict:
    return {"dtype": value.dtype.name, "shape": list(value.shape),
            "data": base64.b64encode(value.astype(value.dtype.newbyteorder("<")).tobytes()).decode()}


def mutation(id, change, *fragments):
    return pytest.param(change, fragments, id=id)


INVALID_GRAPHDEFS = [
    mutation("wrong-format", lambda d: d.update(format="tf.GraphDef"), "format is 'tf.GraphDef'"),
    mutation("newer-version", lambda d: d.update(version=2), "version 2 is not supported"),
    mutation("version-as-bool", lambda d: d.update(version=True), "version True"),
    mutation("version-as-string", lambda d: d.update(version="1"), "version '1'"),
    mutation("missing-nodes", lambda d: d.pop("nodes"), "expected an object with keys"),
    mutation("extra-top-level-key", lambda d: d.update(code="print(1)"), "expected an object with keys"),
    mutation("nodes-not-a-list", lambda d: d.update(nodes={}), "nodes and variables must be lists"),
    mutation("node-not-an-object", lambda d: d["nodes"].append("x"), "node #"),
    mutation("node-missing-key", lambda d: node(d, "c").pop("attrs"), "node 'c' must have exactly the keys"),
    mutation("node-name-not-a-string", lambda d: node(d, "c").update(name=7), "node 7 has no valid name"),
    mutation("inputs-not-strings", lambda d: node(d, "out/y").update(inputs=[1, 2]), "node 'out/y'",
             "inputs must be a list of strings"),
    mutation("unknown-op-type", lambda d: node(d, "out/y").update(op="Mull"), "node 'out/y'",
             "unknown op type 'Mull'", "did you mean"),
    mutation("wrong-attr-type", lambda d: node(d, "x")["attrs"].update(dtype=3), "node 'x'", "a dtype name"),
    mutation("unsupported-dtype", lambda d: node(d, "x")["attrs"].update(dtype="complex64"), "node 'x'",
             "unsupported dtype 'complex64'"),
    mutation("shape-attr-negative", lambda d: node(d, "x")["attrs"].update(shape=[-1, 2]), "node 'x'",
             "non-negative ints or nulls"),
    mutation("missing-attr", lambda d: node(d, "x")["attrs"].pop("shape"), "node 'x'", "attrs ['dtype']"),
    mutation("extra-attr", lambda d: node(d, "x")["attrs"].update(code="1"), "node 'x'", "'code'"),
    mutation("missing-input-node", lambda d: node(d, "out/y")["inputs"].__setitem__(1, "nope:0"), "node 'out/y'",
             "input 'nope' is not a node"),
    mutation("missing-control-input", lambda d: node(d, "after").update(inputs=["^nope"]), "node 'after'",
             "input 'nope' is not a node"),
    mutation("input-index-out-of-range", lambda d: node(d, "out/y")["inputs"].__setitem__(1, "c:1"),
             "node 'out/y'", "'c' has 1 output"),
    mutation("malformed-input", lambda d: node(d, "out/y")["inputs"].__setitem__(1, "c:x"), "node 'out/y'",
             "malformed input 'c:x'"),
    mutation("too-many-inputs", lambda d: node(d, "out/y")["inputs"].append("c:0"), "node 'out/y'",
             "takes 2 input(s), found 3"),
    mutation("cycle", lambda d: node(d, "c").update(op="Identity", attrs={}, inputs=["out/y:0"]),
             "cycle"),
    mutation("self-loop", lambda d: node(d, "after").update(inputs=["^after"]), "node 'after'", "cycle"),
    mutation("duplicate-name", lambda d: d["nodes"].append(copy.deepcopy(node(d, "c"))), "node 'c'",
             "duplicate node name"),
    mutation("invalid-node-name", lambda d: node(d, "after").update(name="__import__('os').system('x')"),
             "not a valid op name"),
    mutation("const-dtype-disagrees-with-value", lambda d: node(d, "c")["attrs"].update(dtype="float32"),
             "node 'c'", "value has dtype float64, attr dtype says float32"),
    mutation("const-data-shorter-than-shape", lambda d: node(d, "c")["attrs"]["value"].update(shape=[3]),
             "node 'c'", "needs 24 bytes, found 8"),
    mutation("const-data-longer-than-shape",
             lambda d: node(d, "c")["attrs"]["value"].update(data=tensor_record(np.ones(2))["data"]),
             "node 'c'", "needs 8 bytes, found 16"),
    mutation("const-data-not-base64", lambda d: node(d, "c")["attrs"]["value"].update(data="$$$$"), "node 'c'"),
    mutation("const-record-extra-key", lambda d: node(d, "c")["attrs"]["value"].update(pickle="gASVAAAA"),
             "node 'c'", "exactly the keys dtype, shape, data"),
    mutation("const-shape-of-bools", lambda d: node(d, "c")["attrs"]["value"].update(shape=[True]), "node 'c'",
             "non-negative ints"),
    mutation("const-huge-shape", lambda d: node(d, "c")["attrs"]["value"].update(shape=[10 ** 12, 10 ** 12]),
             "node 'c'", "bytes"),
    mutation("variable-value-wrong-shape", lambda d: d["variable_values"].update(w=tensor_record(np.zeros(2))),
             "variable value 'w'", "float64 (2,)", "float64 (2, 1)"),
    mutation("variable-value-wrong-dtype",
             lambda d: d["variable_values"].update(w=tensor_record(np.zeros((2, 1), np.float32))),
             "variable value 'w'", "found float32"),
    mutation("variable-value-for-unknown-variable",
             lambda d: d["variable_values"].update(c=tensor_record(np.zeros(1))), "variable value 'c'",
             "no variable of that name"),
    mutation("variable-value-truncated", lambda d: d["variable_values"]["w"].update(data="AAAA"),
             "variable value 'w'"),
    mutation("variable-entry-missing-key", lambda d: d["variables"][0].pop("trainable"), "variable entry"),
    mutation("variable-trainable-not-bool", lambda d: d["variables"][0].update(trainable="yes"), "variable 'w'",
             "trainable must be true or false"),
    mutation("variable-listed-twice", lambda d: d["variables"].append(dict(d["variables"][0])), "list a variable twice"),
    mutation("variable-without-its-op", lambda d: d["variables"][0].update(name="nope"), "variable 'nope'"),
    mutation("variable-initializer-not-assign", lambda d: d["variables"][0].update(initializer="init"),
             "variable 'w'", "Assign initializer"),
    mutation("assign-to-a-non-variable", lambda d: node(d, "w/Assign")["inputs"].__setitem__(0, "c:0"),
             "node 'w/Assign'", "input 0 must be a variable"),
]


@pytest.mark.parametrize("change, fragments", INVALID_GRAPHDEFS)
def test_invalid_graphdef_raises_naming_the_problem(wire, change, fragments):
    bad = copy.deepcopy(wire)
    change(bad)
    text = json.dumps(bad)
    with tf.Graph().as_default() as target:
        tf.constant(1.0, name="existing")
        with pytest.raises(tf.GraphDefError) as info:
            tf.import_graph_def(text)
    for fragment in fragments:
        assert fragment in str(info.value)
    assert [op.name for op in target.get_operations()] == ["existing"]


MALFORMED_TEXTS = [
    pytest.param("{not json", id="not-json"),
    pytest.param("", id="empty"),
    pytest.param("[]", id="not-an-object"),
    pytest.param(b"\xff\xfe\x00\x01", id="bad-bytes"),
    pytest.param("[" * 100_000 + "]" * 100_000, id="deeply-nested"),
    pytest.param('{"format": "engine.GraphDef", "version": NaN, "nodes": []}', id="NaN-literal"),
]


@pytest.mark.parametrize("text", MALFORMED_TEXTS)
def test_malformed_text_raises(text):
    with pytest.raises(tf.GraphDefError, match="malformed GraphDef"):
        graphdef.GraphDef.from_json(text)


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9, 0.999])
def test_truncated_text_raises(model, cut):
    graph, sess = model
    text = graph.as_graph_def(sess.export_variables()).to_json()
    with pytest.raises(tf.GraphDefError, match="malformed GraphDef"):
        tf.import_graph_def(text[:int(len(text) * cut)], graph=tf.Graph())


@pytest.mark.parametrize("kw, error, message", [
    pytest.param({"input_map": {"nope:0": "features:0"}}, tf.GraphDefError, "no node of the GraphDef reads: ['nope:0']",
                 id="input-map-key-unused"),
    pytest.param({"input_map": {"x:0": "wrong:0"}}, tf.GraphDefError, "node 'out/MatMul'", id="input-map-dtype"),
    pytest.param({"input_map": {"x:0": "features"}}, TypeError, "must be a Tensor", id="input-map-to-an-op"),
    pytest.param({"return_elements": ["nope:0"]}, tf.GraphDefError, "return_elements: 'nope:0'",
                 id="return-element-unknown"),
    pytest.param({"name": "import"}, tf.GraphDefError, "already has an op named 'import/x'", id="name-clash"),
])
def test_import_argument_errors_leave_the_graph_unchanged(model, kw, error, message):
    graph, _ = model
    with tf.Graph().as_default() as target:
        tf.placeholder(tf.float64, [None, 2], name="features")
        tf.placeholder(tf.int32, [None, 2], name="wrong")
        tf.placeholder(tf.float64, [None, 2], name="import/x")
        before = target.get_operations()
        with pytest.raises(error, match=__import__("re").escape(message)):
            tf.import_graph_def(graph.as_graph_def(), **kw)
    assert target.get_operations() == before


def test_input_map_from_another_graph_is_refused(model):
    graph, _ = model
    with tf.Graph().as_default():
        foreign = tf.placeholder(tf.float64, [None, 2])
    with pytest.raises(tf.GraphError, match="another graph"):
        tf.import_graph_def(graph.as_graph_def(), input_map={"x:0": foreign}, graph=tf.Graph())


def test_node_names_never_clash_with_input_map_stand_ins():
    with tf.Graph().as_default() as source:
        x = tf.placeholder(tf.float64, [2], name="input_map")
        tf.identity(x, name="input_map_1")
    with tf.Graph().as_default():
        z = tf.placeholder(tf.float64, [2])
        out, = tf.import_graph_def(source.as_graph_def(), input_map={"input_map:0": z},
                                   return_elements=["input_map_1:0"])
    assert out.op.inputs[0] is z


def test_loading_never_unpickles_or_evaluates(model, monkeypatch):
    graph, sess = model
    text = graph.as_graph_def(sess.export_variables()).to_json()

    def forbidden(*args, **kwargs):
        raise AssertionError("the GraphDef loader must not unpickle or evaluate")
    for module, name in [(pickle, "loads"), (pickle, "load"), (builtins, "eval"), (builtins, "exec"),
                         (builtins, "compile")]:
        monkeypatch.setattr(module, name, forbidden)
    loaded, loaded_sess = importer.load(text)
    np.testing.assert_array_equal(loaded_sess.run("out/y:0", {"x:0": X}), expected_y(X))


def test_code_in_op_type_is_an_unknown_op(wire):
    node(wire, "after")["op"] = "__import__('os').system('echo owned')"
    with pytest.raises(tf.GraphDefError, match="node 'after'.*unknown op type"):
        tf.import_graph_def(json.dumps(wire), graph=tf.Graph())


def test_code_in_a_dtype_attr_is_an_unsupported_dtype(wire):
    node(wire, "x")["attrs"]["dtype"] = "__import__('os')"
    with pytest.raises(tf.GraphDefError, match="node 'x'.*unsupported dtype"):
        tf.import_graph_def(json.dumps(wire), graph=tf.Graph())


def test_numpy_ints_in_attrs_serialize_as_json_ints(tagged):
    with tf.Graph().as_default() as graph:
        graph.create_op("Tagged", [tf.constant(1.0)],
                        dict(ATTR_VALUES, count=np.int64(4), axes=(np.int32(1), np.int64(-1))), name="t")
    loaded, _ = importer.load(graph.as_graph_def().to_json())
    assert loaded.get_operation_by_name("t").attrs == dict(ATTR_VALUES, count=4, axes=(1, -1))


# -- checksum ---------------------------------------------------------------------------------
OLD_FILE = os.path.join(os.path.dirname(__file__), "data", "graphdef", "no_checksum.json")


def _written(model) -> str:
    graph, sess = model
    return graph.as_graph_def(sess.export_variables()).to_json()


def test_a_written_graph_def_records_the_sha256_of_its_contents(model):
    data = json.loads(_written(model))
    assert data["sha256"] == graphdef.checksum(data) and len(data["sha256"]) == 64


def test_a_graph_def_file_written_before_the_checksum_still_loads():
    with open(OLD_FILE, encoding="utf-8") as f:
        assert "sha256" not in json.load(f)
    graph, sess = importer.load(tf_graphdef.read(OLD_FILE))
    np.testing.assert_array_equal(sess.run("y:0", {"x:0": np.ones((1, 2))}), [[3.5]])


def test_a_changed_weight_fails_the_checksum(model):
    data = json.loads(_written(model))
    record = data["variable_values"]["w"]
    record["data"] = base64.b64encode(np.array([[0.25], [5.0]]).tobytes()).decode()
    with pytest.raises(tf.GraphDefError, match="checksum mismatch: its contents have SHA-256 [0-9a-f]{64}"):
        graphdef.GraphDef.from_json(json.dumps(data))


def test_reformatting_a_graph_def_keeps_its_checksum(model):
    data = json.loads(_written(model))
    reordered = dict(reversed(list(data.items())))
    graph, sess = importer.load(json.dumps(reordered, indent=2))
    np.testing.assert_allclose(sess.run("out/y:0", {"x:0": X}), expected_y(X))


def test_a_corrupted_graph_def_file_is_named(tmp_path, model):
    path = tmp_path / "graph.json"
    path.write_text(_written(model).replace('"after"', '"afteR"'), encoding="utf-8")
    with pytest.raises(tf.GraphDefError, match=f"^{path}: GraphDef checksum mismatch"):
        tf_graphdef.read(path)


def test_a_corrupted_meta_graph_file_is_named(tmp_path, model):
    path = tmp_path / "model.meta"
    path.write_text(model[0].as_graph_def().to_json().replace('"after"', '"afteR"'), encoding="utf-8")
    with tf.Graph().as_default(), pytest.raises(tf.GraphDefError, match=f"^{path}: GraphDef checksum mismatch"):
        tf.train.import_meta_graph(str(path))
