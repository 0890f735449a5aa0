"""The programs loaded in this Python worker: one cache for every kind of shipped program.

Loading a shipped GraphDef costs far more than running a batch through it,
and Spark reuses its Python workers across tasks and jobs, so each worker
keeps the last few programs it loaded, by the SHA-256 of their GraphDef
(``program.key``), and drops the least recently used one past its size.
Plain Python (no pyspark), as everything that runs on the executors.

>>> from types import SimpleNamespace
>>> loads = []
>>> cache = ProgramCache(lambda p: loads.append(p.key) or p.key.upper(), size=1)
>>> a, b = SimpleNamespace(key="a"), SimpleNamespace(key="b")
>>> cache(a), cache(a), cache(b), cache(a), loads
('A', 'A', 'B', 'A', ['a', 'b', 'a'])
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Generic, Protocol, TypeVar


class Keyed(Protocol):
    key: str


P = TypeVar("P", bound=Keyed)
L = TypeVar("L")


class ProgramCache(Generic[P, L]):
    """``load(program)``, computed once per ``program.key`` while among the ``size`` most recently used."""

    def __init__(self, load: Callable[[P], L], size: int) -> None:
        self._load = load
        self._size = size
        self._loaded: OrderedDict[str, L] = OrderedDict()

    def __call__(self, program: P) -> L:
        loaded = self._loaded.get(program.key)
        if loaded is None:
            loaded = self._loaded[program.key] = self._load(program)
            if len(self._loaded) > self._size:
                self._loaded.popitem(last=False)
        else:
            self._loaded.move_to_end(program.key)
        return loaded
