"""TensorFlow 1.x GraphDefs (protobuf): run frozen TensorFlow models on the engine, and back.

`parse(data)` reads a binary `.pb`, `parse_text(text)` a `.pbtxt`, and
`from_message(msg)` a GraphDef message; each returns an engine GraphDef
(validated, nothing executed) that `engine.import_graph_def` loads, so
the TF 1.x idiom works as written::

    graph_def = tf.GraphDef()
    graph_def.ParseFromString(tf.gfile.GFile("model.pb", "rb").read())
    tf.import_graph_def(graph_def, name="")
    sess.run("output:0", {"input:0": x})

`export(graph)` writes an engine graph as a GraphDef message TensorFlow runs
(`graph.as_tf_graph_def()`), and `write_graph` is `tf.train.write_graph`.
TensorFlow's message classes come from the `tensorboard` package (the `[tf]`
extra) or TensorFlow itself; they are imported on first use only.
"""
from __future__ import annotations

from .exporter import export
from .io import as_message, from_message, is_message, parse, parse_text, read, write_graph

__all__ = ["parse", "parse_text", "from_message", "read", "export", "write_graph", "as_message", "is_message"]
