"""What runs on the executors: a :class:`~tensorframes.program.Program` over Arrow batches.

Plain Python over pyarrow and numpy (no pyspark), so every function here is
unit-testable without Spark; the Spark side only wraps them in ``arrow_udf``,
``mapInArrow`` and ``applyInArrow``.

The frozen graph is loaded once per Python worker process: :data:`runner`
caches loaded programs by the SHA-256 of their GraphDef, and Spark reuses its
Python workers across tasks (``spark.python.worker.reuse``, on by default), so
later tasks and jobs with the same graph skip the load. Each batch then costs
one Arrow -> numpy view per input column, one cached-plan run and one
numpy -> Arrow conversion per output.
"""

from __future__ import annotations

from typing import Callable, Iterator, Sequence, Tuple

import numpy as np
import pyarrow as pa

from engine import importer
from engine.random_seed import partition_stream
from tensorframes.arrow_convert import to_arrow, to_numpy
from tensorframes.column_spec import ColumnSpec
from tensorframes.errors import EmptyReductionError, FetchShapeError
from tensorframes.program import Program
from tensorframes.program_cache import ProgramCache
from tensorframes.relay import on_executor, task_partition


class Runner:
    """A loaded program: its session, fed placeholders and fetched tensors."""

    def __init__(self, program: Program) -> None:
        graph, self.session = importer.load(program.graph_def)
        self.rows = program.rows
        self.feeds = [graph.get_tensor_by_name(f.placeholder) for f in program.feeds]
        self.fetches = [graph.get_tensor_by_name(o.tensor) for o in program.outputs]
        self.inputs = [[graph.get_tensor_by_name(name) for name in o.inputs] for o in program.outputs]

    def map(self, values: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The fetches' values for one block of the feeds (rows stacked for a row graph)."""
        feed = dict(zip(self.feeds, values))
        if self.rows:
            return self.session.run_batched(self.fetches, feed)
        return self.session.run(self.fetches, feed)

    def reduce(self, blocks: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Each fetch's block of values (rows, or partial results) reduced to one value."""
        if not self.rows:
            return self.session.run(self.fetches, {p[0]: b for p, b in zip(self.inputs, blocks)})
        # Pairwise in a tree: the first half of the rows with the second, vectorized.
        while len(blocks[0]) > 1:
            half = len(blocks[0]) // 2
            feed = {}
            for (first, second), block in zip(self.inputs, blocks):
                feed[first], feed[second] = block[:half], block[half:2 * half]
            merged = self.session.run_batched(self.fetches, feed)
            blocks = [m if len(b) % 2 == 0 else np.concatenate([m, b[-1:]]) for m, b in zip(merged, blocks)]
        return [b[0] for b in blocks]


#: The loaded program, from this process's cache when it ran here before.
runner: ProgramCache[Program, Runner] = ProgramCache(Runner, size=8)


def task_runner(program: Program) -> Runner:
    """:func:`runner` with its random ops restarted from their seeds on the stream of the task's
    partition (:func:`engine.random_seed.partition_stream`): what each task starts with, so seeded
    random ops give a task the same numbers whatever ran in its worker before or on a retry, and
    each partition other numbers."""
    loaded = runner(program)
    loaded.session.reset_kernel_state(partition_stream(task_partition()))
    return loaded


# -- map -----------------------------------------------------------------------------------
def compute(program: Program, columns: Sequence[pa.Array], start_row: int = 0) -> list[np.ndarray]:
    """Run the program on one batch; ``columns`` feed ``program.feeds`` in order.

    ``start_row`` is the batch's first row in its partition, for error messages.
    """
    values = [to_numpy(c, f.spec, start_row) for c, f in zip(columns, program.feeds)]
    results = runner(program).map(values)
    if program.rows and values:
        results = [_broadcast_rows(r, o.spec, len(values[0])) for r, o in zip(results, program.outputs)]
    return results


def _broadcast_rows(value: np.ndarray, spec: ColumnSpec, rows: int) -> np.ndarray:
    """A row graph's fetch that reads no column comes back once; repeat it per row."""
    return np.broadcast_to(value, (rows,) + value.shape) if value.ndim == spec.rank else value


def _check_rows(program: Program, results: Sequence[np.ndarray], rows: int, what: str) -> None:
    for value, output in zip(results, program.outputs):
        found = value.shape[0] if value.ndim else "no"
        if found != rows:
            raise FetchShapeError(
                f"fetch '{output.tensor}' gave {found} rows for {what} {rows} rows (shape {value.shape}); "
                "map_blocks keeps the input rows, so each fetch needs one value per row: use trim=True "
                "to return other rows")


def map_arrays(program: Program, batches: Iterator[pa.Array | Tuple[pa.Array, ...]]) -> Iterator[pa.Array]:
    """Scalar-iterator Arrow UDF body: input columns in, one output column per batch out.

    Several outputs come back as one struct array with fields ``_0``, ``_1``...
    """
    start = 0
    with on_executor():
        task_runner(program)
        for columns in batches:
            if not isinstance(columns, tuple):
                columns = (columns,)
            rows = len(columns[0])
            results = compute(program, columns, start)
            _check_rows(program, results, rows, "a batch of")
            start += rows
            yield _pack([to_arrow(v, o.spec) for v, o in zip(results, program.outputs)])


def _pack(arrays: list[pa.Array]) -> pa.Array:
    if len(arrays) == 1:
        return arrays[0]
    return pa.StructArray.from_arrays(arrays, names=[f"_{i}" for i in range(len(arrays))])


def map_batches(program: Program, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """``mapInArrow`` body for ``trim=True``: only the outputs, as many rows as they have."""
    start = 0
    with on_executor():
        task_runner(program)
        for batch in batches:
            results = compute(program, [batch.column(f.column) for f in program.feeds], start)
            start += batch.num_rows
            counts = {o.tensor: len(v) if v.ndim else "no" for v, o in zip(results, program.outputs)}
            if len(set(counts.values())) > 1:
                raise FetchShapeError(f"map_blocks(trim=True): the fetches must have as many rows as each "
                                      f"other, found {counts}")
            yield pa.RecordBatch.from_arrays([to_arrow(v, o.spec) for v, o in zip(results, program.outputs)],
                                             names=program.output_names)


def arrow_udf_function(program: Program) -> Callable[[Iterator[Tuple[pa.Array, ...]]], Iterator[pa.Array]]:
    """:func:`map_arrays` for ``program`` with the type hints ``arrow_udf`` reads."""
    def run(batches: Iterator[Tuple[pa.Array, ...]]) -> Iterator[pa.Array]:
        return map_arrays(program, batches)
    return run


# -- reduce ----------------------------------------------------------------------------------
def reduce_partition(program: Program, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """``mapInArrow`` body of a reduction: one row of partial results per non-empty partition."""
    with on_executor():
        partial = reduce_batches(program, batches)
        if partial is not None:
            yield partial_batch(program, partial)


def reduce_batches(program: Program, batches: Iterator[pa.RecordBatch]) -> list[np.ndarray] | None:
    """Each fetch reduced over all rows of the batches; None when there are none."""
    run = task_runner(program)
    partials, start = [], 0
    for batch in batches:
        if batch.num_rows:
            columns = [batch.column(f.column) for f in program.feeds]
            partials.append(run.reduce([to_numpy(c, f.spec, start) for c, f in zip(columns, program.feeds)]))
        start += batch.num_rows
    if not partials:
        return None
    return combine(program, [np.stack(values) for values in zip(*partials)])


def combine(program: Program, blocks: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Partial results (stacked along a leading axis) reduced to one per fetch."""
    if not len(blocks[0]):
        raise EmptyReductionError(f"no rows to reduce for fetches {program.output_names}: reducing an "
                                  "empty DataFrame (or group) has no value")
    return runner(program).reduce(blocks)


def partial_batch(program: Program, values: Sequence[np.ndarray], prefix: Sequence[pa.Array] = (),
                  prefix_names: Sequence[str] = ()) -> pa.RecordBatch:
    """One row: ``prefix`` columns (e.g. group keys), then each fetch's value."""
    arrays = list(prefix) + [to_arrow(np.asarray(v)[None], o.spec) for v, o in zip(values, program.outputs)]
    return pa.RecordBatch.from_arrays(arrays, names=list(prefix_names) + program.output_names)


def aggregate_function(program: Program, key_names: Sequence[str]) -> Callable[
        [Tuple[pa.Scalar, ...], Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """``applyInArrow`` body (with type hints) of ``aggregate``: keys and reduced fetches per group."""
    def run(key: Tuple[pa.Scalar, ...], batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        with on_executor():
            values = reduce_batches(program, batches)
            if values is not None:
                keys = [pa.array([k.as_py()], type=k.type) for k in key]
                yield partial_batch(program, values, keys, key_names)
    return run
