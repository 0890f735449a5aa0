"""Saved models: a graph, its variable values and a signature, in one directory.

A saved model is what a model trained anywhere (on Spark included) leaves
behind to be scored anywhere else with nothing but numpy and this engine::

    model_dir/
      saved_model.json   format and version, the SHA-256 of graph_def.json and
                         the signature: named inputs and outputs, each with its
                         tensor, dtype and shape
      graph_def.json     the GraphDef (engine.graphdef): nodes, variables and
                         their values as dtype + shape + raw little-endian bytes

>>> import tempfile
>>> model_dir = tempfile.mkdtemp()
>>> x = tf.placeholder(tf.float64, [None], name="x")
>>> y = tf.multiply(x, 2.0, name="y")
>>> save(model_dir, tf.get_default_graph(), inputs={"x": x}, outputs={"y": y}, overwrite=True)
>>> load(model_dir).predict({"x": np.array([1.0, 2.0])})["y"]
array([2., 4.])

Loading checks the digest, then validates and rebuilds the graph; it
executes nothing and unpickles nothing. A file changed after saving fails the
digest check, and a consistent but invalid one (unknown op, a variable value
of the wrong size or shape, a signature that disagrees with its tensor) fails
validation; either way SavedModelError names the file and the node or entry.
A document may also be a directory of part files, as Spark's text writer
leaves it: that is how tensorframes.ml saves models, so they load here as is.
`engine.models.Model.save` writes this layout too, plus its own model.json.
"""
from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Callable, Mapping, NamedTuple, Optional, Sequence

import numpy as np

from . import atomic, dtypes, graphdef, importer
from .dtypes import DType
from .errors import EngineError, FeedError, GraphError, SavedModelError
from .graph import Graph, Tensor, tensor_of
from .op_types import PLACEHOLDER, VARIABLE
from .session import Session
from .shapes import Dims, format_dims

FORMAT = "engine.SavedModel"
VERSION = 1
MANIFEST = "saved_model.json"
GRAPH_DEF = "graph_def.json"
_MANIFEST_KEYS = {"format", "version", "graph_def_sha256", "inputs", "outputs"}
_INFO_KEYS = {"tensor", "dtype", "shape"}


class TensorInfo(NamedTuple):
    """One named input or output of a signature: which tensor, of what dtype and shape."""

    tensor: str
    dtype: DType
    shape: Dims

    def to_dict(self) -> dict:
        return {"tensor": self.tensor, "dtype": self.dtype.name,
                "shape": None if self.shape is None else list(self.shape)}


class Signature(NamedTuple):
    """Named inputs (placeholders to feed) and outputs (tensors to fetch)."""

    inputs: dict[str, TensorInfo]
    outputs: dict[str, TensorInfo]


def signature(graph: Graph, inputs: Mapping[str, Any], outputs: Mapping[str, Any]) -> Signature:
    """The signature of `graph` for tensors (or tensor names) by input and output name."""
    if not outputs:
        raise GraphError("a saved model needs at least one output")
    return Signature(_infos(graph, inputs, "input"), _infos(graph, outputs, "output"))


def _infos(graph: Graph, named: Mapping[str, Any], role: str) -> dict[str, TensorInfo]:
    infos = {}
    for name, item in named.items():
        if not isinstance(name, str) or not name:
            raise GraphError(f"signature {role} names are non-empty strings, found {name!r}")
        t = tensor_of(graph, item) if isinstance(item, str) else graph.as_graph_element(item)
        if not isinstance(t, Tensor):
            raise GraphError(f"signature {role} {name!r} must be a tensor, found operation '{t.name}'")
        if role == "input" and t.op.type != PLACEHOLDER:
            raise GraphError(f"signature input {name!r} must be a placeholder, '{t.name}' is a {t.op.type}")
        infos[name] = TensorInfo(t.name, t.dtype, t._dims)
    return infos


def documents(graph_def: graphdef.GraphDef, sig: Signature) -> dict[str, str]:
    """The files of a saved model, by file name, as text (for writers other than `save`)."""
    text = graph_def.to_json()
    manifest = {"format": FORMAT, "version": VERSION, "graph_def_sha256": _digest(text),
                "inputs": {k: v.to_dict() for k, v in sig.inputs.items()},
                "outputs": {k: v.to_dict() for k, v in sig.outputs.items()}}
    return {GRAPH_DEF: text, MANIFEST: json.dumps(manifest, separators=(",", ":"), allow_nan=False)}


def save(path: str, session: Session | Graph, inputs: Mapping[str, Any], outputs: Mapping[str, Any],
         overwrite: bool = False) -> None:
    """Write the graph of `session`, its variable values and the signature to directory `path`.

    A Graph without variables may stand for its session. Refuses to replace
    an existing saved model unless `overwrite`. Everything is checked and
    written to a temporary sibling first (engine.atomic): a failure leaves an
    old saved model at `path` intact.

    >>> import tempfile
    >>> w = tf.Variable(np.ones(2), name="w")
    >>> x = tf.placeholder(tf.float64, [None, 2], name="x")
    >>> with tf.Session() as sess:
    ...     sess.run(tf.global_variables_initializer())
    ...     save(tempfile.mkdtemp(), sess, inputs={"x": x}, outputs={"y": tf.reduce_sum(x * w, 1)})
    """
    graph, values = _graph_and_values(session)
    docs = documents(graph.as_graph_def(values), signature(graph, inputs, outputs))
    if not overwrite and os.path.exists(os.path.join(path, MANIFEST)):
        raise SavedModelError(f"{path}: already holds a saved model; pass overwrite=True to replace it")
    with atomic.replacing_directory(path) as tmp:
        for name, text in docs.items():
            atomic.write_file(os.path.join(tmp, name), text.encode("utf-8"))


def _graph_and_values(source: Session | Graph) -> tuple[Graph, dict]:
    if isinstance(source, Session):
        return source.graph, source.export_variables()
    if isinstance(source, Graph):
        if any(op.type == VARIABLE for op in source.get_operations()):
            raise GraphError("the graph has variables, whose values live in a Session: pass the Session")
        return source, {}
    raise TypeError(f"save needs a Session (or a Graph without variables), found {type(source).__name__}")


class SavedModel:
    """A loaded saved model: `graph`, `session` (variables loaded), `signature`, `predict`."""

    def __init__(self, graph: Graph, session: Session, sig: Signature, graph_def: graphdef.GraphDef) -> None:
        self.graph, self.session, self.signature, self.graph_def = graph, session, sig, graph_def

    def predict(self, inputs: Mapping[str, Any], outputs: Optional[Sequence[str]] = None) -> dict[str, np.ndarray]:
        """The outputs (all, or those named) for numpy inputs given by signature name.

        >>> import tempfile
        >>> model_dir = tempfile.mkdtemp()
        >>> x = tf.placeholder(tf.float64, [None, 3], name="x")
        >>> save(model_dir, tf.get_default_graph(), inputs={"x": x}, outputs={"y": tf.reduce_sum(x, 1)})
        >>> load(model_dir).predict({"x": np.ones((2, 3))})
        {'y': array([3., 3.])}
        """
        sig = self.signature
        unknown = sorted(set(inputs) - set(sig.inputs))
        missing = sorted(set(sig.inputs) - set(inputs))
        if unknown or missing:
            raise FeedError(f"predict takes the inputs {sorted(sig.inputs)}; "
                            f"unknown: {unknown or 'none'}, missing: {missing or 'none'}")
        names = list(sig.outputs) if outputs is None else list(outputs)
        wrong = [n for n in names if n not in sig.outputs]
        if wrong:
            raise FeedError(f"predict: no output named {wrong[0]!r}; the outputs are {sorted(sig.outputs)}")
        feed = {sig.inputs[k].tensor: v for k, v in inputs.items()}
        return self.session.run({n: sig.outputs[n].tensor for n in names}, feed)

    def __repr__(self) -> str:
        return f"<SavedModel inputs={sorted(self.signature.inputs)} outputs={sorted(self.signature.outputs)}>"


def load(path: str) -> SavedModel:
    """The saved model in directory `path`; SavedModelError names what is wrong."""
    if not os.path.isdir(path):
        raise SavedModelError(f"{path}: no such directory; a saved model is a directory holding {MANIFEST}")
    return from_documents(lambda name: _read_local(os.path.join(path, name)), path)


def from_documents(read: Callable[[str], str], where: str) -> SavedModel:
    """A saved model from `read(file name) -> text`; `where` names its location in errors."""
    manifest = _manifest(read(MANIFEST), f"{where}/{MANIFEST}")
    text = read(GRAPH_DEF)
    found = _digest(text)
    if found != manifest["graph_def_sha256"]:
        raise SavedModelError(f"{where}/{GRAPH_DEF}: SHA-256 {found} differs from "
                              f"{manifest['graph_def_sha256']} recorded in {MANIFEST}: the file was changed "
                              "after saving; save the model again")
    try:
        graph_def = graphdef.GraphDef.from_json(text)
        graph, session = importer.load(graph_def)
    except EngineError as e:
        raise SavedModelError(f"{where}/{GRAPH_DEF}: {e}") from None
    where = f"{where}/{MANIFEST}"
    sig = Signature(_checked_infos(graph, manifest["inputs"], "input", where),
                    _checked_infos(graph, manifest["outputs"], "output", where))
    return SavedModel(graph, session, sig, graph_def)


def _manifest(text: str, where: str) -> dict:
    try:
        data = json.loads(text)
    except ValueError as e:
        raise SavedModelError(f"{where}: not valid JSON ({e})") from None
    if not isinstance(data, dict) or set(data) != _MANIFEST_KEYS:
        raise SavedModelError(f"{where}: expected an object with the keys {sorted(_MANIFEST_KEYS)}")
    if data["format"] != FORMAT or data["version"] != VERSION:
        raise SavedModelError(f"{where}: format {data['format']!r} version {data['version']!r} is not "
                              f"{FORMAT!r} version {VERSION}")
    if not isinstance(data["graph_def_sha256"], str):
        raise SavedModelError(f"{where}: graph_def_sha256 must be a hex string")
    for role in ("inputs", "outputs"):
        if not isinstance(data[role], dict):
            raise SavedModelError(f"{where}: {role} must be an object of name -> tensor info")
    if not data["outputs"]:
        raise SavedModelError(f"{where}: the signature has no outputs")
    return data


def _checked_infos(graph: Graph, entries: dict, role: str, where: str) -> dict[str, TensorInfo]:
    """Signature entries, each checked against the tensor of the graph it names."""
    infos = {}
    for name, entry in entries.items():
        try:
            if not isinstance(entry, dict) or set(entry) != _INFO_KEYS or not isinstance(entry["tensor"], str):
                raise ValueError(f"expected an object with the keys {sorted(_INFO_KEYS)}")
            stated = TensorInfo(entry["tensor"], dtypes.as_dtype(entry["dtype"]),
                                None if entry["shape"] is None else _dims(entry["shape"]))
            actual = _infos(graph, {name: stated.tensor}, role)[name]
        except (EngineError, ValueError, TypeError) as e:
            raise SavedModelError(f"{where}: {role} {name!r}: {e}") from None
        if stated != actual:
            raise SavedModelError(
                f"{where}: {role} {name!r} is recorded as {stated.dtype.name} {format_dims(stated.shape)}, "
                f"but tensor '{actual.tensor}' is {actual.dtype.name} {format_dims(actual.shape)}")
        infos[name] = actual
    return infos


def _dims(shape: Any) -> tuple:
    if not isinstance(shape, list) or not all(d is None or (type(d) is int and d >= 0) for d in shape):
        raise ValueError(f"shape must be a list of non-negative ints or nulls, found {shape!r}")
    return tuple(shape)


def _digest(text: str) -> str:
    return hashlib.sha256(text.rstrip("\n").encode("utf-8")).hexdigest()


def _read_local(path: str) -> str:
    """A document: a file, or a directory of part files as Spark's text writer leaves it."""
    if os.path.isdir(path):
        parts = sorted(n for n in os.listdir(path) if n.startswith("part-"))
        if not parts:
            raise SavedModelError(f"{path}: a directory without part files")
        files = [os.path.join(path, n) for n in parts]
    elif os.path.isfile(path):
        files = [path]
    else:
        raise SavedModelError(f"{path}: missing; a saved model holds {MANIFEST} and {GRAPH_DEF}")
    try:
        chunks = []
        for file in files:
            with open(file, encoding="utf-8") as f:
                chunks.append(f.read())
    except (OSError, UnicodeDecodeError) as e:
        raise SavedModelError(f"{path}: cannot be read ({e})") from None
    return "".join(chunks)
