"""The per-thread default-graph and default-session stacks.

The lowest floor of the engine core (as TensorFlow 1.x keeps both stacks in
`ops.py`): `graph.py` pushes graphs in `Graph.as_default()`, `session.py`
pushes sessions in `with Session():`, and `Tensor.eval` / `Operation.run` /
`Variable.load` read the default session here without importing the module
that defines `Session`.
"""
from __future__ import annotations

import threading
from typing import Any

from .errors import FailedPreconditionError


class _Stacks(threading.local):
    def __init__(self) -> None:
        self.graphs: list = []
        self.sessions: list = []


_local = _Stacks()


def graph_stack() -> list:
    """This thread's `as_default()` graphs, innermost last."""
    return _local.graphs


def session_stack() -> list:
    """This thread's default sessions, innermost last."""
    return _local.sessions


def default_session() -> Any:
    """The innermost `with Session():` session; error if there is none.

    >>> default_session()
    Traceback (most recent call last):
    ...
    engine.errors.FailedPreconditionError: no default session: use `with Session() as sess:` or pass session=
    """
    stack = _local.sessions
    if not stack:
        raise FailedPreconditionError("no default session: use `with Session() as sess:` or pass session=")
    return stack[-1]
