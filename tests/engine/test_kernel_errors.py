"""Kernels at run time: an error names the op that raised it, and an op of one's own is held to its infer rule.

An exception a kernel raises reaches the user naming the op type and name
(TF 1.x reports the failing node the same way): numpy's and a user kernel's
become InvalidArgumentError with the original as `__cause__`; the engine's
own keep their class. The outputs of ops registered outside the engine are
checked against their `infer` rule (dtype, and every known dim) at every
run; the engine's own ops are not wrapped at all.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import engine as tf
from engine import extend
from engine.errors import FailedPreconditionError, InvalidArgumentError, KernelOutputError
from engine.registry import unregister_op


@pytest.fixture
def user_op():
    """register(type, kernel, infer=same spec as input 0, **options) -> a builder; unregistered afterwards."""
    types = []

    def register(type_, kernel, infer=lambda inputs: inputs[0], **options):
        extend.register_op(type_, kernel=kernel, infer=infer, grad=extend.NOT_DIFFERENTIABLE, **options)
        types.append(type_)
        return lambda *inputs, name=None: extend.make(type_, list(inputs), name)
    yield register
    for type_ in types:
        unregister_op(type_)


def _run(build, value, shape=(None, 2), batched=False):
    """build(placeholder 'x') run on `value` (with run_batched when `batched`)."""
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float64, list(shape), name="x")
        y = build(x)
    sess = tf.Session(g)
    return sess.run_batched(y, {x: value}) if batched else sess.run(y, {x: value})


# -- outputs against infer -------------------------------------------------------------------
def test_a_kernel_returning_another_dtype_than_inferred_is_refused(user_op):
    halve = user_op("KernelsHalfPrecision", lambda x: x.astype(np.float32))
    with pytest.raises(KernelOutputError, match=r"KernelsHalfPrecision 'h': the kernel's output 0 is float32 "
                                                r"\(3, 2\), but the op's infer rule says float64 \(\?, 2\)"):
        _run(lambda x: halve(x, name="h"), np.ones((3, 2)))


def test_a_kernel_returning_another_known_dim_than_inferred_is_refused(user_op):
    widen = user_op("KernelsWiden", lambda x: np.concatenate([x, x], axis=1))
    with pytest.raises(KernelOutputError, match=r"output 0 is float64 \(3, 4\), .* says float64 \(\?, 2\)"):
        _run(lambda x: widen(x, name="w"), np.ones((3, 2)))


def test_a_kernel_returning_another_rank_than_inferred_is_refused(user_op):
    flat = user_op("KernelsFlatten", np.ravel)
    with pytest.raises(KernelOutputError, match=r"output 0 is float64 \(6,\)"):
        _run(lambda x: flat(x), np.ones((3, 2)))


def test_unknown_inferred_dims_match_any_size(user_op):
    twice = user_op("KernelsRepeatRows", lambda x: np.concatenate([x, x]))
    np.testing.assert_array_equal(_run(lambda x: twice(x), np.ones((3, 2))), np.ones((6, 2)))


def test_a_kernel_returning_a_python_number_is_refused(user_op):
    total = user_op("KernelsPythonSum", lambda x: float(x.sum()),
                    infer=lambda inputs: extend.TensorSpec(inputs[0].dtype, ()))
    with pytest.raises(KernelOutputError, match="output 0 is a float, not a numpy array, .* says float64 ()"):
        _run(lambda x: total(x), np.ones((3, 2)))


def test_the_wrong_output_of_a_multi_output_kernel_is_named(user_op):
    user_op("KernelsPair", lambda x: (x, x[:1]), infer=lambda inputs: [inputs[0], inputs[0]])
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float64, [3, 2], name="x")
        first, second = extend.make_op("KernelsPair", [x], "pair").outputs
    with pytest.raises(KernelOutputError, match=r"KernelsPair 'pair': the kernel's output 1 is float64 \(1, 2\)"):
        tf.Session(g).run(second, {x: np.ones((3, 2))})


def test_a_batching_rule_must_keep_the_batch_dimension(user_op):
    negate = user_op("KernelsNegate", np.negative, batch=lambda args, batched: -args[0].sum(axis=0))
    with pytest.raises(KernelOutputError, match=r"output 0 is float64 \(2,\), .* says float64 \(4, 2\) "
                                                r"\(a batch of rows\)"):
        _run(lambda x: negate(x), np.ones((4, 2)), shape=(2,), batched=True)


def test_a_batching_rule_keeping_the_batch_dimension_passes(user_op):
    negate = user_op("KernelsNegateRows", np.negative, batch=lambda args, batched: -args[0])
    np.testing.assert_array_equal(_run(lambda x: negate(x), np.ones((4, 2)), shape=(2,), batched=True),
                                  -np.ones((4, 2)))


def test_the_engine_s_own_kernels_run_unwrapped(user_op):
    mine = user_op("KernelsIdentity", lambda x: x)
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float64, [None], name="x")
        y = mine(tf.multiply(x, x))
    sess = tf.Session(g)
    sess.run(y, {x: np.ones(2)})
    plan, = sess._plans.values()
    assert plan.steps[0].kernel is np.multiply  # built-in: no check on the hot path
    assert plan.steps[1].kernel.__qualname__.startswith("_check_specs")


# -- run-time errors name the op ---------------------------------------------------------------
def test_a_numpy_error_in_a_kernel_is_an_invalid_argument_error_naming_the_op_and_its_inputs():
    with pytest.raises(InvalidArgumentError, match=r"Add 'sum': ValueError: operands could not be broadcast "
                                                   r".*\(inputs: float64 \(2,\), float64 \(3,\)\)") as caught:
        _run(lambda x: tf.add(x, tf.constant(np.ones(3)), name="sum"), np.ones(2), shape=(None,))
    assert isinstance(caught.value.__cause__, ValueError)


def test_a_user_kernel_raising_is_an_invalid_argument_error_keeping_the_original(user_op):
    def kernel(x):
        raise ZeroDivisionError("no rows to average")
    average = user_op("KernelsRaising", kernel)
    with pytest.raises(InvalidArgumentError, match="KernelsRaising 'avg': ZeroDivisionError: no rows to average") \
            as caught:
        _run(lambda x: average(x, name="avg"), np.ones((3, 2)))
    assert isinstance(caught.value.__cause__, ZeroDivisionError)


def test_an_engine_error_from_a_kernel_keeps_its_class_and_gets_the_op_named(user_op):
    def kernel(x):
        raise FailedPreconditionError("the table is not loaded")
    lookup = user_op("KernelsLookup", kernel)
    with pytest.raises(FailedPreconditionError, match="^KernelsLookup 'lookup': the table is not loaded$"):
        _run(lambda x: lookup(x, name="lookup"), np.ones((3, 2)))


def test_an_engine_error_naming_its_op_already_is_left_as_it_is(user_op):
    def kernel(x):
        raise FailedPreconditionError("table 'named' is not loaded")
    lookup = user_op("KernelsNamedLookup", kernel)
    with pytest.raises(FailedPreconditionError, match="^table 'named' is not loaded$"):
        _run(lambda x: lookup(x, name="named"), np.ones((3, 2)))


def test_a_built_in_kernel_s_error_gets_the_op_named():
    with pytest.raises(InvalidArgumentError, match="^Reshape 'r': cannot reshape an array of shape "):
        _run(lambda x: tf.reshape(x, [-1, 4], name="r"), np.ones((3, 2)))


def test_a_warning_turned_into_an_error_passes_unchanged():
    with warnings.catch_warnings(), pytest.raises(RuntimeWarning, match="divide by zero"):
        warnings.simplefilter("error")
        _run(lambda x: tf.divide(1.0, x), np.zeros((1, 2)))


def test_the_plan_runs_again_after_a_kernel_error():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float64, [None], name="x")
        y = tf.reshape(x, [-1, 2])
    sess = tf.Session(g)
    with pytest.raises(InvalidArgumentError):
        sess.run(y, {x: np.ones(3)})
    np.testing.assert_array_equal(sess.run(y, {x: np.ones(4)}), np.ones((2, 2)))
