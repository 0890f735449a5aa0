"""TF 1.x session forms: InteractiveSession with eval/run, Session(target, graph, config), ignored options,
legacy initializer names."""
from __future__ import annotations

import logging

import numpy as np
import pytest

import engine as tf


def test_interactive_session_makes_eval_and_run_work_without_a_with_block():
    graph = tf.Graph()
    with graph.as_default():
        v = tf.Variable(3.0)
    sess = tf.InteractiveSession(graph=graph)
    try:
        doubled = v * 2.0  # built in the session's graph, now the default
        tf.global_variables_initializer().run()
        assert doubled.graph is graph and doubled.eval() == 6.0 and v.eval() == 3.0
    finally:
        sess.close()
    assert tf.get_default_graph() is not graph
    with pytest.raises(tf.FailedPreconditionError, match="no default session"):
        doubled.eval()


def test_closing_an_interactive_session_out_of_order_keeps_the_newer_default():
    first = tf.InteractiveSession(graph=tf.Graph())
    second = tf.InteractiveSession(graph=tf.Graph())
    first.close()
    try:
        assert tf.get_default_graph() is second.graph
    finally:
        second.close()


def test_session_takes_target_graph_and_config_as_tensorflow():
    graph = tf.Graph()
    with graph.as_default():
        c = tf.constant(1.5)
    config = tf.ConfigProto(allow_soft_placement=True, gpu_options=tf.GPUOptions(allow_growth=True))
    with tf.Session("", graph, config) as sess:
        assert sess.run(c, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                        run_metadata=tf.RunMetadata()) == 1.5
    assert tf.Session(graph=graph).graph is graph and tf.Session(graph).graph is graph


def test_ignored_config_is_logged_at_debug(caplog):
    with caplog.at_level(logging.DEBUG, logger="engine"):
        tf.Session(graph=tf.Graph(), config=tf.ConfigProto(log_device_placement=True))
    assert "accepted and ignored" in caplog.text


def test_config_fields_read_back_and_unknown_ones_are_none():
    config = tf.ConfigProto(intra_op_parallelism_threads=2)
    config.gpu_options.allow_growth = True
    config.graph_options.optimizer_options.global_jit_level = 1
    assert config.intra_op_parallelism_threads == 2 and config.inter_op_parallelism_threads is None
    assert config.gpu_options.allow_growth is True


def test_a_remote_target_is_refused():
    with pytest.raises(tf.FailedPreconditionError, match="in process only"):
        tf.Session("grpc://localhost:2222")


def test_legacy_initializer_names():
    with tf.Graph().as_default():
        a, b = tf.Variable(1.0), tf.Variable(np.arange(2.0))
        with tf.Session() as sess:
            sess.run(tf.initialize_all_variables())
            assert sess.run(a) == 1.0
        with tf.Session() as sess:
            sess.run(tf.initialize_variables([b]))
            assert list(sess.run(b)) == [0.0, 1.0]
        assert tf.all_variables() == [a, b]
