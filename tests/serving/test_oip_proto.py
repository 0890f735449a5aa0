"""The project's inference.proto: wire-compatible with Triton's published definition, and the
checked-in generated modules are what grpcio-tools makes of it."""
from __future__ import annotations

from pathlib import Path

import pytest
from tritonclient.grpc import service_pb2 as triton

from serving.oip import generate, inference_pb2 as ours

ROOT = Path(generate.ROOT)


def fields(descriptor) -> dict:
    return {f.number: (f.name, f.type, f.is_repeated, f.message_type and f.message_type.full_name)
            for f in descriptor.fields}


def all_messages(descriptor, prefix=""):
    for name, message in descriptor.message_types_by_name.items() if prefix == "" else \
            ((m.name, m) for m in descriptor.nested_types):
        yield message
        yield from all_messages(message, prefix=message.full_name)


@pytest.mark.parametrize("message", list(all_messages(ours.DESCRIPTOR)), ids=lambda m: m.full_name)
def test_every_message_has_tritons_name_fields_numbers_and_types(message):
    assert message.full_name.startswith("inference.")
    theirs = triton.DESCRIPTOR.pool.FindMessageTypeByName(message.full_name)
    assert fields(message) == fields(theirs)
    assert [o.name for o in message.oneofs] == [o.name for o in theirs.oneofs]


def test_the_service_methods_are_tritons_with_the_same_types():
    service = ours.DESCRIPTOR.services_by_name["GRPCInferenceService"]
    theirs = triton.DESCRIPTOR.services_by_name["GRPCInferenceService"]
    assert service.full_name == theirs.full_name == "inference.GRPCInferenceService"
    for method in service.methods:
        other = theirs.methods_by_name[method.name]
        assert (method.input_type.full_name, method.output_type.full_name) == \
            (other.input_type.full_name, other.output_type.full_name)
    assert {m.name for m in service.methods} == {"ServerLive", "ServerReady", "ModelReady", "ServerMetadata",
                                                 "ModelMetadata", "ModelInfer"}


def test_the_checked_in_generated_code_is_up_to_date(tmp_path):
    pytest.importorskip("grpc_tools")
    generate.generate(str(tmp_path))
    for name in ("inference_pb2.py", "inference_pb2_grpc.py"):
        fresh = (tmp_path / "serving" / "oip" / name).read_text()
        assert fresh == (ROOT / "serving" / "oip" / name).read_text(), \
            f"serving/oip/{name} is stale: run python -m serving.oip.generate"
