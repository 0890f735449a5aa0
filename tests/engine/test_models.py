"""Sequential: building, compile settings, fit/evaluate/predict, determinism, save/load, errors."""
from __future__ import annotations

import json

import numpy as np
import pytest

import engine as tf
from engine import saved_model
from engine.layers import Dense
from engine.models import Sequential, load_model
from engine.train import EarlyStopping

RNG = np.random.default_rng(0)
X = RNG.normal(size=(120, 3))
Y_REG = X @ np.array([1.5, -2.0, 0.5]) + 0.3
Y_BIN = (X[:, 0] - X[:, 1] > 0).astype(np.float64)
Y_CLS = np.argmax(X, axis=1)


def _mlp(outputs=1, activation="sigmoid", seed=0, dtype=tf.float64):
    return Sequential([Dense(8, activation="tanh"), Dense(outputs, activation=activation)], seed=seed, dtype=dtype)


def _trained(seed=0, epochs=3, validation_split=0.0):
    model = _mlp(seed=seed)
    model.compile(tf.train.AdamOptimizer(0.05), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(X, Y_BIN, epochs=epochs, batch_size=16, validation_split=validation_split, verbose=0)
    return model, history


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# -- building and predict -------------------------------------------------------------------
def test_predict_builds_the_graph_from_the_data_width():
    model = _mlp(outputs=2, activation="softmax")
    out = model.predict(X)
    assert out.shape == (120, 2) and model.inputs.shape.as_list() == [None, 3]
    np.testing.assert_allclose(out.sum(axis=1), 1.0)


def test_predict_computes_the_stacked_layers():
    model = _mlp()
    model.build((None, 3))
    k1, b1, k2, b2 = model.get_weights()
    np.testing.assert_allclose(model.predict(X), _sigmoid(np.tanh(X @ k1 + b1) @ k2 + b2), rtol=1e-12)


def test_predict_in_batches_equals_one_batch():
    model = _mlp()
    np.testing.assert_allclose(model.predict(X, batch_size=7), model.predict(X), rtol=1e-14)  # BLAS blocking


def test_each_model_owns_its_graph_and_session():
    first, second = _mlp(), _mlp()
    first.predict(X)
    second.predict(X)
    assert first.graph is not second.graph and first.session is not second.session
    assert "inputs" not in [op.name for op in tf.get_default_graph().get_operations()]


def test_float32_is_the_default_dtype():
    assert Sequential([Dense(1)], seed=0).predict(X).dtype == np.float32


# -- losses and metrics by name -------------------------------------------------------------------
def _probability(t):
    """A sigmoid the model does not recognize, so the loss sees probabilities, not logits."""
    return tf.sigmoid(t)


LOSS_CASES = [  # loss, output units and activation, targets, numpy loss of (outputs, logits, targets)
    pytest.param("mse", 1, None, Y_REG, lambda p, z, y: np.mean((p[:, 0] - y) ** 2), id="mse"),
    pytest.param("mae", 1, None, Y_REG, lambda p, z, y: np.mean(np.abs(p[:, 0] - y)), id="mae"),
    pytest.param("binary_crossentropy", 1, "sigmoid", Y_BIN,
                 lambda p, z, y: np.mean(np.logaddexp(0, z[:, 0]) - y * z[:, 0]), id="binary-from-logits"),
    pytest.param("binary_crossentropy", 1, _probability, Y_BIN,
                 lambda p, z, y: np.mean(-y * np.log(p[:, 0] + 1e-7) - (1 - y) * np.log(1 - p[:, 0] + 1e-7)),
                 id="binary-from-probabilities"),
    pytest.param("categorical_crossentropy", 3, "softmax", np.eye(3)[Y_CLS],
                 lambda p, z, y: np.mean(-np.sum(y * np.log(p), axis=1)), id="categorical"),
    pytest.param("sparse_categorical_crossentropy", 3, "softmax", Y_CLS,
                 lambda p, z, y: np.mean(-np.log(p[np.arange(len(y)), y])), id="sparse-categorical"),
    pytest.param("sparse_categorical_crossentropy", 3, _probability, Y_CLS,
                 lambda p, z, y: np.mean(-np.log(np.clip(p[np.arange(len(y)), y], 1e-7, 1 - 1e-7))),
                 id="sparse-categorical-from-probabilities"),
]


@pytest.mark.parametrize("loss, units, activation, y, reference", LOSS_CASES)
def test_evaluate_computes_the_named_loss(loss, units, activation, y, reference):
    model = _mlp(outputs=units, activation=activation)
    model.compile("sgd", loss)
    model.build((None, 3))
    p, z = model.session.run([model.outputs, model.logits], {model.inputs: X})
    assert model.evaluate(X, y) == pytest.approx(reference(p, z, y), rel=1e-10)


def test_binary_crossentropy_of_a_saturated_sigmoid_is_finite():
    model = Sequential([Dense(1, activation="sigmoid", kernel_initializer=tf.initializers.constant(1e3))],
                       dtype=tf.float64)
    model.compile("sgd", "binary_crossentropy")
    loss = model.evaluate(X, 1 - Y_BIN)  # confidently wrong: outputs are exactly 0 or 1
    assert np.isfinite(loss) and loss > 100
    model.fit(X, 1 - Y_BIN, epochs=1, batch_size=None, verbose=0)
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


ACCURACY_CASES = [  # loss, units, activation, targets, predicted labels of outputs, labels of targets
    pytest.param("binary_crossentropy", 1, "sigmoid", Y_BIN, lambda p: (p[:, 0] > 0.5), lambda y: y == 1,
                 id="binary"),
    pytest.param("categorical_crossentropy", 3, "softmax", np.eye(3)[Y_CLS], lambda p: p.argmax(1),
                 lambda y: y.argmax(1), id="categorical"),
    pytest.param("sparse_categorical_crossentropy", 3, "softmax", Y_CLS, lambda p: p.argmax(1), lambda y: y,
                 id="sparse-categorical"),
]


@pytest.mark.parametrize("loss, units, activation, y, predicted, labels", ACCURACY_CASES)
def test_accuracy_metric_matches_predictions(loss, units, activation, y, predicted, labels):
    model = _mlp(outputs=units, activation=activation)
    model.compile("adam", loss, metrics=["accuracy"])
    model.fit(X, y, epochs=2, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(X, y)
    assert accuracy == np.mean(predicted(model.predict(X)) == labels(y))


def test_mse_and_mae_metrics_match_numpy():
    model = _mlp(activation=None)
    model.compile("sgd", "mse", metrics=["mse", "mae"])
    loss, mse, mae = model.evaluate(X, Y_REG)
    residual = model.predict(X)[:, 0] - Y_REG
    assert loss == mse == pytest.approx(np.mean(residual ** 2), rel=1e-12)
    assert mae == pytest.approx(np.mean(np.abs(residual)), rel=1e-12)


@pytest.mark.parametrize("name, optimizer", [("sgd", "GradientDescentOptimizer"), ("adam", "AdamOptimizer"),
                                             ("rmsprop", "RMSPropOptimizer"), ("adagrad", "AdagradOptimizer"),
                                             ("momentum", "MomentumOptimizer"), ("adadelta", "AdadeltaOptimizer"),
                                             ("ftrl", "FtrlOptimizer")])
def test_optimizer_names(name, optimizer):
    model = _mlp()
    model.compile(name, "binary_crossentropy")
    model.fit(X, Y_BIN, epochs=1, verbose=0)
    assert type(model._optimizer).__name__ == optimizer


# -- fit ------------------------------------------------------------------------------------------
def test_fit_reduces_the_loss():
    model = _mlp(activation=None)
    model.compile(tf.train.AdamOptimizer(0.05), "mse")
    losses = model.fit(X, Y_REG, epochs=20, batch_size=16, verbose=0).history["loss"]
    assert len(losses) == 20 and losses[-1] < 0.05 * losses[0]


def test_history_reports_loss_metrics_and_validation_per_epoch():
    _, history = _trained(epochs=4, validation_split=0.25)
    assert history.epoch == [0, 1, 2, 3]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 4 for v in history.history.values())


def test_validation_split_holds_out_the_last_samples():
    model, history = _trained(epochs=1, validation_split=0.25)
    val_loss, val_accuracy = model.evaluate(X[90:], Y_BIN[90:])
    assert (history.history["val_loss"][0], history.history["val_accuracy"][0]) == (val_loss, val_accuracy)


def test_epoch_loss_is_the_sample_weighted_mean_of_batch_losses():
    model = _mlp(activation=None)
    model.compile("sgd", "mse")
    before = model.evaluate(X, Y_REG)
    history = model.fit(X, Y_REG, epochs=1, batch_size=None, verbose=0)  # one full batch: the loss before the step
    assert history.history["loss"] == [pytest.approx(before, rel=1e-12)]


def test_fits_with_the_same_seed_give_identical_weights():
    first, _ = _trained(seed=5)
    again, _ = _trained(seed=5)
    other, _ = _trained(seed=6)
    for a, b in zip(first.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.get_weights()[0], other.get_weights()[0])


def test_early_stopping_ends_training_when_the_loss_stalls():
    model = _mlp(activation=None)
    model.compile(tf.train.GradientDescentOptimizer(0.0), "mse")  # the loss never improves
    history = model.fit(X, Y_REG, epochs=50, verbose=0, early_stopping=EarlyStopping(patience=2))
    assert len(history.epoch) == 3


def test_zero_epochs_leave_the_weights_alone():
    model = _mlp()
    model.compile("sgd", "binary_crossentropy")
    model.build((None, 3))
    before = model.get_weights()
    assert model.fit(X, Y_BIN, epochs=0, verbose=0).history == {}
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_recompiling_trains_with_the_new_settings():
    model, _ = _trained()
    model.compile("sgd", "mse")
    assert model.fit(X, Y_BIN, epochs=1, verbose=0).history.keys() == {"loss"}


def test_verbose_fit_prints_one_line_per_epoch(capsys):
    model = _mlp()
    model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    model.fit(X, Y_BIN, epochs=2, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[1].startswith("Epoch 2/2 - loss: ") and "accuracy: " in lines[1]


def test_set_weights_round_trips_get_weights():
    model = _mlp()
    model.build((None, 3))
    weights = [w + 1.0 for w in model.get_weights()]
    model.set_weights(weights)
    for a, b in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)


# -- save and load -----------------------------------------------------------------------------
def test_save_and_load_give_identical_predictions(tmp_path):
    model, _ = _trained()
    model.save(str(tmp_path))
    loaded = load_model(str(tmp_path))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.evaluate(X, Y_BIN) == model.evaluate(X, Y_BIN)


def test_a_saved_model_is_an_engine_saved_model(tmp_path):
    model, _ = _trained()
    model.save(str(tmp_path))
    outputs = saved_model.load(str(tmp_path)).predict({"inputs": X})["outputs"]
    np.testing.assert_array_equal(outputs, model.predict(X))


def test_a_loaded_model_continues_training_with_its_optimizer_state(tmp_path):
    model, _ = _trained()
    model.save(str(tmp_path))
    loaded = load_model(str(tmp_path))
    for m in (model, loaded):
        m.fit(X, Y_BIN, epochs=1, batch_size=16, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_an_uncompiled_model_saves_and_predicts(tmp_path):
    model = _mlp()
    model.predict(X)
    model.save(str(tmp_path))
    loaded = load_model(str(tmp_path))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    with pytest.raises(tf.FailedPreconditionError, match="compile"):
        loaded.evaluate(X, Y_BIN)


def test_a_saved_model_without_settings_loads_uncompiled(tmp_path):
    model, _ = _trained()
    model.save(str(tmp_path))
    (tmp_path / "model.json").unlink()
    loaded = load_model(str(tmp_path))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.compile_settings is None


def _tamper(path, edit):
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


TAMPERING = [
    pytest.param("model.json", lambda d: d.pop("logits"), "malformed model settings", id="missing-key"),
    pytest.param("model.json", lambda d: d.update(seed="0"), "'seed' is '0'", id="wrong-type"),
    pytest.param("model.json", lambda d: d.update(logits="nowhere:0"), "do not match the graph", id="unknown-tensor"),
    pytest.param("model.json", lambda d: d.update(version=99), "version", id="version"),
    pytest.param("model.json", lambda d: d["compile"].update(loss="hinge"), "unknown loss", id="unknown-loss"),
    pytest.param("model.json", lambda d: d["training"].update(train_op="rm"), "no operation", id="unknown-op-name"),
    pytest.param("graph_def.json", lambda d: d["nodes"][0].update(op="Exec"), "SHA-256", id="changed-graph"),
]


@pytest.mark.parametrize("filename, edit, message", TAMPERING)
def test_loading_a_tampered_model_fails_validation(tmp_path, filename, edit, message):
    model, _ = _trained(epochs=1)
    model.save(str(tmp_path))
    _tamper(tmp_path / filename, edit)
    with pytest.raises(tf.SavedModelError, match=message):
        load_model(str(tmp_path))


# -- errors ----------------------------------------------------------------------------------------
def _compiled():
    model = _mlp()
    model.compile("sgd", "binary_crossentropy")
    return model


ERRORS = [
    pytest.param(lambda: _mlp().compile("sgd", "hinge"), ValueError, "unknown loss", id="unknown-loss"),
    pytest.param(lambda: _mlp().compile("nadam", "mse"), ValueError, "unknown optimizer", id="unknown-optimizer"),
    pytest.param(lambda: _mlp().compile(object(), "mse"), TypeError, "minimize", id="not-an-optimizer"),
    pytest.param(lambda: _mlp().compile("sgd", "mse", metrics=["auc"]), ValueError, "unknown metric",
                 id="unknown-metric"),
    pytest.param(lambda: _mlp().fit(X, Y_BIN, verbose=0), tf.FailedPreconditionError, "compile", id="not-compiled"),
    pytest.param(lambda: _compiled().fit(X, Y_BIN[:10], verbose=0), tf.ShapeError, "samples", id="length-mismatch"),
    pytest.param(lambda: _compiled().fit(X[:, 0], Y_BIN, verbose=0), tf.ShapeError, "features", id="rank-1-inputs"),
    pytest.param(lambda: _compiled().fit(X, Y_BIN, epochs=-1), ValueError, "epochs", id="negative-epochs"),
    pytest.param(lambda: _compiled().fit(X, Y_BIN, validation_split=1.0), ValueError, "validation_split",
                 id="validation-split"),
    pytest.param(lambda: _compiled().fit(X, Y_BIN, batch_size=0), ValueError, "batch_size", id="batch-size"),
    pytest.param(lambda: Sequential([]).predict(X), tf.FailedPreconditionError, "at least one layer",
                 id="no-layers"),
    pytest.param(lambda: Sequential([3]), TypeError, "callable", id="not-a-layer"),
    pytest.param(lambda: _mlp().get_weights(), tf.FailedPreconditionError, "no graph", id="weights-before-build"),
]


@pytest.mark.parametrize("call, error, message", ERRORS)
def test_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_inputs_of_another_width_are_refused_after_building():
    model = _mlp()
    model.predict(X)
    with pytest.raises(tf.FeedError, match=r"shape \(120, 4\)"):
        model.predict(np.hstack([X, X[:, :1]]))


def test_layers_cannot_be_added_after_building():
    model = _mlp()
    model.predict(X)
    with pytest.raises(tf.FailedPreconditionError, match="already built"):
        model.add(Dense(1))
