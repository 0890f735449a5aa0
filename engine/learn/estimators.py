"""The estimators: a network of ``engine.layers.Dense`` trained by an ``engine.train`` optimizer.

One base class holds everything; the four public classes only choose the
head (regression or classification) and whether there are hidden layers.
``fit`` builds a fresh graph each time (so refitting, ``clone`` and grid
search start over), trains it with mini-batches drawn from a seeded shuffle,
and keeps the graph and its session for ``predict``. Pickling stores the
graph as GraphDef JSON with its variable values (never a pickled graph).
"""
from __future__ import annotations

import inspect
import math
from typing import Any, Callable, Optional, Sequence

import numpy as np

from .. import compile_settings, dtypes, importer, losses
from ..errors import NotFittedError
from ..graph import Graph, Tensor, tensor_of
from ..initializers import derived_seed
from ..layers import Dense, get_activation
from ..ops import nn
from ..ops.core import placeholder
from ..ops.joining import concat
from ..session import Session
from ..variables import global_variables_initializer
from . import inputs

ModelFn = Callable[[Tensor], Tensor]
_OPTIMIZERS = ("adagrad", "adam", "sgd", "momentum", "rmsprop", "adadelta", "ftrl")


class _Net:
    """A fitted network: graph, session, input and output tensors; pickles as GraphDef JSON."""

    def __init__(self, session: Session, inputs_: Tensor, outputs: Tensor) -> None:
        self.session, self.inputs, self.outputs = session, inputs_, outputs

    def run(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(self.outputs, {self.inputs: x})

    def variables(self, names: Sequence[str]) -> list[np.ndarray]:
        return [self.session.variables[n].copy() for n in names]

    def __getstate__(self) -> dict:
        graph = self.session.graph
        return {"graph_def": graph.as_graph_def(self.session.export_variables()).to_json(),
                "inputs": self.inputs.name, "outputs": self.outputs.name}

    def __setstate__(self, state: dict) -> None:
        graph, self.session = importer.load(state["graph_def"])
        self.inputs = tensor_of(graph, state["inputs"])
        self.outputs = tensor_of(graph, state["outputs"])


class _Estimator:
    """What every estimator shares: parameters, validation, the training loop, pickling, tags."""

    _regressor = True
    _hidden_layers = True

    # -- parameters (scikit-learn's protocol, without inheriting from it) ------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters and their current values."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> "_Estimator":
        """Set constructor parameters by name (checked at the next ``fit``); returns self."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for estimator {type(self).__name__}; "
                                 f"valid parameters: {', '.join(valid)}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()}
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if not _same(v, defaults[k])]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self) -> Any:
        # Only scikit-learn calls this hook, so scikit-learn is installed whenever it runs; the
        # estimators themselves never need it.
        from sklearn.utils import ClassifierTags, InputTags, RegressorTags, Tags, TargetTags
        return Tags(estimator_type="regressor" if self._regressor else "classifier",
                    target_tags=TargetTags(required=True, multi_output=self._regressor),
                    input_tags=InputTags(),
                    regressor_tags=RegressorTags() if self._regressor else None,
                    classifier_tags=None if self._regressor else ClassifierTags())

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "_net")

    # -- the network ---------------------------------------------------------------------------
    def network(self, outputs: int) -> ModelFn:
        """The model function: ``features -> outputs`` values or logits, built with this
        estimator's layers (hidden units, activation, seeds); dropout is not in it.

        ``tensorframes.ml.learn_stage`` trains it on a Spark DataFrame.
        """
        self._check_params()
        return lambda x: _forward(self._layers(outputs), x)

    def _layers(self, outputs: int) -> list[Dense]:
        hidden = tuple(self.hidden_units) if self._hidden_layers else ()
        activation = self.activation if self._hidden_layers else None
        widths = [*hidden, outputs]
        return [Dense(int(units), activation=activation if i < len(hidden) else None,
                      name="output" if i == len(hidden) else f"hidden_{i}", seed=derived_seed(self.seed, 0, i))
                for i, units in enumerate(widths)]

    def _check_params(self) -> None:
        if self._hidden_layers:
            units = self.hidden_units
            if not isinstance(units, (tuple, list)) or not all(
                    isinstance(u, (int, np.integer)) and not isinstance(u, bool) and u > 0 for u in units):
                raise ValueError(f"hidden_units must be a tuple of positive ints (units per hidden layer), "
                                 f"found {units!r}")
            get_activation(self.activation)
            if self.dropout is not None and not 0.0 <= self.dropout < 1.0:
                raise ValueError(f"dropout is the fraction of hidden units dropped per step, in [0, 1), "
                                 f"found {self.dropout!r}")
        if self.optimizer not in _OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(_OPTIMIZERS)}, found {self.optimizer!r}")
        if not (isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
            raise ValueError(f"learning_rate must be a number > 0, found {self.learning_rate!r}")
        for name, low in (("batch_size", 1), ("steps", 0), ("epochs", 1)):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, np.integer)) and value >= low):
                raise ValueError(f"{name} must be None or an int >= {low}, found {value!r}")
        if self.steps is None and self.epochs is None:
            raise ValueError("steps and epochs are both None: set at least one to say how long to train")

    # -- fit and predict ----------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> "_Estimator":
        """Train on ``X`` (samples, features) and ``y``: ``steps`` mini-batch updates and/or
        ``epochs`` passes, whichever ends first; a new network each time. Returns self."""
        self._check_params()
        owner = type(self).__name__
        x = inputs.features(X, owner=owner)
        target = self._encode(inputs.targets(y, len(x), owner))
        graph = Graph()
        with graph.as_default():
            features = placeholder(dtypes.float64, (None, x.shape[1]), name="inputs")
            layers = self._layers(self._width(target))
            masks = [placeholder(dtypes.float64, (None, layer.units), name=f"keep_{i}")
                     for i, layer in enumerate(layers[:-1])] if self._dropping() else []
            labels = placeholder(dtypes.int64 if not self._regressor else dtypes.float64,
                                 (None,) + target.shape[1:], name="targets")
            loss = self._loss(_forward(layers, features, masks), labels)
            train_op = compile_settings.optimizer(self.optimizer, float(self.learning_rate)).minimize(loss)
            prediction = self._output(_forward(layers, features))
            init = global_variables_initializer()
        session = Session(graph)
        session.run(init)
        feeds = {"x": features, "y": labels, "masks": masks}
        self.loss_curve_ = self._train(session, feeds, loss, train_op, x, target)
        self.n_iter_ = len(self.loss_curve_)
        self.n_features_in_ = x.shape[1]
        self._net = _Net(session, features, prediction)
        self._set_weights([layer.kernel.op.name for layer in layers], [layer.bias.op.name for layer in layers])
        return self

    def _dropping(self) -> bool:
        return self._hidden_layers and bool(self.dropout)

    def _train(self, session: Session, feeds: dict, loss: Tensor, train_op: Any, x: np.ndarray,
               target: np.ndarray) -> list[float]:
        rows = len(x)
        size = min(self.batch_size or rows, rows)
        per_epoch = math.ceil(rows / size)
        total = min(self.steps if self.steps is not None else math.inf,
                    self.epochs * per_epoch if self.epochs is not None else math.inf)
        rng = np.random.default_rng(derived_seed(self.seed, 1))
        curve: list[float] = []
        while len(curve) < total:
            order = rng.permutation(rows)
            for start in range(0, rows, size):
                if len(curve) >= total:
                    break
                batch = order[start:start + size]
                feed = {feeds["x"]: x[batch], feeds["y"]: target[batch]}
                for mask in feeds["masks"]:
                    keep = rng.random((len(batch), mask.shape[1])) >= self.dropout
                    feed[mask] = keep / (1.0 - self.dropout)
                curve.append(float(session.run([loss, train_op], feed)[0]))
        return curve

    def _raw(self, X: Any) -> np.ndarray:
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet: call fit(X, y) "
                                 "before predict or score")
        return self._net.run(inputs.features(X, self.n_features_in_, type(self).__name__))

    def _set_weights(self, kernels: list[str], biases: list[str]) -> None:
        raise NotImplementedError

    def _encode(self, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _width(self, target: np.ndarray) -> int:
        """How many values the network outputs per sample."""
        raise NotImplementedError

    def _loss(self, outputs: Tensor, labels: Tensor) -> Tensor:
        raise NotImplementedError

    def _output(self, outputs: Tensor) -> Tensor:
        raise NotImplementedError


class _Regressor(_Estimator):
    """Least squares: the network's outputs are the predicted values."""

    def _encode(self, y: np.ndarray) -> np.ndarray:
        y = inputs.values(y)
        self._single_output = y.ndim == 1
        return y[:, None] if y.ndim == 1 else y

    def _width(self, target: np.ndarray) -> int:
        return target.shape[1]

    def _loss(self, outputs: Tensor, labels: Tensor) -> Tensor:
        return losses.mean_squared_error(labels, outputs)

    def _output(self, outputs: Tensor) -> Tensor:
        return outputs

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values: (samples,) if fit saw one target column, else (samples, outputs)."""
        values = self._raw(X)
        return values[:, 0] if self._single_output else values

    def score(self, X: Any, y: Any) -> float:
        """The coefficient of determination R² of ``predict(X)`` (mean over outputs)."""
        y = inputs.values(inputs.targets(y, len(np.asarray(X)), type(self).__name__))
        residual = np.reshape((y - self.predict(X)) ** 2, (len(y), -1)).sum(axis=0)
        spread = np.reshape((y - y.mean(axis=0)) ** 2, (len(y), -1)).sum(axis=0)
        r2 = np.where(spread > 0, 1.0 - residual / np.where(spread > 0, spread, 1.0),
                      np.where(residual > 0, 0.0, 1.0))
        return float(r2.mean())


class _Classifier(_Estimator):
    """Cross-entropy: one logit (sigmoid) for two classes, one per class (softmax) for more."""

    _regressor = False

    def _encode(self, y: np.ndarray) -> np.ndarray:
        self.classes_, codes = inputs.labels(y)
        return codes.astype(np.int64)

    def _width(self, target: np.ndarray) -> int:
        return 1 if len(self.classes_) == 2 else len(self.classes_)

    def _loss(self, outputs: Tensor, labels: Tensor) -> Tensor:
        if outputs.shape[1] == 1:
            return losses.sigmoid_cross_entropy(labels, outputs[:, 0])
        return losses.sparse_softmax_cross_entropy(labels, outputs)

    def _output(self, outputs: Tensor) -> Tensor:
        if outputs.shape[1] == 1:
            p = nn.sigmoid(outputs)
            return concat([1.0 - p, p], axis=1)
        return nn.softmax(outputs)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (samples, classes), columns in the order of ``classes_``."""
        return self._raw(X)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each sample (labels as given to fit)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X: Any, y: Any) -> float:
        """Accuracy: the fraction of samples whose predicted class is ``y``."""
        y = inputs.targets(y, len(np.asarray(X)), type(self).__name__)
        return float(np.mean(self.predict(X) == np.ravel(y)))


class _Linear:
    """No hidden layers; weights as scikit-learn's linear models name them."""

    _hidden_layers = False

    def __init__(self, optimizer: str = "adagrad", learning_rate: float = 0.1, batch_size: Optional[int] = 32,
                 steps: Optional[int] = 200, epochs: Optional[int] = None, seed: Optional[int] = 0) -> None:
        self.optimizer, self.learning_rate, self.batch_size = optimizer, learning_rate, batch_size
        self.steps, self.epochs, self.seed = steps, epochs, seed

    def _set_weights(self, kernels: list[str], biases: list[str]) -> None:
        kernel, bias = self._net.variables([kernels[0], biases[0]])
        single = getattr(self, "_single_output", False)
        self.coef_ = kernel[:, 0] if single else kernel.T
        self.intercept_ = float(bias[0]) if single else bias


class _Deep:
    """Hidden layers; weights as scikit-learn's MLPs name them: one kernel and one bias per layer."""

    _hidden_layers = True

    def __init__(self, hidden_units: tuple = (10,), activation: str = "relu", dropout: Optional[float] = None,
                 optimizer: str = "adagrad", learning_rate: float = 0.1, batch_size: Optional[int] = 32,
                 steps: Optional[int] = 200, epochs: Optional[int] = None, seed: Optional[int] = 0) -> None:
        self.hidden_units, self.activation, self.dropout = hidden_units, activation, dropout
        self.optimizer, self.learning_rate, self.batch_size = optimizer, learning_rate, batch_size
        self.steps, self.epochs, self.seed = steps, epochs, seed

    def _set_weights(self, kernels: list[str], biases: list[str]) -> None:
        self.coefs_ = self._net.variables(kernels)
        self.intercepts_ = self._net.variables(biases)


_TRAINING_DOC = """
    Training: ``optimizer`` by name ({optimizers}) with ``learning_rate``;
    ``batch_size`` rows per step (None: all); ``steps`` updates and/or
    ``epochs`` passes over the data, whichever comes first (None: no limit
    of that kind); ``seed`` fixes the initial weights, the shuffles{dropout},
    so the same data gives the same model.
"""


class LinearRegressor(_Linear, _Regressor):
    """Least-squares linear regression trained by gradient steps (skflow's TensorFlowLinearRegressor).

    ``coef_``, ``intercept_``, ``loss_curve_`` and ``n_iter_`` after fit.

    >>> import numpy as np
    >>> x = np.linspace(-1, 1, 50)[:, None]
    >>> LinearRegressor(learning_rate=0.5, steps=300).fit(x, 3 * x[:, 0] + 1).coef_.round(2)
    array([3.])
    """


class LinearClassifier(_Linear, _Classifier):
    """Logistic (two classes) or softmax (more) regression trained by gradient steps
    (skflow's TensorFlowLinearClassifier).

    ``classes_``, ``coef_`` (one row per logit), ``intercept_``, ``loss_curve_`` and ``n_iter_`` after fit.

    >>> import numpy as np
    >>> x = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> LinearClassifier().fit(x, ["no", "no", "yes", "yes"]).predict([[-3.0], [3.0]]).tolist()
    ['no', 'yes']
    """


class DNNRegressor(_Deep, _Regressor):
    """A feed-forward network for regression (skflow's TensorFlowDNNRegressor).

    ``hidden_units`` per hidden layer, each followed by ``activation``
    ("relu", "tanh", "sigmoid", ...) and, during training only, ``dropout``
    (the fraction of units zeroed per step). ``coefs_``, ``intercepts_``,
    ``loss_curve_`` and ``n_iter_`` after fit.

    >>> import numpy as np
    >>> x = np.linspace(-1, 1, 100)[:, None]
    >>> model = DNNRegressor(hidden_units=(16,), optimizer="adam", learning_rate=0.05, steps=300).fit(x, x[:, 0] ** 2)
    >>> bool(model.score(x, x[:, 0] ** 2) > 0.9)
    True
    """


class DNNClassifier(_Deep, _Classifier):
    """A feed-forward network for classification (skflow's TensorFlowDNNClassifier).

    Layers as in :class:`DNNRegressor`; the output is one logit for two
    classes, one per class for more. ``classes_``, ``coefs_``,
    ``intercepts_``, ``loss_curve_`` and ``n_iter_`` after fit.

    >>> import numpy as np
    >>> x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 8)
    >>> xor = DNNClassifier(hidden_units=(8,), optimizer="adam", learning_rate=0.05, steps=300)
    >>> xor.fit(x, x[:, 0] != x[:, 1]).predict(x[:4]).tolist()
    [False, True, True, False]
    """


for _cls, _dropout in ((LinearRegressor, ""), (LinearClassifier, ""),
                       (DNNRegressor, " and the dropout masks"), (DNNClassifier, " and the dropout masks")):
    _cls.__doc__ += _TRAINING_DOC.format(optimizers=", ".join(_OPTIMIZERS), dropout=_dropout)


def _forward(layers: Sequence[Dense], x: Tensor, masks: Sequence[Tensor] = ()) -> Tensor:
    """``x`` through the layers; hidden outputs multiplied by the dropout masks when given."""
    h = x
    for i, layer in enumerate(layers[:-1]):
        h = layer(h)
        if masks:
            h = h * masks[i]
    return layers[-1].linear(h)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return a is b
