"""tf.app.run / tf.app.flags / tf.flags and tf.logging, as the official TF 1.x examples use them."""
from __future__ import annotations

import logging

import pytest

import engine as tf
from engine.app import FlagValues


@pytest.fixture
def flags():
    values = FlagValues()
    define = tf.app.flags
    define.DEFINE_string("data_dir", "/tmp/data", "where the data is", flag_values=values)
    define.DEFINE_integer("max_steps", 100, "steps", flag_values=values)
    define.DEFINE_float("learning_rate", 0.5, "rate", flag_values=values)
    define.DEFINE_boolean("fake_data", False, "use fake data", flag_values=values)
    define.DEFINE_list("layers", "8,4", "widths", flag_values=values)
    return values


def test_defaults_are_read_after_parsing(flags):
    assert flags(["prog"]) == ["prog"]
    assert (flags.data_dir, flags.max_steps, flags.learning_rate, flags.fake_data) == ("/tmp/data", 100, 0.5, False)


def test_values_are_parsed_and_converted(flags):
    rest = flags(["prog", "--max_steps=7", "--learning_rate", "0.1", "--fake_data", "--layers=3,2", "file.txt"])
    assert (flags.max_steps, flags.learning_rate, flags.fake_data, flags.layers) == (7, 0.1, True, ["3", "2"])
    assert rest == ["prog", "file.txt"]


def test_noflag_turns_a_boolean_off(flags):
    flags(["prog", "--fake_data=true", "--nofake_data"])
    assert flags.fake_data is False


def test_unknown_flags_are_left_for_main(flags):
    assert flags(["prog", "--other=1", "-v"]) == ["prog", "--other=1", "-v"]


def test_a_bad_value_names_the_flag(flags):
    with pytest.raises(ValueError, match="flag --max_steps"):
        flags(["prog", "--max_steps=many"])


def test_reading_an_undefined_flag_names_it(flags):
    with pytest.raises(AttributeError, match="no flag --batch_size"):
        flags.batch_size


def test_defining_a_flag_twice_is_refused(flags):
    with pytest.raises(ValueError, match="defined twice"):
        tf.flags.DEFINE_integer("max_steps", 1, "", flag_values=flags)


def test_app_run_parses_argv_calls_main_and_exits_with_its_result():
    seen = []

    def main(argv):
        seen.append(argv)
        return 3
    with pytest.raises(SystemExit) as stop:
        tf.app.run(main=main, argv=["prog", "rest"])
    assert stop.value.code == 3 and seen == [["prog", "rest"]]


def test_tf_logging_goes_to_the_tensorflow_logger(caplog):
    tf.logging.set_verbosity(tf.logging.INFO)
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        tf.logging.info("step %d", 5)
        for _ in range(3):
            tf.logging.log_every_n(tf.logging.WARN, "every other", 2)
    assert [r.getMessage() for r in caplog.records] == ["step 5", "every other", "every other"]
    assert tf.logging.get_verbosity() == logging.INFO
