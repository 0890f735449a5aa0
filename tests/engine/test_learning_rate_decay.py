"""tf.train learning-rate schedules: values along the global step against TF 1.x's formulas."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf

STEPS = [0, 3, 10, 25]
SCHEDULES = {
    "exponential": (lambda t, s: t.train.exponential_decay(0.1, s, 10, 0.5), lambda k: 0.1 * 0.5 ** (k / 10)),
    "exponential-staircase": (lambda t, s: t.train.exponential_decay(0.1, s, 10, 0.5, staircase=True),
                              lambda k: 0.1 * 0.5 ** (k // 10)),
    "natural_exp": (lambda t, s: t.train.natural_exp_decay(1.0, s, 5, 0.3), lambda k: np.exp(-0.3 * k / 5)),
    "inverse_time": (lambda t, s: t.train.inverse_time_decay(1.0, s, 5, 0.5), lambda k: 1 / (1 + 0.5 * k / 5)),
    "polynomial": (lambda t, s: t.train.polynomial_decay(1.0, s, 20, 0.1, power=2.0),
                   lambda k: (1.0 - 0.1) * (1 - min(k, 20) / 20) ** 2 + 0.1),
    "polynomial-cycle": (lambda t, s: t.train.polynomial_decay(1.0, s, 20, 0.1, cycle=True),
                         lambda k: 0.9 * (1 - k / (20 * max(np.ceil(k / 20), 1))) + 0.1),
    "piecewise": (lambda t, s: t.train.piecewise_constant(s, [3, 10], [1.0, 0.5, 0.1]),
                  lambda k: 1.0 if k <= 3 else 0.5 if k <= 10 else 0.1),
}


def _along_steps(build):
    with tf.Graph().as_default():
        step = tf.train.get_or_create_global_step()
        lr = build(tf, step)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            out = []
            for k in STEPS:
                sess.run(step.assign(k))
                out.append(float(sess.run(lr)))
    return out, lr


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedule_follows_its_formula(name):
    build, formula = SCHEDULES[name]
    got, lr = _along_steps(build)
    np.testing.assert_allclose(got, [formula(k) for k in STEPS], rtol=1e-6)
    assert lr.shape.as_list() == [] and lr.dtype is tf.float32


def test_an_optimizer_uses_the_rate_of_the_current_step():
    with tf.Graph().as_default():
        step = tf.train.get_or_create_global_step()
        w = tf.Variable(0.0)
        lr = tf.train.exponential_decay(1.0, step, 1, 0.5)
        train = tf.train.GradientDescentOptimizer(lr).minimize(-w, global_step=step)  # d/dw = -1
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(3):
                sess.run(train)
            assert sess.run(w) == pytest.approx(1.0 + 0.5 + 0.25)


def test_schedules_need_a_global_step_and_matching_lists():
    with pytest.raises(ValueError, match="global_step is required"):
        tf.train.exponential_decay(0.1, None, 10, 0.5)
    with tf.Graph().as_default(), pytest.raises(ValueError, match="one more value than boundaries"):
        tf.train.piecewise_constant(tf.constant(1), [1, 2], [1.0, 2.0])


def test_matches_tensorflow():
    tf1 = pytest.importorskip("tensorflow").compat.v1
    for name, (build, _) in SCHEDULES.items():
        expected = []
        with tf1.Graph().as_default():
            step = tf1.train.get_or_create_global_step()
            lr = build(tf1, step)
            with tf1.Session() as sess:
                sess.run(tf1.global_variables_initializer())
                for k in STEPS:
                    sess.run(step.assign(k))
                    expected.append(float(sess.run(lr)))
        np.testing.assert_allclose(_along_steps(build)[0], expected, rtol=1e-6, err_msg=name)
