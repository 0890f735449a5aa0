"""TensorBoard event files: what FileWriter writes, TensorBoard's own reader reads back."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine.layers import Dense
from engine.summary.records import encode_record, masked_crc32c, read_records

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def reload(logdir) -> "event_accumulator.EventAccumulator":
    everything = {event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0}
    board = event_accumulator.EventAccumulator(str(logdir), size_guidance=everything)
    board.Reload()
    return board


def test_masked_crc32c_matches_tensorboards():
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as reference
    for data in (b"", b"a", bytes(range(256)) * 3):
        assert masked_crc32c(data) == reference(data)


def test_file_writer_run_reads_back_in_tensorboard(tmp_path):
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        w = tf.Variable(np.ones((2, 1), np.float32), name="w")
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w)), name="mse")
        tf.summary.scalar("loss", loss)
        tf.summary.histogram("weights", w)
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        merged = tf.summary.merge_all()
        init = tf.global_variables_initializer()
        with tf.Session() as sess, tf.summary.FileWriter(tmp_path, graph) as writer:
            sess.run(init)
            losses = []
            for step in range(4):
                summary, value, _ = sess.run([merged, loss, train], {x: [[1.0, 2.0], [0.5, -1.0]]})
                writer.add_summary(summary, step)
                losses.append(float(value))
    board = reload(tmp_path)
    assert [(e.step, e.value) for e in board.Scalars("loss")] == [(i, pytest.approx(v)) for i, v in enumerate(losses)]
    assert len(board.Histograms("weights")) == 4
    assert {op.name for op in graph.get_operations()} <= {n.name for n in board.Graph().node}


def test_every_record_has_valid_checksums(tmp_path):
    with tf.summary.FileWriter(tmp_path) as writer:
        writer.add_summary(tf.summary.writer.as_summary(b""), 3)
    (path,) = tmp_path.iterdir()
    events = list(tf.train.summary_iterator(path))
    assert events[0].file_version == "brain.Event:2" and events[1].step == 3


def test_truncated_event_file_is_a_data_loss_error(tmp_path):
    path = tmp_path / "events.out.tfevents.1.host"
    path.write_bytes(encode_record(b"first") + encode_record(b"second")[:-3])
    records = read_records(path)
    assert next(records) == b"first"
    with pytest.raises(tf.DataLossError, match="truncated record at byte 21"):
        next(records)


def test_corrupted_record_is_a_data_loss_error(tmp_path):
    path = tmp_path / "events.out.tfevents.1.host"
    data = bytearray(encode_record(b"payload"))
    data[14] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(tf.DataLossError, match="corrupted record data"):
        list(read_records(path))


def test_add_summary_refuses_what_is_not_a_summary(tmp_path):
    with tf.summary.FileWriter(tmp_path) as writer, pytest.raises(TypeError, match="Summary"):
        writer.add_summary(1.5)


def test_sequential_fit_tensorboard_callback_writes_train_and_validation_curves(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    model = tf.Sequential([Dense(4, activation="relu"), Dense(1, activation="sigmoid")], seed=0)
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, verbose=0, validation_split=0.25,
                        callbacks=[tf.callbacks.TensorBoard(tmp_path, histogram_freq=1)])
    train, validation = reload(tmp_path / "train"), reload(tmp_path / "validation")
    assert [e.value for e in train.Scalars("epoch_loss")] == pytest.approx(history.history["loss"])
    assert [e.value for e in validation.Scalars("epoch_loss")] == pytest.approx(history.history["val_loss"])
    assert "dense/kernel" in train.Tags()["histograms"] and train.Tags()["graph"]
