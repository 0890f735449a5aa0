"""Saving and loading graph stages: Spark ML persistence in our own safe format.

A stage saved at ``path`` (any Hadoop-compatible path Spark can write)::

    path/metadata/                  Spark ML metadata (DefaultParamsWriter): class, uid and
                                    every Param except the graph
    path/model/saved_model.json/    a saved model (engine.saved_model): the signature and the
    path/model/graph_def.json/      GraphDef with variable values, each document written as
                                    one text part file by Spark

Only DataFrame readers and writers touch the files (no SparkContext
calls), so this also runs under Spark Connect. Nothing is pickled: the
graph is JSON with raw little-endian arrays, validated when it is read,
and ``path/model`` loads without Spark through ``engine.saved_model.load``
when the path is local. A Python function that builds a model cannot be
saved safely, so only built graphs are persisted (see GraphEstimator.build).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import urlparse

from pyspark.errors import AnalysisException
from pyspark.ml.util import DefaultParamsReader, DefaultParamsWriter, MLReader, MLWriter
from pyspark.sql import SparkSession

from engine import atomic, saved_model
from engine.errors import SavedModelError
from engine.graphdef import GraphDef
from tensorframes.errors import PersistenceError

if TYPE_CHECKING:
    from tensorframes.ml.transformer import GraphStage

MODEL_DIR = "model"
S = TypeVar("S")


class GraphStageWriter(MLWriter):
    """Writes a graph stage: metadata through DefaultParamsWriter, the graph as a saved model."""

    def __init__(self, instance: GraphStage) -> None:
        super().__init__()
        self.instance = instance

    def save(self, path: str) -> None:
        """Check the stage, write it to a temporary sibling of ``path``, then put it in place.

        Nothing at ``path`` is touched until the new copy is complete (see
        engine.atomic), so a stage that fails its checks or a failed write
        leaves an old stage loadable. Local paths only go through the Python
        filesystem (this also works under Spark Connect); other schemes keep
        Spark's own overwrite.
        """
        if not isinstance(path, str):
            raise TypeError(f"path should be a string, found {type(path).__name__}")
        docs = self._documents()
        local = _local_path(path)
        if local is None:
            super().save(path)
            return
        if os.path.exists(local) and not self.shouldOverwrite:
            raise PersistenceError(f"{path}: already exists; use write().overwrite().save(path) to replace it")
        with atomic.replacing_directory(local) as tmp:
            self._write(tmp, docs)

    def saveImpl(self, path: str) -> None:
        self._write(path, self._documents())

    def _documents(self) -> dict[str, str]:
        """The saved-model documents of the stage; raises StageParamError before any write."""
        stage = self.instance
        graph, _ = stage.loadGraph()
        return saved_model.documents(GraphDef.from_json(stage.getGraphDef()), stage.signature(graph))

    def _write(self, path: str, docs: dict[str, str]) -> None:
        stage = self.instance
        params = {p.name: v for p, v in stage._paramMap.items() if p.name != stage.graphDef.name}
        DefaultParamsWriter.saveMetadata(stage, path, self.sparkSession, paramMap=params)
        for name, text in docs.items():
            self.sparkSession.createDataFrame([(text,)], "value string").coalesce(1).write.text(
                f"{path}/{MODEL_DIR}/{name}")


def _local_path(path: str) -> str | None:
    """The local filesystem path of ``path`` (no scheme, or ``file:``), else None."""
    parsed = urlparse(path)
    if parsed.scheme in ("", "file"):
        return parsed.path if parsed.scheme else path
    return None


class GraphStageReader(MLReader, Generic[S]):
    """Reads a stage saved by :class:`GraphStageWriter` as an instance of ``cls``."""

    def __init__(self, cls: type[S]) -> None:
        super().__init__()
        self.cls = cls

    def load(self, path: str) -> S:
        spark = self.sparkSession
        try:
            metadata = DefaultParamsReader.loadMetadata(path, spark)
        except Exception as e:  # missing, corrupt (a checksum or JSON error from the JVM) or not JSON at all
            raise PersistenceError(f"{path}: not a saved tensorframes.ml stage (its metadata can't be read: "
                                   f"{str(e).strip().splitlines()[0]})") from e
        expected = f"{self.cls.__module__}.{self.cls.__name__}"
        if metadata.get("class") != expected:
            raise PersistenceError(f"{path}: holds a {metadata.get('class')}, not a {expected}; "
                                   f"load it with that class (or PipelineModel.load for a pipeline)")
        model = saved_model.from_documents(lambda name: _read_text(spark, f"{path}/{MODEL_DIR}/{name}"),
                                           f"{path}/{MODEL_DIR}")
        instance: Any = self.cls()
        instance._resetUid(metadata["uid"])
        DefaultParamsReader.getAndSetParams(instance, metadata)
        instance._set(graphDef=model.graph_def)
        return instance


def _read_text(spark: SparkSession, path: str) -> str:
    """The text of a document written by ``write.text`` (one part file)."""
    try:
        rows = spark.read.text(path, wholetext=True).collect()
    except AnalysisException as e:
        raise SavedModelError(f"{path}: cannot be read ({str(e).splitlines()[0]})") from None
    if len(rows) != 1:
        raise SavedModelError(f"{path}: expected one part file, found {len(rows)}")
    return rows[0][0]
