"""engine.learn: scikit-learn's own checks and tools accept the estimators, and they learn what they should.

References: numpy's least squares for the linear regressor, scikit-learn's
LogisticRegression for the linear classifier, on data sets scikit-learn
ships (breast cancer, diabetes). scikit-learn is a test dependency only.
"""
from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_diabetes  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

from engine.errors import NotFittedError  # noqa: E402
from engine.learn import DNNClassifier, DNNRegressor, LinearClassifier, LinearRegressor  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

# Checks that need scikit-learn's own classes, which an estimator that doesn't import scikit-learn
# can't raise: our NotFittedError is a ValueError and AttributeError like scikit-learn's, and a
# column-vector y is accepted as 1-d without scikit-learn's DataConversionWarning.
NEEDS_SKLEARN_CLASSES = {
    "check_estimators_unfitted": "raises engine.errors.NotFittedError (ValueError, AttributeError), "
                                 "not sklearn.exceptions.NotFittedError",
    "check_supervised_y_2d": "a column-vector y is used as 1-d without sklearn's DataConversionWarning",
}


@pytest.fixture(scope="module")
def cancer():
    x, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(x), y


@pytest.fixture(scope="module")
def diabetes():
    x, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(x), y


FAST = {"optimizer": "adam", "learning_rate": 0.05, "steps": 60}  # the checks fit dozens of times


@pytest.mark.parametrize("estimator", [LinearRegressor(**FAST), LinearClassifier(**FAST), DNNRegressor(**FAST),
                                       DNNClassifier(**FAST)], ids=lambda e: type(e).__name__)
def test_scikit_learn_check_estimator(estimator):
    expected = {k: v for k, v in NEEDS_SKLEARN_CLASSES.items()
                if k != "check_supervised_y_2d" or hasattr(estimator, "predict_proba")}
    with pytest.warns(UserWarning, match="does not inherit from `sklearn.base.BaseEstimator`"):
        results = check_estimator(estimator, expected_failed_checks=expected, on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    assert not failed
    assert sum(r["status"] == "passed" for r in results) >= 50


def test_linear_regressor_reaches_least_squares(diabetes):
    x, y = diabetes
    model = LinearRegressor(optimizer="adam", learning_rate=1.0, batch_size=None, steps=2000).fit(x, y)
    solution, *_ = np.linalg.lstsq(np.c_[x, np.ones(len(x))], y, rcond=None)
    np.testing.assert_allclose(np.r_[model.coef_, model.intercept_], solution, rtol=1e-5, atol=1e-4)


def test_linear_classifier_matches_logistic_regression(cancer):
    x, y = cancer
    ours = LinearClassifier(optimizer="adam", learning_rate=0.05, batch_size=None, steps=400).fit(x, y)
    reference = LogisticRegression(C=1e6, max_iter=5000).fit(x, y)  # ~unpenalized, as ours
    assert ours.score(x, y) >= reference.score(x, y) - 0.01
    agree = np.mean(ours.predict(x) == reference.predict(x))
    assert agree >= 0.98


def test_pipeline_cross_val_score_on_real_data():
    x, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), DNNClassifier(hidden_units=(16,), optimizer="adam",
                                                         learning_rate=0.01, steps=150))
    scores = cross_val_score(pipe, x, y, cv=3)
    assert scores.min() > 0.93  # always guessing "benign" scores 0.63


def test_grid_search_tunes_and_refits(diabetes):
    x, y = diabetes
    search = GridSearchCV(DNNRegressor(optimizer="adam", batch_size=None, steps=100),
                          {"learning_rate": [1e-4, 0.05], "hidden_units": [(8,)]}, cv=2).fit(x, y)
    assert search.best_params_["learning_rate"] == 0.05  # 100 steps at 1e-4 barely move the weights
    assert search.best_estimator_.score(x, y) > 0.4  # diabetes: linear models reach R² ≈ 0.5


def test_clone_copies_parameters_not_the_fit(cancer):
    x, y = cancer
    model = DNNClassifier(hidden_units=(4, 3), dropout=0.1, steps=5).fit(x, y)
    copy = clone(model)
    assert copy.get_params() == model.get_params() and not hasattr(copy, "coefs_")
    assert [w.shape for w in model.coefs_] == [(30, 4), (4, 3), (3, 1)]


def test_same_seed_same_model_other_seed_other_model(cancer):
    x, y = cancer
    a, b = (DNNClassifier(dropout=0.2, steps=20, seed=7).fit(x, y) for _ in range(2))
    c = DNNClassifier(dropout=0.2, steps=20, seed=8).fit(x, y)
    np.testing.assert_array_equal(a.predict_proba(x), b.predict_proba(x))
    assert not np.allclose(a.predict_proba(x), c.predict_proba(x))


def test_dropout_changes_training_not_prediction(cancer):
    x, y = cancer
    dropped = DNNClassifier(dropout=0.5, steps=20).fit(x, y)
    kept = DNNClassifier(steps=20).fit(x, y)
    assert dropped.loss_curve_ != kept.loss_curve_
    np.testing.assert_array_equal(dropped.predict_proba(x), dropped.predict_proba(x))  # no mask at predict


def test_multiclass_labels_come_back_as_given():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 2))
    names = np.array(["east", "north", "west"])
    y = names[np.argmax(x @ np.array([[1.0, -1.0, 0.0], [0.0, 1.0, -1.0]]), axis=1)]
    model = LinearClassifier(optimizer="adam", learning_rate=0.1, steps=300).fit(x, y)
    assert model.classes_.tolist() == names.tolist() and model.coef_.shape == (3, 2)
    assert model.predict_proba(x).shape == (300, 3) and model.score(x, y) > 0.95


def test_pickle_is_the_graphdef_and_predicts_the_same(diabetes):
    x, y = diabetes
    model = DNNRegressor(hidden_units=(5,), steps=10).fit(x, y)
    blob = pickle.dumps(model)
    assert b"engine.graph" not in blob and b'"nodes"' in blob  # the graph travels as GraphDef JSON
    np.testing.assert_array_equal(pickle.loads(blob).predict(x), model.predict(x))


def test_predict_before_fit_and_bad_params_say_what_to_do(cancer):
    x, y = cancer
    with pytest.raises(NotFittedError, match="call fit"):
        LinearClassifier().predict(x)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        LinearClassifier(optimizer="lbfgs").fit(x, y)
    with pytest.raises(ValueError, match="hidden_units must be a tuple of positive ints"):
        DNNRegressor(hidden_units=(0,)).fit(x, y)
    with pytest.raises(ValueError, match="X has 29 features, but LinearClassifier is expecting 30"):
        LinearClassifier(steps=1).fit(x, y).predict(x[:, 1:])


def test_the_estimators_do_not_import_scikit_learn():
    code = ("import sys, numpy as np; from engine.learn import DNNClassifier; "
            "x = np.random.default_rng(0).normal(size=(20, 3)); "
            "m = DNNClassifier(steps=3).fit(x, x[:, 0] > 0); m.predict(x); m.score(x, x[:, 0] > 0); "
            "assert not any(k.startswith('sklearn') for k in sys.modules), 'sklearn was imported'")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
