"""TF 1.x tutorial-style programs (tests/engine/tf1_programs/) run end to end with `import engine as tf`.

Each program is a script in the style of a well-known public tutorial, on data that ships
(scikit-learn's digits, examples/data); it checks its own results against known values
(TensorFlow's documented output, numpy or scikit-learn references) with asserts. Each runs as
`__main__` in a fresh default graph; `tf.app.run`'s exit with status 0 counts as success.
"""
from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

import engine as tf

pytest.importorskip("sklearn")

PROGRAMS = sorted((Path(__file__).parent / "tf1_programs").glob("p*.py"))


def test_there_are_at_least_15_programs():
    assert len(PROGRAMS) >= 15, [p.name for p in PROGRAMS]


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_program_runs_and_meets_its_known_results(path, monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(path.parent))
    monkeypatch.chdir(tmp_path)  # programs that save checkpoints write here
    monkeypatch.setattr(sys, "argv", [str(path)])
    tf.reset_default_graph()
    try:
        runpy.run_path(str(path), run_name="__main__")
    except SystemExit as stop:  # tf.app.run ends the program with sys.exit(main(argv))
        assert stop.code in (None, 0), f"{path.name} exited with {stop.code!r}"
    finally:
        tf.reset_default_graph()
