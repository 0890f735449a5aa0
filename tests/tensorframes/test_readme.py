"""The README's ten-line example runs as printed and prints what its comment says."""
from __future__ import annotations

from pathlib import Path

import engine as tf

README = Path(__file__).resolve().parents[2] / "README.md"


def test_ten_line_example(spark, capsys):
    section = README.read_text().split("## A ten-line example", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(code.strip().splitlines()) <= 15
    with tf.Graph().as_default():  # its ops go to a graph of their own, not the process's default graph
        exec(compile(code, str(README), "exec"), {})  # get_spark() there joins the shared session
    assert "w = 3.000, b = 1.000" in capsys.readouterr().out


def test_bring_a_tensorflow_model_to_spark(spark, capsys, monkeypatch):
    section = README.read_text().split("## Bring a TensorFlow 1.x model to Spark", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(code.strip().splitlines()) <= 10  # "in ten lines"
    monkeypatch.chdir(README.parent)  # the fixture path is relative to the repository
    with tf.Graph().as_default():
        exec(compile(code, str(README), "exec"), {})
    shown = capsys.readouterr().out
    assert "probabilities" in shown and "classes" in shown and "only showing top 3 rows" in shown
