"""`tf.train.Saver`: variable checkpoints, in the engine's own format.

`Saver().save(sess, "dir/model.ckpt", global_step=100)` writes, for the
prefix `dir/model.ckpt-100`:

    model.ckpt-100.data-00000-of-00001   the values: raw little-endian bytes, one after another
    model.ckpt-100.index                 JSON: format, version, SHA-256 of the data file, and per
                                         saved name its dtype, shape and byte offset
    model.ckpt-100.meta                  the graph as a GraphDef (for import_meta_graph)
    checkpoint                           TF's text state file: the latest and the kept prefixes

Each file is written to a temporary name and renamed, the index last, so a
prefix whose index exists is complete; a crash leaves the previous
checkpoint as it was. `max_to_keep` deletes the oldest checkpoints beyond
it. Restoring checks the digest, names, dtypes and shapes before it sets
any variable. Nothing is pickled. (The files are not TensorFlow's.)

>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> w = tf.Variable([1.0, 2.0], name="w")
>>> sess = tf.Session(); sess.run(w.initializer)
>>> saver = tf.train.Saver(max_to_keep=3)
>>> path = saver.save(sess, folder + "/model.ckpt", global_step=7)
>>> path.endswith("model.ckpt-7") and tf.train.latest_checkpoint(folder) == path
True
>>> saver.restore(tf.Session(), path)
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from typing import Any, NamedTuple, Optional

import numpy as np

from .. import atomic, dtypes
from ..errors import (DataLossError, FailedPreconditionError, GraphDefError, GraphError, InvalidArgumentError,
                      NotFoundError)
from ..graph import Tensor, get_default_graph
from ..variables import Variable, global_variables

FORMAT = "engine.Checkpoint"
VERSION = 1
DATA_SUFFIX = ".data-00000-of-00001"
_INDEX_KEYS = {"format", "version", "data_sha256", "variables"}


def _var_dict(var_list: Any) -> dict[str, Variable]:
    """Saved name -> variable, from None (all global variables), a list or a dict."""
    if var_list is None:
        var_list = global_variables()
    if isinstance(var_list, dict):
        items = list(var_list.items())
    else:
        items = [(v.op.name, v) for v in var_list]
    names: dict[str, Variable] = {}
    for name, var in items:
        if not isinstance(var, Variable):
            raise TypeError(f"Saver: '{name}' must be a Variable, found {type(var).__name__}")
        if name in names:
            raise ValueError(f"Saver: at least two variables have the same name: {name}")
        names[name] = var
    return names


class Saver:
    """Saves and restores variables; see the module doc for the files.

    `var_list`: None (all global variables), a list of variables (saved
    under their op names) or a dict {saved name: variable}. `max_to_keep`:
    how many recent checkpoints to keep (None or 0: all). Sharding and
    `keep_checkpoint_every_n_hours` are accepted and ignored.
    """

    def __init__(self, var_list: Any = None, reshape: bool = False, sharded: bool = False,
                 max_to_keep: Optional[int] = 5, keep_checkpoint_every_n_hours: float = 10000.0,
                 name: Optional[str] = None, restore_sequentially: bool = False, saver_def: Any = None,
                 builder: Any = None, defer_build: bool = False, allow_empty: bool = False,
                 write_version: Any = None, pad_step_number: bool = False, save_relative_paths: bool = False,
                 filename: Optional[str] = None) -> None:
        self._vars = _var_dict(var_list)
        if not self._vars and not allow_empty:
            raise ValueError("No variables to save")
        self._max_to_keep = max_to_keep
        self._pad = pad_step_number
        self._last: list[str] = []

    @property
    def last_checkpoints(self) -> list[str]:
        """The prefixes of the checkpoints this Saver keeps, oldest first."""
        return list(self._last)

    def save(self, sess: Any, save_path: str, global_step: Any = None, latest_filename: Optional[str] = None,
             meta_graph_suffix: str = "meta", write_meta_graph: bool = True, write_state: bool = True,
             strip_default_attrs: bool = False) -> str:
        """Write the variables' values in `sess`; return the checkpoint prefix (`save_path-step`)."""
        prefix = self._prefix(sess, save_path, global_step)
        folder = os.path.dirname(os.path.abspath(prefix))
        if not os.path.isdir(folder):
            raise ValueError(f"Parent directory of {save_path} doesn't exist, can't save.")
        values = {name: _value(sess, name, var) for name, var in self._vars.items()}
        data, entries, offset = [], {}, 0
        for name, value in values.items():
            raw = np.ascontiguousarray(value).astype(value.dtype.newbyteorder("<"), copy=False).tobytes()
            entries[name] = {"dtype": dtypes.from_numpy(value).name, "shape": list(value.shape), "offset": offset}
            data.append(raw)
            offset += len(raw)
        blob = b"".join(data)
        if write_meta_graph:
            atomic.write_file(f"{prefix}.{meta_graph_suffix}", sess.graph.as_graph_def().to_bytes())
        atomic.write_file(prefix + DATA_SUFFIX, blob)
        index = {"format": FORMAT, "version": VERSION, "data_sha256": hashlib.sha256(blob).hexdigest(),
                 "variables": entries}
        atomic.write_file(prefix + ".index", json.dumps(index, sort_keys=True).encode())
        self._keep(prefix, meta_graph_suffix)
        if write_state:
            _write_state(folder, latest_filename or "checkpoint", prefix, self._last)
        return prefix

    def _prefix(self, sess: Any, save_path: str, global_step: Any) -> str:
        if global_step is None:
            return save_path
        step = int(sess.run(global_step)) if isinstance(global_step, (Tensor, Variable)) else int(global_step)
        return f"{save_path}-{step:08d}" if self._pad else f"{save_path}-{step}"

    def _keep(self, prefix: str, meta_suffix: str) -> None:
        """Record `prefix` as the newest and delete the files of checkpoints beyond max_to_keep."""
        self._last = [p for p in self._last if p != prefix] + [prefix]
        if not self._max_to_keep:
            return
        while len(self._last) > self._max_to_keep:
            old = self._last.pop(0)
            for suffix in (".index", DATA_SUFFIX, f".{meta_suffix}"):
                if os.path.exists(old + suffix):
                    os.remove(old + suffix)

    def restore(self, sess: Any, save_path: Optional[str]) -> None:
        """Set this Saver's variables in `sess` to the values saved at prefix `save_path`."""
        if save_path is None:
            raise ValueError("Can't load save_path when it is None (no checkpoint found?)")
        saved = read_checkpoint(save_path)
        missing = [name for name in self._vars if name not in saved]
        if missing:
            raise NotFoundError(f"Key {missing[0]} not found in checkpoint {save_path} "
                                f"(it holds {sorted(saved)})")
        for name, var in self._vars.items():
            value = saved[name]
            if value.dtype != var.dtype.np or tuple(value.shape) != tuple(var.shape.as_list()):
                raise InvalidArgumentError(
                    f"checkpoint {save_path}: '{name}' is {dtypes.from_numpy(value).name} {value.shape}, "
                    f"variable '{var.op.name}' is {var.dtype.name} {tuple(var.shape.as_list())}")
        sess.load_variables({var.op.name: saved[name] for name, var in self._vars.items()})

    def recover_last_checkpoints(self, checkpoint_paths: list[str]) -> None:
        """Adopt existing checkpoints (e.g. after a restart) so max_to_keep counts them."""
        self._last = [p for p in checkpoint_paths if checkpoint_exists(p)]

    def as_saver_def(self) -> "Saver":
        return self


def _value(sess: Any, name: str, var: Variable) -> np.ndarray:
    if var.graph is not sess.graph:
        raise GraphError(f"Saver: variable '{var.op.name}' is not in the session's graph")
    if var.op.name not in sess.variables:
        raise FailedPreconditionError(f"Attempting to use uninitialized value {var.op.name} while saving "
                                      f"'{name}'; run its initializer or restore it first")
    return np.asarray(sess.variables[var.op.name])


def read_checkpoint(prefix: str) -> dict[str, np.ndarray]:
    """Saved name -> value of the checkpoint at `prefix`, after checking format and digest."""
    index_path = prefix + ".index"
    if not os.path.exists(index_path):
        raise NotFoundError(f"Unsuccessful restore: no checkpoint at prefix {prefix} ({index_path} is missing)")
    try:
        with open(index_path, "rb") as f:
            index = json.loads(f.read())
    except ValueError as e:
        raise DataLossError(f"{index_path}: not a checkpoint index ({e})") from None
    if not isinstance(index, dict) or set(index) != _INDEX_KEYS or index["format"] != FORMAT:
        raise DataLossError(f"{index_path}: not an {FORMAT} index (TensorFlow's own checkpoints can't be read)")
    if index["version"] != VERSION:
        raise DataLossError(f"{index_path}: checkpoint version {index['version']!r}, this engine reads {VERSION}")
    with open(prefix + DATA_SUFFIX, "rb") as f:
        blob = f.read()
    if hashlib.sha256(blob).hexdigest() != index["data_sha256"]:
        raise DataLossError(f"{prefix + DATA_SUFFIX}: contents do not match the digest in {index_path}")
    out = {}
    for name, entry in index["variables"].items():
        dtype = dtypes.as_dtype(entry["dtype"]).np
        count = int(np.prod(entry["shape"], dtype=np.int64))
        raw = np.frombuffer(blob, dtype=dtype.newbyteorder("<"), count=count, offset=entry["offset"])
        out[name] = raw.astype(dtype).reshape(entry["shape"])
    return out


# -- the checkpoint state file (TensorFlow's text format) --------------------------------------
class CheckpointState(NamedTuple):
    model_checkpoint_path: str
    all_model_checkpoint_paths: list


def _write_state(folder: str, filename: str, latest: str, kept: list[str]) -> None:
    def rel(p: str) -> str:
        return os.path.relpath(p, folder) if os.path.dirname(os.path.abspath(p)) == folder else p
    lines = [f'model_checkpoint_path: "{rel(latest)}"'] + [f'all_model_checkpoint_paths: "{rel(p)}"' for p in kept]
    atomic.write_file(os.path.join(folder, filename), ("\n".join(lines) + "\n").encode())


def get_checkpoint_state(checkpoint_dir: str, latest_filename: Optional[str] = None) -> Optional[CheckpointState]:
    """The state file of `checkpoint_dir` (paths made absolute), or None if there is none."""
    path = os.path.join(checkpoint_dir, latest_filename or "checkpoint")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        pairs = re.findall(r'^(\w+): "(.*)"$', f.read(), flags=re.M)

    def absolute(p: str) -> str:
        return p if os.path.isabs(p) else os.path.join(checkpoint_dir, p)
    latest = [absolute(v) for k, v in pairs if k == "model_checkpoint_path"]
    if not latest:
        raise DataLossError(f"{path}: no model_checkpoint_path entry")
    return CheckpointState(latest[-1], [absolute(v) for k, v in pairs if k == "all_model_checkpoint_paths"])


def latest_checkpoint(checkpoint_dir: str, latest_filename: Optional[str] = None) -> Optional[str]:
    """The prefix of the newest checkpoint in `checkpoint_dir`, or None."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is None or not checkpoint_exists(state.model_checkpoint_path):
        return None
    return state.model_checkpoint_path


def checkpoint_exists(checkpoint_prefix: str) -> bool:
    return os.path.exists(checkpoint_prefix + ".index")


def list_variables(ckpt_dir_or_file: str) -> list[tuple[str, list]]:
    """(name, shape) of every value in a checkpoint (a prefix, or a directory's latest)."""
    prefix = latest_checkpoint(ckpt_dir_or_file) if os.path.isdir(ckpt_dir_or_file) else ckpt_dir_or_file
    return sorted((name, list(value.shape)) for name, value in read_checkpoint(prefix).items())


def load_variable(ckpt_dir_or_file: str, name: str) -> np.ndarray:
    prefix = latest_checkpoint(ckpt_dir_or_file) if os.path.isdir(ckpt_dir_or_file) else ckpt_dir_or_file
    saved = read_checkpoint(prefix)
    if name not in saved:
        raise NotFoundError(f"Key {name} not found in checkpoint {prefix}")
    return saved[name]


def import_meta_graph(meta_graph_or_file: str, clear_devices: bool = False, import_scope: Optional[str] = None,
                      **kwargs: Any) -> Optional[Saver]:
    """Add the graph saved next to a checkpoint (`prefix.meta`) to the default graph; a Saver for its variables."""
    from ..importer import import_graph_def
    with open(meta_graph_or_file, "rb") as f:
        text = f.read()
    graph = get_default_graph()
    before = set(global_variables(graph))
    try:
        import_graph_def(text, name=import_scope or "")
    except GraphDefError as e:
        raise GraphDefError(f"{meta_graph_or_file}: {e}") from None
    prefix = f"{import_scope}/" if import_scope else ""
    new = {v.op.name[len(prefix):]: v for v in global_variables(graph) if v not in before}
    return Saver(new) if new else None
