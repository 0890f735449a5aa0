"""The README's three serving commands are commands this project has, with arguments it takes."""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from serving import cli

README = Path(__file__).resolve().parents[2] / "README.md"


def commands() -> list[list[str]]:
    section = README.read_text().split("## Serving a model", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0].replace("\\\n", " ")
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.strip()]


def test_the_three_commands_train_serve_and_curl():
    train, serve, curl = commands()
    assert train[:2] == ["python", "examples/03_churn.py"] and "--save" in train
    base = train[train.index("--save") + 1]
    serve = serve[serve.index("tensorframes-serve") + 1:]
    args = cli.parser().parse_args(serve)
    assert (args.model_name, args.model_base_path) == ("churn", base)
    assert curl[0] == "curl" and re.fullmatch(r"localhost:8501/v1/models/churn:predict", curl[4])
    body = json.loads(curl[curl.index("-d") + 1])
    assert len(body["instances"]) == 1 and len(body["instances"][0]) == 15
