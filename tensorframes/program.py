"""Fetches + column bindings -> a :class:`Program`: what ships to the executors.

Everything that can be checked from the graph and the DataFrame's schema is
checked here, on the driver, before any Spark job: every placeholder the
fetches need is fed by a column that exists, holds the placeholder's dtype
and fits its shape; output columns have a known type and don't clash with
input columns; in a map that keeps the input rows, each fetch can have one
value per row.

Variables are frozen into the shipped graph with their current values in a
Session: the ``session`` argument, else the default session (the innermost
``with tf.Session() as sess:`` or ``sess.as_default()``) when it runs the
fetches' graph, else (no session at all, as in the original TensorFrames'
programs) their initial values: their initializers run in a new Session. The program holds the frozen GraphDef as JSON and its
SHA-256, under which executors cache the loaded graph.

Program and its parts are plain data (no pyspark), so executors and tests
without Spark can use them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Protocol, Sequence

import engine as tf
from engine.defaults import default_session
from engine.errors import FailedPreconditionError, GraphError
from engine.graph_util import convert_variables_to_constants
from engine.op_types import PLACEHOLDER, VARIABLE
from engine.plan import compile_plan
from engine.shapes import format_dims
from tensorframes.column_spec import DTYPE_NAMES, ColumnSpec, format_shape
from tensorframes.errors import (FetchShapeError, OutputNameError, PlaceholderShapeError, PlaceholderTypeError,
                                 ProgramError, UnboundPlaceholderError)


class Columns(Protocol):
    """The columns of a DataFrame: their names and, on demand, their specs."""

    names: list[str]

    def spec(self, name: str) -> ColumnSpec:
        """The column's spec; ColumnNotFoundError / UnsupportedColumnTypeError otherwise."""


@dataclass(frozen=True)
class Feed:
    """Column ``column`` feeds ``placeholder``; ``spec`` is what each batch must hold."""

    placeholder: str
    column: str
    spec: ColumnSpec


@dataclass(frozen=True)
class Output:
    """Fetch ``tensor`` becomes column ``spec.name``.

    In a reduction, ``inputs`` are the placeholders its partial values are
    fed back into (``x_input``, or ``x_1`` and ``x_2``).
    """

    tensor: str
    spec: ColumnSpec
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Program:
    """A frozen graph with its bindings; ``rows`` when written for one row."""

    graph_def: str
    key: str
    feeds: tuple[Feed, ...]
    outputs: tuple[Output, ...]
    rows: bool

    @property
    def output_names(self) -> list[str]:
        return [o.spec.name for o in self.outputs]


def compile_map(fetches: Any, columns: Columns, feed_dict: Mapping | None = None, *, rows: bool,
                trim: bool = False, session: tf.Session | None = None) -> Program:
    """The program of ``map_blocks`` (``rows=False``) or ``map_rows`` (``rows=True``).

    A ``map_rows`` graph whose placeholders are all block-shaped for their
    columns (a leading None more than the cells: ``shape=[None]`` on a
    scalar column) runs as a ``map_blocks`` graph, as the original
    TensorFrames did; the ranks tell the two apart, so this is unambiguous.
    """
    if rows and _block_shaped(fetches, columns, feed_dict):
        rows = False
    tensors, feeds = compile_feeds(fetches, columns, feed_dict, rows=rows)
    op = "map_rows" if rows else "map_blocks"
    if not feeds and not trim:
        raise UnboundPlaceholderError(
            f"{op}: the fetches {[t.name for t in tensors]} read no column (they depend on no placeholder), "
            "so they have no rows to append to; use map_blocks(..., trim=True) for a constant result")
    outputs = tuple(Output(t.name, _output_spec(t, op, rows, trim)) for t in tensors)
    _check_names(outputs, [] if trim else columns.names)
    if rows:
        _check_runs_per_row(tensors, feeds)
    return _program(tensors, feeds, outputs, rows, session)


def _check_runs_per_row(tensors: Sequence[tf.Tensor], feeds: Sequence[Feed]) -> None:
    """Compile (not run) the row graph's batched plan here, so that an op that cannot run per row
    (a random op, whose one draw every row would share) is refused on the driver, before any job."""
    graph = tensors[0].graph
    compile_plan(graph, tensors, [graph.get_tensor_by_name(f.placeholder) for f in feeds], {}, batched=True)


def compile_reduce(fetches: Any, columns: Columns, inputs: Mapping | None = None,
                   feed_dict: Mapping | None = None, *, rows: bool,
                   session: tf.Session | None = None) -> Program:
    """The program of ``reduce_blocks``/``aggregate`` (``rows=False``) or ``reduce_rows``.

    Fetch ``x`` is paired with placeholder ``x_input`` (rows: ``x_1`` and
    ``x_2``) unless ``inputs`` maps it to others; that placeholder reads
    column ``x`` unless ``feed_dict`` maps it to another column.
    """
    tensors = _fetch_list(fetches)
    op = "reduce_rows" if rows else "reduce_blocks"
    graph = tensors[0].graph
    explicit = {_tensor(graph, k).name: v for k, v in (inputs or {}).items()}
    bound = _bindings(tensors, feed_dict)
    outputs, feeds = [], []
    for t in tensors:
        pair = explicit.get(t.name)
        names = _as_tuple(pair) if pair is not None else _conventional_inputs(t, rows)
        if len(names) != (2 if rows else 1):
            raise ProgramError(f"{op}: fetch '{t.name}' takes {'two placeholders' if rows else 'one placeholder'} "
                               f"as input, inputs= gives {len(names)}")
        placeholders = [_placeholder(graph, n, op, t) for n in names]
        for p in placeholders:
            _check_partial_input(p, t, rows, op)
        spec = ColumnSpec(_column_name(t), t.dtype.np, _known_rank(t, op), "array" if t._dims else "scalar")
        outputs.append(Output(t.name, spec, tuple(p.outputs[0].name for p in placeholders)))
        feeds.append(_feed(placeholders[0], bound.get(placeholders[0]), spec.name, columns, rows))
    paired = {name for o in outputs for name in o.inputs}
    for p in _placeholders(tensors):
        if p.outputs[0].name not in paired:
            raise UnboundPlaceholderError(
                f"{op}: placeholder '{p.name}' is the input of no fetch; a reduction combines partial "
                "results with the same graph, so every placeholder must take a fetch's partial values "
                f"(name it '<fetch>{'_1' if rows else '_input'}' or pass inputs=)")
    _check_names(outputs, [])
    return _program(tensors, tuple(feeds), tuple(outputs), rows, session)


# -- fetches and placeholders ----------------------------------------------------------------
def compile_feeds(fetches: Any, columns: Columns, feed_dict: Mapping | None = None, *,
                  rows: bool) -> tuple[list[tf.Tensor], tuple[Feed, ...]]:
    """The fetches as tensors, and a checked :class:`Feed` for every placeholder they read.

    Also used by ``tfs.train``, whose loss is fed like a map's fetches.
    """
    tensors = _fetch_list(fetches)
    bound = _bindings(tensors, feed_dict)
    return tensors, tuple(_feed(p, bound.get(p), p.name, columns, rows) for p in _placeholders(tensors))


def _block_shaped(fetches: Any, columns: Columns, feed_dict: Mapping | None) -> bool:
    """Whether every placeholder has one leading None dim more than the cells of its column."""
    tensors = _fetch_list(fetches)
    bound = _bindings(tensors, feed_dict)
    found = []
    for p in _placeholders(tensors):
        dims, column = p.outputs[0]._dims, bound.get(p, p.name)
        if dims is None or column not in columns.names:
            return False
        found.append(bool(dims) and dims[0] is None and len(dims) == columns.spec(column).rank + 1)
    return bool(found) and all(found)


def _fetch_list(fetches: Any) -> list[tf.Tensor]:
    """The fetches as tensors of one graph (a single fetch, or a list/tuple of them)."""
    items = list(fetches) if isinstance(fetches, (list, tuple)) else [fetches]
    if not items:
        raise ProgramError("no fetches: pass a tensor or a list of tensors")
    graph = next((i.graph for i in items if hasattr(i, "graph")), tf.get_default_graph())
    tensors = [_tensor(graph, item) for item in items]
    return tensors


def _tensor(graph: tf.Graph, item: Any) -> tf.Tensor:
    if isinstance(item, str) and ":" not in item:
        item += ":0"
    try:
        element = graph.as_graph_element(item)
    except (GraphError, TypeError) as e:
        raise ProgramError(f"cannot use {item!r} as a fetch: {e}") from None
    if not isinstance(element, tf.Tensor):
        raise ProgramError(f"fetch '{element.name}' is an operation; fetch one of its output tensors")
    return element


def _needed_ops(tensors: Sequence[tf.Tensor]) -> list[tf.Operation]:
    """The ops the tensors depend on (data and control inputs), in graph order."""
    seen: set[tf.Operation] = set()
    stack = [t.op for t in tensors]
    while stack:
        op = stack.pop()
        if op not in seen:
            seen.add(op)
            stack.extend(i.op for i in op.inputs)
            stack.extend(op.control_inputs)
    return [op for op in tensors[0].graph.get_operations() if op in seen]


def _placeholders(tensors: Sequence[tf.Tensor]) -> list[tf.Operation]:
    return [op for op in _needed_ops(tensors) if op.type == PLACEHOLDER]


def _bindings(tensors: Sequence[tf.Tensor], feed_dict: Mapping | None) -> dict[tf.Operation, str]:
    """feed_dict as placeholder op -> column name."""
    graph = tensors[0].graph
    bound = {}
    for key, column in (feed_dict or {}).items():
        tensor = _tensor(graph, key.name if isinstance(key, tf.Tensor) else key)
        if tensor.op.type != PLACEHOLDER:
            raise ProgramError(f"feed_dict key '{tensor.name}' is a {tensor.op.type}, not a placeholder; "
                               "feed_dict binds placeholders to column names")
        if not isinstance(column, str):
            raise ProgramError(f"feed_dict binds '{tensor.op.name}' to {column!r}: the value must be a "
                               "column name")
        bound[tensor.op] = column
    return bound


def _feed(placeholder: tf.Operation, column: str | None, default: str, columns: Columns, rows: bool) -> Feed:
    """Check that ``column`` (else ``default``) can feed ``placeholder``; the spec batches must meet."""
    t = placeholder.outputs[0]
    if column is None:
        column = default
        if column not in columns.names:
            raise UnboundPlaceholderError(
                f"placeholder '{placeholder.name}' ({t.dtype.name}, shape {format_dims(t._dims)}) is fed "
                f"by no column: there is no column {column!r} (available: {', '.join(columns.names)}); "
                f"bind one with feed_dict={{'{placeholder.name}': '<column>'}}")
    spec = columns.spec(column)
    if spec.dtype != t.dtype.np:
        raise PlaceholderTypeError(
            f"column {column!r} holds {spec.type_name} values but placeholder '{placeholder.name}' is "
            f"{t.dtype.name}; cast the column (.cast('{DTYPE_NAMES[t.dtype.np]}')) or change the "
            "placeholder's dtype: tensorframes never converts silently", column)
    return Feed(t.name, column, _fitted_spec(spec, placeholder, rows))


def _fitted_spec(spec: ColumnSpec, placeholder: tf.Operation, rows: bool) -> ColumnSpec:
    """The column's spec with the cell dims the placeholder fixes."""
    dims = placeholder.outputs[0]._dims
    shown = spec.describe() if not rows else spec.type_name + format_shape(spec.cell_shape)
    problem = f"column {spec.name!r} ({shown}) cannot feed placeholder '{placeholder.name}' of shape " \
              f"{format_dims(dims)}"
    if dims is None:
        return spec
    if not rows:
        if not dims:
            raise PlaceholderShapeError(f"{problem}: a block placeholder has a leading dimension for "
                                        "the rows (use tfs.row / map_rows for a graph of one row)", spec.name)
        if dims[0] is not None:
            raise PlaceholderShapeError(f"{problem}: the leading dimension counts the rows of a block, "
                                        "which varies; make it None", spec.name)
        dims = dims[1:]
    if len(dims) != spec.rank:
        raise PlaceholderShapeError(f"{problem}: cells have {spec.rank} dimension(s), the placeholder "
                                    f"wants {len(dims)}", spec.name)
    cell = []
    for have, want in zip(spec.cell_shape, dims):
        if have is not None and want is not None and have != want:
            raise PlaceholderShapeError(f"{problem}: cell dimensions differ", spec.name)
        cell.append(have if have is not None else want)
    return ColumnSpec(spec.name, spec.dtype, tuple(cell), spec.kind)


# -- outputs ---------------------------------------------------------------------------------
def _column_name(t: tf.Tensor) -> str:
    """A fetch's column: its op's name (``op_1`` for output 1)."""
    return t.op.name if t.value_index == 0 else f"{t.op.name}_{t.value_index}"


def _known_rank(t: tf.Tensor, op: str) -> tuple:
    if t._dims is None:
        raise FetchShapeError(f"{op}: the rank of fetch '{t.name}' is unknown, so its column type is "
                              "too; give its placeholders shapes or reshape it to a known rank")
    return t._dims


def _output_spec(t: tf.Tensor, op: str, rows: bool, trim: bool) -> ColumnSpec:
    dims = _known_rank(t, op)
    if not rows:
        if not dims:
            raise FetchShapeError(f"{op}: fetch '{t.name}' is a scalar; a block output needs a leading "
                                  "dimension, one entry per output row (use reduce_blocks to reduce a column)")
        if dims[0] is not None and not trim:
            raise FetchShapeError(
                f"{op}: fetch '{t.name}' has shape {format_dims(dims)}, whose leading dimension is fixed, "
                "so it can't have one row per input row; use trim=True to return other rows")
        dims = dims[1:]
    return ColumnSpec(_column_name(t), t.dtype.np, dims, "array" if dims else "scalar")


def _check_names(outputs: Iterable[Output], existing: Sequence[str]) -> None:
    seen: dict[str, str] = {}
    for o in outputs:
        name = o.spec.name
        if name in existing:
            raise OutputNameError(
                f"fetch '{o.tensor}' would be written to column {name!r}, which the DataFrame already has; "
                f"name the op differently (e.g. tf.identity(t, name='{name}_out')) or drop the column")
        if name in seen:
            raise OutputNameError(f"fetches '{seen[name]}' and '{o.tensor}' would both be written to "
                                  f"column {name!r}; fetch each op once")
        seen[name] = o.tensor


# -- reductions --------------------------------------------------------------------------------
def _as_tuple(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def _conventional_inputs(t: tf.Tensor, rows: bool) -> tuple[str, ...]:
    base = _column_name(t)
    return (f"{base}_1", f"{base}_2") if rows else (f"{base}_input",)


def _placeholder(graph: tf.Graph, item: Any, op: str, fetch: tf.Tensor) -> tf.Operation:
    try:
        tensor = _tensor(graph, item.name if isinstance(item, tf.Tensor) else item)
    except ProgramError:
        raise UnboundPlaceholderError(
            f"{op}: fetch '{fetch.name}' needs the placeholder {item!r} for its partial results, and the "
            f"graph has none; create tf.placeholder(..., name={item!r}) or pass inputs={{fetch: placeholder}}"
        ) from None
    if tensor.op.type != PLACEHOLDER:
        raise ProgramError(f"{op}: the input of fetch '{fetch.name}' must be a placeholder, "
                           f"'{tensor.name}' is a {tensor.op.type}")
    return tensor.op


def _check_partial_input(placeholder: tf.Operation, fetch: tf.Tensor, rows: bool, op: str) -> None:
    """The placeholder must accept the fetch's values (rows) or a block of them."""
    p = placeholder.outputs[0]
    want = fetch._dims if rows or fetch._dims is None else (None,) + fetch._dims
    fits = p._dims is None or want is None or (
        len(p._dims) == len(want) and all(a is None or b is None or a == b for a, b in zip(p._dims, want)))
    if p.dtype is not fetch.dtype or not fits:
        raise FetchShapeError(
            f"{op}: placeholder '{placeholder.name}' ({p.dtype.name}, shape {format_dims(p._dims)}) must take "
            f"the partial values of fetch '{fetch.name}' ({fetch.dtype.name}, shape {format_dims(fetch._dims)})"
            f"{'' if rows else ' stacked along a new leading dimension'}")


# -- freezing --------------------------------------------------------------------------------
def _program(tensors: Sequence[tf.Tensor], feeds: tuple[Feed, ...], outputs: tuple[Output, ...],
             rows: bool, session: tf.Session | None) -> Program:
    graph = tensors[0].graph
    sources = [t.op.name for t in tensors] + [f.placeholder.split(":")[0] for f in feeds]
    sources += [name.split(":")[0] for o in outputs for name in o.inputs]
    variables = [op.name for op in _needed_ops(tensors) if op.type == VARIABLE]
    if session is not None and session.graph is not graph:
        raise ProgramError("session= runs another graph than the one the fetches belong to")
    session = session_for(graph, session)
    if session is None and variables:
        session = _initialized_session(graph, variables)
    try:
        frozen = convert_variables_to_constants(session, graph.as_graph_def(), list(dict.fromkeys(sources)))
    except (FailedPreconditionError, GraphError) as e:
        raise ProgramError(f"cannot ship the graph: {e}") from None
    text = frozen.to_json()
    return Program(text, hashlib.sha256(text.encode()).hexdigest(), feeds, outputs, rows)


def session_for(graph: tf.Graph, session: tf.Session | None = None) -> tf.Session | None:
    """The session holding ``graph``'s variable values: ``session``, else the default session,
    if it runs ``graph``; None otherwise (the callers say what that means for them)."""
    if session is None:
        try:
            session = default_session()
        except FailedPreconditionError:
            return None
    return session if session.graph is graph else None


def _initialized_session(graph: tf.Graph, variables: list[str]) -> tf.Session:
    """A new Session holding the variables' initial values (the original TensorFrames' behaviour
    for a graph whose variables live in no session)."""
    by_name = {v.op.name: v for v in tf.global_variables(graph)}
    missing = [name for name in variables if name not in by_name]
    if missing:
        raise ProgramError(f"variable(s) {missing} have no initializer in the graph's collections; run the "
                           "fetches inside `with tf.Session() as sess:` after setting them, or pass session=sess")
    session = tf.Session(graph)
    try:
        session.run([by_name[name].initializer for name in variables])
    except tf.errors.EngineError as e:
        raise ProgramError(f"cannot initialize variable(s) {variables} without a session: {e}; run the "
                           "initializer in a Session and call this inside it, or pass session=sess") from None
    return session
