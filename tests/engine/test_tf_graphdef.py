"""Importing TensorFlow 1.x GraphDefs: frozen models written by real TensorFlow run on the engine.

The fixtures in data/tf were frozen and run by TensorFlow 2.21's tf.compat.v1
(data/tf/generate.py); the engine must reproduce TensorFlow's recorded
outputs without TensorFlow, and refuse anything it cannot translate exactly
with a GraphDefError naming the node.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import engine as tf
from engine import tf_graphdef

graph_pb2 = pytest.importorskip("tensorboard.compat.proto.graph_pb2")

DATA = Path(__file__).parent / "data" / "tf"
FIXTURES = {"logistic_regression": ["output:0"], "mlp": ["probabilities:0", "classes:0"],
            "ops": ["output:0", "index:0"], "convnet": ["probabilities:0"], "extras": ["output:0", "hot_shape:0"]}


def expected(name: str) -> dict:
    return dict(np.load(DATA / f"{name}.npz"))


def message(name: str = "mlp"):
    return graph_pb2.GraphDef.FromString((DATA / f"{name}.pb").read_bytes())


def run_imported(graph_def, fetches: list[str], feed: np.ndarray) -> list[np.ndarray]:
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        with tf.Session() as sess:
            return sess.run(fetches, {"input:0": feed})


def node(msg, name: str):
    return next(n for n in msg.node if n.name == name)


def assert_import_error(msg, *parts: str) -> None:
    with pytest.raises(tf.GraphDefError) as info:
        tf_graphdef.from_message(msg)
    for part in parts:
        assert part in str(info.value)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_frozen_tensorflow_model_matches_tensorflow_outputs(name):
    want = expected(name)
    graph_def = tf.GraphDef()  # the TF 1.x idiom, as written
    graph_def.ParseFromString(tf.gfile.GFile(str(DATA / f"{name}.pb"), "rb").read())
    got = run_imported(graph_def, FIXTURES[name], want["input:0"])
    for fetch, value in zip(FIXTURES[name], got):
        assert value.dtype == want[fetch].dtype and value.shape == want[fetch].shape
        np.testing.assert_allclose(value, want[fetch], rtol=1e-6, atol=1e-6)


def test_text_graph_def_imports_like_the_binary_one():
    want = expected("mlp")
    from_text = run_imported(tf_graphdef.read(DATA / "mlp.pbtxt"), FIXTURES["mlp"], want["input:0"])
    from_binary = run_imported(tf_graphdef.read(DATA / "mlp.pb"), FIXTURES["mlp"], want["input:0"])
    for a, b in zip(from_text, from_binary):
        np.testing.assert_array_equal(a, b)


def test_import_graph_def_accepts_a_tensorflow_message_with_input_map_and_return_elements():
    want = expected("mlp")
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 8], name="features")
        (probs,) = tf.import_graph_def(message(), input_map={"input:0": x}, return_elements=["probabilities:0"])
        assert probs.name == "import/probabilities:0"
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(probs, {x: want["input:0"]}), want["probabilities:0"], rtol=1e-6)


def test_imported_nodes_keep_their_tensorflow_names_and_dtypes():
    graph = tf.Graph()
    tf.import_graph_def(tf_graphdef.from_message(message()), name="", graph=graph)
    assert graph.get_tensor_by_name("input:0").shape.as_list() == [None, 8]
    assert graph.get_tensor_by_name("classes:0").dtype == tf.int64
    assert graph.get_operation_by_name("hidden/BiasAdd").type == "BiasAdd"


def test_unknown_op_type_names_the_node_and_the_type():
    msg = message()
    node(msg, "Relu").op = "Relu7"
    assert_import_error(msg, "'Relu'", "'Relu7'", "no engine equivalent")


def test_unknown_attribute_names_the_node_and_the_attribute():
    msg = message()
    node(msg, "MatMul").attr["mystery"].i = 3
    assert_import_error(msg, "'MatMul'", "MatMul", "'mystery'")


def test_unsupported_attribute_value_names_it():
    msg = message()
    node(msg, "hidden/BiasAdd").attr["data_format"].s = b"NCHW"
    assert_import_error(msg, "'hidden/BiasAdd'", "'data_format'", "'NCHW'")


def test_training_mode_batch_norm_is_refused():
    msg = message("ops")
    node(msg, "bn").attr["is_training"].b = True
    assert_import_error(msg, "'bn'", "'is_training'")


def test_declared_dtype_that_disagrees_with_the_input_is_refused():
    msg = message()
    node(msg, "Relu").attr["T"].type = 2  # DT_DOUBLE on a float32 input
    assert_import_error(msg, "'Relu'", "float64", "float32")


def test_constant_whose_content_does_not_fill_its_shape_is_refused():
    msg = message()
    node(msg, "hidden/kernel").attr["value"].tensor.tensor_shape.dim[0].size = 9
    assert_import_error(msg, "'hidden/kernel'", "tensor_content")


def test_inconsistent_shapes_name_the_node_and_the_shapes():
    msg = message()
    kernel = node(msg, "logits/kernel").attr["value"].tensor
    kernel.tensor_shape.dim[0].size, kernel.tensor_shape.dim[1].size = 12, 4  # 48 floats either way
    assert_import_error(msg, "'MatMul_1'", "(12, 4)")


def test_shape_operand_computed_at_run_time_is_refused():
    msg = message("ops")
    shape = msg.node.add(name="dynamic_shape", op="Shape", input=["input"])
    shape.attr["T"].type, shape.attr["out_type"].type = 1, 3  # float32 in, int32 out
    node(msg, "Reshape").input[1] = "dynamic_shape"
    assert_import_error(msg, "'Reshape'", "must be a constant")


def test_cycle_is_refused():
    msg = message()
    node(msg, "MatMul").input[0] = "Relu"
    assert_import_error(msg, "cycle")


def test_duplicate_node_name_is_refused():
    msg = message()
    msg.node.add().CopyFrom(node(msg, "Relu"))
    assert_import_error(msg, "'Relu'", "duplicate")


def test_missing_input_is_refused():
    msg = message()
    node(msg, "Relu").input[0] = "nowhere"
    assert_import_error(msg, "'Relu'", "'nowhere'")


def test_truncated_bytes_are_refused():
    data = (DATA / "mlp.pb").read_bytes()
    with pytest.raises(tf.GraphDefError, match="malformed TensorFlow GraphDef"):
        tf.GraphDef().ParseFromString(data[: len(data) // 2])


def test_a_failed_import_leaves_the_target_graph_unchanged():
    msg = message()
    node(msg, "probabilities").op = "Softmax2"
    graph = tf.Graph()
    with pytest.raises(tf.GraphDefError):
        tf.import_graph_def(msg, graph=graph)
    assert graph.get_operations() == []


def test_engine_json_graph_defs_still_parse_from_string():
    with tf.Graph().as_default() as graph:
        tf.identity(tf.constant([1.0, 2.0]), name="y")
    parsed = tf.GraphDef.FromString(graph.as_graph_def().SerializeToString())
    assert [n["name"] for n in parsed.nodes] == ["Const", "y"]


def test_missing_protobuf_messages_say_what_to_install(monkeypatch):
    from engine.tf_graphdef import protos
    monkeypatch.setattr(protos, "_loaded", {})
    for blocked in ("tensorboard.compat.proto.graph_pb2", "tensorflow.core.framework.graph_pb2"):
        monkeypatch.setitem(sys.modules, blocked, None)  # import of it fails
    with pytest.raises(tf.ProtobufUnavailableError, match=r"tensorframes\[tf\]"):
        tf.GraphDef().ParseFromString((DATA / "mlp.pb").read_bytes())


def test_placeholder_with_default_gives_its_default_and_can_be_fed():
    msg = graph_pb2.GraphDef()
    const = msg.node.add(name="default", op="Const")
    const.attr["dtype"].type = 1
    const.attr["value"].tensor.dtype = 1
    const.attr["value"].tensor.float_val.append(0.5)
    phase = msg.node.add(name="phase", op="PlaceholderWithDefault", input=["default"])
    phase.attr["dtype"].type = 1
    phase.attr["shape"].shape.SetInParent()  # a scalar
    with tf.Graph().as_default():
        tf.import_graph_def(msg, name="")
        with tf.Session() as sess:
            assert sess.run("phase:0") == np.float32(0.5)
            assert sess.run("phase:0", {"phase:0": np.float32(2.0)}) == np.float32(2.0)


def test_import_engine_loads_no_protobuf():
    import subprocess
    code = "import engine, sys; print(sorted(m for m in sys.modules if m.startswith(('google', 'tensorboard'))))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.strip() == "[]"
