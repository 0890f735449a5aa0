"""Every error the server answers with, in one hierarchy.

Each class carries the HTTP status and the gRPC status code it maps to, so
the REST and gRPC front ends answer the same failure the same way. Messages
name what was wrong (the model, version, input, both shapes or dtypes).
"""
from __future__ import annotations

import logging

from engine.errors import DTypeError, EngineError, FeedError, InvalidArgumentError, ShapeError


class ServingError(Exception):
    """Base class: a request or a model directory the server cannot use."""

    http_status = 500
    grpc_code = "INTERNAL"


class BadRequest(ServingError):
    """The request is malformed or does not fit the model's signature (HTTP 400)."""

    http_status = 400
    grpc_code = "INVALID_ARGUMENT"


class NotFound(ServingError):
    """No such model, version or route (HTTP 404)."""

    http_status = 404
    grpc_code = "NOT_FOUND"


class PayloadTooLarge(ServingError):
    """The request body is larger than the configured limit (HTTP 413)."""

    http_status = 413
    grpc_code = "RESOURCE_EXHAUSTED"


class Unavailable(ServingError):
    """The batching queue is full or the model is not ready; retry later (HTTP 503)."""

    http_status = 503
    grpc_code = "UNAVAILABLE"


class ConfigError(ServingError):
    """The command line, config file or batching parameters are invalid."""


def classify(e: Exception) -> tuple[int, str, str]:
    """(HTTP status, gRPC status name, message) for an error raised while answering a request.

    Engine errors about the fed values are the client's (400); other engine
    errors and anything unexpected are the server's (500, logged).
    """
    if isinstance(e, ServingError):
        return e.http_status, e.grpc_code, str(e)
    if isinstance(e, (FeedError, ShapeError, DTypeError, InvalidArgumentError)):
        return 400, "INVALID_ARGUMENT", str(e)
    if isinstance(e, EngineError):
        return 500, "INTERNAL", f"running the model failed: {e}"
    logging.getLogger("serving").error("unexpected error answering a request", exc_info=e)
    return 500, "INTERNAL", f"internal error: {type(e).__name__}: {e}"
