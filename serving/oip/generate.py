"""Regenerate inference_pb2.py and inference_pb2_grpc.py from inference.proto.

The generated modules are checked in, so installing and running the server
needs only the protobuf and grpcio runtimes (protobuf >= 7.35.1, the version
of the protoc inside grpcio-tools 1.85.1, and grpcio >= 1.85.1), no build
step. tests/serving/test_oip_proto.py regenerates them into a temporary
folder and fails if they differ from the checked-in ones.

One edit follows protoc: the messages go into a descriptor pool of their own
instead of protobuf's default pool, because a process may also load another
generated copy of the same protocol (tritonclient.grpc, KServe's or
MLServer's clients), and the default pool refuses a second definition of
`inference.ModelInferRequest`. The wire format does not depend on the pool.

    python -m serving.oip.generate [OUT_DIR]
"""
from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PROTO = os.path.join("serving", "oip", "inference.proto")
_DEFAULT_POOL = "_descriptor_pool.Default().AddSerializedFile("
_OWN_POOL = "_descriptor_pool.DescriptorPool().AddSerializedFile("


def generate(out_dir: str = ROOT) -> None:
    """Write serving/oip/inference_pb2.py and inference_pb2_grpc.py under `out_dir`."""
    from grpc_tools import protoc  # a build tool only: the server never imports it

    code = protoc.main(["grpc_tools.protoc", f"-I{ROOT}", f"--python_out={out_dir}",
                        f"--grpc_python_out={out_dir}", os.path.join(ROOT, PROTO)])
    if code != 0:
        raise RuntimeError(f"protoc failed on {PROTO} with exit code {code}")
    path = os.path.join(out_dir, "serving", "oip", "inference_pb2.py")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if _DEFAULT_POOL not in text:
        raise RuntimeError(f"{path}: protoc's output no longer registers in the default pool; update generate.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace(_DEFAULT_POOL, _OWN_POOL))


if __name__ == "__main__":
    generate(*sys.argv[1:])
