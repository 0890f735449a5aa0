"""A model server: the repository, its REST app on uvicorn and its gRPC service, started and stopped together.

>>> import json, tempfile, urllib.request
>>> import engine as tf
>>> from engine import saved_model
>>> with tf.Graph().as_default() as g:
...     x = tf.placeholder(tf.float32, (None, 2), name="x")
...     y = tf.multiply(x, 2.0, name="y")
>>> base = tempfile.mkdtemp()
>>> saved_model.save(f"{base}/1", g, {"x": x}, {"y": y})
>>> with ModelServer([ModelConfig("double", base)], ServerOptions(rest_port=0, grpc_port=0)) as server:
...     request = urllib.request.Request(f"{server.rest_url}/v1/models/double:predict",
...                                      data=json.dumps({"instances": [[1, 2.5]]}).encode())
...     print(urllib.request.urlopen(request).read().decode())
{"predictions":[[2.0,5.0]]}
>>> import shutil; shutil.rmtree(base)
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Optional

import uvicorn

from .batching import BatchingOptions
from .errors import ConfigError
from .metrics import Metrics
from .oip.grpc_service import InferenceService, grpc_server
from .repository import ModelConfig, Repository
from .rest import RestApi

log = logging.getLogger("serving")


@dataclass(frozen=True)
class ServerOptions:
    """Where to listen and how to batch. A port of 0 takes a free one; None turns that API off."""

    host: str = "127.0.0.1"
    rest_port: Optional[int] = 8501
    grpc_port: Optional[int] = 8500
    poll_seconds: float = 1.0
    max_body_bytes: int = 16 << 20
    batching: BatchingOptions = field(default_factory=BatchingOptions)
    grpc_workers: int = 64

    def __post_init__(self) -> None:
        if self.rest_port is None and self.grpc_port is None:
            raise ConfigError("both the REST and the gRPC API are off; give a port for at least one")
        if self.max_body_bytes < 1 or self.poll_seconds < 0 or self.grpc_workers < 1:
            raise ConfigError(f"invalid server options {self}")


class ModelServer:
    """Serves `models`; `start()` returns once both APIs accept connections."""

    def __init__(self, models: list[ModelConfig], options: ServerOptions = ServerOptions()) -> None:
        self.options = options
        self.metrics = Metrics()
        self.repository = Repository(models, options.batching, on_batch=self.metrics.batch,
                                     on_load=self.metrics.load)
        self.rest_port: Optional[int] = None
        self.grpc_port: Optional[int] = None
        self._uvicorn: Optional[uvicorn.Server] = None
        self._thread: Optional[threading.Thread] = None
        self._grpc = None

    @property
    def rest_url(self) -> str:
        host = self.options.host
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.rest_port}"

    @property
    def grpc_address(self) -> str:
        return f"{self.options.host}:{self.grpc_port}"

    def start(self) -> "ModelServer":
        """Load the models, then open the APIs (REST on a thread of its own)."""
        opts = self.options
        self.repository.start(opts.poll_seconds)
        try:
            if opts.grpc_port is not None:
                self._grpc, self.grpc_port = grpc_server(InferenceService(self.repository, self.metrics),
                                                         opts.host, opts.grpc_port, opts.max_body_bytes,
                                                         opts.grpc_workers)
            if opts.rest_port is not None:
                self._start_rest()
        except BaseException:
            self.stop()
            raise
        log.info("serving %s: REST %s, gRPC %s", self.repository.names,
                 self.rest_url if self.rest_port is not None else "off",
                 self.grpc_address if self.grpc_port is not None else "off")
        return self

    def _start_rest(self, timeout: float = 30.0) -> None:
        """uvicorn on a thread of its own, binding the port itself. (A socket from
        socket.create_server has protocol number 0, so asyncio leaves Nagle's algorithm on for
        its connections and every answer waited ~40 ms for a delayed ACK.)"""
        app = RestApi(self.repository, self.metrics, self.options.max_body_bytes).app()
        self._uvicorn = uvicorn.Server(uvicorn.Config(app, host=self.options.host, port=self.options.rest_port,
                                                      log_level="warning", access_log=False, lifespan="off",
                                                      backlog=2048, timeout_graceful_shutdown=5))
        self._thread = threading.Thread(target=self._uvicorn.run, name="serving-rest", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise OSError(f"the REST server could not listen on {self.options.host}:{self.options.rest_port}")
            time.sleep(0.01)
        self.rest_port = self._uvicorn.servers[0].sockets[0].getsockname()[1]

    def stop(self) -> None:
        """Close the APIs (answering requests in flight), then unload the models."""
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
            if self._thread is not None:
                self._thread.join(timeout=10)
        if self._grpc is not None:
            self._grpc.stop(grace=5).wait()
        self.repository.stop()

    def __enter__(self) -> "ModelServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait(self) -> None:
        """Block until the REST server stops (Ctrl-C / SIGTERM in the command), then stop all."""
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
            if self._thread is None:
                self._grpc.wait_for_termination()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()
