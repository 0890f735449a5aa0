"""tf.train.Saver: save/restore round trips, global_step names, max_to_keep, the state file,
var_list forms, import_meta_graph, and refusals (missing, altered, mismatched, uninitialized)."""
from __future__ import annotations

import os

import numpy as np
import pytest

import engine as tf


def _model():
    w = tf.Variable(np.array([[1.0, 2.0]]), name="w")
    b = tf.Variable(np.float32(3.0), name="b")
    return w, b


def test_restore_gives_back_the_saved_values(tmp_path):
    with tf.Graph().as_default():
        w, b = _model()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(w.assign([[5.0, 6.0]]))
            path = saver.save(sess, str(tmp_path / "model.ckpt"))
        with tf.Session() as sess:
            saver.restore(sess, path)
            np.testing.assert_array_equal(sess.run(w), [[5.0, 6.0]])
            assert sess.run(b) == np.float32(3.0)
    assert path == str(tmp_path / "model.ckpt")


def test_global_step_is_appended_to_the_prefix_and_max_to_keep_deletes_old_ones(tmp_path):
    with tf.Graph().as_default():
        _model()
        saver = tf.train.Saver(max_to_keep=2)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            paths = [saver.save(sess, str(tmp_path / "m"), global_step=s) for s in (10, 20, 30)]
    assert paths == [str(tmp_path / f"m-{s}") for s in (10, 20, 30)]
    assert not tf.train.checkpoint_exists(paths[0]) and not os.path.exists(paths[0] + ".data-00000-of-00001")
    assert saver.last_checkpoints == paths[1:]
    assert tf.train.latest_checkpoint(str(tmp_path)) == paths[2]
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert state.all_model_checkpoint_paths == paths[1:]


def test_a_global_step_variable_is_read_from_the_session(tmp_path):
    with tf.Graph().as_default():
        step = tf.train.get_or_create_global_step()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(step.assign(7))
            assert tf.train.Saver().save(sess, str(tmp_path / "m"), global_step=step).endswith("m-7")


def test_a_dict_var_list_saves_under_its_names(tmp_path):
    with tf.Graph().as_default():
        w, _ = _model()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            path = tf.train.Saver({"weights": w}).save(sess, str(tmp_path / "m"))
    assert tf.train.list_variables(path) == [("weights", [1, 2])]
    np.testing.assert_array_equal(tf.train.load_variable(path, "weights"), [[1.0, 2.0]])
    with tf.Graph().as_default():
        other = tf.Variable(np.zeros((1, 2)), name="other")
        with tf.Session() as sess:
            tf.train.Saver({"weights": other}).restore(sess, path)
            np.testing.assert_array_equal(sess.run(other), [[1.0, 2.0]])


def test_import_meta_graph_rebuilds_the_graph_to_restore_into(tmp_path):
    with tf.Graph().as_default():
        w, b = _model()
        tf.identity(w * tf.cast(b, tf.float64), name="out")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            path = tf.train.Saver().save(sess, str(tmp_path / "m"))
    with tf.Graph().as_default() as g:
        saver = tf.train.import_meta_graph(path + ".meta")
        with tf.Session() as sess:
            saver.restore(sess, tf.train.latest_checkpoint(str(tmp_path)))
            np.testing.assert_array_equal(sess.run(g.get_tensor_by_name("out:0")), [[3.0, 6.0]])


def test_no_checkpoint_means_latest_checkpoint_is_none(tmp_path):
    assert tf.train.latest_checkpoint(str(tmp_path)) is None


def test_saving_leaves_no_temporary_files(tmp_path):
    with tf.Graph().as_default():
        _model()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            tf.train.Saver().save(sess, str(tmp_path / "m"))
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "m.data-00000-of-00001", "m.index", "m.meta"]


# -- refusals -------------------------------------------------------------------------------------
def _saved(tmp_path):
    with tf.Graph().as_default():
        _model()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return tf.train.Saver().save(sess, str(tmp_path / "m"))


def test_restoring_a_missing_checkpoint_names_the_prefix(tmp_path):
    with tf.Graph().as_default():
        _model()
        with tf.Session() as sess, pytest.raises(tf.NotFoundError, match="no checkpoint at prefix .*nothing"):
            tf.train.Saver().restore(sess, str(tmp_path / "nothing"))


def test_an_altered_data_file_is_refused(tmp_path):
    path = _saved(tmp_path)
    with open(path + ".data-00000-of-00001", "r+b") as f:
        f.write(b"\x01")
    with tf.Graph().as_default():
        _model()
        with tf.Session() as sess, pytest.raises(tf.DataLossError, match="do not match the digest"):
            tf.train.Saver().restore(sess, path)


def test_a_name_missing_from_the_checkpoint_is_refused(tmp_path):
    path = _saved(tmp_path)
    with tf.Graph().as_default():
        _model()
        tf.Variable(1.0, name="extra")
        with tf.Session() as sess, pytest.raises(tf.NotFoundError, match="Key extra not found in checkpoint"):
            tf.train.Saver().restore(sess, path)


def test_a_shape_mismatch_is_refused_before_anything_is_set(tmp_path):
    path = _saved(tmp_path)
    with tf.Graph().as_default():
        tf.Variable(np.zeros((2, 2)), name="w")
        b = tf.Variable(np.float32(0.0), name="b")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            with pytest.raises(tf.InvalidArgumentError, match=r"'w' is float64 \(1, 2\), variable 'w' is float64"):
                tf.train.Saver().restore(sess, path)
            assert sess.run(b) == 0.0


def test_saving_an_uninitialized_variable_is_refused(tmp_path):
    with tf.Graph().as_default():
        _model()
        with tf.Session() as sess, pytest.raises(tf.FailedPreconditionError, match="uninitialized value w"):
            tf.train.Saver().save(sess, str(tmp_path / "m"))


def test_saving_into_a_missing_directory_is_refused(tmp_path):
    with tf.Graph().as_default():
        _model()
        with tf.Session() as sess, pytest.raises(ValueError, match="Parent directory of .* doesn't exist"):
            sess.run(tf.global_variables_initializer())
            tf.train.Saver().save(sess, str(tmp_path / "no" / "m"))


def test_a_saver_without_variables_is_refused():
    with tf.Graph().as_default(), pytest.raises(ValueError, match="No variables to save"):
        tf.train.Saver()
