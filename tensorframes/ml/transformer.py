"""GraphTransformer: a graph as a Spark ML Transformer.

Columns feed placeholders (``inputMapping``), tensors become columns
(``outputMapping``), and the graph runs over Arrow batches through
:func:`tensorframes.map_blocks`. Input columns may be ml Vectors (dense or
sparse), arrays or numbers; anything else fails before a job starts.
``transform`` is lazy: errors found on the executors (a null cell, say)
come as our own classes from actions run inside ``with tfs.relay_errors():``.

>>> with tf.Graph().as_default() as g:
...     s = tf.reduce_sum(tf.placeholder(tf.float64, [None, 2], name="x"), 1, name="s")
>>> t = GraphTransformer(graphDef=g, inputMapping={"y": "x"}, outputMapping={"s": "score"})
>>> [r.score for r in t.transform(df).collect()]  # df.y: [i, -i]
[0.0, 0.0, 0.0, 0.0]
"""

from __future__ import annotations

from typing import Any

from pyspark.ml import Transformer
from pyspark.ml.functions import array_to_vector
from pyspark.ml.util import MLReadable, MLWritable
from pyspark.sql import DataFrame
from pyspark.sql import types as T

import engine as tf
from engine import importer, saved_model
from engine.errors import GraphError
from engine.graph import tensor_of
from engine.graph_util import extract_sub_graph
from engine.op_types import PLACEHOLDER
from tensorframes.errors import StageParamError
from tensorframes.map_ops import map_blocks
from tensorframes.ml.params import HasGraphDef, HasMappings, HasVectorOutput
from tensorframes.ml.persistence import GraphStageReader, GraphStageWriter
from tensorframes.spark_columns import column_ref


class GraphStage(HasGraphDef, HasMappings, MLWritable):
    """What every graph stage has: the graph and its column mappings, and saving them."""

    def _setGiven(self, **params: Any) -> Any:
        """Set the Params given a value (None leaves a Param unset, as in pyspark's constructors)."""
        return self._set(**{name: value for name, value in params.items() if value is not None})

    def loadGraph(self) -> tuple[tf.Graph, tf.Session]:
        """A new Graph holding ``graphDef`` and a Session with its variable values."""
        if not self.isDefined(self.graphDef):
            raise StageParamError(f"{self.uid}: graphDef is not set; set it to the graph to run "
                                  "(a Session, a GraphDef or GraphDef JSON)")
        return importer.load(self.getGraphDef())

    def signature(self, graph: tf.Graph) -> saved_model.Signature:
        """Inputs and outputs named after their columns: what a saved copy of this stage offers."""
        outputs = {c: t for t, c in self.getOutputMapping().items()}
        inputs = dict(self.getInputMapping())
        try:
            needed = extract_sub_graph(graph.as_graph_def(), [tensor_of(graph, t).op.name
                                                              for t in outputs.values()])
            mapped = {tensor_of(graph, p).op.name for p in inputs.values()}
            inputs.update({n["name"]: n["name"] for n in needed.nodes
                           if n["op"] == PLACEHOLDER and n["name"] not in mapped})
            return saved_model.signature(graph, inputs, outputs)
        except (GraphError, TypeError) as e:
            raise StageParamError(f"{self.uid}: inputMapping/outputMapping do not fit the graph: {e}") from None

    def write(self) -> GraphStageWriter:
        """A writer of this stage: Params plus the graph as a saved model (see persistence)."""
        return GraphStageWriter(self)


class GraphRunner(GraphStage, HasVectorOutput):
    """A graph stage that transforms: runs the graph and appends the mapped outputs."""

    #: vectorOutput's default: arrays for a plain transformer, Vectors for a model.
    _VECTOR_OUTPUT = False

    def __init__(self, *, graphDef: Any = None, inputMapping: dict | None = None,
                 outputMapping: dict | None = None, vectorOutput: bool | None = None) -> None:
        super().__init__()
        self._setDefault(vectorOutput=self._VECTOR_OUTPUT)
        self._setGiven(graphDef=graphDef, inputMapping=inputMapping, outputMapping=outputMapping,
                       vectorOutput=vectorOutput)

    def setParams(self, **params: Any) -> Any:
        """Set any of graphDef, inputMapping, outputMapping, vectorOutput."""
        return self._setGiven(**params)

    def _transform(self, dataset: DataFrame) -> DataFrame:
        graph, session = self.loadGraph()
        outputs = self._outputs(graph, dataset.columns)
        with graph.as_default():
            fetches = [tf.identity(t, name="tensorframes_output") for t in outputs]
        feed = {placeholder: column for column, placeholder in self.getInputMapping().items()}
        result = map_blocks(fetches, dataset, feed_dict=feed, session=session)
        columns = dict(zip((f.op.name for f in fetches), outputs.values()))
        result = result.withColumnsRenamed(columns)
        if self.getVectorOutput():
            result = _as_vectors(result, list(columns.values()))
        return result

    def _outputs(self, graph: tf.Graph, existing: list[str]) -> dict[tf.Tensor, str]:
        mapping = self.getOutputMapping()
        if not mapping:
            raise StageParamError(f"{self.uid}: outputMapping is empty; map at least one tensor to a "
                                  "column, e.g. outputMapping={'y': 'prediction'}")
        columns = list(mapping.values())
        for column in columns:
            if column in existing:
                raise StageParamError(f"{self.uid}: output column {column!r} already exists; drop it or "
                                      "choose another name in outputMapping")
            if columns.count(column) > 1:
                raise StageParamError(f"{self.uid}: outputMapping writes two tensors to column {column!r}")
        try:
            return {tensor_of(graph, name): column for name, column in mapping.items()}
        except GraphError as e:
            raise StageParamError(f"{self.uid}: outputMapping names a tensor the graph lacks: {e}") from None


def _as_vectors(df: DataFrame, columns: list[str]) -> DataFrame:
    """``df`` with those of ``columns`` that hold one array of floats per row as ml Vectors."""
    floats = (T.DoubleType, T.FloatType)
    converted = {f.name: array_to_vector(column_ref(f.name)) for f in df.schema.fields
                 if f.name in columns and isinstance(f.dataType, T.ArrayType)
                 and isinstance(f.dataType.elementType, floats)}
    return df.withColumns(converted) if converted else df


class GraphTransformer(GraphRunner, Transformer, MLReadable["GraphTransformer"]):
    """Runs a graph over a DataFrame: columns in through ``inputMapping``, columns out through
    ``outputMapping``.

    Placeholders that ``inputMapping`` leaves out are fed by the column of
    their own name. A saved model loads with :meth:`fromSavedModel`.
    """

    @classmethod
    def fromSavedModel(cls, path: str, inputMapping: dict | None = None,
                       outputMapping: dict | None = None, vectorOutput: bool = False) -> "GraphTransformer":
        """A transformer for the saved model in local directory ``path`` (engine.saved_model).

        Columns are named after the signature's inputs and outputs unless
        ``inputMapping`` ({column: input name}) or ``outputMapping``
        ({output name: column}) say otherwise.
        """
        model = saved_model.load(path)
        sig = model.signature
        inputs = inputMapping or {name: name for name in sig.inputs}
        outputs = outputMapping or {name: name for name in sig.outputs}
        for role, names, known in (("input", inputs.values(), sig.inputs), ("output", outputs, sig.outputs)):
            unknown = [n for n in names if n not in known]
            if unknown:
                raise StageParamError(f"{path}: the saved model has no {role} {unknown[0]!r}; "
                                      f"its {role}s are {sorted(known)}")
        return cls(graphDef=model.graph_def, vectorOutput=vectorOutput,
                   inputMapping={c: sig.inputs[n].tensor for c, n in inputs.items()},
                   outputMapping={sig.outputs[n].tensor: c for n, c in outputs.items()})

    @classmethod
    def read(cls) -> GraphStageReader:
        return GraphStageReader(cls)
