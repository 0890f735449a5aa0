"""TensorFlow's protobuf messages, loaded on first use from whichever package ships them.

The `tensorboard` package (the `[tf]` extra) carries TensorFlow's compiled
message definitions under `tensorboard.compat.proto`; TensorFlow itself has
the same ones under `tensorflow.core`. Nothing here imports either until a
message is needed, so `import engine` stays free of protobuf.
"""
from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import ProtobufUnavailableError

# module name in tensorboard.compat.proto -> where TensorFlow keeps the same module
_TF_HOMES = {"graph_pb2": "framework", "node_def_pb2": "framework", "attr_value_pb2": "framework",
             "tensor_pb2": "framework", "tensor_shape_pb2": "framework", "types_pb2": "framework",
             "versions_pb2": "framework", "summary_pb2": "framework", "event_pb2": "util"}
_loaded: dict[str, ModuleType] = {}


def module(name: str) -> ModuleType:
    """The compiled message module `name` (e.g. "graph_pb2"), from tensorboard or tensorflow."""
    if name not in _loaded:
        _loaded[name] = _import(name)
    return _loaded[name]


def _import(name: str) -> ModuleType:
    candidates = [f"tensorboard.compat.proto.{name}", f"tensorflow.core.{_TF_HOMES[name]}.{name}"]
    for candidate in candidates:
        try:
            return importlib.import_module(candidate)
        except ImportError:
            continue
    raise ProtobufUnavailableError(
        f"TensorFlow's protobuf messages ({name}) are needed to read or write TensorFlow GraphDefs and "
        f"TensorBoard files; install them with `pip install 'tensorframes[tf]'` (the tensorboard package; "
        f"TensorFlow itself is not needed). Tried: {', '.join(candidates)}")


def graph_def_class() -> type:
    """TensorFlow's `GraphDef` message class."""
    return module("graph_pb2").GraphDef


def is_message(value: object, name: str) -> bool:
    """True when `value` is TensorFlow's message `name` ("GraphDef"), as tensorflow or tensorboard ship it."""
    descriptor = getattr(value, "DESCRIPTOR", None)
    return getattr(descriptor, "full_name", None) in (f"tensorflow.{name}", f"tensorboard.{name}") \
        and hasattr(value, "SerializeToString")
