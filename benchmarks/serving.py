"""tensorframes-serve against MLServer and `mlflow models serve`: requests/s and p50/p99 latency.

The churn MLP (11 standardized numeric features of examples/data/mlc_churn.csv,
two hidden layers of 32 ReLUs, a sigmoid; trained briefly with
engine.Sequential) is served three ways, one instance per request, over
HTTP on 127.0.0.1:

- tensorframes-serve: the engine.saved_model, Open Inference Protocol REST
  (`/v2/models/churn/infer`) and TF Serving REST (`/v1/models/churn:predict`),
  dynamic batching with its defaults (max_batch_size 256, timeout 0).
- MLServer (Seldon's Open Inference Protocol server) with a custom runtime
  doing the same forward pass in numpy, `/v2/models/churn/infer`.
- `mlflow models serve` of a pyfunc model (loader module) doing the same
  forward pass in numpy, `/invocations`.

Each server runs as a process of its own; one asyncio client process (raw
HTTP/1.1 keep-alive connections, the same for all) keeps 1, 8 and 64
requests in flight for `--seconds` after a warm-up, every loop bounded by a
deadline. MLServer and mlflow pin many packages, so they run from a venv of
their own (`--bench-venv`, made with `pip install mlserver mlflow`); the
shared Python serves tensorframes (`--ours-python` adds more interpreters,
e.g. a venv with httptools and uvloop, which uvicorn then uses).

    python benchmarks/serving.py [--seconds 5] [--bench-venv /work/venvs/serving-bench]
        [--ours-python /work/venvs/serving-fast/bin/python] [--rounds 3]

The machine is shared: run it when it is quiet and read the ratios.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import NamedTuple, Optional

import numpy as np

import engine as tf
from engine.layers import Dense

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data" / "mlc_churn.csv"
NUMERIC = ["account_length", "number_vmail_messages", "total_day_minutes", "total_day_calls", "total_eve_minutes",
           "total_eve_calls", "total_night_minutes", "total_night_calls", "total_intl_minutes", "total_intl_calls",
           "number_customer_service_calls"]
LEVELS = (1, 8, 64)


# -- the model ---------------------------------------------------------------------------
def churn_features() -> tuple[np.ndarray, np.ndarray]:
    with open(DATA, newline="") as f:
        records = list(csv.DictReader(f))
    x = np.array([[float(r[c]) for c in NUMERIC] for r in records], np.float32)
    y = np.array([[float(r["churn"] == "yes")] for r in records], np.float32)
    return (x - x.mean(axis=0)) / x.std(axis=0), y


def build_model(workdir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Train and save the MLP (saved model + weights.npz); (feature rows, engine predictions)."""
    x, y = churn_features()
    model = tf.Sequential([Dense(32, activation="relu"), Dense(32, activation="relu"),
                           Dense(1, activation="sigmoid")], seed=0)
    model.compile("adam", "binary_crossentropy")
    model.fit(x, y, epochs=3, batch_size=64, verbose=0)
    model.save(str(workdir / "tfs" / "churn" / "1"))
    w = model.get_weights()
    np.savez(workdir / "weights.npz", **{f"W{i}": w[2 * i] for i in range(3)},
             **{f"b{i}": w[2 * i + 1] for i in range(3)})
    return x[:256], model.predict(x[:256])


FORWARD = '''
import numpy as np


def forward(layers, x):
    """relu(x W0 + b0) -> relu(. W1 + b1) -> sigmoid(. W2 + b2), in numpy."""
    h = np.asarray(x, np.float32)
    for i, (w, b) in enumerate(layers):
        h = h @ w + b
        h = np.maximum(h, 0) if i < 2 else 1 / (1 + np.exp(-h))
    return h


def load_layers(path):
    w = np.load(path)
    return [(w[f"W{i}"], w[f"b{i}"]) for i in range(3)]
'''

MLSERVER_RUNTIME = FORWARD + '''
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse


class NumpyMLP(MLModel):
    async def load(self) -> bool:
        self.layers = load_layers(self.settings.parameters.uri)
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        h = forward(self.layers, NumpyCodec.decode_input(payload.inputs[0]))
        return InferenceResponse(model_name=self.name, outputs=[NumpyCodec.encode_output("outputs", h)])
'''

MLFLOW_LOADER = FORWARD + '''

class _Model:
    def __init__(self, layers):
        self.layers = layers

    def predict(self, model_input, params=None):
        return forward(self.layers, model_input)


def _load_pyfunc(path):
    return _Model(load_layers(path))
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server(NamedTuple):
    name: str
    command: list[str]
    env: dict
    port: int
    ready_path: str
    path: str  # the predict endpoint
    body: str  # "oip", "tfs" or "mlflow": how one row is sent


def setup_mlserver(workdir: Path, venv: Path) -> Server:
    folder = workdir / "mlserver"
    (folder / "churn").mkdir(parents=True)
    (folder / "churn" / "numpy_mlp.py").write_text(MLSERVER_RUNTIME)
    (folder / "churn" / "model-settings.json").write_text(json.dumps({
        "name": "churn", "implementation": "numpy_mlp.NumpyMLP",
        "parameters": {"uri": str(workdir / "weights.npz")}}))
    port = free_port()
    (folder / "settings.json").write_text(json.dumps({
        "host": "127.0.0.1", "http_port": port, "grpc_port": free_port(), "metrics_port": free_port(),
        "parallel_workers": 0, "debug": False}))
    return Server("MLServer (custom numpy runtime)", [str(venv / "bin" / "mlserver"), "start", str(folder)],
                  dict(os.environ, PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"), port,
                  "/v2/health/ready", "/v2/models/churn/infer", "oip")


def setup_mlflow(workdir: Path, venv: Path) -> Server:
    code = workdir / "mlflow_code"
    code.mkdir()
    (code / "numpy_mlp_pyfunc.py").write_text(MLFLOW_LOADER)
    model = workdir / "mlflow_model"
    subprocess.run([str(venv / "bin" / "python"), "-c", textwrap.dedent(f"""
        import mlflow.pyfunc
        mlflow.pyfunc.save_model({str(model)!r}, loader_module="numpy_mlp_pyfunc",
                                 data_path={str(workdir / 'weights.npz')!r},
                                 code_paths=[{str(code / 'numpy_mlp_pyfunc.py')!r}])
        """)], check=True, capture_output=True)
    data = next((model / "data").glob("*.npz"), None) or model / "data" / "weights.npz"
    assert data.exists(), f"mlflow did not copy the weights to {model / 'data'}"
    port = free_port()
    # mlflow runs `uvicorn` from PATH: the venv's, not the shared Python's
    env = dict(os.environ, MLFLOW_TRACKING_URI=f"file://{workdir / 'mlruns'}",
               PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}")
    return Server("mlflow models serve (pyfunc)", [str(venv / "bin" / "mlflow"), "models", "serve", "-m", str(model),
                                                   "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port),
                                                   "-w", "1"],
                  env, port, "/ping", "/invocations", "mlflow")


def setup_ours(workdir: Path, python: str, api: str) -> Server:
    port = free_port()
    parser = subprocess.run([python, "-c", "import httptools, uvloop"], capture_output=True).returncode == 0
    stack = "httptools+uvloop" if parser else "h11+asyncio"
    label = f"tensorframes-serve {'OIP' if api == 'oip' else 'TF Serving'} REST ({stack})"
    command = [python, "-m", "serving", "--model_name", "churn", "--model_base_path", str(workdir / "tfs" / "churn"),
               "--rest_api_port", str(port), "--port", "-1", "--log_level", "warning"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    path = "/v2/models/churn/infer" if api == "oip" else "/v1/models/churn:predict"
    return Server(label, command, env, port, "/v2/health/ready", path, api)


# -- the load -----------------------------------------------------------------------------
def request_body(kind: str, row: np.ndarray) -> bytes:
    values = row.tolist()
    if kind == "oip":
        return json.dumps({"inputs": [{"name": "inputs", "shape": [1, len(values)], "datatype": "FP32",
                                       "data": values}]}).encode()
    if kind == "tfs":
        return json.dumps({"instances": [values]}).encode()
    return json.dumps({"inputs": [values]}).encode()


def http_request(server: Server, body: bytes) -> bytes:
    return (f"POST {server.path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"]))
    chunks = []
    while True:  # chunked
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        chunks.append(await reader.readexactly(size + 2))
        if size == 0:
            return status, b"".join(c[:-2] for c in chunks)


async def client(server: Server, requests: list[bytes], start: float, stop: float, latencies: list,
                 errors: list, offset: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    i = offset
    try:
        while True:
            t0 = time.perf_counter()
            if t0 >= stop:
                return
            writer.write(requests[i % len(requests)])
            status, _ = await read_response(reader)
            t1 = time.perf_counter()
            if t0 >= start:
                (latencies if status == 200 else errors).append(t1 - t0)
            i += 1
    finally:
        writer.close()


async def load(server: Server, requests: list[bytes], concurrency: int, warmup: float, seconds: float) -> dict:
    start = time.perf_counter() + warmup
    stop = start + seconds
    latencies, errors = [], []
    await asyncio.gather(*[client(server, requests, start, stop, latencies, errors, 17 * i)
                           for i in range(concurrency)])
    lat = np.sort(np.array(latencies)) * 1000
    return {"rps": len(latencies) / seconds, "p50": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
            "p99": float(np.percentile(lat, 99)) if len(lat) else float("nan"), "errors": len(errors)}


def one_answer(server: Server, row: np.ndarray) -> np.ndarray:
    req = urllib.request.Request(f"http://127.0.0.1:{server.port}{server.path}", data=request_body(server.body, row),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        answer = json.loads(r.read())
    if server.body == "oip":
        return np.array(answer["outputs"][0]["data"], np.float32)
    if server.body == "tfs":
        return np.array(answer["predictions"], np.float32).reshape(-1)
    return np.array(answer["predictions"], np.float32).reshape(-1)


def wait_ready(server: Server, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{server.ready_path}", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{server.name} was not ready after {timeout:.0f} s")


def merged_requests(server: Server) -> tuple[float, float]:
    """(model runs, requests they answered) so far, from tensorframes-serve's metrics; (0, 0) for others."""
    if not server.name.startswith("tensorframes"):
        return 0.0, 0.0
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/monitoring/prometheus/metrics", timeout=10) as r:
        text = r.read().decode()
    values = {line.split("{")[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
              if line.startswith("tensorframes_serving_batch_requests_")}
    return values.get("tensorframes_serving_batch_requests_count", 0.0), values.get(
        "tensorframes_serving_batch_requests_sum", 0.0)


def measure(server: Server, rows: np.ndarray, expected: np.ndarray, warmup: float, seconds: float) -> dict:
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(server.command, env=server.env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(server, proc)
        diff = float(np.abs(one_answer(server, rows[0]) - expected[0]).max())
        requests = [http_request(server, request_body(server.body, r)) for r in rows]
        results = {}
        for c in LEVELS:
            runs, answered = merged_requests(server)
            results[c] = asyncio.run(load(server, requests, c, warmup, seconds))
            runs2, answered2 = merged_requests(server)
            results[c]["per_run"] = (answered2 - answered) / (runs2 - runs) if runs2 > runs else float("nan")
        return {"max_abs_diff": diff, "levels": results}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def median_of(rounds: list[dict]) -> dict:
    """Per level, the round with the median requests/s (so its latencies belong to it)."""
    levels = {}
    for c in LEVELS:
        ordered = sorted((r["levels"][c] for r in rounds), key=lambda lv: lv["rps"])
        levels[c] = ordered[len(ordered) // 2]
    return {"max_abs_diff": max(r["max_abs_diff"] for r in rounds), "levels": levels}


def print_table(results: dict[str, dict]) -> None:
    others = [n for n in results if not n.startswith("tensorframes")]
    print(f"\n{'server':58} {'conc':>4} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'err':>4} "
          f"{'req/run':>7} {'req/s vs best other':>20} {'p99 vs it':>10}")
    for c in LEVELS:
        best = max(others, key=lambda n: results[n]["levels"][c]["rps"]) if others else None
        for name, r in results.items():
            lv = r["levels"][c]
            ratio = p99 = ""
            if best and name.startswith("tensorframes"):
                ratio = f"{lv['rps'] / results[best]['levels'][c]['rps']:.2f}x"
                p99 = f"{lv['p99'] / results[best]['levels'][c]['p99']:.2f}x"
            per_run = "" if math.isnan(lv["per_run"]) else f"{lv['per_run']:.1f}"
            print(f"{name:58} {c:>4} {lv['rps']:>8.0f} {lv['p50']:>8.2f} {lv['p99']:>8.2f} {lv['errors']:>4} "
                  f"{per_run:>7} {ratio:>20} {p99:>10}")
        print()
    for name, r in results.items():
        print(f"{name}: largest difference from the engine's prediction of row 0: {r['max_abs_diff']:.2e}")


def main(argv: Optional[list[str]] = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=5.0, help="measured time per concurrency level")
    p.add_argument("--warmup", type=float, default=1.0, help="unmeasured time before each level")
    p.add_argument("--bench-venv", default="/work/venvs/serving-bench", help="venv with mlserver and mlflow")
    p.add_argument("--ours-python", action="append", default=[], help="more interpreters to run ours with")
    p.add_argument("--rounds", type=int, default=1, help="measure every server this many times, in turns; "
                   "report the median round per level")
    p.add_argument("--json", help="also write the figures to this file")
    args = p.parse_args(argv)
    venv = Path(args.bench_venv)
    workdir = Path(tempfile.mkdtemp(prefix="serving-bench-"))
    try:
        rows, expected = build_model(workdir)
        servers = [setup_ours(workdir, py, api) for py in [sys.executable] + args.ours_python for api in ("oip", "tfs")]
        if (venv / "bin" / "mlserver").exists():
            servers.append(setup_mlserver(workdir, venv))
        if (venv / "bin" / "mlflow").exists():
            servers.append(setup_mlflow(workdir, venv))
        print(f"{len(rows)} churn rows cycled, one per request; {args.seconds:.0f} s per level after "
              f"{args.warmup:.0f} s warm-up; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        rounds: dict[str, list] = {s.name: [] for s in servers}
        for i in range(args.rounds):
            for server in servers:
                print(f"round {i + 1}/{args.rounds}: measuring {server.name} ...", flush=True)
                rounds[server.name].append(measure(server, rows, expected, args.warmup, args.seconds))
        results = {name: median_of(r) for name, r in rounds.items()}
        print_table(results)
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=1))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
