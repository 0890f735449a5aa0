"""The SQL backend: graphs as Spark SQL expressions give the Arrow path's values, without Python.

The reference is the Arrow path (the engine's numpy kernels) on the same
DataFrame: bit for bit where both use IEEE basic operations (NaN compared as
NaN, any payload), within :data:`ULPS` for the transcendental functions,
whose Java (fdlibm) and numpy implementations differ.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.errors import SparkRuntimeException
from pyspark.sql import DataFrame, SparkSession

import engine as tf
import tensorframes as tfs
from engine.registry import register_op, unregister_op
from tensorframes.errors import SqlTranslationError

#: Largest difference measured between Spark's and numpy's functions, in ulps of the result
#: (test_transcendental_functions_agree_within_stated_ulps prints the measured figures).
ULPS = {"float64": 2, "float32": 2}
F32, F64, I32, I64 = np.float32, np.float64, np.int32, np.int64
SPECIAL_FLOATS = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, math.nan, math.inf, -math.inf, 1e300, -1e300, 1e-300,
                  5e-324, 1e10, -7.0, 3.4e38, -3.4e38, 1e-45]
SPECIAL_INTS = {I32: [0, 1, -1, 2, -2, 7, -7, 2**31 - 1, -2**31, 65536, -65536],
                I64: [0, 1, -1, 2, -2, 7, -7, 2**63 - 1, -2**63, 2**32, -2**32, 3037000500]}
SPARK_TYPES = {F32: "float", F64: "double", I32: "int", I64: "bigint"}


def frame_of(spark: SparkSession, dtype, x: list, v: list) -> DataFrame:
    kind = SPARK_TYPES[dtype]
    if dtype in (F32, F64):
        x, v = [float(a) for a in x], [[float(a) for a in cell] for cell in v]
    df = spark.createDataFrame(list(zip(range(len(x)), x, v)), f"id int, x {kind}, v array<{kind}>")
    return tfs.append_shape(df, "v", [None, 3])


def both_paths(fetches, df: DataFrame, rows: bool = False) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The fetches' columns by the SQL path and by the Arrow path, rows in id order."""
    run = tfs.map_rows if rows else tfs.map_blocks
    names = [t.op.name for t in fetches]
    sql = sorted(run(fetches, df, backend="sql").select("id", *names).collect())
    arrow = sorted(run(fetches, df, backend="arrow").select("id", *names).collect())
    columns = lambda rs, t: np.array([r[t.op.name] for r in rs], dtype=t.dtype.np)  # noqa: E731
    return [columns(sql, t) for t in fetches], [columns(arrow, t) for t in fetches]


def assert_same_bits(got: np.ndarray, want: np.ndarray, what: str = "") -> None:
    """Equal bit for bit, except that any NaN equals any NaN."""
    assert got.shape == want.shape, what
    if got.dtype.kind == "f":
        nan = np.isnan(want)
        assert np.array_equal(np.isnan(got), nan), f"{what}: NaN where {got[np.isnan(got) != nan]}"
        got, want = got[~nan], want[~nan]
        bits = {4: np.uint32, 8: np.uint64}[got.dtype.itemsize]
        bad = got.view(bits) != want.view(bits)
        assert not bad.any(), f"{what}: SQL {got[bad][:5]} vs Arrow {want[bad][:5]}"
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


def ulps(got: np.ndarray, want: np.ndarray) -> float:
    """Largest difference in units in the last place of the reference (both non-NaN and finite)."""
    ok = np.isfinite(want) & np.isfinite(got)
    assert np.array_equal(np.isnan(got), np.isnan(want)) and np.array_equal(got[~ok & ~np.isnan(want)],
                                                                            want[~ok & ~np.isnan(want)])
    if not ok.any():
        return 0.0
    spacing = np.spacing(np.abs(want[ok])).astype(np.float64)
    return float(np.max(np.abs(got[ok].astype(np.float64) - want[ok].astype(np.float64)) / spacing))


# -- random graphs of basic operations: bit for bit ------------------------------------------
FLOAT_BINARY = ["add", "subtract", "multiply", "realdiv", "floordiv", "floormod", "maximum", "minimum",
                "squared_difference", "where_less", "where_equal", "where_not_equal"]
FLOAT_UNARY = ["negative", "abs", "sign", "square", "sqrt", "floor", "ceil", "reciprocal", "relu",
               "sum", "max", "min", "mean", "prod", "argmax", "argmin", "cast_other_float", "cast_int"]
INT_BINARY = ["add", "subtract", "multiply", "floordiv_safe", "floormod_safe", "maximum", "minimum",
              "where_greater"]
INT_UNARY = ["negative", "abs", "sign", "square", "sum", "max", "min", "mean", "argmax", "cast_float",
             "cast_other_int"]


def _apply(name: str, a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    """One op of the random graph; reductions and argmax reduce a cell to a scalar per row."""
    binary = {"add": tf.add, "subtract": tf.subtract, "multiply": tf.multiply, "realdiv": tf.realdiv,
              "floordiv": tf.floordiv, "floormod": tf.floormod, "maximum": tf.maximum, "minimum": tf.minimum,
              "squared_difference": tf.squared_difference}
    if name in binary:
        return binary[name](a, b)
    if name.endswith("_safe"):  # integer division by zero fails on both paths: divide by nonzero values
        safe = tf.where(tf.equal(b, tf.zeros_like(b)), tf.ones_like(b), b)
        return (tf.floordiv if name.startswith("floordiv") else tf.floormod)(a, safe)
    if name.startswith("where_"):
        test = {"where_less": tf.less, "where_equal": tf.equal, "where_not_equal": tf.not_equal,
                "where_greater": tf.greater}[name]
        return tf.where(test(a, b), a, b)
    reductions = {"sum": tf.reduce_sum, "max": tf.reduce_max, "min": tf.reduce_min, "mean": tf.reduce_mean,
                  "prod": tf.reduce_prod}
    if name in reductions:
        return reductions[name](a, -1) if len(a.shape) == 2 else a
    if name in ("argmax", "argmin"):
        return tf.cast((tf.argmax if name == "argmax" else tf.argmin)(a, -1), a.dtype) if len(a.shape) == 2 else a
    if name.startswith("cast"):
        other = {"cast_other_float": {tf.float32: tf.float64, tf.float64: tf.float32},
                 "cast_other_int": {tf.int32: tf.int64, tf.int64: tf.int32},
                 "cast_int": {tf.float32: tf.int32, tf.float64: tf.int64},
                 "cast_float": {tf.int32: tf.float64, tf.int64: tf.float32}}[name]
        return tf.cast(tf.cast(a, other[a.dtype]), a.dtype)
    unary = {"negative": tf.negative, "abs": tf.abs, "sign": tf.sign, "square": tf.square, "sqrt": tf.sqrt,
             "floor": tf.floor, "ceil": tf.ceil, "reciprocal": tf.reciprocal, "relu": tf.nn.relu}
    return unary[name](a)


@st.composite
def graph_batches(draw):
    """A dtype, rows of x (scalar) and v (3 elements) rich in special values, and 8 graphs (lists of
    steps) over them: one DataFrame and two Spark jobs check all 8."""
    dtype = draw(st.sampled_from([F32, F64, I32, I64]))
    if dtype in (F32, F64):
        width = 32 if dtype is F32 else 64
        value = st.one_of(st.sampled_from(SPECIAL_FLOATS), st.floats(width=width)).map(
            lambda f: float(np.asarray(f, dtype)) if not math.isnan(f) else math.nan)
        binary, unary = FLOAT_BINARY, FLOAT_UNARY
    else:
        info = np.iinfo(dtype)
        value = st.one_of(st.sampled_from(SPECIAL_INTS[dtype]), st.integers(int(info.min), int(info.max)),
                          st.integers(-1000, 1000))
        binary, unary = INT_BINARY, INT_UNARY
    rows = draw(st.integers(1, 6))
    x = draw(st.lists(value, min_size=rows, max_size=rows))
    v = draw(st.lists(st.lists(value, min_size=3, max_size=3), min_size=rows, max_size=rows))
    step = st.tuples(st.sampled_from(binary + unary), st.integers(0, 99), st.integers(0, 99),
                     st.sampled_from(SPECIAL_FLOATS[:8] if dtype in (F32, F64) else [0, 1, -3, 7]))
    graphs = draw(st.lists(st.lists(step, min_size=1, max_size=8), min_size=8, max_size=8))
    return dtype, x, v, graphs


def build(inputs: list[tf.Tensor], steps: list) -> list[tf.Tensor]:
    """The random graph over placeholders x and v: each step combines earlier tensors of one shape
    (or one and a constant); the last four tensors are the fetches."""
    pool = list(inputs)
    for name, i, j, c in steps:
        a = pool[i % len(pool)]
        same = [t for t in pool if t.shape == a.shape]
        b = same[j % len(same)] if j % 3 else tf.constant(c, dtype=a.dtype)
        pool.append(_apply(name, a, b))
    return pool[2:][-4:]


@pytest.mark.slow  # each example compiles 32 random fetches on both paths: ~40 s a run on the loaded machine
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(graph_batches())
def test_random_graphs_of_basic_ops_agree_bit_for_bit(spark, case):
    dtype, x, v, graphs = case
    df = frame_of(spark, dtype, x, v)
    with tf.Graph().as_default():
        inputs = [tfs.block(df, "x"), tfs.block(df, "v")]
        fetches, recipes = [], []
        for g, steps in enumerate(graphs):
            for k, t in enumerate(build(inputs, steps)):
                fetches.append(tf.identity(t, name=f"g{g}_{k}"))
                recipes.append(steps)
        with np.errstate(all="ignore"):
            sql, arrow = both_paths(fetches, df)
    for t, steps, got, want in zip(fetches, recipes, sql, arrow):
        assert_same_bits(got, want, f"{t.name} of steps {steps}")


# -- transcendental functions: measured ulps -------------------------------------------------
def _grid(dtype) -> np.ndarray:
    rng = np.random.default_rng(5)
    values = np.concatenate([rng.normal(0, 1, 300), rng.normal(0, 30, 300), np.exp(rng.uniform(-50, 50, 300)),
                             np.array(SPECIAL_FLOATS)])
    return values.astype(dtype)


@pytest.mark.parametrize("dtype", [F64, F32], ids=["float64", "float32"])
def test_transcendental_functions_agree_within_stated_ulps(spark, dtype):
    values = _grid(dtype)
    df = frame_of(spark, dtype, values.tolist(), [[0, 0, 0]] * len(values))
    with tf.Graph().as_default():
        x = tfs.block(df, "x")
        fns = {"exp": tf.exp, "log": tf.log, "log1p": tf.log1p, "sin": tf.sin, "cos": tf.cos, "tanh": tf.tanh,
               "sigmoid": tf.sigmoid, "softplus": tf.nn.softplus, "rsqrt": tf.rsqrt, "elu": tf.nn.elu,
               "pow": lambda t, name: tf.pow(tf.abs(t), 0.75, name=name)}
        fetches = [fn(x, name=name) for name, fn in fns.items()]
        with np.errstate(all="ignore"):
            sql, arrow = both_paths(fetches, df)
    measured = {t.op.name: ulps(got, want) for t, got, want in zip(fetches, sql, arrow)}
    print(f"{dtype.__name__} ulps:", measured)
    assert max(measured.values()) <= ULPS[dtype.__name__], measured


# -- array cells, matmul, softmax and the rest -------------------------------------------------
def test_cell_ops_match_the_arrow_path(spark):
    rng = np.random.default_rng(3)
    v = rng.normal(size=(7, 3))
    v[0, 1], v[1, 2], v[2, 0] = np.nan, np.inf, -0.0
    df = frame_of(spark, F64, rng.normal(size=7).tolist(), v.tolist())
    with tf.Graph().as_default():
        x, cells = tfs.block(df, "x"), tfs.block(df, "v")
        w = tf.constant(rng.normal(size=(3, 4)))
        fetches = [tf.matmul(cells, w, name="dense"),
                   tf.nn.softmax(cells, name="softmax"), tf.nn.log_softmax(cells, name="log_softmax"),
                   tf.one_hot(tf.cast(tf.floor(tf.abs(x)), tf.int32), 3, name="one_hot"),
                   tf.gather(cells, [2, 0, 2], axis=1, name="gather"),
                   tf.concat([cells, cells * x[:, None]], 1, name="concat"),
                   tf.stack([cells, cells + 1.0], axis=1, name="stack"),
                   tf.reshape(tf.stack([cells, cells], axis=2), [-1, 6], name="reshape"),
                   tf.transpose(tf.stack([cells, -cells], axis=1), [0, 2, 1], name="transpose"),
                   tf.clip_by_value(cells, -0.5, 0.5, name="clip"),
                   tf.reduce_any(tf.greater(cells, 1.0), 1, name="any")]
        with np.errstate(all="ignore"):
            sql, arrow = both_paths(fetches, df)
    for t, got, want in zip(fetches, sql, arrow):
        if t.op.name in ("dense", "softmax", "log_softmax"):  # BLAS's order and exp: rounding
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-300, err_msg=t.op.name)
        else:
            assert_same_bits(got, want, t.op.name)


def test_map_rows_with_frozen_variables_matches_the_arrow_path(spark):
    df = frame_of(spark, F32, [1.5, -2.0, 0.0], [[1, 2, 3], [-1, 0, 4], [0.5, 0.25, -8]])
    with tf.Graph().as_default():
        v = tfs.row(df, "v")
        w = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2) / 7)
        y = tf.nn.relu(tf.matmul(v[None, :], w)[0] - 0.5, name="y")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sql, arrow = both_paths([y], df, rows=True)
    assert sql[0].dtype == np.float32
    np.testing.assert_allclose(sql[0], arrow[0], rtol=1e-6)


# -- reductions over the rows ----------------------------------------------------------------
def test_reductions_over_rows_are_native_aggregates(spark):
    df = frame_of(spark, F64, [1.0, math.nan, -3.0, 2.0], [[1, 2, 3], [4, 5, 6], [-7, 8, 0], [0.5, 0, 1]])
    with tf.Graph().as_default():
        v = tfs.block(df, "v", tf_name="v_input")
        x = tfs.block(df, "x", tf_name="x_input")
        fetches = [tf.reduce_sum(v, 0, name="v"), tf.reduce_min(x, 0, name="x")]
        plan = tfs.explain(fetches, df, kind="reduce_blocks")
        total, smallest = tfs.reduce_blocks(fetches, df, backend="sql")
        arrow_total, arrow_smallest = tfs.reduce_blocks(fetches, df, backend="arrow")
    assert plan.backend == "sql" and "sum(" in plan.expressions["v"]
    np.testing.assert_allclose(total, arrow_total)
    assert math.isnan(smallest) and math.isnan(arrow_smallest)  # numpy's min propagates NaN; Spark's skips it


def test_aggregate_and_reduce_rows_run_as_sql(spark):
    df = spark.createDataFrame([(k % 2, float(k)) for k in range(6)], "k int, x double")
    with tf.Graph().as_default():
        s = tf.reduce_sum(tfs.block(df, "x", tf_name="x_input"), 0, name="x")
        grouped = tfs.aggregate(s, df.groupBy("k"), backend="sql")
        assert sorted(map(tuple, grouped.collect())) == [(0, 6.0), (1, 9.0)]
    with tf.Graph().as_default():
        m = tf.maximum(tfs.row(df, "x", tf_name="x_1"), tfs.row(df, "x", tf_name="x_2"), name="x")
        assert tfs.reduce_rows(m, df, backend="sql") == 5.0


# -- the switch, explain and errors ------------------------------------------------------------
@pytest.fixture
def bar_twice():
    register_op("BarTwice", kernel=lambda x: 2 * x, infer=lambda inputs: inputs[0], num_inputs=1)
    yield
    unregister_op("BarTwice")


def test_explain_names_the_op_that_keeps_the_graph_on_arrow(spark, bar_twice):
    from engine.extend import make
    df = spark.createDataFrame([(1.0,)], "x double")
    with tf.Graph().as_default():
        x = tfs.block(df, "x")
        twice = make("BarTwice", [x], "twice")
        assert tfs.explain(tf.add(twice, 1.0, name="y"), df).backend == "arrow"
        assert "op 'twice' (BarTwice): no SQL rule" in str(tfs.explain(tf.add(twice, 1.0, name="z"), df))
        with pytest.raises(SqlTranslationError, match=r"op 'twice' \(BarTwice\): no SQL rule"):
            tfs.map_blocks(tf.identity(twice, name="w"), df, backend="sql")


def test_sql_path_starts_no_python(spark, capsys):
    df = spark.createDataFrame([(1.0, 2.0)], "x double, unused double")
    with tf.Graph().as_default():
        x = tfs.block(df, "x")
        out = tfs.map_blocks(tf.sigmoid(x * 2.0, name="y"), df)
    out.explain()
    plan = capsys.readouterr().out
    assert "ArrowEvalPython" not in plan and "pythonUDF" not in plan
    assert out.first().y == pytest.approx(1 / (1 + math.exp(-2.0)))


def test_nulls_and_wrong_lengths_fail_naming_the_column(spark):
    df = spark.createDataFrame([(1.0, [1.0, 2.0]), (None, [1.0])], "x double, v array<double>")
    df = tfs.append_shape(df, "v", [None, 2])
    with tf.Graph().as_default():
        y = tfs.map_blocks(tf.identity(tfs.block(df, "x"), name="y"), df, backend="sql")
        w = tfs.map_blocks(tf.identity(tfs.block(df, "v"), name="w"), df, backend="sql")
    with pytest.raises(SparkRuntimeException, match="NullValueError: column 'x' has a null value"):
        y.collect()
    with pytest.raises(SparkRuntimeException, match=r"ShapeMismatchError: column 'v': expected cells of shape \[2\]"):
        w.collect()


def test_integer_division_by_zero_fails_as_on_the_arrow_path(spark):
    df = frame_of(spark, I32, [1, 0], [[0, 0, 0]] * 2)
    with tf.Graph().as_default():
        x = tfs.block(df, "x")
        out = tfs.map_blocks(tf.floordiv(7, x, name="q"), df, backend="sql")
    with pytest.raises(SparkRuntimeException, match="floordiv: integer division by zero"):
        out.collect()


def test_default_backend_comes_from_the_environment(spark, monkeypatch):
    df = spark.createDataFrame([(1.0,)], "x double")
    with tf.Graph().as_default():
        y = tf.add(tfs.block(df, "x"), 1.0, name="y")
        assert tfs.explain(y, df).backend == "sql"
        monkeypatch.setenv("TENSORFRAMES_BACKEND", "arrow")
        assert tfs.explain(y, df).backend == "arrow"
        monkeypatch.setenv("TENSORFRAMES_BACKEND", "fast")
        with pytest.raises(ValueError, match="TENSORFRAMES_BACKEND='fast': expected one of auto, sql, arrow"):
            tfs.map_blocks(y, df)


# -- the churn models of examples/03_churn.py ----------------------------------------------------
def _example(name: str):
    import importlib.util
    import sys
    from pathlib import Path
    folder = Path(__file__).resolve().parents[2] / "examples"
    sys.path.insert(0, str(folder))
    try:
        spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(folder))


@pytest.mark.slow  # the example's feature pipeline is a dozen Spark jobs
def test_churn_models_score_through_sql_with_the_arrow_paths_predictions(spark):
    churn = _example("03_churn")
    _, test = churn._common.churn_data(spark)
    test = test.select("features", "label").cache()
    for model in (churn.logistic_regression, churn.mlp):
        with tf.Graph().as_default():
            score = tf.sigmoid(model(tfs.block(test, "features")), name="score")
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                # the MLP's 32-unit layers are interpreted higher-order functions in SQL: auto picks Arrow
                assert tfs.explain(score, test, backend="sql").backend == "sql"
                sql = np.array([r.score for r in tfs.map_blocks(score, test, backend="sql").collect()])
                arrow = np.array([r.score for r in tfs.map_blocks(score, test, backend="arrow").collect()])
        assert len(sql) == test.count() > 500
        np.testing.assert_allclose(sql, arrow, rtol=1e-12, err_msg=model.__name__)
        assert np.array_equal(sql > 0.5, arrow > 0.5)


@pytest.mark.slow
def test_sql_path_under_spark_connect_starts_no_python_worker():
    """A Connect server of its own (in a subprocess: the test process holds a classic session)."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("connect_sql_job.py"))], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == "sql"
    np.testing.assert_allclose(result["y"], 1 / (1 + np.exp(-np.arange(6) / 2.0)))
    assert result["z"] == [float(i * i + 1) for i in range(6)]
    assert result["workers_after_sql"] == 0
    assert result["workers_after_arrow"] > 0  # the check sees workers when there are some
