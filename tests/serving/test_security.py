"""Security: loopback by default, no file outside the model base path is read, tampered models are refused."""
from __future__ import annotations

import logging
import os
import time

import httpx
import pytest

from serving import cli
from serving.errors import ConfigError
from serving.repository import ModelConfig
from serving.server import ServerOptions


def test_the_server_binds_loopback_unless_told_otherwise():
    assert ServerOptions().host == "127.0.0.1"
    assert cli.parser().parse_args([]).host == "127.0.0.1"


def test_the_rest_socket_accepts_loopback_only(start_server, tmp_path, models):
    models.affine(tmp_path / "1", 1.0)
    server = start_server({"m": tmp_path})
    sock = server._uvicorn.servers[0].sockets[0]
    assert sock.getsockname()[0] == "127.0.0.1"
    assert server.grpc_address.startswith("127.0.0.1:")


@pytest.mark.parametrize("path", ["/v1/models/..%2F..%2Fetc%2Fpasswd", "/v1/models/%2E%2E/metadata",
                                  "/v2/models/..%2Fm/ready", "/v1/models/m/versions/..%2F1:predict",
                                  "/v2/models/%2Fetc%2Fpasswd"])
def test_paths_in_urls_never_reach_the_file_system(served, path):
    answer = httpx.get(served.rest_url + path) if "predict" not in path else \
        httpx.post(served.rest_url + path, json={"instances": [[0.0] * 5]})
    assert answer.status_code in (400, 404)
    assert "error" in answer.json()


def test_a_version_that_is_a_symlink_out_of_the_base_path_is_refused(tmp_path, models, start_server, caplog):
    base, outside = tmp_path / "base", tmp_path / "outside"
    models.affine(base / "1", 1.0)
    models.affine(outside, 2.0)
    os.symlink(outside, base / "2")
    server = start_server({"m": base}, poll_seconds=0)
    status = {s["version"]: s for s in httpx.get(f"{server.rest_url}/v1/models/m").json()["model_version_status"]}
    assert status["1"]["state"] == "AVAILABLE" and status["2"]["state"] == "END"
    assert "outside the model base path" in status["2"]["status"]["error_message"]
    assert "outside the model base path" in caplog.text


def test_a_document_that_is_a_symlink_out_of_the_base_path_is_refused(tmp_path, models, start_server):
    base, outside = tmp_path / "base", tmp_path / "outside"
    models.affine(base / "1", 1.0)
    models.affine(outside, 2.0)
    os.remove(base / "1" / "graph_def.json")
    os.symlink(outside / "graph_def.json", base / "1" / "graph_def.json")
    server = start_server({"m": base}, poll_seconds=0)
    answer = httpx.post(f"{server.rest_url}/v1/models/m:predict", json={"instances": [[0.0] * 5]})
    assert answer.status_code == 503 and "outside the model base path" in answer.json()["error"]


def test_a_model_whose_files_were_tampered_with_is_refused_by_its_digest(tmp_path, models, start_server):
    models.affine(tmp_path / "1", 1.0)
    graph_def = tmp_path / "1" / "graph_def.json"
    graph_def.write_text(graph_def.read_text().replace('"Mul"', '"Add"'))  # same size, other computation
    server = start_server({"m": tmp_path}, poll_seconds=0)
    answer = httpx.post(f"{server.rest_url}/v1/models/m:predict", json={"instances": [[0.0] * 5]})
    assert answer.status_code == 503
    assert "SHA-256" in answer.json()["error"] and "changed after saving" in answer.json()["error"]


@pytest.mark.parametrize("name", ["", "a/b", "..", "."])
def test_model_names_that_could_be_paths_are_refused(name):
    with pytest.raises(ConfigError, match="model name"):
        ModelConfig(name, "/tmp")


def test_metric_labels_do_not_grow_with_unknown_model_names(served):
    for i in range(3):
        httpx.post(f"{served.rest_url}/v1/models/random{i}:predict", json={"instances": [[0.0] * 5]})
    text = httpx.get(f"{served.rest_url}/monitoring/prometheus/metrics").text
    assert "random" not in text and 'model="_unknown"' in text
