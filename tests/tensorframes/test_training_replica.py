"""The per-replica math of tfs.train without Spark: schedules, exact sums, stopping, snapshots.

A "cluster" here is a list of Replicas over a split of the rows; adding
their sums in partition order and applying the total is exactly what both
training modes do, so these tests pin down the exactness claim for every
optimizer, every partitioning and mini-batches.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import engine as tf
from tensorframes.errors import (AllreduceError, CheckpointError, LossError, NonFiniteValueError, NullValueError,
                                 PlaceholderTypeError, ShapeMismatchError, TrainingError, UnboundPlaceholderError)
from tensorframes.frames import PandasColumns
from tensorframes.training import results
from tensorframes.training.allreduce import add_in_order
from tensorframes.training.loop import (CONVERGED, EARLY_STOPPING, STEPS, StopRule, explain_non_finite,
                                       refuse_non_finite, run_steps)
from tensorframes.training.program import compile_training
from tensorframes.training.replica import Replica, TrainingSession, load_or_spill, load_partition, partition_rows
from tensorframes.training.schedule import Schedule
from tensorframes.training import spill
from tensorframes.training.spill import SpilledColumns
from tensorframes.training.snapshot import Snapshot, load_checkpoint, save_checkpoint

TOKEN = b"0123456789abcdef"
RNG = np.random.default_rng(7)
X = RNG.standard_normal((60, 3))
Y = X @ np.array([1.5, -2.0, 0.5]) + 0.25 + 0.1 * RNG.standard_normal(60)
FRAME = pd.DataFrame({"x": list(X), "y": Y})

OPTIMIZERS = {
    "gd": lambda: tf.train.GradientDescentOptimizer(0.1),
    "momentum": lambda: tf.train.MomentumOptimizer(0.05, 0.9),
    "nesterov": lambda: tf.train.MomentumOptimizer(0.05, 0.9, use_nesterov=True),
    "adagrad": lambda: tf.train.AdagradOptimizer(0.3),
    "adadelta": lambda: tf.train.AdadeltaOptimizer(1.0),
    "adam": lambda: tf.train.AdamOptimizer(0.1),
    "ftrl": lambda: tf.train.FtrlOptimizer(0.3, l1_regularization_strength=0.01),
    "rmsprop": lambda: tf.train.RMSPropOptimizer(0.05),
    "lbfgs": tf.train.LBFGSOptimizer,
}


def regression(penalty: float = 0.0):
    """(session, loss, x, y, w): mean squared error of a linear model, plus an optional L2 penalty."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float64, (None, 3), name="x")
        y = tf.placeholder(tf.float64, (None,), name="y")
        w = tf.Variable(np.zeros((3, 1)), name="w")
        b = tf.Variable(np.float64(0.0), name="b")
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w)[:, 0] + b - y)) + penalty * tf.reduce_sum(tf.square(w))
        session = tf.Session(graph)
        session.run(tf.global_variables_initializer())
    return session, loss, x, y, w


def single_process(make_optimizer, steps: int, penalty: float = 0.0) -> dict[str, np.ndarray]:
    session, loss, x, y, w = regression(penalty)
    with session.graph.as_default():
        train_op = make_optimizer().minimize(loss)
        session.run(tf.variables_initializer([v for v in tf.global_variables() if v.op.name not in ("w", "b")]))
    for _ in range(steps):
        session.run(train_op, {x: X, y: Y})
    return session.export_variables()


def program_for(make_optimizer, penalty: float = 0.0):
    session, loss, *_ = regression(penalty)
    return compile_training(loss, PandasColumns(FRAME), make_optimizer(), None, None, session)


def cluster(program, splits, batch_size=None, seed=0) -> list[Replica]:
    """One Replica per split of the rows (split points into X, Y)."""
    bounds = [0, *splits, len(X)]
    parts = [(X[a:b], Y[a:b]) for a, b in zip(bounds, bounds[1:])]
    schedule = Schedule(tuple(len(p[0]) for p in parts), batch_size, seed)
    return [Replica(TrainingSession(program), list(p), i, schedule) for i, p in enumerate(parts)]


def run_cluster(replicas: list[Replica], steps: int) -> dict[str, np.ndarray]:
    """Every replica applies the same total, as in barrier mode; returns replica 0's state."""
    for step in range(steps):
        total = add_in_order([r.sums(step) for r in replicas])
        for r in replicas:
            r.session.apply(total)
    states = [r.session.state() for r in replicas]
    for other in states[1:]:
        for name, value in states[0].items():
            np.testing.assert_array_equal(other[name], value, err_msg=f"replicas diverged on {name}")
    return states[0]


# -- exactness -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("splits", [[], [25], [10, 30, 45]], ids=["1", "2", "4"])
def test_averaged_steps_equal_single_process_training(name, splits):
    expected = single_process(OPTIMIZERS[name], 8)
    state = run_cluster(cluster(program_for(OPTIMIZERS[name]), splits), 8)
    for var in ("w", "b"):
        np.testing.assert_allclose(state[var], expected[var], rtol=1e-9, atol=1e-12, err_msg=var)


def test_a_term_without_data_is_counted_once_not_once_per_replica():
    expected = single_process(OPTIMIZERS["gd"], 5, penalty=0.3)
    state = run_cluster(cluster(program_for(OPTIMIZERS["gd"], penalty=0.3), [7, 31]), 5)
    np.testing.assert_allclose(state["w"], expected["w"], rtol=1e-9)


def test_an_empty_partition_adds_nothing():
    program = program_for(OPTIMIZERS["adam"])
    replicas = cluster(program, [0, 30])
    assert replicas[0].schedule.counts[0] == 0
    assert not replicas[0].sums(0).any()
    np.testing.assert_allclose(run_cluster(replicas, 4)["w"], single_process(OPTIMIZERS["adam"], 4)["w"], rtol=1e-9)


def test_sums_vector_holds_rows_loss_sum_and_gradient_sums():
    session = TrainingSession(program_for(OPTIMIZERS["gd"]))
    sums = session.sums([X[:10], Y[:10]])
    assert sums[0] == 10
    np.testing.assert_allclose(sums[1], 10 * np.mean(Y[:10] ** 2))
    np.testing.assert_allclose(sums[2:5], 10 * (2 * X[:10].T @ -Y[:10] / 10))


# -- mini-batches ----------------------------------------------------------------------------
def test_mini_batches_are_every_row_once_per_epoch_in_proportion():
    schedule = Schedule((30, 10, 0, 5), batch_size=9, seed=3)
    k = schedule.steps_per_epoch
    assert k == 5
    for epoch in range(2):
        for p, n in enumerate(schedule.counts):
            rows = np.concatenate([schedule.rows(epoch * k + j, p) for j in range(k)])
            assert sorted(rows) == list(range(n))
        sizes = [schedule.batch_rows(epoch * k + j) for j in range(k)]
        assert sizes == [9, 9, 9, 9, 9]
        assert [len(schedule.rows(j, 0)) for j in range(k)] == [6] * 5


def test_every_step_reads_some_rows_even_from_tiny_partitions():
    schedule = Schedule((1, 1, 1, 1), batch_size=2)
    assert [sum(len(schedule.rows(j, p)) for p in range(4)) for j in range(2)] == [2, 2]


def test_the_seed_decides_the_batches():
    a, b, c = (Schedule((40, 20), 16, seed) for seed in (1, 1, 2))
    assert all(np.array_equal(a.rows(s, p), b.rows(s, p)) for s in range(8) for p in range(2))
    assert not all(np.array_equal(a.rows(s, 0), c.rows(s, 0)) for s in range(4))
    assert not np.array_equal(a.rows(0, 0), a.rows(a.steps_per_epoch, 0))  # reshuffled every epoch


def test_mini_batch_training_is_the_same_whoever_computes_it():
    program = program_for(OPTIMIZERS["adam"])
    first = run_cluster(cluster(program, [20, 41], batch_size=16, seed=5), 9)
    again = run_cluster(cluster(program, [20, 41], batch_size=16, seed=5), 9)
    other = run_cluster(cluster(program, [20, 41], batch_size=16, seed=6), 9)
    np.testing.assert_array_equal(first["w"], again["w"])
    assert not np.array_equal(first["w"], other["w"])


# -- random ops (dropout) ----------------------------------------------------------------------
def dropout_program():
    """A linear model with dropout (seeded) on its inputs, trained by gradient descent."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float64, (None, 3), name="x")
        y = tf.placeholder(tf.float64, (None,), name="y")
        w = tf.Variable(np.ones((3, 1)), name="w")
        loss = tf.reduce_mean(tf.square(tf.matmul(tf.nn.dropout(x, rate=0.5, seed=11), w)[:, 0] - y))
        session = tf.Session(graph)
        session.run(tf.global_variables_initializer())
    return compile_training(loss, PandasColumns(FRAME), OPTIMIZERS["gd"](), None, None, session)


def test_dropout_draws_a_mask_per_partition_and_step_and_redraws_it_on_a_retry():
    program, schedule = dropout_program(), Schedule((60, 60), None, 0)
    first, second = (Replica(TrainingSession(program), [X, Y], p, schedule) for p in (0, 1))
    step0 = first.sums(0)
    assert not np.array_equal(second.sums(0), step0), "two partitions drew the same dropout mask"
    assert not np.array_equal(first.sums(1), step0), "two steps drew the same dropout mask"
    np.testing.assert_array_equal(first.sums(0), step0)  # a retried step, after other steps ran
    np.testing.assert_array_equal(Replica(TrainingSession(program), [X, Y], 0, schedule).sums(0), step0)


def test_training_with_dropout_is_the_same_whoever_computes_it():
    program = dropout_program()
    first, again = (run_cluster(cluster(program, [25]), 4) for _ in range(2))
    np.testing.assert_array_equal(first["w"], again["w"])
    assert not np.array_equal(first["w"], np.ones((3, 1)))


# -- loading a partition ---------------------------------------------------------------------
def test_load_partition_concatenates_batches_and_numbers_rows_across_them():
    program = program_for(OPTIMIZERS["gd"])
    batches = [pa.RecordBatch.from_pydict({"x": [[1.0, 2.0, 3.0]] * 2, "y": [1.0, 2.0]})] * 2
    x, y = load_partition(iter(batches), program.feeds)
    assert x.shape == (4, 3) and y.tolist() == [1.0, 2.0, 1.0, 2.0]
    bad = pa.RecordBatch.from_pydict({"x": [[1.0, 2.0, 3.0]], "y": pa.array([None], pa.float64())})
    with pytest.raises(NullValueError, match="row 4"):
        load_partition(iter(batches + [bad]), program.feeds)
    short = pa.RecordBatch.from_pydict({"x": [[1.0, 2.0]], "y": [1.0]})
    with pytest.raises(ShapeMismatchError, match="'x'"):
        load_partition(iter([short]), program.feeds)


def arrow_batches(size: int = 7) -> list[pa.RecordBatch]:
    """X, Y as Arrow batches of `size` rows."""
    return [pa.RecordBatch.from_pydict({"x": [list(r) for r in X[a:a + size]], "y": Y[a:a + size]})
            for a in range(0, len(X), size)]


def test_a_partition_above_spill_bytes_is_spilled_and_sums_as_in_memory(monkeypatch):
    monkeypatch.setattr(spill, "_MIN_CHUNK_BYTES", 600)  # chunks of a few batches
    program = program_for(OPTIMIZERS["gd"])
    held = load_or_spill(iter(arrow_batches()), program.feeds, None)
    spilled = load_or_spill(iter(arrow_batches()), program.feeds, 500)
    assert isinstance(spilled, SpilledColumns) and not isinstance(held, SpilledColumns)
    assert len(list(spilled.chunks())) > 1  # several chunks, summed in order
    assert partition_rows(spilled) == partition_rows(held) == len(X)
    session = TrainingSession(program)
    np.testing.assert_allclose(spilled.sums(session, slice(None)), session.sums(held), rtol=1e-13)
    rows = np.random.default_rng(1).permutation(len(X))[:17]  # a mini-batch, in the schedule's order
    np.testing.assert_array_equal(spilled.sums(session, rows), session.sums([c[rows] for c in held]))


def test_a_spilled_partition_reports_bad_cells_at_load_time_with_their_row():
    bad = pa.RecordBatch.from_pydict({"x": [[1.0, 2.0, 3.0]], "y": pa.array([None], pa.float64())})
    with pytest.raises(NullValueError, match="row 60"):
        load_or_spill(iter(arrow_batches() + [bad]), program_for(OPTIMIZERS["gd"]).feeds, 0)


def test_an_empty_partition_loads_as_empty_arrays():
    x, y = load_partition(iter([]), program_for(OPTIMIZERS["gd"]).feeds)
    assert x.shape == (0, 3) and y.shape == (0,)


# -- compiling: errors before any job --------------------------------------------------------
def test_the_users_graph_is_left_alone():
    session, loss, *_ = regression()
    before = len(session.graph.get_operations())
    compile_training(loss, PandasColumns(FRAME), tf.train.AdamOptimizer(), None, None, session)
    assert len(session.graph.get_operations()) == before


def test_a_loss_that_is_not_a_scalar_is_refused():
    session, loss, x, y, w = regression()
    with session.graph.as_default():
        per_row = tf.square(tf.matmul(x, w)[:, 0] - y)
    with pytest.raises(LossError, match=r"float scalar.*reduce_mean"):
        compile_training(per_row, PandasColumns(FRAME), tf.train.AdamOptimizer(), None, None, session)


def test_a_variable_the_loss_does_not_depend_on_is_named():
    session, loss, *_ = regression()
    with session.graph.as_default():
        unused = tf.Variable(np.ones(2), name="unused")
        session.run(unused.initializer)
    with pytest.raises(LossError, match="unused"):
        compile_training(loss, PandasColumns(FRAME), tf.train.AdamOptimizer(), None, None, session)


def test_feed_columns_are_checked_against_the_placeholders():
    session, loss, *_ = regression()
    as_float32 = FRAME.assign(y=FRAME.y.astype(np.float32))
    with pytest.raises(PlaceholderTypeError, match="'y'.*cast"):
        compile_training(loss, PandasColumns(as_float32), tf.train.AdamOptimizer(), None, None, session)
    with pytest.raises(UnboundPlaceholderError, match="feed_dict"):
        compile_training(loss, PandasColumns(FRAME.rename(columns={"y": "label"})), tf.train.AdamOptimizer(),
                         None, None, session)
    compile_training(loss, PandasColumns(FRAME.rename(columns={"y": "label"})), tf.train.AdamOptimizer(),
                     {"y": "label"}, None, session)


# -- stopping --------------------------------------------------------------------------------
def test_full_batch_stops_at_a_fixed_point_or_when_the_loss_stalls():
    full = Schedule((10,))
    assert StopRule(5, full, None, 3).after(1, 1.0, changed=False) == CONVERGED
    rule = StopRule(100, full, 0.1, 2)
    assert [rule.after(s, loss, True) for s, loss in enumerate([4.0, 3.0, 2.9, 2.8], 1)] == \
        [None, None, None, EARLY_STOPPING]
    assert StopRule(2, full, None, 3).after(2, 1.0, True) == STEPS


def test_mini_batches_stop_early_on_the_epoch_mean_loss():
    schedule = Schedule((4,), batch_size=2)  # two steps an epoch
    rule = StopRule(100, schedule, 0.1, 1)
    decisions = [rule.after(s, loss, True) for s, loss in enumerate([5.0, 1.0, 4.0, 1.0, 2.5, 2.48], 1)]
    assert decisions == [None, None, None, None, None, EARLY_STOPPING]  # epoch means 3.0, 2.5, then 2.49
    assert StopRule(100, schedule, None, 3).after(1, 1.0, changed=False) is None  # no fixed points


def test_a_resumed_rule_remembers_the_losses_before():
    rule = StopRule(100, Schedule((10,)), 0.1, 2, history=[4.0, 3.0, 2.9])
    assert rule.after(4, 2.8, True) == EARLY_STOPPING


def test_run_steps_reports_every_step_and_resumes_exactly():
    program = program_for(OPTIMIZERS["adam"])
    straight = cluster(program, [30])
    reports = []
    evaluate = lambda step: add_in_order([r.sums(step) for r in straight])  # noqa: E731
    start = Snapshot(0, np.zeros(0), {})
    first = run_steps(straight[0].session, start, StopRule(6, straight[0].schedule, None, 3), evaluate,
                      lambda info, snap: reports.append((info, snap())))
    assert [info.step for info, _ in reports] == [1, 2, 3, 4, 5, 6] and first.reason == STEPS
    middle = reports[2][1]
    resumed = cluster(program, [30])
    resumed[0].session.load(middle.state)
    again = lambda step: add_in_order([r.sums(step) for r in resumed])  # noqa: E731
    second = run_steps(resumed[0].session, middle, StopRule(6, resumed[0].schedule, None, 3), again,
                       lambda info, snap: None)
    assert second.start == 3 and second.losses == first.losses
    np.testing.assert_array_equal(resumed[0].session.state()["w"], straight[0].session.state()["w"])


# -- non-finite steps ------------------------------------------------------------------------
def with_cells(replica: Replica, **cells) -> Replica:
    """``replica`` with cells of its columns replaced: ``x=(row, element, value)``, ``y=(row, value)``."""
    x, y = (c.copy() for c in replica.columns)
    if "x" in cells:
        x[cells["x"][0], cells["x"][1]] = cells["x"][2]
    if "y" in cells:
        y[cells["y"][0]] = cells["y"][1]
    return Replica(replica.session, [x, y], replica.partition, replica.schedule)


def test_the_first_non_finite_value_of_a_step_is_the_lowest_row_then_the_first_column():
    replica = cluster(program_for(OPTIMIZERS["gd"]), [30])[1]
    assert replica.first_non_finite(0) is None
    assert with_cells(replica, y=(9, np.nan), x=(4, 2, -np.inf)).first_non_finite(0) == ("x", 4, -np.inf)
    found = with_cells(replica, y=(4, np.nan), x=(4, 2, np.inf)).first_non_finite(0)
    assert found[:2] == ("x", 4)
    column, row, value = with_cells(replica, y=(12, np.nan)).first_non_finite(0)
    assert (column, row) == ("y", 12) and np.isnan(value)


def test_with_mini_batches_only_the_steps_rows_are_looked_at():
    replica = cluster(program_for(OPTIMIZERS["gd"]), [30], batch_size=10)[1]
    schedule = replica.schedule
    row = int(schedule.rows(1, 1)[0])
    bad = with_cells(replica, y=(row, np.inf))
    assert row not in schedule.rows(0, 1) and bad.first_non_finite(0) is None
    assert bad.first_non_finite(1) == ("y", row, np.inf)


def test_a_spilled_partition_is_looked_at_chunk_by_chunk_with_its_row_numbers(monkeypatch):
    monkeypatch.setattr(spill, "_MIN_CHUNK_BYTES", 600)
    program = program_for(OPTIMIZERS["gd"])
    y = Y.copy()
    y[45] = np.nan
    batches = [pa.RecordBatch.from_pydict({"x": [list(r) for r in X[a:a + 7]], "y": y[a:a + 7]})
               for a in range(0, len(X), 7)]
    spilled = load_or_spill(iter(batches), program.feeds, 500)
    assert isinstance(spilled, SpilledColumns) and len(list(spilled.chunks())) > 1
    for batch_size in (None, 60):
        replica = Replica(TrainingSession(program), spilled, 0, Schedule((60,), batch_size))
        assert replica.first_non_finite(0)[:2] == ("y", 45)


def test_a_step_whose_sums_are_not_finite_is_refused_naming_the_value_or_the_learning_rate():
    replica = cluster(program_for(OPTIMIZERS["gd"]), [30])[1]
    bad = with_cells(replica, y=(3, np.nan))
    error = explain_non_finite(bad, 1, bad.sums(0))
    assert isinstance(error, NonFiniteValueError) and (error.column, error.row) == ("y", 3)
    assert str(error).startswith("step 1: column 'y' holds NaN in row 3, so the loss is not finite")
    overflowed = explain_non_finite(replica, 4, np.array([30.0, 1.0, np.inf]))
    assert type(overflowed) is TrainingError and "a gradient is not finite" in str(overflowed)
    assert "learning rate is too large" in str(overflowed)
    with pytest.raises(TrainingError, match="step 2: the loss is not finite .* no value fed"):
        refuse_non_finite(2, np.array([60.0, np.nan, 1.0]))
    refuse_non_finite(2, np.array([60.0, 1.0, 1.0]), blame=lambda step, total: pytest.fail("blamed a good step"))


# -- snapshots and relayed errors ------------------------------------------------------------
def test_checkpoints_round_trip_and_a_broken_one_is_reported(tmp_path):
    snapshot = Snapshot(3, np.array([3.0, 2.0, 1.0]), {"w": np.eye(2), "LBFGS/pairs": np.int64(2)}, {"seed": 1})
    save_checkpoint(tmp_path, snapshot)
    loaded = load_checkpoint(tmp_path)
    assert loaded.step == 3 and loaded.meta == {"seed": 1} and loaded.losses.tolist() == [3.0, 2.0, 1.0]
    np.testing.assert_array_equal(loaded.state["w"], np.eye(2))
    assert loaded.state["LBFGS/pairs"].dtype == np.int64
    assert load_checkpoint(tmp_path / "nothing") is None
    (tmp_path / "checkpoint.npz").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="delete it"):
        load_checkpoint(tmp_path)


def test_relayed_errors_keep_their_class_column_and_row():
    batch = results.result_batch(2, error=NullValueError("column 'x' has a null value in row 7", "x", 7))
    ok = results.result_batch(0, b"payload")
    with pytest.raises(NullValueError, match="row 7.*partition 2") as caught:
        results.payloads(pa.Table.from_batches([ok, batch]))
    assert (caught.value.column, caught.value.row) == ("x", 7)
    assert results.payloads(pa.Table.from_batches([ok])) == {0: b"payload"}



def test_float32_models_train_too():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, (None, 3), name="x")
        y = tf.placeholder(tf.float32, (None,), name="y")
        w = tf.Variable(np.zeros((3, 1), np.float32), name="w")
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w)[:, 0] - y))
        session = tf.Session(graph)
        session.run(tf.global_variables_initializer())
        train_op = tf.train.AdamOptimizer(0.1).minimize(loss)
        session.run(tf.variables_initializer([v for v in tf.global_variables() if v.op.name != "w"]))
    x32, y32 = X.astype(np.float32), Y.astype(np.float32)
    frame = pd.DataFrame({"x": list(x32), "y": y32})
    program = compile_training(loss, PandasColumns(frame), tf.train.AdamOptimizer(0.1), None, [w], session)
    halves = [[x32[:30], y32[:30]], [x32[30:], y32[30:]]]
    state = run_cluster([Replica(TrainingSession(program), h, i, Schedule((30, 30))) for i, h in enumerate(halves)], 5)
    for _ in range(5):
        session.run(train_op, {x: x32, y: y32})
    assert state["w"].dtype == np.float32
    np.testing.assert_allclose(state["w"], session.run(w), rtol=1e-5)


# -- a barrier task's end --------------------------------------------------------------------
class LosingComm:
    """A Mesh stand-in for rank 0 of 2 whose peer is lost after the first allreduce."""

    rank, size = 0, 2

    def __init__(self) -> None:
        self.calls = 0

    def allreduce(self, vector, midway=None):
        self.calls += 1
        if self.calls > 1:
            raise AllreduceError("rank 0 lost rank 1: it closed the connection")
        return np.asarray(vector) * 2


def test_a_task_that_lost_a_peer_fails_instead_of_reporting_a_result():
    """Were the lost peer relayed as a result, the task would succeed: Spark keeps a successful task's
    output when it retries a barrier stage and relaunches only the others, which then wait for a peer
    that never comes (the CI hang)."""
    from tensorframes.training.barrier_mode import BarrierJob, _train
    from tensorframes.training.channel import ProgressClient
    from tensorframes.training.options import BarrierOptions
    from tensorframes.training.spec import TrainingSpec

    program = program_for(OPTIMIZERS["gd"])
    spec = TrainingSpec(steps=3)
    start = Snapshot(0, np.zeros(0), TrainingSession(program).state(), spec.meta).to_bytes()
    job = BarrierJob(program, spec, start, None, TOKEN, ("127.0.0.1", 1), "driver", BarrierOptions())
    with pytest.raises(AllreduceError, match="lost rank 1"):
        list(_train(job, LosingComm(), ProgressClient(None), [X, Y], None, {}))
