"""serving is a layer of its own: it imports the engine and its server stack, never Spark."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {"engine", "serving", "numpy", "uvicorn", "starlette", "grpc", "google", "prometheus_client",
           "grpc_tools"} | set(sys.stdlib_module_names)


def test_serving_imports_only_the_engine_and_its_server_stack():
    found = {}
    for path in (ROOT / "serving").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            for name in names:
                if name.split(".")[0] not in ALLOWED:
                    found.setdefault(str(path.relative_to(ROOT)), []).append(name)
    assert not found


def test_starting_the_server_loads_neither_spark_nor_arrow_nor_pandas():
    code = ("import sys, serving.cli, serving.server, serving.oip.grpc_service; "
            "print(sorted(m for m in ('pyspark', 'tensorframes', 'pyarrow', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, check=True).stdout
    assert out.strip() == "[]"
