"""The Open Inference Protocol over gRPC: `inference.GRPCInferenceService` on grpcio.

ServerLive, ServerReady, ModelReady, ServerMetadata, ModelMetadata and
ModelInfer; errors are gRPC statuses (INVALID_ARGUMENT, NOT_FOUND,
RESOURCE_EXHAUSTED for a message over the size limit, UNAVAILABLE for a full
batching queue) with the same messages as the REST answers.
"""
from __future__ import annotations

import time
from concurrent import futures
from typing import Any, Callable

import grpc

from .. import __version__
from ..errors import ServingError, classify
from ..metrics import Metrics
from ..repository import Repository
from ..rest import SERVER_NAME
from ..tfserving import parse_version
from . import codec, inference_pb2 as pb, inference_pb2_grpc as pb_grpc


class InferenceService(pb_grpc.GRPCInferenceServiceServicer):
    """The servicer over a repository."""

    def __init__(self, repository: Repository, metrics: Metrics) -> None:
        self.repo, self.metrics = repository, metrics

    def ServerLive(self, request: pb.ServerLiveRequest, context: grpc.ServicerContext) -> pb.ServerLiveResponse:
        return pb.ServerLiveResponse(live=True)

    def ServerReady(self, request: pb.ServerReadyRequest, context: grpc.ServicerContext) -> pb.ServerReadyResponse:
        return pb.ServerReadyResponse(ready=self.repo.ready())

    def ServerMetadata(self, request: pb.ServerMetadataRequest,
                       context: grpc.ServicerContext) -> pb.ServerMetadataResponse:
        return pb.ServerMetadataResponse(name=SERVER_NAME, version=__version__)

    def ModelReady(self, request: pb.ModelReadyRequest, context: grpc.ServicerContext) -> pb.ModelReadyResponse:
        def ready() -> pb.ModelReadyResponse:
            try:
                with self.repo.acquire(request.name, parse_version(request.version)):
                    return pb.ModelReadyResponse(ready=True)
            except ServingError as e:
                if e.grpc_code == "INVALID_ARGUMENT":
                    raise
                return pb.ModelReadyResponse(ready=False)
        return _answer(context, ready)

    def ModelMetadata(self, request: pb.ModelMetadataRequest,
                      context: grpc.ServicerContext) -> pb.ModelMetadataResponse:
        def metadata() -> pb.ModelMetadataResponse:
            with self.repo.acquire(request.name, parse_version(request.version)) as servable:
                loaded, _ = self.repo.status(request.name)
                meta = codec.model_metadata(servable, list(loaded))
            return pb.ModelMetadataResponse(
                name=meta["name"], versions=meta["versions"], platform=meta["platform"],
                inputs=[pb.ModelMetadataResponse.TensorMetadata(**t) for t in meta["inputs"]],
                outputs=[pb.ModelMetadataResponse.TensorMetadata(**t) for t in meta["outputs"]])
        return _answer(context, metadata)

    def ModelInfer(self, request: pb.ModelInferRequest, context: grpc.ServicerContext) -> pb.ModelInferResponse:
        start, code = time.perf_counter(), "OK"
        try:
            with self.repo.acquire(request.model_name, parse_version(request.model_version)) as servable:
                decoded = codec.parse_grpc(request, servable.signature)
                outputs = servable.submit(decoded.inputs).result()
                return codec.grpc_response(servable.name, servable.version, decoded, outputs)
        except Exception as e:  # the status says what happened; the server goes on
            status, message = _status(e)
            code = status.name
            context.abort(status, message)
        finally:
            label = request.model_name if request.model_name in self.repo.names else "_unknown"
            self.metrics.observe(label, "oip_grpc", code, time.perf_counter() - start)


def _status(e: Exception) -> tuple[grpc.StatusCode, str]:
    _, name, message = classify(e)
    return getattr(grpc.StatusCode, name), message


def _answer(context: grpc.ServicerContext, call: Callable[[], Any]) -> Any:
    """The call's answer, or the context aborted with the gRPC status of its error."""
    try:
        return call()
    except Exception as e:  # the status says what happened; the server goes on
        context.abort(*_status(e))


def grpc_server(service: InferenceService, host: str, port: int, max_message_bytes: int,
                max_workers: int) -> tuple[grpc.Server, int]:
    """A started gRPC server bound to host:port (0: a free port), and the port."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="grpc"),
                         options=[("grpc.max_receive_message_length", max_message_bytes),
                                  ("grpc.max_send_message_length", max_message_bytes),
                                  ("grpc.so_reuseport", 0)])
    pb_grpc.add_GRPCInferenceServiceServicer_to_server(service, server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"cannot bind the gRPC port {host}:{port}")
    server.start()
    return server, bound
