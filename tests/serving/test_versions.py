"""Versions on disk: the highest complete one is served, a new one is swapped in under load
without a failed request, corrupt, incomplete and temporary ones are left alone."""
from __future__ import annotations

import logging
import os
import threading
import time

import httpx
import numpy as np
import pytest


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def versions(http: httpx.Client, name: str = "m") -> dict:
    return {s["version"]: s["state"] for s in http.get(f"/v1/models/{name}").json()["model_version_status"]}


def predict(http: httpx.Client, rows: np.ndarray, name: str = "m") -> httpx.Response:
    return http.post(f"/v1/models/{name}:predict", json={"instances": rows.tolist()})


def test_the_highest_version_is_served(tmp_path, models, start_server, rows):
    for v, scale in [(1, 1.0), (3, 3.0), (2, 2.0)]:
        models.affine(tmp_path / str(v), scale)
    server = start_server({"m": tmp_path})
    with httpx.Client(base_url=server.rest_url) as http:
        assert versions(http) == {"3": "AVAILABLE"}
        np.testing.assert_array_equal(np.array(predict(http, rows).json()["predictions"], np.float32),
                                      rows * np.float32(3))


def test_a_new_version_is_swapped_in_under_load_without_a_failed_request(tmp_path, models, start_server, rows,
                                                                         caplog):
    caplog.set_level(logging.INFO, logger="serving")
    models.affine(tmp_path / "1", 1.0)
    server = start_server({"m": tmp_path})
    answers, errors, stop = [], [], threading.Event()

    def load() -> None:
        with httpx.Client(base_url=server.rest_url, timeout=10) as http:
            for _ in range(400):  # bounded even if the swap never came
                if stop.is_set():
                    return
                try:
                    r = predict(http, rows)
                    answers.append((r.status_code, r.json()))
                except Exception as e:  # a dropped connection is a failed request too
                    errors.append(e)
    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    wait_for(lambda: len(answers) > 20)
    models.write_version(tmp_path, 2, lambda path: models.affine(path, 2.0, 1.0))
    with httpx.Client(base_url=server.rest_url) as http:
        wait_for(lambda: versions(http) == {"2": "AVAILABLE"})
    seen_after = len(answers)
    wait_for(lambda: len(answers) > seen_after + 20 or not any(t.is_alive() for t in threads))
    stop.set()
    for t in threads:
        t.join()
    assert not errors and all(status == 200 for status, _ in answers)
    v1, v2 = rows.tolist(), (rows * np.float32(2) + np.float32(1)).tolist()
    origins = ["v1" if a["predictions"] == v1 else "v2" if a["predictions"] == v2 else "neither" for _, a in answers]
    assert "neither" not in origins
    assert origins[0] == "v1" and origins[-1] == "v2"
    assert "model 'm': version 1 unloaded" in caplog.text


def test_a_corrupt_version_is_refused_with_a_logged_error_and_the_old_one_keeps_serving(
        tmp_path, models, start_server, rows, caplog):
    models.affine(tmp_path / "1", 1.0)
    server = start_server({"m": tmp_path})

    def tampered(path):
        models.affine(path, 5.0)
        graph_def = path / "graph_def.json"
        graph_def.write_text(graph_def.read_text().replace('"y"', '"z"', 1))
    models.write_version(tmp_path, 2, tampered)
    with httpx.Client(base_url=server.rest_url) as http:
        wait_for(lambda: "2" in versions(http))
        status = http.get("/v1/models/m/versions/2").json()["model_version_status"][0]
        assert status["state"] == "END" and "SHA-256" in status["status"]["error_message"]
        assert versions(http) == {"2": "END", "1": "AVAILABLE"}
        np.testing.assert_array_equal(np.array(predict(http, rows).json()["predictions"], np.float32), rows)
    refusals = [r for r in caplog.records if r.levelno == logging.ERROR and "version 2 refused" in r.getMessage()]
    assert len(refusals) == 1  # refused once, not at every poll
    assert "still serving [1]" in refusals[0].getMessage()


def test_incomplete_and_temporary_version_directories_are_ignored(tmp_path, models, start_server, rows, caplog):
    models.affine(tmp_path / "1", 1.0)
    models.affine(tmp_path / ".tmp-7", 7.0)  # an atomic writer's temporary name
    models.affine(tmp_path / "8.partial", 8.0)
    models.affine(tmp_path / "9", 9.0)
    os.remove(tmp_path / "9" / "saved_model.json")  # a save still writing: no manifest yet
    server = start_server({"m": tmp_path})
    with httpx.Client(base_url=server.rest_url) as http:
        time.sleep(0.2)  # a few polls
        assert versions(http) == {"1": "AVAILABLE"}
        models.affine(tmp_path / "9", 9.0)  # the save completes
        wait_for(lambda: versions(http) == {"9": "AVAILABLE"})
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_removed_version_is_unloaded_and_the_next_highest_is_served(tmp_path, models, start_server, rows):
    import shutil

    models.affine(tmp_path / "1", 1.0)
    models.affine(tmp_path / "2", 2.0)
    server = start_server({"m": tmp_path})
    with httpx.Client(base_url=server.rest_url) as http:
        assert versions(http) == {"2": "AVAILABLE"}
        shutil.rmtree(tmp_path / "2")
        wait_for(lambda: versions(http) == {"1": "AVAILABLE"})
        np.testing.assert_array_equal(np.array(predict(http, rows).json()["predictions"], np.float32), rows)


def test_a_model_with_no_loadable_version_answers_unavailable_naming_why(tmp_path, models, start_server, rows):
    models.affine(tmp_path / "1", 1.0)
    (tmp_path / "1" / "saved_model.json").write_text("{not json")
    server = start_server({"m": tmp_path}, poll_seconds=0)
    with httpx.Client(base_url=server.rest_url) as http:
        answer = predict(http, rows)
        assert answer.status_code == 503
        assert "version 1 refused" in answer.json()["error"] and "not valid JSON" in answer.json()["error"]
        assert http.get("/v2/health/ready").status_code == 503
        assert http.get("/v2/health/live").json() == {"live": True}
