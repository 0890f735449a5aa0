"""The `tensorframes-serve` command (also `python -m serving`), with TensorFlow Serving's flag names.

    tensorframes-serve --model_name churn --model_base_path /models/churn
    tensorframes-serve --model_config_file models.json --rest_api_port 8501 --port 8500

`--port` is the gRPC port (8500) and `--rest_api_port` the REST port (8501)
as in TF Serving; `--grpc_port` is another name for `--port`. A port of 0
takes a free one (the log says which), -1 turns that API off. The server
binds 127.0.0.1 unless `--host` says otherwise.

The config file is TF Serving's ModelServerConfig in its JSON form::

    {"model_config_list": {"config": [
        {"name": "churn", "base_path": "/models/churn",
         "model_version_policy": {"latest": {"num_versions": 1}}}]}}

(`{"specific": {"versions": [1, 2]}}` and `{"all": {}}` are the other
policies). Batching is on by default (`--enable_batching=false` runs every
request alone, still through the bounded queue); its parameters come from
`--batching_parameters_file` (TF Serving's text format) or the flags of the
same names.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from dataclasses import replace
from typing import Optional, Sequence

from .batching import BatchingOptions
from .errors import ConfigError
from .repository import ModelConfig
from .server import ModelServer, ServerOptions

_BATCH_FLAGS = ("max_batch_size", "batch_timeout_micros", "num_batch_threads", "max_enqueued_batches")


def _bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, found {text!r}")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tensorframes-serve", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model_name", help="the name the model is served under")
    p.add_argument("--model_base_path", help="directory of numbered version directories (saved models)")
    p.add_argument("--model_config_file", help="JSON ModelServerConfig for several models")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", "--grpc_port", dest="port", type=int, default=8500, help="gRPC port (8500)")
    p.add_argument("--rest_api_port", type=int, default=8501, help="REST port (8501)")
    p.add_argument("--rest_api_max_body_bytes", type=int, default=16 << 20,
                   help="larger request bodies (and gRPC messages) are refused with 413 (16 MiB)")
    p.add_argument("--file_system_poll_wait_seconds", type=float, default=1.0,
                   help="how often to look for new versions (0: only at start)")
    p.add_argument("--enable_batching", type=_bool, nargs="?", const=True, default=True)
    p.add_argument("--batching_parameters_file", help="TF Serving text format: max_batch_size { value: 128 } ...")
    for name in _BATCH_FLAGS:
        p.add_argument(f"--{name}", type=int)
    p.add_argument("--log_level", default="info", choices=["debug", "info", "warning", "error"])
    return p


def models_from(args: argparse.Namespace) -> list[ModelConfig]:
    """The served models, from --model_name/--model_base_path or --model_config_file."""
    if args.model_config_file:
        if args.model_name or args.model_base_path:
            raise ConfigError("give either --model_config_file or --model_name and --model_base_path")
        return read_config_file(args.model_config_file)
    if not (args.model_name and args.model_base_path):
        raise ConfigError("give --model_name and --model_base_path (or --model_config_file)")
    return [ModelConfig(args.model_name, args.model_base_path)]


def read_config_file(path: str) -> list[ModelConfig]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        entries = data["model_config_list"]["config"]
        if not isinstance(entries, list) or not entries:
            raise TypeError("model_config_list.config must be a non-empty list")
        base = os.path.dirname(os.path.abspath(path))
        return [_model_config(e, base) for e in entries]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"{path}: expected a JSON ModelServerConfig "
                          f'{{"model_config_list": {{"config": [{{"name", "base_path"}}, ...]}}}}: {e}') from None


def _model_config(entry: dict, base: str) -> ModelConfig:
    unknown = set(entry) - {"name", "base_path", "model_platform", "model_version_policy"}
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)} in a model config")
    policy = entry.get("model_version_policy", {"latest": {}})
    if not isinstance(policy, dict) or len(policy) != 1:
        raise ValueError(f"model_version_policy must hold one of latest, specific, all; found {policy!r}")
    (kind, spec), = policy.items()
    path = os.path.join(base, entry["base_path"])  # relative paths are relative to the config file
    return ModelConfig(entry["name"], path, kind, int(spec.get("num_versions", 1)),
                       tuple(int(v) for v in spec.get("versions", ())))


def options_from(args: argparse.Namespace) -> ServerOptions:
    batching = BatchingOptions()
    if args.batching_parameters_file:
        try:
            with open(args.batching_parameters_file, encoding="utf-8") as f:
                batching = BatchingOptions.parse(f.read())
        except OSError as e:
            raise ConfigError(f"cannot read --batching_parameters_file: {e}") from None
    given = {n: getattr(args, n) for n in _BATCH_FLAGS if getattr(args, n) is not None}
    batching = replace(batching, **given)
    if not args.enable_batching:
        batching = replace(batching, max_batch_size=1, max_enqueued_batches=batching.capacity)
    return ServerOptions(host=args.host, rest_port=_port(args.rest_api_port), grpc_port=_port(args.port),
                         poll_seconds=args.file_system_poll_wait_seconds,
                         max_body_bytes=args.rest_api_max_body_bytes, batching=batching)


def _port(value: int) -> Optional[int]:
    if value == -1:
        return None
    if not 0 <= value <= 65535:
        raise ConfigError(f"port {value} is not in 0..65535 (or -1 to turn the API off)")
    return value


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the server like Ctrl-C: requests in flight are answered


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        server = ModelServer(models_from(args), options_from(args))
        server.start()
    except (ConfigError, OSError) as e:
        print(f"tensorframes-serve: {e}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    server.wait()
    return 0
