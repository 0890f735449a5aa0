"""scikit-learn-style estimators on engine graphs: skflow's simplified interface (tf.contrib.learn).

``LinearRegressor``, ``LinearClassifier``, ``DNNRegressor`` and
``DNNClassifier`` take numpy-like ``X`` (samples, features) and ``y``, and
follow scikit-learn's estimator protocol (``fit``, ``predict``,
``predict_proba``, ``score``, ``get_params``/``set_params``, fitted
attributes ending in ``_``) without importing scikit-learn, so its tools
accept them: ``clone``, ``cross_val_score``, ``GridSearchCV``, ``Pipeline``.
Each ``fit`` builds an engine graph (``engine.layers.Dense``), trains it with
an ``engine.train`` optimizer on seeded mini-batches and keeps it for
prediction. On a Spark DataFrame, ``tensorframes.ml.learn_stage(estimator)``
trains the same network with distributed training.

>>> import numpy as np
>>> from engine.learn import LinearRegressor
>>> x = np.arange(10.0)[:, None]
>>> LinearRegressor(optimizer="adam", learning_rate=0.5, batch_size=None, steps=500).fit(x, 2 * x[:, 0]).score(x, 2 * x[:, 0]) > 0.999
True
"""
from .estimators import DNNClassifier, DNNRegressor, LinearClassifier, LinearRegressor

__all__ = ["LinearRegressor", "LinearClassifier", "DNNRegressor", "DNNClassifier"]
