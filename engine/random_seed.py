"""Random seeds the TensorFlow 1.x way: a graph-level seed plus op-level seeds.

`set_random_seed(s)` stores `s` on the default graph; `get_seed(op_seed)`
turns the pair into the two integer attrs (`seed`, `seed2`) a random op
carries, so a GraphDef shipped to another process draws the same numbers:

- graph seed and op seed set: both are used;
- only the graph seed: the op seed is the id of the last op of the graph,
  so each random op gets its own sequence, identical from run to run of
  the same program;
- only the op seed: the graph seed is TensorFlow's default, 87654321;
- neither: (None, None), and the op is nondeterministic (attrs 0, 0).

Streams: a seeded op draws from numpy's `SeedSequence([seed, seed2],
spawn_key=stream)`, where `stream` is a tuple of ints the session holds
(`Session.reset_kernel_state(stream)`, default `()`). Distinct keys give
independent streams of the same seeds, which is how tensorframes gives
every Spark partition its own numbers, reproducibly (the equivalent of
Spark's `rand(seed)` seeding each partition with `seed + partitionIndex`):

- `map_blocks`, reductions and the ML stages: partition p draws the stream
  `partition_stream(p)`; partition 0 keeps the session's own stream, so
  a one-partition DataFrame (or a pandas one) draws what a Session draws;
- training (`tfs.train`): the sums of step s in partition p draw the stream
  `(p, s)`, restarted every step, so a step's dropout masks depend on the
  seeds, the step and the partition only, in both modes and on retries.

>>> from engine import Graph
>>> with Graph().as_default():
...     set_random_seed(1)
...     get_seed(7)
(1, 7)
"""
from __future__ import annotations

from typing import Optional

from .errors import InvalidArgumentError
from .graph import get_default_graph

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2 ** 31 - 1


def set_random_seed(seed: Optional[int]) -> None:
    """Set the default graph's random seed (None clears it); random ops built after it use it."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise InvalidArgumentError(f"set_random_seed expects an int or None, found {seed!r}")
    get_default_graph().seed = seed


def _truncate(seed: int) -> int:
    return seed % _MAXINT32


def get_seed(op_seed: Optional[int]) -> tuple[Optional[int], Optional[int]]:
    """(graph seed, op seed) for a random op built now in the default graph (see the module doc)."""
    if op_seed is not None and (isinstance(op_seed, bool) or not isinstance(op_seed, int)):
        raise InvalidArgumentError(f"a random op's seed must be an int or None, found {op_seed!r}")
    graph = get_default_graph()
    if graph.seed is not None:
        seeds = _truncate(graph.seed), _truncate(len(graph.get_operations()) if op_seed is None else op_seed)
    elif op_seed is not None:
        seeds = DEFAULT_GRAPH_SEED, _truncate(op_seed)
    else:
        return None, None
    return (0, _MAXINT32) if seeds == (0, 0) else seeds  # (0, 0) means "nondeterministic" in the attrs


def partition_stream(partition: Optional[int]) -> tuple[int, ...]:
    """The stream key of a Spark partition's random ops: () for partition 0 (or no partition), else (p,).

    >>> partition_stream(0), partition_stream(3)
    ((), (3,))
    """
    return (int(partition),) if partition else ()


def seed_attrs(op_seed: Optional[int]) -> dict:
    """The `seed` / `seed2` attrs of a random op (0, 0: nondeterministic, as in TensorFlow)."""
    seed, seed2 = get_seed(op_seed)
    return {"seed": seed or 0, "seed2": seed2 or 0}
