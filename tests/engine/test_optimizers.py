"""Optimizers against plain numpy implementations of TensorFlow 1.x's documented update rules.

The problem: linear regression with a matrix W (3, 2) and a bias b (2,) in
float64, loss = mean((X @ W + b - Y) ** 2). Each case runs 5 steps in the
graph and in numpy (same gradients, computed in numpy from the same values)
and compares every variable after every step to 1e-10.
"""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine.errors import DTypeError, GradientError

RNG = np.random.default_rng(42)
X = RNG.standard_normal((8, 3))
Y = RNG.standard_normal((8, 2))
W0 = RNG.standard_normal((3, 2))
B0 = RNG.standard_normal(2)
STEPS = 5


def numpy_grads(w: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
    r = X @ w + b - Y
    return [2 * X.T @ r / r.size, 2 * r.sum(axis=0) / r.size]


# -- numpy references: step(x, g, state, t) -> new x, with t = 1, 2, ... ------------------------
def sgd(lr):
    return lambda x, g, s, t: x - lr * g


def momentum(lr, mu, nesterov=False):
    def step(x, g, s, t):
        s["accum"] = mu * s.get("accum", 0.0) + g
        return x - (lr * g + lr * mu * s["accum"] if nesterov else lr * s["accum"])
    return step


def adagrad(lr, initial=0.1):
    def step(x, g, s, t):
        s["accum"] = s.get("accum", initial) + g * g
        return x - lr * g / np.sqrt(s["accum"])
    return step


def adadelta(lr, rho, eps):
    def step(x, g, s, t):
        s["accum"] = rho * s.get("accum", 0.0) + (1 - rho) * g * g
        update = np.sqrt(s.get("accum_update", 0.0) + eps) / np.sqrt(s["accum"] + eps) * g
        s["accum_update"] = rho * s.get("accum_update", 0.0) + (1 - rho) * update * update
        return x - lr * update
    return step


def adam(lr, beta1=0.9, beta2=0.999, eps=1e-8):
    def step(x, g, s, t):
        lr_t = lr * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        s["m"] = beta1 * s.get("m", 0.0) + (1 - beta1) * g
        s["v"] = beta2 * s.get("v", 0.0) + (1 - beta2) * g * g
        return x - lr_t * s["m"] / (np.sqrt(s["v"]) + eps)
    return step


def ftrl(lr, power=-0.5, initial=0.1, l1=0.0, l2=0.0, shrinkage=0.0):
    def step(x, g, s, t):
        accum = s.get("accum", initial)
        new_accum = accum + g * g
        s["linear"] = s.get("linear", 0.0) + g + 2 * shrinkage * x - (new_accum ** -power - accum ** -power) / lr * x
        s["accum"] = new_accum
        quadratic = new_accum ** -power / lr + 2 * l2
        return np.where(np.abs(s["linear"]) > l1, (np.sign(s["linear"]) * l1 - s["linear"]) / quadratic, 0.0)
    return step


def rmsprop(lr, decay=0.9, mu=0.0, eps=1e-10, centered=False):
    def step(x, g, s, t):
        s["ms"] = decay * s.get("ms", 1.0) + (1 - decay) * g * g
        s["mg"] = decay * s.get("mg", 0.0) + (1 - decay) * g if centered else 0.0
        s["mom"] = mu * s.get("mom", 0.0) + lr * g / np.sqrt(s["ms"] - s["mg"] ** 2 + eps)
        return x - s["mom"]
    return step


CASES = [
    pytest.param(lambda: tf.train.GradientDescentOptimizer(0.1), sgd(0.1), id="GradientDescent"),
    pytest.param(lambda: tf.train.MomentumOptimizer(0.1, 0.9), momentum(0.1, 0.9), id="Momentum"),
    pytest.param(lambda: tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True), momentum(0.1, 0.9, True),
                 id="Momentum-nesterov"),
    pytest.param(lambda: tf.train.AdagradOptimizer(0.3), adagrad(0.3), id="Adagrad"),
    pytest.param(lambda: tf.train.AdagradOptimizer(0.3, initial_accumulator_value=2.0), adagrad(0.3, 2.0),
                 id="Adagrad-initial-accumulator"),
    pytest.param(lambda: tf.train.AdadeltaOptimizer(1.0, rho=0.9, epsilon=1e-6), adadelta(1.0, 0.9, 1e-6),
                 id="Adadelta"),
    pytest.param(lambda: tf.train.AdadeltaOptimizer(), adadelta(0.001, 0.95, 1e-8), id="Adadelta-defaults"),
    pytest.param(lambda: tf.train.AdamOptimizer(0.1), adam(0.1), id="Adam"),
    pytest.param(lambda: tf.train.AdamOptimizer(0.05, beta1=0.5, beta2=0.9, epsilon=0.1), adam(0.05, 0.5, 0.9, 0.1),
                 id="Adam-epsilon-hat"),
    pytest.param(lambda: tf.train.FtrlOptimizer(0.5), ftrl(0.5), id="Ftrl"),
    pytest.param(lambda: tf.train.FtrlOptimizer(0.5, l1_regularization_strength=0.05, l2_regularization_strength=0.1),
                 ftrl(0.5, l1=0.05, l2=0.1), id="Ftrl-l1-l2"),
    pytest.param(lambda: tf.train.FtrlOptimizer(0.5, learning_rate_power=-0.7, initial_accumulator_value=0.5,
                                                l1_regularization_strength=0.01,
                                                l2_shrinkage_regularization_strength=0.2),
                 ftrl(0.5, -0.7, 0.5, l1=0.01, shrinkage=0.2), id="Ftrl-power-shrinkage"),
    pytest.param(lambda: tf.train.RMSPropOptimizer(0.01), rmsprop(0.01), id="RMSProp"),
    pytest.param(lambda: tf.train.RMSPropOptimizer(0.01, decay=0.8, momentum=0.5, epsilon=1e-6),
                 rmsprop(0.01, 0.8, 0.5, 1e-6), id="RMSProp-momentum"),
    pytest.param(lambda: tf.train.RMSPropOptimizer(0.01, momentum=0.5, centered=True),
                 rmsprop(0.01, mu=0.5, centered=True), id="RMSProp-centered"),
]


def regression():
    """(graph, loss, W, b) of the test problem."""
    graph = tf.Graph()
    with graph.as_default():
        w = tf.Variable(W0, name="W")
        b = tf.Variable(B0, name="b")
        loss = tf.reduce_mean(tf.square(tf.matmul(tf.constant(X), w) + b - tf.constant(Y)))
    return graph, loss, w, b


def started(graph: tf.Graph) -> tf.Session:
    """A session of `graph` with every variable initialized."""
    with graph.as_default():
        init = tf.global_variables_initializer()
    sess = tf.Session(graph)
    sess.run(init)
    return sess


@pytest.mark.parametrize("make, reference", CASES)
def test_five_steps_match_the_documented_rule(make, reference):
    graph, loss, w, b = regression()
    with graph.as_default():
        train_op = make().minimize(loss)
    sess = started(graph)
    values, states = [W0.copy(), B0.copy()], [{}, {}]
    for t in range(1, STEPS + 1):
        grads = numpy_grads(*values)
        values = [reference(x, g, s, t) for x, g, s in zip(values, grads, states)]
        sess.run(train_op)
        for got, want in zip(sess.run([w, b]), values):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10, err_msg=f"step {t}")


def test_ftrl_l1_zeroes_some_weights():
    graph, loss, w, b = regression()
    with graph.as_default():
        train_op = tf.train.FtrlOptimizer(0.5, l1_regularization_strength=0.3).minimize(loss)
    sess = started(graph)
    for _ in range(STEPS):
        sess.run(train_op)
    assert 0 < np.count_nonzero(sess.run(w)) < W0.size


def test_minimize_counts_the_global_step():
    graph, loss, w, b = regression()
    with graph.as_default():
        step = tf.train.get_or_create_global_step()
        train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
        assert tf.train.get_or_create_global_step() is step
        init = tf.global_variables_initializer()
    sess = tf.Session(graph)
    sess.run(init)
    for _ in range(3):
        sess.run(train_op)
    assert tf.train.global_step(sess, step) == 3
    assert step.dtype == tf.int64 and step not in tf.trainable_variables(graph)


def test_create_global_step_twice_is_an_error():
    with tf.Graph().as_default():
        tf.train.create_global_step()
        with pytest.raises(tf.GraphError, match="already has a global step"):
            tf.train.create_global_step()


def test_fetching_the_loss_with_the_step_gives_the_value_before_the_step():
    graph, loss, w, b = regression()
    with graph.as_default():
        train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    sess = started(graph)
    before = sess.run(loss)
    assert sess.run([loss, train_op])[0] == before
    assert sess.run(loss) < before


def test_slots_are_non_trainable_variables_named_like_tensorflow():
    graph, loss, w, b = regression()
    with graph.as_default():
        opt = tf.train.AdamOptimizer(0.1)
        opt.minimize(loss)
    m, v = opt.get_slot(w, "m"), opt.get_slot(w, "v")
    assert isinstance(m, tf.Variable) and m.op.name == "W/Adam" and v.op.name.startswith("W/Adam_")
    assert opt.get_slot_names() == ["m", "v"]
    assert set(opt.variables()) <= set(tf.global_variables(graph))
    assert not set(opt.variables()) & set(tf.trainable_variables(graph))
    assert {"beta1_power", "beta2_power"} <= {x.op.name for x in opt.variables()}


def test_slots_are_saved_with_the_variables():
    graph, loss, w, b = regression()
    with graph.as_default():
        opt = tf.train.MomentumOptimizer(0.1, 0.9)
        train_op = opt.minimize(loss)
    sess = started(graph)
    sess.run(train_op)
    saved = sess.export_variables()
    np.testing.assert_allclose(saved["W/Momentum"], numpy_grads(W0, B0)[0])


def test_minimize_twice_reuses_the_slots():
    graph, loss, w, b = regression()
    with graph.as_default():
        opt = tf.train.AdagradOptimizer(0.1)
        opt.minimize(loss)
        opt.minimize(loss)
    assert len(opt.variables()) == 2


def test_slots_ignore_the_callers_control_dependencies():
    graph, loss, w, b = regression()
    with graph.as_default():
        marker = tf.no_op(name="marker")
        with tf.control_dependencies([marker]):
            opt = tf.train.MomentumOptimizer(0.1, 0.9)
            opt.minimize(loss)
    assert not opt.get_slot(w, "momentum").op.control_inputs


def test_learning_rate_may_be_a_fed_tensor():
    graph, loss, w, b = regression()
    with graph.as_default():
        lr = tf.placeholder(tf.float64, [], name="lr")
        train_op = tf.train.GradientDescentOptimizer(lr).minimize(loss, var_list=[b])
    sess = started(graph)
    sess.run(train_op, {lr: 0.5})
    np.testing.assert_allclose(sess.run(b), B0 - 0.5 * numpy_grads(W0, B0)[1], rtol=1e-12)
    np.testing.assert_array_equal(sess.run(w), W0)


def test_apply_gradients_with_explicit_pairs():
    graph, loss, w, b = regression()
    with graph.as_default():
        opt = tf.train.GradientDescentOptimizer(1.0)
        train_op = opt.apply_gradients([(tf.constant(np.ones(2)), b)], name="manual")
    assert train_op.name == "manual"
    sess = started(graph)
    sess.run(train_op)
    np.testing.assert_allclose(sess.run(b), B0 - 1.0)


def test_compute_gradients_names_variables_without_gradient():
    graph, loss, w, b = regression()
    with graph.as_default():
        unused = tf.Variable(np.zeros(3), name="unused")
        with pytest.raises(GradientError, match="unused:0"):
            tf.train.AdamOptimizer().compute_gradients(loss)
        assert len(tf.train.AdamOptimizer().compute_gradients(loss, var_list=[w, b])) == 2


def test_compute_gradients_needs_a_float_loss():
    with tf.Graph().as_default():
        tf.Variable(np.ones(2), name="w")
        with pytest.raises(GradientError, match="must be floating"):
            tf.train.GradientDescentOptimizer(0.1).minimize(tf.constant(1, dtype=tf.int32))


def test_minimizing_a_non_scalar_loss_minimizes_its_sum():
    """TensorFlow 1.x: the gradient of a non-scalar is the gradient of its sum."""
    def step(reduce):
        with tf.Graph().as_default():
            w = tf.Variable(np.array([1.0, -2.0]), name="w")
            loss = tf.square(w - 3.0)
            train = tf.train.GradientDescentOptimizer(0.1).minimize(tf.reduce_sum(loss) if reduce else loss)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                sess.run(train)
                return sess.run(w)
    np.testing.assert_array_equal(step(False), step(True))
    np.testing.assert_allclose(step(False), [1.4, -1.0])


def test_integer_variables_cannot_be_optimized():
    with tf.Graph().as_default():
        w = tf.Variable(np.ones(2), name="w")
        n = tf.Variable(np.int32(1), name="n")
        with pytest.raises(DTypeError, match="n:0"):
            tf.train.GradientDescentOptimizer(0.1).minimize(tf.reduce_sum(w), var_list=[w, n])


def test_no_variables_is_an_error():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="no variables"):
            tf.train.GradientDescentOptimizer(0.1).minimize(tf.reduce_sum(tf.constant([1.0, 2.0])))


def test_apply_gradients_refuses_a_missing_gradient():
    graph, loss, w, b = regression()
    with graph.as_default():
        with pytest.raises(GradientError, match="b:0"):
            tf.train.AdamOptimizer().apply_gradients([(None, b)])


def test_apply_gradients_refuses_a_gradient_of_another_dtype():
    graph, loss, w, b = regression()
    with graph.as_default():
        with pytest.raises(DTypeError, match="b:0"):
            tf.train.AdamOptimizer().apply_gradients([(tf.constant(np.ones(2, np.float32)), b)])


@pytest.mark.parametrize("make, match", [
    pytest.param(lambda: tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.0), "initial_accumulator_value",
                 id="Adagrad-zero-accumulator"),
    pytest.param(lambda: tf.train.FtrlOptimizer(0.1, learning_rate_power=0.5), "learning_rate_power",
                 id="Ftrl-positive-power"),
    pytest.param(lambda: tf.train.FtrlOptimizer(0.1, l1_regularization_strength=-1.0), "l1_regularization_strength",
                 id="Ftrl-negative-l1"),
    pytest.param(lambda: tf.train.GradientDescentOptimizer(0.1, name=""), "name", id="empty-name"),
])
def test_invalid_hyperparameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# -- L-BFGS ------------------------------------------------------------------------------------
def logistic_problem(make_optimizer, rows=300):
    """(session, train_op, loss, [w, b]) of a logistic regression on fixed random data."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((rows, 4)) * [1.0, 3.0, 0.3, 1.0]
    y = (rng.random((rows, 1)) < 1 / (1 + np.exp(-(x @ [[1.0], [-0.5], [2.0], [0.0]] + 0.3)))).astype(np.float64)
    graph = tf.Graph()
    with graph.as_default():
        w = tf.Variable(np.zeros((4, 1)), name="w")
        b = tf.Variable(np.zeros(1), name="b")
        loss = tf.losses.sigmoid_cross_entropy(tf.constant(y), tf.matmul(tf.constant(x), w) + b)
        train_op = make_optimizer().minimize(loss)
    return started(graph), train_op, loss, [w, b], (x, y)


def newton_logistic(x, y, iterations=30):
    """The maximum-likelihood (w, b) by Newton's method in numpy."""
    a = np.hstack([x, np.ones((len(x), 1))])
    theta = np.zeros((a.shape[1], 1))
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-a @ theta))
        theta -= np.linalg.solve(a.T @ (a * p * (1 - p)), a.T @ (p - y))
    return theta


def run_steps(sess, train_op, steps):
    for _ in range(steps):
        sess.run(train_op)


def test_lbfgs_reaches_the_logistic_regression_optimum_in_few_steps():
    sess, train_op, loss, (w, b), (x, y) = logistic_problem(tf.train.LBFGSOptimizer)
    run_steps(sess, train_op, 30)
    theta = newton_logistic(x, y)
    np.testing.assert_allclose(np.concatenate([sess.run(w).ravel(), sess.run(b)]), theta.ravel(), rtol=1e-8)


def test_gradient_descent_is_far_from_the_optimum_after_many_more_steps():
    sess, train_op, loss, (w, b), (x, y) = logistic_problem(lambda: tf.train.GradientDescentOptimizer(1.0))
    run_steps(sess, train_op, 300)
    theta = newton_logistic(x, y)
    assert np.max(np.abs(np.concatenate([sess.run(w).ravel(), sess.run(b)]) - theta.ravel())) > 1e-3


def lbfgs_regression(steps):
    """(session, train_op, W, b) after `steps` runs of L-BFGS on the test problem."""
    graph, loss, w, b = regression()
    with graph.as_default():
        train_op = tf.train.LBFGSOptimizer().minimize(loss)
    sess = started(graph)
    run_steps(sess, train_op, steps)
    return sess, train_op, w, b


def test_lbfgs_least_squares_equals_lstsq():
    sess, train_op, w, b = lbfgs_regression(20)
    a = np.hstack([X, np.ones((len(X), 1))])
    solution = np.linalg.lstsq(a, Y, rcond=None)[0]
    np.testing.assert_allclose(sess.run(w), solution[:3], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sess.run(b), solution[3], rtol=1e-9, atol=1e-12)


def test_lbfgs_after_convergence_runs_change_nothing():
    sess, train_op, w, b = lbfgs_regression(60)
    before = sess.export_variables()
    run_steps(sess, train_op, 3)
    for name, value in sess.export_variables().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)


def test_lbfgs_state_lives_in_non_trainable_variables_and_counts_steps():
    graph, loss, w, b = regression()
    with graph.as_default():
        opt = tf.train.LBFGSOptimizer(memory=4)
        step = tf.train.get_or_create_global_step()
        train_op = opt.minimize(loss, global_step=step)
    names = {v.op.name for v in opt.variables()}
    assert names == {f"LBFGS/{field}" for field in tf.train.LBFGSState._fields}
    assert not set(opt.variables()) & set(tf.trainable_variables(graph))
    sess = started(graph)
    run_steps(sess, train_op, 2)
    assert tf.train.global_step(sess, step) == 2
    assert sess.export_variables()["LBFGS/s"].shape == (4, W0.size + B0.size)


def test_lbfgs_needs_the_loss():
    graph, loss, w, b = regression()
    with graph.as_default():
        grads = tf.train.LBFGSOptimizer().compute_gradients(loss)
        with pytest.raises(TypeError, match="minimize"):
            tf.train.LBFGSOptimizer().apply_gradients(grads)


def test_lbfgs_optimizer_drives_one_var_list():
    graph, loss, w, b = regression()
    with graph.as_default():
        opt = tf.train.LBFGSOptimizer()
        opt.minimize(loss, var_list=[w])
        with pytest.raises(ValueError, match="another optimizer"):
            opt.minimize(loss, var_list=[b])


@pytest.mark.parametrize("kw, match", [({"memory": 0}, "memory"), ({"c1": 1.0}, "c1")])
def test_lbfgs_invalid_settings(kw, match):
    with pytest.raises(ValueError, match=match):
        tf.train.LBFGSOptimizer(**kw)


@pytest.mark.parametrize("make", [lambda: tf.train.AdamOptimizer(0.1), tf.train.LBFGSOptimizer])
def test_apply_loss_and_gradients_fed_from_outside_equals_minimize(make):
    """What distributed training does: loss and gradients computed elsewhere, fed as placeholders."""
    graph, loss, w, b = regression()
    with graph.as_default():
        train_op = make().minimize(loss)
        grads = tf.gradients(loss, [w, b])
        fed_loss = tf.placeholder(tf.float64, (), name="fed_loss")
        fed = [tf.placeholder(tf.float64, v.shape, name=f"fed_{v.op.name}") for v in (w, b)]
        external_op = make().apply_loss_and_gradients(fed_loss, list(zip(fed, [w, b])))
    reference, external = started(graph), started(graph)
    for _ in range(STEPS):
        reference.run(train_op)
        value, *grad_values = external.run([loss, *grads])
        external.run(external_op, {fed_loss: value, **dict(zip(fed, grad_values))})
    for v in (w, b):
        np.testing.assert_allclose(external.run(v), reference.run(v), rtol=1e-12)


def test_one_lbfgs_optimizer_serves_several_graphs():
    opt = tf.train.LBFGSOptimizer()
    for _ in range(2):
        graph, loss, w, b = regression()
        with graph.as_default():
            opt.minimize(loss)
    assert len(opt.variables()) == 2 * len(tf.train.LBFGSState._fields)
