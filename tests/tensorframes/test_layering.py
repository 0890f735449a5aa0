"""The dependency arrow: engine never loads Spark, Arrow or pandas; executor code never imports pyspark."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXECUTOR_SIDE = ["tensorframes.executor", "tensorframes.arrow_convert", "tensorframes.training.replica"]


def test_import_engine_loads_no_pyspark_pyarrow_or_pandas():
    code = ("import sys, engine, engine.extend, engine.testing; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'pyspark', 'pyarrow', 'pandas'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _path(module: str) -> Path:
    base = ROOT.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def _imports(module: str) -> set[str]:
    """The modules `module` imports itself (absolute names; relative imports resolved)."""
    tree = ast.parse(_path(module).read_text())
    package = module if _path(module).name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names if _path(f"{base}.{a.name}").exists())
    return found


def _project_closure(roots: list[str]) -> set[str]:
    """`roots` and every project module they import, transitively."""
    seen, todo = set(), list(roots)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo += [m for m in _imports(module) if m.split(".")[0] in ("engine", "tensorframes") and _path(m).exists()]
    return seen


@pytest.mark.parametrize("root", EXECUTOR_SIDE)
def test_executor_side_modules_import_no_pyspark(root):
    offenders = sorted(m for m in _project_closure([root])
                       if any(i.split(".")[0] == "pyspark" for i in _imports(m)))
    assert not offenders, f"{root} reaches modules that import pyspark: {offenders}"


def test_engine_imports_nothing_of_tensorframes_spark_arrow_or_pandas():
    engine_modules = [".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                      for p in (ROOT / "engine").rglob("*.py")]
    offenders = {m: sorted(i for i in _imports(m) if i.split(".")[0] in ("tensorframes", "pyspark", "pyarrow",
                                                                           "pandas"))
                 for m in engine_modules}
    assert not {m: i for m, i in offenders.items() if i}


#: The one late import the engine core keeps (documented in Graph.as_graph_def): exporting needs variables.
LATE_IMPORT = ("engine.graph", "engine.exporter")


def test_the_engine_modules_import_each_other_without_a_cycle():
    """Imports inside functions count too, except the one documented late import."""
    modules = [".".join(p.relative_to(ROOT).with_suffix("").parts) for p in (ROOT / "engine").rglob("*.py")
               if p.name != "__init__.py"]
    edges = {m: {n for n in _imports(m) if n in modules and (m, n) != LATE_IMPORT} for m in modules}
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in sorted(edges[m]):
            assert state.get(n) != 1, f"import cycle: {' -> '.join(path + [m, n])}"
            if n not in state:
                visit(n, path + [m])
        state[m] = 2

    for m in sorted(modules):
        if m not in state:
            visit(m, [])


#: What the model server (serving/) may import besides the standard library: the engine and its server stack.
SERVING_ALLOWED = {"engine", "serving", "numpy", "uvicorn", "starlette", "grpc", "google", "prometheus_client",
                   "grpc_tools"}


def test_serving_imports_the_engine_and_its_server_stack_never_spark_or_tensorframes():
    serving_modules = [".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                       for p in (ROOT / "serving").rglob("*.py")]
    allowed = SERVING_ALLOWED | set(sys.stdlib_module_names)
    offenders = {m: sorted(i for i in _imports(m) if i and i.split(".")[0] not in allowed) for m in serving_modules}
    assert not {m: i for m, i in offenders.items() if i}


def test_starting_the_model_server_loads_no_pyspark_tensorframes_pyarrow_or_pandas():
    code = ("import sys, serving.cli, serving.server, serving.oip.grpc_service; print(sorted("
            "{m.split('.')[0] for m in sys.modules} & {'pyspark', 'tensorframes', 'pyarrow', 'pandas'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
