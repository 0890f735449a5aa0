"""The tensorframes-serve command: TF Serving's flags, a config file, a clean stop on SIGTERM."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from serving import cli
from serving.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def serve(*args: str) -> tuple[subprocess.Popen, str]:
    """Start `python -m serving ARGS` on free ports; (process, REST URL) once it serves."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "serving", "--port", "0", "--rest_api_port", "0", *args],
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    deadline = time.monotonic() + 30
    for line in proc.stderr:
        found = re.search(r"REST (http://127\.0\.0\.1:\d+)", line)
        if found:
            return proc, found.group(1)
        assert time.monotonic() < deadline, "the server did not start"
    raise AssertionError(f"the server exited with {proc.wait()} before serving")


def stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_the_command_serves_a_model_and_stops_cleanly_on_sigterm(tmp_path, models):
    models.affine(tmp_path / "1", 2.0)
    proc, url = serve("--model_name", "m", "--model_base_path", str(tmp_path))
    try:
        answer = httpx.post(f"{url}/v1/models/m:predict", json={"instances": [[1.0] * models.FEATURES]})
        assert answer.json() == {"predictions": [[2.0] * models.FEATURES]}
    finally:
        assert stop(proc) == 0
    assert "pyspark" not in proc.stderr.read()


def test_the_config_file_lists_several_models_with_their_version_policies(tmp_path, models):
    for v in (1, 2):
        models.affine(tmp_path / "a" / str(v), float(v))
    models.two_inputs(tmp_path / "b" / "1")
    config = tmp_path / "models.json"
    config.write_text(json.dumps({"model_config_list": {"config": [
        {"name": "a", "base_path": "a", "model_platform": "tensorflow", "model_version_policy": {"all": {}}},
        {"name": "b", "base_path": str(tmp_path / "b")}]}}))
    configs = cli.read_config_file(str(config))
    assert [(c.name, c.base_path, c.policy) for c in configs] == [
        ("a", str(tmp_path / "a"), "all"), ("b", str(tmp_path / "b"), "latest")]


@pytest.mark.parametrize("args, words", [
    ([], "give --model_name and --model_base_path"),
    (["--model_name", "m", "--model_base_path", "/no/such/dir"], "is not a directory"),
    (["--model_name", "m", "--model_base_path", ".", "--rest_api_port", "70000"], "not in 0..65535"),
    (["--model_name", "m", "--model_base_path", ".", "--max_batch_size", "0"], "max_batch_size must be"),
])
def test_bad_command_lines_are_refused_with_a_message(args, words, capsys):
    assert cli.main(args) == 2  # refused before any port is bound
    assert words in capsys.readouterr().err


def test_batching_flags_override_the_parameters_file(tmp_path):
    params = tmp_path / "batching.txt"
    params.write_text("max_batch_size { value: 32 }\nbatch_timeout_micros { value: 100 }\n")
    args = cli.parser().parse_args(["--batching_parameters_file", str(params), "--max_batch_size", "8"])
    batching = cli.options_from(args).batching
    assert (batching.max_batch_size, batching.batch_timeout_micros) == (8, 100)
    off = cli.options_from(cli.parser().parse_args(["--enable_batching=false"])).batching
    assert off.max_batch_size == 1


def test_a_bad_config_file_names_the_expected_form(tmp_path):
    config = tmp_path / "models.json"
    config.write_text('{"model_config_list": {"config": [{"name": "a"}]}}')
    with pytest.raises(ConfigError, match="expected a JSON ModelServerConfig"):
        cli.read_config_file(str(config))


def test_the_console_script_is_declared():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["tensorframes-serve"] == "serving.cli:main"
    assert "tritonclient[http,grpc]" in " ".join(project["optional-dependencies"]["test"])
