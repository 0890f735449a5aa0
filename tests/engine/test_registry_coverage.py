"""Every registered op is tested and differentiable-or-marked.

Collects the COVERED_OPS sets of every tests/engine/test_ops_*.py module and
fails, naming the ops, when a registered op type is in none of them or has
no gradient (grad None instead of a function or NOT_DIFFERENTIABLE).
"""
from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path

import engine as tf

HERE = Path(__file__).resolve().parent


def _module(path: Path):
    """The test module at `path`: the one pytest already imported, else a fresh import."""
    for module in list(sys.modules.values()):
        if getattr(module, "__file__", None) and Path(module.__file__).resolve() == path:
            return module
    spec = importlib.util.spec_from_file_location(f"_coverage_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def covered_ops() -> dict[str, set]:
    """COVERED_OPS of each test_ops_*.py file, by file name."""
    return {path.name: set(getattr(_module(path), "COVERED_OPS", ())) for path in sorted(HERE.glob("test_ops_*.py"))}


def test_every_test_ops_module_declares_COVERED_OPS():
    missing = [name for name, ops in covered_ops().items() if not ops]
    assert not missing, f"these files define no COVERED_OPS set: {missing}"


def test_every_registered_op_is_covered_by_a_test_module():
    covered = set().union(*covered_ops().values())
    uncovered = sorted(op.type for op in tf.registered_ops() if op.type not in covered)
    assert not uncovered, (f"registered ops no tests/engine/test_ops_*.py lists in COVERED_OPS: {uncovered}; "
                           "add cases for them to their family's test file")


def test_COVERED_OPS_names_only_registered_ops():
    registered = {op.type for op in tf.registered_ops()}
    stale = {name: sorted(ops - registered) for name, ops in covered_ops().items() if ops - registered}
    assert not stale, f"COVERED_OPS lists op types that are not registered: {stale}"


def test_every_registered_op_has_a_gradient_or_is_marked_not_differentiable():
    missing = sorted(op.type for op in tf.registered_ops() if op.grad is None)
    assert not missing, (f"ops with grad=None: {missing}; give register_op a grad= function, "
                         "or grad=NOT_DIFFERENTIABLE if the op has no gradient")
