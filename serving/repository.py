"""Model versions on disk, loaded, swapped and unloaded while requests run.

A model's base path holds one `engine.saved_model` directory per version,
named by its number (`DIR/1/`, `DIR/2/`, ...). Names that are not all digits
(`.tmp-3`, `3.partial`, what an atomic writer renames from) are ignored, and
so is a numbered directory without `saved_model.json` yet (a save in
progress). The version policy picks which of the rest to serve (TF Serving's
`latest` with `num_versions`, `specific`, `all`).

`Repository.poll()` (every `file_system_poll_wait_seconds` on a thread of
its own) loads new versions through the engine's saved-model loader (digest
check, validation, nothing executed or unpickled) and only then swaps them
in; a version that fails to load is logged and refused, and the loaded ones
keep serving. It is tried again only when its files change. A version that
leaves the policy is removed from the map first, so new requests go to the
new version, and unloaded once its in-flight requests are answered: every
request is answered by exactly one version.

Only paths under the base path are read: a version directory or document
that is a symlink out of it is refused.
"""
from __future__ import annotations

import contextlib
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

import numpy as np

from engine import saved_model
from engine.errors import EngineError
from engine.saved_model import SavedModel, Signature, TensorInfo

from .batching import Arrays, Batcher, BatchingOptions
from .errors import ConfigError, NotFound, Unavailable

log = logging.getLogger("serving")
SIGNATURE_NAME = "serving_default"  # TF Serving's default key; a saved model has one signature


@dataclass(frozen=True)
class ModelConfig:
    """One served model: TF Serving's `config { name base_path model_version_policy }`."""

    name: str
    base_path: str
    policy: str = "latest"  # latest | specific | all
    num_versions: int = 1  # for latest
    versions: tuple[int, ...] = ()  # for specific

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or self.name in (".", ".."):
            raise ConfigError(f"model name {self.name!r} must be non-empty and hold no '/'")
        if self.policy not in ("latest", "specific", "all"):
            raise ConfigError(f"model {self.name!r}: version policy {self.policy!r} is not latest, specific or all")
        if self.policy == "latest" and self.num_versions < 1:
            raise ConfigError(f"model {self.name!r}: num_versions must be >= 1, found {self.num_versions}")
        if self.policy == "specific" and not self.versions:
            raise ConfigError(f"model {self.name!r}: the specific policy needs a list of versions")

    def wanted(self, available: list[int]) -> list[int]:
        """The versions to serve among those on disk that load, highest first."""
        ordered = sorted(available, reverse=True)
        if self.policy == "latest":
            return ordered[:self.num_versions]
        if self.policy == "specific":
            return [v for v in ordered if v in self.versions]
        return ordered


class Servable:
    """One loaded model version: its signature and the batcher that runs it."""

    def __init__(self, name: str, version: int, model: SavedModel, options: BatchingOptions,
                 on_batch: Callable[[str, int, int], None]) -> None:
        self.name, self.version, self.model = name, version, model
        self.signature: Signature = model.signature
        infos = list(self.signature.inputs.values()) + list(self.signature.outputs.values())
        self.batchable = all(i.shape is not None and len(i.shape) >= 1 and i.shape[0] is None for i in infos)
        self.batcher = Batcher(model.predict, options, self.batchable, name=f"model {name!r} version {version}",
                               on_batch=lambda rows, requests: on_batch(name, rows, requests))
        self._in_use = 0
        self._idle = threading.Condition()

    def submit(self, inputs: Arrays):
        """Queue a request (inputs checked against the signature); a Future of the outputs."""
        return self.batcher.submit(inputs)

    def warm_up(self) -> None:
        """Run one row of zeros (1 for every dimension of any size), so the first request does
        not pay for compiling the plan; a model that cannot run on zeros is still served."""
        inputs = self.signature.inputs
        if any(i.shape is None for i in inputs.values()):
            return
        try:
            self.model.predict({k: _zeros(i) for k, i in inputs.items()})
        except EngineError as e:
            log.warning("model %r version %d: warm-up on zeros failed (%s); serving it anyway",
                        self.name, self.version, e)

    def unload(self) -> None:
        """Wait for the requests that hold this version, then stop its batcher."""
        with self._idle:
            while self._in_use:
                self._idle.wait()
        self.batcher.close()

    def _acquire(self) -> None:
        with self._idle:
            self._in_use += 1

    def _release(self) -> None:
        with self._idle:
            self._in_use -= 1
            if not self._in_use:
                self._idle.notify_all()


def _zeros(info: TensorInfo) -> np.ndarray:
    """A warm-up value for an input: zeros (empty strings), 1 for every dimension of any size."""
    shape = tuple(1 if n is None else n for n in info.shape)
    return np.full(shape, b"", dtype=object) if info.dtype.is_string else np.zeros(shape, info.dtype.np)


@dataclass
class _Model:
    config: ModelConfig
    versions: dict[int, Servable] = field(default_factory=dict)
    refused: dict[int, tuple[tuple, str]] = field(default_factory=dict)  # version -> (fingerprint, error)


class Repository:
    """The served models: version maps swapped under a lock, polled for changes."""

    def __init__(self, configs: list[ModelConfig], options: BatchingOptions,
                 on_batch: Callable[[str, int, int], None] = lambda name, rows, requests: None,
                 on_load: Callable[[str, str], None] = lambda name, outcome: None) -> None:
        names = [c.name for c in configs]
        if len(set(names)) != len(names):
            raise ConfigError(f"model names must be unique, found {names}")
        self.options, self._on_batch, self._on_load = options, on_batch, on_load
        self._models = {c.name: _Model(ModelConfig(c.name, os.path.realpath(c.base_path), c.policy,
                                                   c.num_versions, c.versions)) for c in configs}
        for m in self._models.values():
            if not os.path.isdir(m.config.base_path):
                raise ConfigError(f"model {m.config.name!r}: base path {m.config.base_path} is not a directory")
        self._names = sorted(self._models)
        self._lock = threading.Lock()
        self._poll_lock = threading.Lock()
        self._stop = threading.Event()
        self._poller: Optional[threading.Thread] = None

    # -- requests ---------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """The served model names, sorted."""
        return self._names

    @contextlib.contextmanager
    def acquire(self, name: str, version: Optional[int] = None) -> Iterator[Servable]:
        """The servable of `name` (its highest loaded version, or `version`), held while in use."""
        with self._lock:
            model = self._model(name)
            if version is None:
                if not model.versions:
                    raise Unavailable(f"model {name!r} has no loaded version yet: "
                                      f"{self._why_none(model)}")
                servable = model.versions[max(model.versions)]
            else:
                servable = model.versions.get(version)
                if servable is None:
                    raise NotFound(f"model {name!r} has no version {version}; loaded versions: "
                                   f"{sorted(model.versions) or 'none'}")
            servable._acquire()
        try:
            yield servable
        finally:
            servable._release()

    def status(self, name: str) -> tuple[dict[int, Servable], dict[int, str]]:
        """Loaded versions and refused versions (with their errors) of a model."""
        with self._lock:
            model = self._model(name)
            return dict(model.versions), {v: err for v, (_, err) in model.refused.items()}

    def ready(self) -> bool:
        """Whether every model has a loaded version."""
        with self._lock:
            return all(m.versions for m in self._models.values())

    def _model(self, name: str) -> _Model:
        model = self._models.get(name)
        if model is None:
            raise NotFound(f"no model named {name!r}; served models: {self.names}")
        return model

    @staticmethod
    def _why_none(model: _Model) -> str:
        if model.refused:
            return "; ".join(f"version {v} refused: {err}" for v, (_, err) in sorted(model.refused.items()))
        return f"no complete version directory under {model.config.base_path}"

    # -- loading ----------------------------------------------------------------------
    def poll(self) -> None:
        """Load new versions, swap them in, unload those the policy no longer serves."""
        with self._poll_lock:
            for model in self._models.values():
                self._poll_model(model)

    def _poll_model(self, model: _Model) -> None:
        name = model.config.name
        on_disk = _versions_on_disk(model.config.base_path)
        for version in list(model.refused):
            if on_disk.get(version) != model.refused[version][0]:
                del model.refused[version]  # removed or changed: try it again
        loaded = dict(model.versions)
        new: dict[int, Servable] = {}
        while True:  # a refused version makes room for the next one the policy wants
            candidates = [v for v in on_disk if v not in model.refused]
            pending = [v for v in model.config.wanted(candidates) if v not in loaded and v not in new]
            if not pending:
                break
            for version in pending:
                servable = self._load(model, version, on_disk[version])
                if servable is not None:
                    new[version] = servable
        keep = set(model.config.wanted(candidates))
        with self._lock:
            model.versions.update(new)
            gone = [model.versions.pop(v) for v in list(model.versions) if v not in keep]
        for servable in new.values():
            log.info("model %r: version %d is serving", name, servable.version)
        for servable in gone:
            servable.unload()
            log.info("model %r: version %d unloaded", name, servable.version)

    def _load(self, model: _Model, version: int, fingerprint: tuple) -> Optional[Servable]:
        name = model.config.name
        path = os.path.join(model.config.base_path, str(version))
        try:
            _check_inside(model.config.base_path, path)
            servable = Servable(name, version, saved_model.load(path), self.options, self._on_batch)
        except (EngineError, ConfigError, OSError) as e:
            model.refused[version] = (fingerprint, str(e))
            log.error("model %r: version %d refused, still serving %s: %s", name, version,
                      sorted(model.versions) or "no version", e)
            self._on_load(name, "refused")
            return None
        servable.warm_up()
        self._on_load(name, "loaded")
        return servable

    def start(self, poll_seconds: float) -> None:
        """Load what is on disk now, then poll every `poll_seconds` (0: never again)."""
        self.poll()
        if poll_seconds > 0:
            self._poller = threading.Thread(target=self._poll_loop, args=(poll_seconds,),
                                            name="serving-poll", daemon=True)
            self._poller.start()

    def _poll_loop(self, seconds: float) -> None:
        while not self._stop.wait(seconds):
            try:
                self.poll()
            except Exception:  # a poll must never end hot reload; the next one tries again
                log.exception("polling the model base paths failed")

    def stop(self) -> None:
        """Stop polling and unload every version (after its requests are answered)."""
        self._stop.set()
        if self._poller is not None:
            self._poller.join()
        with self._lock:
            servables = [s for m in self._models.values() for s in m.versions.values()]
            for m in self._models.values():
                m.versions.clear()
        for s in servables:
            s.unload()


def _versions_on_disk(base: str) -> dict[int, tuple]:
    """Numbered version directories holding a manifest, with a fingerprint of their files."""
    found = {}
    try:
        names = os.listdir(base)
    except OSError as e:
        log.error("cannot list the model base path %s: %s", base, e)
        return found
    for entry in names:
        if not (entry.isascii() and entry.isdigit()):
            continue
        path = os.path.join(base, entry)
        manifest = os.path.join(path, saved_model.MANIFEST)
        if not os.path.exists(manifest):
            continue  # not complete yet
        found[int(entry)] = tuple(_stat(os.path.join(path, n)) for n in (saved_model.MANIFEST, saved_model.GRAPH_DEF))
    return found


def _stat(path: str) -> tuple:
    try:
        st = os.lstat(path)
    except OSError:
        return (path, None)
    return (path, st.st_mtime_ns, st.st_size, st.st_ino)


def _check_inside(base: str, path: str) -> None:
    """ConfigError unless the version directory and its documents resolve inside `base`."""
    for p in (path, os.path.join(path, saved_model.MANIFEST), os.path.join(path, saved_model.GRAPH_DEF)):
        real = os.path.realpath(p)
        if os.path.commonpath([base, real]) != base:
            raise ConfigError(f"{p} resolves to {real}, outside the model base path {base}; "
                              "symlinks out of the base path are not served")
