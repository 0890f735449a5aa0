"""Shape-only inputs: a plan skips computing a value that an op reads only for its shape."""
import numpy as np
import pytest

import engine as tf
from engine.registry import unregister_op


@pytest.fixture
def counted_square():
    """A user op `CountedSquare` (x**2) that counts its kernel runs."""
    calls = []

    def kernel(x):
        calls.append(1)
        return x * x

    tf.register_op("CountedSquare", kernel=kernel, infer=lambda inputs: inputs[0], num_inputs=1,
                   grad=lambda op, g: [2.0 * op.inputs[0] * g])
    yield calls
    unregister_op("CountedSquare")


def _counted(x):
    return tf.get_default_graph().create_op("CountedSquare", [x]).outputs[0]


def test_gradient_of_a_mean_does_not_compute_the_value_it_only_needs_the_shape_of(counted_square):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [None, 3])
        w = tf.constant(np.ones(3))
        loss = tf.reduce_mean(_counted(x) + w)  # d/dw needs only the shape of CountedSquare's output
        (grad,) = tf.gradients(loss, [w])
        got = tf.Session().run(grad, {x: np.arange(6.0).reshape(2, 3)})
    np.testing.assert_allclose(got, [2 / 6] * 3)
    assert counted_square == []


def test_a_shape_only_input_computed_anyway_is_read_after_it_is_computed(counted_square):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [None])
        sq = _counted(x)
        ones = tf.ones_like(sq)  # reads sq's shape only
        got = tf.Session().run(ones + sq, {x: np.array([1.0, 2.0])})
    np.testing.assert_allclose(got, [2.0, 5.0])
    assert counted_square == [1]


def test_an_underivable_shape_is_computed_from_the_value(counted_square):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, None)  # unknown rank: no shape can be derived from the feeds
        got = tf.Session().run(tf.zeros_like(_counted(x)), {x: np.ones((2, 2))})
    np.testing.assert_array_equal(got, np.zeros((2, 2)))
    assert counted_square == [1]


def test_stand_ins_follow_the_fed_shape_on_every_run():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [None])
        ones = tf.ones_like(tf.exp(x))
        sess = tf.Session()
        assert sess.run(ones, {x: np.ones(2)}).shape == (2,)
        assert sess.run(ones, {x: np.ones(5)}).shape == (5,)


def test_a_shape_that_needs_an_unfed_placeholder_is_not_derivable():
    from engine.shape_inputs import ShapeSources
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [None, 3])
        other = tf.placeholder(tf.float64, [None, 3])
        sources = ShapeSources([x])
        assert sources.derivable(tf.exp(x)) and not sources.derivable(x + other)
