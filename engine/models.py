"""A small Keras-like model API over numpy arrays.

`Sequential([Dense(...), ...], seed=0)` builds its graph (in a Graph and
Session of its own) on first use; `compile(optimizer, loss, metrics)`,
`fit(x, y, epochs, batch_size, validation_split)`, `evaluate` and `predict`
work as in Keras and are deterministic under the seed. `model.save(path)`
writes an engine.saved_model directory (GraphDef with variable values and
a signature) plus `model.json` with the compile settings; `load_model(path)`
reads them back (validation only: nothing is executed or unpickled).

>>> from engine.layers import Dense
>>> x = np.random.default_rng(0).normal(size=(64, 2))
>>> y = (x[:, 0] > 0).astype(np.float64)[:, None]
>>> model = Sequential([Dense(16, activation="relu"), Dense(1, activation="sigmoid")], seed=0)
>>> model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
>>> history = model.fit(x, y, epochs=10, batch_size=32, validation_split=0.2, verbose=0)
>>> sorted(history.history)
['accuracy', 'loss', 'val_accuracy', 'val_loss']
"""
from __future__ import annotations

import json
import os
from typing import Any, NamedTuple, Optional, Sequence

import numpy as np

from . import compile_settings as settings
from . import dtypes, saved_model
from .errors import FailedPreconditionError, SavedModelError, ShapeError
from .graph import Graph, Operation, Tensor, tensor_of
from .initializers import derived_seed
from .ops.core import group, placeholder
from .session import Session
from .variables import global_variables, trainable_variables, variables_initializer

FORMAT = "engine.Model"
VERSION = 1
MODEL_JSON = "model.json"


class History:
    """Per-epoch results of `fit`: `history.history["loss"]`, `["val_loss"]`, ..."""

    def __init__(self) -> None:
        self.epoch: list[int] = []
        self.history: dict[str, list[float]] = {}

    def record(self, epoch: int, logs: dict[str, float]) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self) -> str:
        return f"<History epochs={len(self.epoch)} keys={sorted(self.history)}>"


class Training(NamedTuple):
    """The training part of a model's graph: targets in, loss and metrics out.

    `loss` and `metrics` are the inference-mode ones (evaluate); `fit_loss` and
    `fit_metrics` those of the training-mode outputs that `train_op` minimizes
    (the same tensors unless a layer such as Dropout behaves differently in training).
    """

    targets: Tensor
    loss: Tensor
    train_op: Operation
    metrics: dict  # metric name -> scalar tensor
    fit_loss: Tensor
    fit_metrics: dict


class Model:
    """A graph with an input and an output tensor, trained and run over numpy arrays.

    `Sequential` builds one from layers; `load_model` rebuilds one from disk.
    """

    def __init__(self, seed: Optional[int] = None, graph: Optional[Graph] = None,
                 session: Optional[Session] = None) -> None:
        self.graph = graph or Graph()
        self.session = session or Session(self.graph)
        self.seed = seed
        self.inputs: Optional[Tensor] = None
        self.outputs: Optional[Tensor] = None
        self.logits: Optional[Tensor] = None
        self.output_activation = "linear"
        self.fit_outputs: Optional[Tensor] = None  # training-mode outputs and logits (Dropout on, ...)
        self.fit_logits: Optional[Tensor] = None
        self.updates: list = []  # ops each training step runs besides the optimizer's (moving averages)
        self.compile_settings: Optional[dict] = None
        self._optimizer: Any = None
        self._training: Optional[Training] = None
        self._rng = np.random.default_rng(derived_seed(seed, 1))

    # -- compile -----------------------------------------------------------------------
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Optional[Sequence[str]] = None) -> None:
        """Choose the optimizer (instance or name), the loss and the metrics by name."""
        metrics = list(metrics or [])
        settings.check(loss, metrics)
        self._optimizer = settings.optimizer(optimizer)
        name = optimizer if isinstance(optimizer, str) else type(optimizer).__name__
        self.compile_settings = {"optimizer": name, "loss": loss, "metrics": metrics}
        self._training = None

    def _training_part(self) -> Training:
        """The loss, metric and train ops, added to the graph on first need."""
        if self._training is not None:
            return self._training
        if self.compile_settings is None:
            raise FailedPreconditionError("the model must be compiled before fit or evaluate: call model.compile(...)")
        loss_name = self.compile_settings["loss"]
        with self.graph.as_default(), self.graph.name_scope("training"):
            targets = placeholder(*self._target_spec(loss_name), name="targets")
            loss, metrics = self._loss_and_metrics(targets, self.outputs, self.logits)
            fit_loss, fit_metrics = loss, metrics
            if self.fit_outputs is not None and self.fit_outputs is not self.outputs:
                with self.graph.name_scope("fit"):
                    fit_loss, fit_metrics = self._loss_and_metrics(targets, self.fit_outputs, self.fit_logits)
            train_op = self._optimizer.minimize(fit_loss, var_list=self.weights)
            if self.updates:
                train_op = group(train_op, *self.updates, name="train_step")
        self._training = Training(targets, loss, train_op, metrics, fit_loss, fit_metrics)
        self._initialize_new_variables()
        return self._training

    def _loss_and_metrics(self, targets: Tensor, outputs: Tensor, logits: Optional[Tensor]) -> tuple:
        loss_name = self.compile_settings["loss"]
        head = settings.LossInputs(targets, outputs, logits, self.output_activation)
        return (settings.loss(loss_name)(head),
                {m: settings.metric(m, loss_name)(head) for m in self.compile_settings["metrics"]})

    def _target_spec(self, loss_name: str) -> tuple:
        if settings.sparse_targets(loss_name):
            return dtypes.int64, (None,)
        return self.outputs.dtype, self.outputs._dims

    def _initialize_new_variables(self) -> None:
        new = [v for v in global_variables(self.graph) if v.op.name not in self.session.variables]
        if new:
            with self.graph.as_default():
                init = variables_initializer(new, name="init")
            self.session.run(init)

    # -- weights -------------------------------------------------------------------------
    @property
    def weights(self) -> list:
        """The trainable variables (layer weights; optimizer slots are not among them)."""
        return trainable_variables(self.graph)

    def get_weights(self) -> list[np.ndarray]:
        self._require_built()
        return [self.session.variables[v.op.name].copy() for v in self.weights]

    def set_weights(self, values: Sequence[np.ndarray]) -> None:
        self._require_built()
        if len(values) != len(self.weights):
            raise ValueError(f"set_weights: the model has {len(self.weights)} weights, found {len(values)} arrays")
        self.session.load_variables({v.op.name: np.asarray(a) for v, a in zip(self.weights, values)})

    # -- running -------------------------------------------------------------------------
    def _require_built(self) -> None:
        if self.outputs is None:
            raise FailedPreconditionError("the model has no graph yet: fit or predict on data first")

    def _ensure_built(self, x: np.ndarray) -> None:
        """Build the graph for inputs like `x` if needed (models that build lazily override this)."""
        self._require_built()

    def _inputs_array(self, x: Any) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim < 2 or len(x) == 0:
            raise ShapeError(f"model inputs are arrays of shape (samples, features...) with at least one "
                             f"sample, found shape {x.shape}")
        self._ensure_built(x)
        return x

    def _targets_array(self, y: Any, n: int) -> np.ndarray:
        y = np.asarray(y)
        if len(y) != n:
            raise ShapeError(f"x has {n} samples but y has {len(y)}")
        target = self._training_part().targets
        if y.ndim == 1 and target._dims is not None and len(target._dims) == 2 and target._dims[1] == 1:
            return y[:, None]
        if y.ndim == 2 and y.shape[1] == 1 and target._dims == (None,):
            return y[:, 0]
        return y

    def predict(self, x: Any, batch_size: Optional[int] = None) -> np.ndarray:
        """The model's outputs for `x`, computed `batch_size` rows at a time (default: all)."""
        x = self._inputs_array(x)
        parts = [self.session.run(self.outputs, {self.inputs: x[s]}) for s in _batches(len(x), batch_size)]
        return np.concatenate(parts)

    def evaluate(self, x: Any, y: Any, batch_size: Optional[int] = None, verbose: int = 0) -> Any:
        """The loss (and metrics, as a list `[loss, *metrics]`) over `x`, `y`."""
        logs = self._evaluate(x, y, batch_size)
        if verbose:
            print(_format_logs(logs))
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def _evaluate(self, x: Any, y: Any, batch_size: Optional[int] = None) -> dict[str, float]:
        x = self._inputs_array(x)
        y = self._targets_array(y, len(x))
        training = self._training_part()
        fetches = {"loss": training.loss, **training.metrics}
        totals = _Mean()
        for s in _batches(len(x), batch_size):
            totals.add(self.session.run(fetches, {self.inputs: x[s], training.targets: y[s]}), len(x[s]))
        return totals.result()

    def fit(self, x: Any, y: Any, batch_size: Optional[int] = 32, epochs: int = 1, verbose: int = 1,
            validation_split: float = 0.0, validation_data: Optional[tuple] = None,
            shuffle: bool = True, early_stopping: Any = None, callbacks: Optional[Sequence[Any]] = None) -> History:
        """Train for `epochs` passes over `x`, `y` in mini-batches; returns a History.

        As in Keras, `validation_split` holds out the last fraction of the
        samples (before shuffling) and `loss` per epoch is the mean of the
        batch losses weighted by batch size. `batch_size=None` is full batch
        (one step per epoch, as full-batch optimizers like L-BFGS need).
        `early_stopping` (an engine.train.EarlyStopping) sees each epoch's
        `val_loss` (else `loss`) and ends training when it no longer
        improves significantly. `callbacks` (engine.callbacks, e.g.
        `TensorBoard(log_dir)`) are told about the training and each epoch.
        """
        if not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"fit: epochs must be a non-negative integer, found {epochs!r}")
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"fit: validation_split must be in [0, 1), found {validation_split!r}")
        x = self._inputs_array(x)
        y = self._targets_array(y, len(x))
        if validation_split and validation_data is None:
            cut = int(len(x) * (1.0 - validation_split))
            x, y, validation_data = x[:cut], y[:cut], (x[cut:], y[cut:])
        if len(x) == 0:
            raise ValueError(f"fit: validation_split={validation_split} leaves no training samples")
        training = self._training_part()
        fetches = {"loss": training.fit_loss, **training.fit_metrics, "_": training.train_op}
        history = History()
        callbacks = list(callbacks or [])
        for callback in callbacks:
            callback.set_model(self)
            callback.on_train_begin()
        try:
            for epoch in range(epochs):
                order = self._rng.permutation(len(x)) if shuffle else np.arange(len(x))
                totals = _Mean()
                for s in _batches(len(x), batch_size):
                    rows = order[s]
                    out = self.session.run(fetches, {self.inputs: x[rows], training.targets: y[rows]})
                    out.pop("_")
                    totals.add(out, len(rows))
                logs = totals.result()
                if validation_data is not None:
                    logs.update({f"val_{k}": v for k, v in self._evaluate(*validation_data).items()})
                history.record(epoch, logs)
                for callback in callbacks:
                    callback.on_epoch_end(epoch, logs)
                if verbose:
                    print(f"Epoch {epoch + 1}/{epochs} - {_format_logs(logs)}")
                if early_stopping is not None and early_stopping.update(logs.get("val_loss", logs["loss"])):
                    break
        finally:
            for callback in callbacks:
                callback.on_train_end()
        return history

    # -- saving ----------------------------------------------------------------------------
    def save(self, path: str, overwrite: bool = True) -> None:
        """Write the model to directory `path`: an engine.saved_model (GraphDef with the
        variable values, signature `inputs` -> `outputs`) plus `model.json` with the
        compile settings and the tensors training needs."""
        self._require_built()
        if self.compile_settings is not None:
            self._training_part()
        saved_model.save(path, self.session, {"inputs": self.inputs}, {"outputs": self.outputs}, overwrite)
        with open(os.path.join(path, MODEL_JSON), "w", encoding="utf-8") as f:
            json.dump(self._config(), f, separators=(",", ":"), allow_nan=False)

    def _config(self) -> dict:
        training = None
        if self._training is not None:
            t = self._training
            training = {"targets": t.targets.name, "loss": t.loss.name, "train_op": t.train_op.name,
                        "metrics": {k: v.name for k, v in t.metrics.items()}, "fit_loss": t.fit_loss.name,
                        "fit_metrics": {k: v.name for k, v in t.fit_metrics.items()}}
        return {"format": FORMAT, "version": VERSION, "seed": self.seed,
                "logits": self.logits.name if self.logits is not None else None,
                "output_activation": self.output_activation, "compile": self.compile_settings,
                "training": training}

    def __repr__(self) -> str:
        shown = f"{self.inputs.shape} -> {self.outputs.shape}" if self.outputs is not None else "not built"
        return f"<{type(self).__name__} {shown}>"


class Sequential(Model):
    """A stack of layers, each called on the previous one's output.

    The graph is built on first use from the width of the data (or at
    `build(input_shape)`); `seed` seeds the layers' initializers (unless a
    layer has its own seed) and the shuffling of `fit`.
    """

    def __init__(self, layers: Optional[Sequence[Any]] = None, seed: Optional[int] = None,
                 dtype: Any = dtypes.float32) -> None:
        super().__init__(seed)
        self.dtype = dtypes.as_dtype(dtype)
        self.layers: list = []
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: Any) -> None:
        if self.outputs is not None:
            raise FailedPreconditionError("cannot add layers to a Sequential model that is already built")
        if not callable(layer):
            raise TypeError(f"a layer is callable on a tensor, found {layer!r}")
        self.layers.append(layer)

    def build(self, input_shape: Sequence[Optional[int]]) -> None:
        """Create the graph for inputs of shape `(None, features...)`."""
        if not self.layers:
            raise FailedPreconditionError("a Sequential model needs at least one layer")
        for i, layer in enumerate(self.layers):
            if hasattr(layer, "seed") and layer.seed is None:  # unseeded layers draw from the model's seed
                layer.seed = derived_seed(self.seed, 0, i)
        with self.graph.as_default():
            self.inputs = placeholder(self.dtype, (None,) + tuple(input_shape)[1:], name="inputs")
            self.outputs, self.logits = self._stack(training=False)
            if any(getattr(layer, "uses_training", False) for layer in self.layers):
                with self.graph.name_scope("fit"):
                    self.fit_outputs, self.fit_logits = self._stack(training=True)
            last = self.layers[-1]
            if hasattr(last, "linear"):
                self.output_activation = last.activation_name
        self.updates = [u for layer in self.layers for u in getattr(layer, "updates", ())]
        self._initialize_new_variables()

    def _stack(self, training: bool) -> tuple:
        """(outputs, logits or None) of the layers over the inputs, in inference or training mode.

        Two stacks share the variables: predict, evaluate and saved models
        get the inference one, free of random ops and batch statistics.
        """
        h = self.inputs
        for layer in self.layers[:-1]:
            h = _call(layer, h, training)
        last = self.layers[-1]
        if hasattr(last, "linear"):
            logits = last.linear(h)
            return last.activate(logits), logits
        return _call(last, h, training), None

    def _ensure_built(self, x: np.ndarray) -> None:
        if self.outputs is None:
            self.build(x.shape)


def _call(layer: Any, h: Tensor, training: bool) -> Tensor:
    return layer(h, training=training) if getattr(layer, "uses_training", False) else layer(h)


def load_model(path: str) -> Model:
    """The model saved with `model.save(path)`: graph, variable values and settings.

    The saved model is checked and rebuilt (engine.saved_model: nothing is
    executed or unpickled). Compiled models come back with their training
    ops, so `fit` continues with the same optimizer state. A saved model
    without `model.json` loads as an uncompiled model if its signature has
    one input and one output.
    """
    saved = saved_model.load(path)
    where = os.path.join(path, MODEL_JSON)
    config = _read_config(where) if os.path.exists(where) else _DEFAULT_CONFIG
    sig = saved.signature
    if len(sig.inputs) != 1 or len(sig.outputs) != 1:
        raise SavedModelError(f"{path}: a model has one input and one output; the signature has "
                              f"{sorted(sig.inputs)} -> {sorted(sig.outputs)}")
    model = Model(config["seed"], saved.graph, saved.session)
    model.inputs = tensor_of(saved.graph, next(iter(sig.inputs.values())).tensor)
    model.outputs = tensor_of(saved.graph, next(iter(sig.outputs.values())).tensor)
    try:
        _restore(model, config)
    except (KeyError, TypeError, ValueError) as e:
        raise SavedModelError(f"{where}: the settings do not match the graph: {e}") from None
    return model


def _restore(model: Model, config: dict) -> None:
    graph = model.graph
    model.logits = tensor_of(graph, config["logits"]) if config["logits"] else None
    model.output_activation = config["output_activation"]
    if config["compile"] is not None:
        settings.check(config["compile"]["loss"], config["compile"]["metrics"])
        model.compile_settings = config["compile"]
    if config["training"] is not None:
        t = config["training"]
        loss, metrics = tensor_of(graph, t["loss"]), {k: tensor_of(graph, v) for k, v in t["metrics"].items()}
        model._training = Training(tensor_of(graph, t["targets"]), loss, graph.get_operation_by_name(t["train_op"]),
                                   metrics, tensor_of(graph, t["fit_loss"]) if "fit_loss" in t else loss,
                                   {k: tensor_of(graph, v) for k, v in t["fit_metrics"].items()}
                                   if "fit_metrics" in t else metrics)


_CONFIG_TYPES = {"format": str, "version": int, "seed": (int, type(None)), "logits": (str, type(None)),
                 "output_activation": str, "compile": (dict, type(None)), "training": (dict, type(None))}
_DEFAULT_CONFIG = {"format": FORMAT, "version": VERSION, "seed": None, "logits": None,
                   "output_activation": "linear", "compile": None, "training": None}


def _read_config(where: str) -> dict:
    """model.json, checked for its keys and their types."""
    try:
        with open(where, encoding="utf-8") as f:
            config = json.load(f)
    except ValueError as e:
        raise SavedModelError(f"{where}: not valid JSON ({e})") from None
    if not isinstance(config, dict) or set(config) != set(_CONFIG_TYPES):
        raise SavedModelError(f"{where}: malformed model settings; expected the keys {sorted(_CONFIG_TYPES)}")
    for key, kind in _CONFIG_TYPES.items():
        if not isinstance(config[key], kind):
            raise SavedModelError(f"{where}: malformed model settings: {key!r} is {config[key]!r}")
    if config["format"] != FORMAT or config["version"] != VERSION:
        raise SavedModelError(f"{where}: not the settings of format {FORMAT} version {VERSION}")
    return config


def _batches(n: int, batch_size: Optional[int]) -> list[slice]:
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive integer or None, found {batch_size!r}")
    step = batch_size or max(n, 1)
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


class _Mean:
    """Sample-weighted means of per-batch scalars."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.count = 0

    def add(self, values: dict, n: int) -> None:
        for key, value in values.items():
            self.sums[key] = self.sums.get(key, 0.0) + float(value) * n
        self.count += n

    def result(self) -> dict[str, float]:
        return {k: v / self.count for k, v in self.sums.items()}


def _format_logs(logs: dict[str, float]) -> str:
    return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())
