"""The HTTP front end: TF Serving's REST API, the Open Inference Protocol's REST API
and the Prometheus metrics, as one Starlette (ASGI) app.

Every answer that is not a success is `{"error": "..."}` with the status of
the ServingError (400, 404, 413, 503); an engine error raised while running
the model is a 400 when it is about the fed values, a 500 otherwise, and a
failure of one request never reaches the next.
"""
from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any, Awaitable, Callable, Optional

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import __version__, tfserving
from .errors import BadRequest, NotFound, PayloadTooLarge, classify
from .metrics import CONTENT_TYPE_LATEST, Metrics
from .oip import codec
from .repository import Repository
from .tensors import parse_json

_V1_PATH = re.compile(r"(?P<name>[^/:]+)(?:/versions/(?P<version>[^/:]+))?(?:/(?P<metadata>metadata)|:(?P<verb>\w+))?")
SERVER_NAME = "tensorframes-serve"


def json_response(content: Any, status: int = 200) -> Response:
    """JSON as TF Serving writes it (NaN and Infinity outputs as those literals)."""
    return Response(json.dumps(content, separators=(",", ":")), status, media_type="application/json")


def error_response(e: Exception) -> Response:
    status, _, message = classify(e)
    return json_response({"error": message}, status)


class RestApi:
    """The routes of both REST APIs over one repository."""

    def __init__(self, repository: Repository, metrics: Metrics, max_body_bytes: int) -> None:
        self.repo, self.metrics, self.max_body_bytes = repository, metrics, max_body_bytes

    def app(self) -> Starlette:
        e = self._endpoint
        routes = [
            Route("/v1/models/{rest:path}", e("tfs_rest", self.v1), methods=["GET", "POST"]),
            Route("/v2", e(None, self.server_metadata), methods=["GET"]),
            Route("/v2/health/live", e(None, self.live), methods=["GET"]),
            Route("/v2/health/ready", e(None, self.ready), methods=["GET"]),
            Route("/v2/models/{name}", e(None, self.model_metadata), methods=["GET"]),
            Route("/v2/models/{name}/versions/{version}", e(None, self.model_metadata), methods=["GET"]),
            Route("/v2/models/{name}/ready", e(None, self.model_ready), methods=["GET"]),
            Route("/v2/models/{name}/versions/{version}/ready", e(None, self.model_ready), methods=["GET"]),
            Route("/v2/models/{name}/infer", e("oip_rest", self.infer), methods=["POST"]),
            Route("/v2/models/{name}/versions/{version}/infer", e("oip_rest", self.infer), methods=["POST"]),
            Route("/monitoring/prometheus/metrics", e(None, self.prometheus), methods=["GET"]),
        ]

        async def not_found(request: Request, exc: Exception) -> Response:
            status = getattr(exc, "status_code", 404)
            return json_response({"error": f"{request.method} {request.url.path}: no such endpoint"
                                  if status == 404 else f"{request.method} is not allowed here"}, status)
        return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})

    def _endpoint(self, api: Optional[str], handler: Callable[[Request], Awaitable[Response]]):
        async def endpoint(request: Request) -> Response:
            start = time.perf_counter()
            try:
                response = await handler(request)
            except Exception as e:  # every failure becomes an {"error"} answer; the server goes on
                response = error_response(e)
            if api is not None:
                self.metrics.observe(self._model_label(request), api, response.status_code,
                                     time.perf_counter() - start)
            return response
        return endpoint

    def _model_label(self, request: Request) -> str:
        """The model's name for metrics; names that are not served share one label (bounded cardinality)."""
        name = request.path_params.get("name")
        if name is None:
            match = _V1_PATH.match(request.path_params.get("rest", ""))
            name = match["name"] if match else None
        return name if name in self.repo.names else "_unknown"

    async def _body(self, request: Request) -> bytes:
        """The body, refused with 413 as soon as it passes the limit."""
        limit = self.max_body_bytes
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise PayloadTooLarge(f"the body of {int(length)} bytes is over the limit of {limit} bytes "
                                  "(--rest_api_max_body_bytes)")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"the body is over the limit of {limit} bytes (--rest_api_max_body_bytes)")
            chunks.append(chunk)
        return b"".join(chunks)

    # -- TensorFlow Serving ---------------------------------------------------------------
    async def v1(self, request: Request) -> Response:
        match = _V1_PATH.fullmatch(request.path_params["rest"])
        if match is None:
            raise NotFound(f"{request.url.path}: no such endpoint; "
                           "expected /v1/models/NAME[/versions/V][/metadata|:predict]")
        name, verb = match["name"], match["verb"]
        version = tfserving.parse_version(match["version"])
        if request.method == "GET" and verb is None:
            if match["metadata"]:
                with self.repo.acquire(name, version) as servable:
                    return json_response(tfserving.metadata(servable))
            loaded, refused = self.repo.status(name)
            return json_response(tfserving.status(name, loaded, refused, version))
        if request.method == "POST" and verb == "predict" and not match["metadata"]:
            return await self._predict(request, name, version)
        if verb in ("classify", "regress"):
            raise BadRequest(f":{verb} is not supported: saved models here have predict signatures; use :predict")
        raise NotFound(f"{request.method} {request.url.path}: no such endpoint "
                       "(GET status or /metadata, POST :predict)")

    async def _predict(self, request: Request, name: str, version: Optional[int]) -> Response:
        payload = parse_json(await self._body(request))
        with self.repo.acquire(name, version) as servable:
            inputs, rows = tfserving.parse_predict(payload, servable.signature)
            outputs = await asyncio.wrap_future(servable.submit(inputs))
        return json_response(tfserving.predict_response(outputs, rows))

    # -- Open Inference Protocol ------------------------------------------------------------
    async def server_metadata(self, request: Request) -> Response:
        return json_response({"name": SERVER_NAME, "version": __version__, "extensions": ["binary_tensor_data"]})

    async def live(self, request: Request) -> Response:
        return json_response({"live": True})

    async def ready(self, request: Request) -> Response:
        ready = self.repo.ready()
        return json_response({"ready": ready}, 200 if ready else 503)

    async def model_metadata(self, request: Request) -> Response:
        name, version = self._model_and_version(request)
        with self.repo.acquire(name, version) as servable:
            loaded, _ = self.repo.status(name)
            return json_response(codec.model_metadata(servable, list(loaded)))

    async def model_ready(self, request: Request) -> Response:
        name, version = self._model_and_version(request)
        with self.repo.acquire(name, version):
            return json_response({"name": name, "ready": True})

    async def infer(self, request: Request) -> Response:
        name, version = self._model_and_version(request)
        body = await self._body(request)
        with self.repo.acquire(name, version) as servable:
            decoded = codec.parse_rest(body, request.headers.get("inference-header-content-length"),
                                       servable.signature)
            outputs = await asyncio.wrap_future(servable.submit(decoded.inputs))
            content, headers = codec.rest_response(name, servable.version, decoded, outputs)
        return Response(content, 200, headers=headers)

    @staticmethod
    def _model_and_version(request: Request) -> tuple[str, Optional[int]]:
        return request.path_params["name"], tfserving.parse_version(request.path_params.get("version"))

    async def prometheus(self, request: Request) -> Response:
        return Response(self.metrics.text(), 200, media_type=CONTENT_TYPE_LATEST)
