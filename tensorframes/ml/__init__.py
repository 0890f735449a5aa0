"""Graphs as Spark ML stages, usable in Pipelines, tuning and ML persistence.

- :class:`GraphTransformer`: runs a graph (or a saved model) over a DataFrame;
  ``inputMapping`` {column: placeholder}, ``outputMapping`` {tensor: column}.
- :class:`GraphEstimator`: trains a graph (built by a Python function at fit
  time, or given with its loss) by distributed training; ``fit`` returns a
  :class:`GraphModel`, which appends prediction columns.
- :func:`learn_stage`: an ``engine.learn`` estimator (LinearRegressor,
  DNNClassifier, ...) as a GraphEstimator that trains its network.
- All three save and load with Spark ML persistence (``save``/``load``,
  ``PipelineModel.load``) in our own safe format: Params as Spark metadata,
  the graph as an ``engine.saved_model`` directory (see
  :mod:`tensorframes.ml.persistence`). Nothing is pickled, so a model-building
  function is never saved: only graphs are.
"""

from tensorframes.ml.estimator import GraphEstimator, GraphModel
from tensorframes.ml.learn import learn_stage
from tensorframes.ml.transformer import GraphTransformer

__all__ = ["GraphTransformer", "GraphEstimator", "GraphModel", "learn_stage"]
