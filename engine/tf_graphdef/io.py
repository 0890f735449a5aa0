"""Reading and writing TensorFlow GraphDefs: bytes, text and files (`tf.train.write_graph`)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import GraphDefError
from ..graph import Graph
from ..graphdef import GraphDef
from . import protos
from .exporter import export
from .importer import translate




def is_message(value: Any) -> bool:
    """True for a TensorFlow GraphDef protobuf message (tensorboard's or tensorflow's)."""
    return protos.is_message(value, "GraphDef")


def from_message(message: Any) -> GraphDef:
    """The engine GraphDef of a TensorFlow GraphDef message."""
    return translate(message)


def parse(data: bytes) -> GraphDef:
    """The engine GraphDef of a binary TensorFlow GraphDef (a frozen `.pb` file's bytes)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"a binary GraphDef is bytes, found {type(data).__name__}")
    from google.protobuf.message import DecodeError
    message = protos.graph_def_class()()
    try:
        message.ParseFromString(bytes(data))
    except DecodeError as e:
        raise GraphDefError(f"malformed TensorFlow GraphDef: {len(data)} bytes that do not parse ({e})") from None
    return translate(message)


def parse_text(text: str | bytes) -> GraphDef:
    """The engine GraphDef of a TensorFlow GraphDef in protobuf text format (`.pbtxt`)."""
    from google.protobuf import text_format
    message = protos.graph_def_class()()
    try:
        text_format.Parse(text, message)
    except (text_format.ParseError, UnicodeDecodeError) as e:
        raise GraphDefError(f"malformed TensorFlow GraphDef text: {e}") from None
    return translate(message)


def read(path: str | os.PathLike) -> GraphDef:
    """The GraphDef in file `path`: binary `.pb`, text `.pbtxt`, or the engine's own JSON.

    A malformed or corrupted file (a checksum mismatch) raises GraphDefError naming it.
    """
    data = Path(path).read_bytes()
    try:
        if data.lstrip()[:1] == b"{":
            return GraphDef.from_json(data)
        if Path(path).suffix in (".pbtxt", ".txt"):
            return parse_text(data)
        return parse(data)
    except GraphDefError as e:
        raise GraphDefError(f"{path}: {e}") from None


def write_graph(graph_or_graph_def: Any, logdir: str | os.PathLike, name: str, as_text: bool = True,
                strict: bool = True) -> str:
    """`tf.train.write_graph`: a TensorFlow GraphDef (text or binary) at `logdir/name`; returns the path.

    Takes an engine Graph, an engine GraphDef (`sess.graph_def`, or a frozen
    one from `graph_util.convert_variables_to_constants`) or a GraphDef
    message. `strict=False` also writes ops TensorFlow lacks (gradient
    internals), for looking at rather than running. Written to a temporary
    file and renamed, so a reader never sees half a graph.
    """
    message = as_message(graph_or_graph_def, strict=strict)
    if as_text:
        from google.protobuf import text_format
        data = text_format.MessageToString(message).encode("utf-8")
    else:
        data = message.SerializeToString()
    path = Path(logdir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return str(path)


def as_message(graph_or_graph_def: Any, strict: bool = True) -> Any:
    """A TensorFlow GraphDef message of an engine Graph, an engine GraphDef or a message (as is)."""
    if is_message(graph_or_graph_def):
        return graph_or_graph_def
    if isinstance(graph_or_graph_def, GraphDef):
        from ..importer import import_graph_def
        graph = Graph()
        import_graph_def(graph_or_graph_def, name="", graph=graph)
        graph_or_graph_def = graph
    if not isinstance(graph_or_graph_def, Graph):
        raise TypeError(f"expected an engine Graph, GraphDef or a TensorFlow GraphDef message, found "
                        f"{type(graph_or_graph_def).__name__}")
    return export(graph_or_graph_def, strict=strict)
