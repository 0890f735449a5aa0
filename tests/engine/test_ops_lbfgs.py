"""L-BFGS: the pure numpy functions (two-loop recursion, Armijo line search, the
step state machine) and the LBFGSStep op that runs them on graph variables."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine.ops.lbfgs import CONVERGED, FRESH, SEARCHING, LBFGSState, lbfgs_step_op
from engine.train import backtrack, lbfgs_direction, lbfgs_step, sufficient_decrease

COVERED_OPS = {"LBFGSStep"}

RNG = np.random.default_rng(3)
M = RNG.standard_normal((5, 5))
A = M @ M.T + 5 * np.eye(5)  # a positive definite quadratic: f(x) = x·Ax/2 - c·x
C = RNG.standard_normal(5)


def quadratic(x):
    return 0.5 * x @ A @ x - C @ x, A @ x - C


def rosenbrock(x):
    f = 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    return f, np.array([-400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0]), 200 * (x[1] - x[0] ** 2)])


def run(fun, x0, steps, memory=10):
    """`steps` evaluations of lbfgs_step; (state, last point)."""
    state, x = LBFGSState.initial(len(x0), memory), x0
    for _ in range(steps):
        state, x = lbfgs_step(state, x, *fun(x))
    return state, x


def dense_bfgs(s, y, grad):
    """-H grad with H built by the BFGS update formula from gamma * I (the two-loop recursion's H)."""
    n = len(grad)
    h = (s[-1] @ y[-1]) / (y[-1] @ y[-1]) * np.eye(n)
    for si, yi in zip(s, y):
        rho = 1 / (yi @ si)
        v = np.eye(n) - rho * np.outer(yi, si)
        h = v.T @ h @ v + rho * np.outer(si, si)
    return -h @ grad


def states(n=7):
    """Named LBFGSStates of every status for the op cases (the variables hold n = 7 numbers)."""
    x0 = RNG.standard_normal(n)
    f, g = float(np.sum(x0 ** 2)), 2 * x0
    fresh = LBFGSState.initial(n, 3)
    searching, _ = lbfgs_step(fresh, x0, f, g)
    return {"fresh": fresh, "searching": searching, "converged": searching._replace(status=np.int64(CONVERGED))}


def case(id, state, f):
    return pytest.param(state, f, id=f"LBFGSStep-{id}")


CASES = [
    case("fresh", "fresh", 3.0),
    case("searching-accepts-a-decrease", "searching", 0.0),
    case("searching-backtracks-on-an-increase", "searching", 1e6),
    case("searching-backtracks-on-nan", "searching", np.nan),
    case("converged-stays", "converged", 0.0),
]


@pytest.mark.parametrize("state_name, f", CASES)
def test_op_matches_lbfgs_step(state_name, f):
    state = states()[state_name]
    xs = [RNG.standard_normal((2, 2)), RNG.standard_normal(3)]
    gs = [RNG.standard_normal((2, 2)), RNG.standard_normal(3)]
    want_state, want_x = lbfgs_step(state, np.concatenate([a.ravel() for a in xs]), np.float64(f),
                                    np.concatenate([a.ravel() for a in gs]))
    with tf.Graph().as_default():
        new_state, new_xs = lbfgs_step_op(tf.constant(np.float64(f)), [tf.constant(v) for v in state],
                                          [tf.constant(x) for x in xs], [tf.constant(g) for g in gs])
        got_state, got_xs = tf.Session().run([new_state, new_xs])
    for name, got, want in zip(LBFGSState._fields, got_state, want_state):
        np.testing.assert_array_equal(got, want, err_msg=name)
        assert got.dtype == np.asarray(want).dtype and got.shape == np.shape(want), name
    np.testing.assert_array_equal(np.concatenate([x.ravel() for x in got_xs]), want_x)
    assert [x.shape for x in got_xs] == [(2, 2), (3,)]


def test_op_refuses_state_of_the_wrong_size():
    with tf.Graph().as_default():
        state = [tf.constant(v) for v in LBFGSState.initial(4, 2)]
        with pytest.raises(tf.ShapeError, match="7 elements"):
            lbfgs_step_op(tf.constant(1.0, tf.float64), state, [tf.constant(np.zeros(7))], [tf.constant(np.zeros(7))])


def test_op_refuses_mixed_dtypes():
    with tf.Graph().as_default():
        state = [tf.constant(v) for v in LBFGSState.initial(2, 2)]
        with pytest.raises(tf.DTypeError, match="float64"):
            lbfgs_step_op(tf.constant(1.0, tf.float64), state, [tf.constant(np.zeros(2, np.float32))],
                          [tf.constant(np.zeros(2, np.float32))])


@pytest.mark.parametrize("pairs", [1, 3, 5])
def test_two_loop_recursion_equals_the_dense_bfgs_update(pairs):
    s = RNG.standard_normal((pairs, 5))
    y = s @ A  # curvature pairs of the quadratic: s·y > 0
    grad = RNG.standard_normal(5)
    np.testing.assert_allclose(lbfgs_direction(s, y, grad), dense_bfgs(s, y, grad), rtol=1e-10)


def test_without_pairs_the_direction_is_steepest_descent():
    grad = RNG.standard_normal(5)
    np.testing.assert_array_equal(lbfgs_direction(np.zeros((0, 5)), np.zeros((0, 5)), grad), -grad)


@pytest.mark.parametrize("f_trial, trial_slope, accepted", [
    pytest.param(0.9, -1.0, True, id="armijo"),
    pytest.param(0.999995, -0.95, False, id="too-little-decrease-still-steep"),
    pytest.param(0.999995, 0.0, True, id="too-little-decrease-but-flat"),
    pytest.param(1.0, 0.0, True, id="flat-with-small-slope"),
    pytest.param(1.0, -0.95, False, id="flat-but-still-steep"),
    pytest.param(1.0, 0.85, False, id="flat-but-overshot"),
    pytest.param(np.inf, 0.0, False, id="infinite"),
    pytest.param(np.nan, 0.0, False, id="nan"),
])
def test_sufficient_decrease(f_trial, trial_slope, accepted):
    assert sufficient_decrease(1.0, slope=-1.0, step=0.1, f_trial=f_trial, trial_slope=trial_slope) is accepted


@pytest.mark.parametrize("f_trial, expected", [
    pytest.param(1.5, 1 / 3, id="quadratic-minimum"),  # 1 - t + 1.5 t**2 is smallest at t = 1/3
    pytest.param(0.95, 0.5, id="clipped-to-a-half"),
    pytest.param(100.0, 0.1, id="clipped-to-a-tenth"),
    pytest.param(np.nan, 0.1, id="not-finite"),
])
def test_backtrack(f_trial, expected):
    assert backtrack(1.0, slope=-1.0, step=1.0, f_trial=f_trial) == pytest.approx(expected)


def test_quadratic_minimum_within_a_few_iterations():
    state, x = run(quadratic, np.zeros(5), 25)
    np.testing.assert_allclose(state.x, np.linalg.solve(A, C), rtol=1e-10)
    assert int(state.status) == CONVERGED


def test_rosenbrock_minimum():
    state, x = run(rosenbrock, np.array([-1.2, 1.0]), 200)
    np.testing.assert_allclose(state.x, [1.0, 1.0], atol=1e-6)


def test_memory_keeps_the_newest_pairs():
    state, _ = run(rosenbrock, np.array([-1.2, 1.0]), 30, memory=2)
    assert int(state.pairs) == 2


def test_converged_state_does_not_move():
    state, x = run(quadratic, np.zeros(5), 40)
    again, x_next = lbfgs_step(state, x, *quadratic(x))
    assert again is state and x_next is state.x


def test_non_finite_starting_loss_is_an_error():
    with pytest.raises(tf.InvalidArgumentError, match="starting point"):
        lbfgs_step(LBFGSState.initial(2), np.zeros(2), np.nan, np.zeros(2))


def test_statuses():
    assert (FRESH, SEARCHING, CONVERGED) == (0, 1, 2)
    state, _ = run(quadratic, np.zeros(5), 1)
    assert int(state.status) == SEARCHING and int(state.pairs) == 0
