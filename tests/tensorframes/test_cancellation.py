"""Cancelling tfs.train: every way pyspark cancels jobs, between two steps and while a step's job runs.

A cancel is made to land at a chosen step, deterministically: the progress
callback of step K starts the cancel from a second thread (between two jobs
in driver mode), or the training's task holds at step K+1 (faults.py's
``hold@``) until the second thread has cancelled it, so that the job is
surely running. The training then stops with a TrainingCancelledError (or a
KeyboardInterrupt for Ctrl-C), the session's variables hold exactly the
values of an uncancelled run of K steps, and the session trains on: the rest
of the steps from there give the very values of an uncancelled run of all
of them (plain gradient descent keeps no optimizer state).
"""

from __future__ import annotations

import importlib.util
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import engine as tf
import tensorframes as tfs
from tensorframes.errors import TrainingCancelledError, TrainingError
from tensorframes.training.faults import PROPERTY, released_marker

_spec = importlib.util.spec_from_file_location("training_cases", Path(__file__).with_name("training_cases.py"))
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)

K, STEPS, FEATURES = 2, 5, 3  # cancelled after K completed steps, of STEPS
GROUP, TAG = "the-users-group", "the-users-tag"


@pytest.fixture(scope="module")
def df(spark):
    x, y = cases.linear_data(400)
    return cases.spark_frame(spark, x[:, :FEATURES], y, 2).cache()


def train(df, steps, mode, callback=None):
    """A fresh linear model trained ``steps`` steps by gradient descent; its values (even if interrupted)."""
    model = cases.Model(FEATURES)
    try:
        tfs.train(model.loss, df, tf.train.GradientDescentOptimizer(0.1), steps=steps, mode=mode,
                  session=model.session, callback=callback, log_every=None)
    finally:
        train.values = model.values()
    return train.values


@pytest.fixture(scope="module")
def uncancelled(df):
    """Values after K steps, per mode (the modes give the same values to rounding, not bit for bit)."""
    return {mode: train(df, K, mode) for mode in ("driver", "barrier")}


class Canceller:
    """Cancels from a second thread once step K is done and (with ``hold``) the next step's job holds."""

    def __init__(self, spark, cancel, hold: Path | None) -> None:
        self.spark, self.cancel, self.hold = spark, cancel, hold
        self.done = threading.Event()

    def callback(self, info) -> None:
        if info.step != K:
            return
        if self.hold is None:  # between two jobs: cancel now, before the next step's job
            self._cancel_from_a_thread()
        else:
            threading.Thread(target=self._cancel_once_held, daemon=True).start()

    def release(self) -> None:
        """Let a held task go on (its job is cancelled already; Spark may not have killed it yet)."""
        if self.hold is not None:
            released_marker(self.hold).touch()

    def _cancel_from_a_thread(self) -> None:
        thread = threading.Thread(target=self.cancel, args=(self.spark,))
        thread.start()
        thread.join(10)
        self.at = time.monotonic()
        self.done.set()

    def _cancel_once_held(self) -> None:
        deadline = time.monotonic() + 30
        while not self.hold.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        self._cancel_from_a_thread()


@pytest.fixture
def held(spark, tmp_path):
    """``held(partition)``: the marker of a hold at step K (from 0: the step after K completed ones)."""
    def hold(partition: int) -> Path:
        marker = tmp_path / "held"
        spark.sparkContext.setLocalProperty(PROPERTY, f"hold@{partition}:{K}:{marker}")
        return marker
    yield hold
    spark.sparkContext.setLocalProperty(PROPERTY, None)


@pytest.fixture
def user_labels(spark):
    """The caller's own job group and job tag, set on this thread as a user would; cleared afterwards."""
    sc = spark.sparkContext
    sc.setJobGroup(GROUP, "a user's training")
    sc.addJobTag(TAG)
    yield
    sc.removeJobTag(TAG)
    sc.setLocalProperty("spark.jobGroup.id", None)
    sc.setLocalProperty("spark.job.description", None)
    sc.setLocalProperty("spark.job.interruptOnCancel", None)


CANCELS = {
    "cancelAllJobs": (lambda spark: spark.sparkContext.cancelAllJobs(), "SparkContext.cancelAllJobs()"),
    "cancelJobGroup": (lambda spark: spark.sparkContext.cancelJobGroup(GROUP),
                       f"SparkContext.cancelJobGroup('{GROUP}')"),
    "cancelJobsWithTag": (lambda spark: spark.sparkContext.cancelJobsWithTag(TAG),
                          f"SparkContext.cancelJobsWithTag('{TAG}')"),
    "interruptAll": (lambda spark: spark.interruptAll(), "SparkSession.interruptAll()"),
}
#: Every way between two driver-mode jobs (where Spark itself would forget the cancel), while a job runs
#: for the user's job group in driver mode, and for all jobs and the group in barrier mode (the others
#: take the same path there: the job fails after the cancel marked the training).
CASES = [("driver", "between steps", way) for way in CANCELS] + [
    ("driver", "during a step", "cancelJobGroup"), ("barrier", "during a step", "cancelAllJobs"),
    ("barrier", "during a step", "cancelJobGroup")]


def assert_stopped_cleanly(spark, values, expected) -> None:
    for name in ("w", "b"):
        np.testing.assert_array_equal(values[name], expected[name], err_msg=name)
    assert spark.range(5).count() == 5


@pytest.mark.parametrize("mode, when, way", CASES, ids=[f"{m}-{w.replace(' ', '-')}-{c}" for m, w, c in CASES])
def test_a_cancel_stops_the_training_at_the_last_completed_step(spark, df, uncancelled, held, user_labels,
                                                                 mode, when, way):
    cancel, call = CANCELS[way]
    canceller = Canceller(spark, cancel, held(1 if mode == "barrier" else 0) if when == "during a step" else None)
    with pytest.raises(TrainingCancelledError) as caught:
        train(df, 1000, mode, canceller.callback)
    assert time.monotonic() - canceller.at < 10  # promptly: a busy machine's job and kill, not a hang
    canceller.release()
    assert caught.value.step == K and caught.value.how == call and canceller.done.is_set()
    assert f"cancelled ({call}) after {K} completed steps" in str(caught.value)
    assert "variables hold the values of step 2" in str(caught.value)
    assert_stopped_cleanly(spark, train.values, uncancelled[mode])
    assert spark.sparkContext.getLocalProperty("spark.jobGroup.id") == GROUP
    assert set(spark.sparkContext.getJobTags()) == {TAG}


@pytest.mark.parametrize("mode", ["barrier"])
def test_the_session_trains_on_from_the_cancelled_step_to_the_uncancelled_values(spark, df, held, mode):
    canceller = Canceller(spark, CANCELS["cancelAllJobs"][0], held(1) if mode == "barrier" else None)
    with pytest.raises(TrainingCancelledError) as caught:
        train(df, 1000, mode, canceller.callback)
    canceller.release()
    spark.sparkContext.setLocalProperty(PROPERTY, None)
    assert caught.value.step == K
    model = cases.Model(FEATURES)
    model.session.load_variables({"w": train.values["w"], "b": train.values["b"]})
    tfs.train(model.loss, df, tf.train.GradientDescentOptimizer(0.1), steps=STEPS - K, mode=mode,
              session=model.session, log_every=None)
    assert_stopped_cleanly(spark, model.values(), train(df, STEPS, mode))


def _ctrl_c(info) -> None:
    if info.step == K:
        signal.raise_signal(signal.SIGINT)


@pytest.mark.parametrize("mode", ["driver", "barrier"])
def test_ctrl_c_raises_keyboard_interrupt_with_no_stage_left_running(spark, df, uncancelled, held, mode):
    marker = held(1) if mode == "barrier" else None  # the barrier stage holds at step K: it is running
    threads = set(threading.enumerate())
    with pytest.raises(KeyboardInterrupt):
        train(df, 1000, mode, _ctrl_c)
    if marker is not None:
        released_marker(marker).touch()
    deadline = time.monotonic() + 10
    while spark.sparkContext.statusTracker().getActiveStageIds() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert spark.sparkContext.statusTracker().getActiveStageIds() == []
    assert_stopped_cleanly(spark, train.values, uncancelled[mode])
    assert [t.name for t in set(threading.enumerate()) - threads if t.is_alive()] == []


def test_a_cancel_from_outside_pyspark_is_recognised_by_sparks_error_class(spark, df, uncancelled, held):
    """As the Spark UI's kill link or a JVM caller would: pyspark's (wrapped) methods are not called."""
    canceller = Canceller(spark, lambda spark: spark.sparkContext._jsc.sc().cancelAllJobs(), held(0))
    with pytest.raises(TrainingCancelledError) as caught:
        train(df, 1000, "driver", canceller.callback)
    canceller.release()
    assert caught.value.step == K
    assert "Spark: [SPARK_JOB_CANCELLED] Job" in str(caught.value) and "cancellation of all jobs" in str(caught.value)
    assert_stopped_cleanly(spark, train.values, uncancelled["driver"])


def test_a_cancel_of_another_job_group_leaves_the_training_alone(spark, df):
    result = train(df, 2, "driver", lambda info: spark.sparkContext.cancelJobGroup("someone-else"))
    assert set(result) == {"w", "b"}


def test_a_callback_that_raises_is_not_a_cancel(df):
    def fail(info):
        raise RuntimeError("the callback failed")
    with pytest.raises(RuntimeError, match="the callback failed"):
        train(df, 1000, "barrier", fail)


def test_a_cancelled_error_is_a_training_error():
    assert issubclass(TrainingCancelledError, TrainingError)
