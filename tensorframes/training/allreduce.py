"""Summing float64 vectors over the tasks of a barrier stage, through TCP sockets.

Every task listens; once the tasks know each other's addresses (see
:mod:`~tensorframes.training.rendezvous`), :meth:`Mesh.connect` links them
twice: every rank to rank 0 (the *star*) and every rank to the next one
around a ring. :meth:`Mesh.allreduce` then uses

- the star for small vectors (one round trip: the others send their vector,
  rank 0 adds them up and sends the total back; 2 messages of latency, but
  rank 0 moves ``2 (N - 1)`` vectors), and
- the ring for large ones (:data:`RING_MIN_BYTES` and up): a pipelined reduce along ``0 -> 1 -> ... -> N-1`` in segments of
  :data:`SEGMENT_BYTES`, rank ``r`` adding its own vector to the partial sum
  of ranks ``0..r-1`` it receives, then the total handed on around the ring
  from rank ``N-1``. Every link carries each byte of the vector twice,
  whatever ``N``: the bandwidth-optimal cost (benchmarks/README.md has the
  cost model), with ``2 (N + S - 2)`` segment hops of latency for ``S``
  segments.

Exact and independent of the scheme: both add the vectors in rank order,
element by element, ``((v0 + v1) + v2) + ...``, exactly as
:func:`add_in_order` does (the driver's sum in driver mode), so every task
holds the same bits whatever the scheme, the segment size or the timing,
and replicas that apply the same update stay identical. (A classic ring
reduce-scatter would start each chunk's sum at another rank: other
rounding per chunk.)

Every socket has a timeout (a step's compute included) and a peer that goes
away closes its connections, so a lost task makes the others raise
:class:`AllreduceError` instead of hanging: the task fails and Spark
retries the whole barrier stage.

>>> total = add_in_order([np.ones(2), np.ones(2)])
>>> total.tolist()
[2.0, 2.0]
"""

from __future__ import annotations

import socket
import struct
from typing import Callable, Sequence

import numpy as np

from tensorframes.errors import AllreduceError

#: Seconds a task waits for a peer in one allreduce before it fails (a step's compute included).
TIMEOUT = 600.0
#: Vectors of this many bytes and more go around the ring; smaller ones through rank 0 (benchmarks/README.md).
RING_MIN_BYTES = 1 << 20
#: Bytes per message of the ring's pipeline.
SEGMENT_BYTES = 1 << 18
SCHEMES = ("auto", "star", "ring")
_HELLO = struct.Struct("!16sIB")  # the attempt's token, the rank that connects, the link (0 star, 1 ring)
_STAR, _RING = 0, 1


def add_in_order(vectors: Sequence[np.ndarray]) -> np.ndarray:
    """The sum of ``vectors``, added one after the other in the given order."""
    total = np.array(vectors[0], dtype=np.float64, copy=True)
    for v in vectors[1:]:
        total += v
    return total


def open_listener() -> socket.socket:
    """A socket listening on every interface, on a free port."""
    return socket.create_server(("", 0), backlog=128)


def choose(nbytes: int, size: int, scheme: str = "auto") -> str:
    """The scheme that sums a vector of ``nbytes`` over ``size`` tasks: ``"star"`` or ``"ring"``.

    >>> choose(8 * 10**3, 4), choose(8 * 10**7, 4), choose(8 * 10**7, 1)
    ('star', 'ring', 'star')
    """
    if scheme not in SCHEMES:
        raise ValueError(f"allreduce must be one of {SCHEMES}, found {scheme!r}")
    if scheme != "auto":
        return scheme
    return "ring" if size > 1 and nbytes >= RING_MIN_BYTES else "star"


class Mesh:
    """The sockets of one task: the star (rank 0 is the hub) and the ring. Use as a context manager."""

    def __init__(self, rank: int, size: int, hub: list[socket.socket], ring: tuple, scheme: str) -> None:
        self.rank, self.size, self.scheme = rank, size, scheme
        self.hub = hub  # rank 0: the other ranks in order; others: [rank 0]
        self.next, self.prev = ring  # to rank + 1, from rank - 1 (None alone)

    @classmethod
    def connect(cls, rank: int, addresses: Sequence[tuple[str, int]], listener: socket.socket, token: bytes,
                timeout: float = TIMEOUT, scheme: str = "auto") -> "Mesh":
        """Link to rank 0 and to the next rank (``addresses`` in rank order), then accept the incoming links.

        Connecting first cannot deadlock: a connection completes in the peer's backlog before it accepts.
        """
        size = len(addresses)
        out: list[socket.socket] = []
        try:
            if rank:
                out.append(_dial(rank, 0, addresses[0], token, _STAR, timeout))
            if size > 1:
                out.append(_dial(rank, (rank + 1) % size, addresses[(rank + 1) % size], token, _RING, timeout))
            wanted = {(r, _STAR) for r in range(1, size)} if rank == 0 else set()
            if size > 1:
                wanted.add(((rank - 1) % size, _RING))
            links = _accept(rank, listener, token, wanted, timeout)
        except AllreduceError:
            _close(out)
            raise
        hub = [links[r, _STAR] for r in range(1, size)] if rank == 0 else out[:1]
        ring = (out[-1], links[(rank - 1) % size, _RING]) if size > 1 else (None, None)
        return cls(rank, size, hub, ring, scheme)

    def allreduce(self, vector: np.ndarray, midway: Callable[[], None] | None = None) -> np.ndarray:
        """The sum of every task's ``vector`` (float64, same length everywhere), in rank order.

        On a lost peer, closes every connection (so the others learn of it at once) and raises.
        ``midway`` runs half-way, once this task's part is sent (a test's fault hook).
        """
        vector = np.ascontiguousarray(vector, dtype=np.float64)
        midway = midway or _nothing
        if self.size == 1:
            midway()
            return vector.copy()
        try:
            if choose(vector.nbytes, self.size, self.scheme) == "ring":
                return self._ring(vector, midway)
            return self._star(vector, midway)
        except BaseException:
            self.close()
            raise

    def _star(self, vector: np.ndarray, midway: Callable[[], None]) -> np.ndarray:
        if self.rank != 0:
            _send(self.hub[0], vector, f"rank {self.rank}: lost rank 0")
            midway()
            return _recv(self.hub[0], vector.size, f"rank {self.rank} lost rank 0")
        parts = [vector] + [_recv(conn, vector.size, f"rank 0 lost rank {r}") for r, conn in enumerate(self.hub, 1)]
        midway()
        total = add_in_order(parts)
        for r, conn in enumerate(self.hub, start=1):
            _send(conn, total, f"rank 0: lost rank {r}")
        return total

    def _ring(self, vector: np.ndarray, midway: Callable[[], None]) -> np.ndarray:
        rank, last, total = self.rank, self.size - 1, np.empty_like(vector)
        before, after = f"rank {rank} lost rank {(rank - 1) % self.size}", f"rank {rank}: lost rank {rank + 1}"
        step = SEGMENT_BYTES // 8
        for a in range(0, vector.size, step):  # reduce along 0 -> 1 -> ... -> last
            part = vector[a:a + step]
            if rank:
                part = _recv(self.prev, part.size, before)
                part += vector[a:a + step]
            if rank == last:
                total[a:a + step] = part
            else:
                _send(self.next, part, after)
        midway()
        after = f"rank {rank}: lost rank {(rank + 1) % self.size}"
        for a in range(0, vector.size, step):  # hand the total on: last -> 0 -> 1 -> ... -> last - 1
            if rank != last:
                total[a:a + step] = _recv(self.prev, total[a:a + step].size, before)
            if rank != last - 1:
                _send(self.next, total[a:a + step], after)
        return total

    def close(self) -> None:
        _close(self.hub + [c for c in (self.next, self.prev) if c is not None])

    def __enter__(self) -> "Mesh":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _nothing() -> None:
    pass


def _dial(rank: int, to: int, address: tuple[str, int], token: bytes, link: int, timeout: float) -> socket.socket:
    try:
        conn = socket.create_connection(address, timeout=timeout)
        _tune(conn, timeout)
        conn.sendall(_HELLO.pack(token, rank, link))
    except OSError as e:
        raise AllreduceError(f"rank {rank}: cannot reach rank {to} at {address[0]}:{address[1]}: {e}") from None
    return conn


def _accept(rank: int, listener: socket.socket, token: bytes, wanted: set, timeout: float) -> dict:
    """The links in ``wanted`` ({(peer rank, link kind)}); strangers and duplicates are turned away."""
    links: dict = {}
    listener.settimeout(timeout)
    while len(links) < len(wanted):
        try:
            conn, _ = listener.accept()
            _tune(conn, timeout)
            got, peer, link = _HELLO.unpack(_recv_bytes(conn, _HELLO.size, f"rank {rank} lost a joining peer"))
        except (OSError, AllreduceError) as e:
            _close(links.values())
            raise AllreduceError(f"rank {rank}: {len(links)} of {len(wanted)} links joined within {timeout:g} s "
                                 f"({e})") from None
        if got != token or (peer, link) not in wanted or (peer, link) in links:
            conn.close()  # a stray connection (e.g. from a task of an earlier attempt): not one of ours
            continue
        links[peer, link] = conn
    return links


def _tune(conn: socket.socket, timeout: float) -> None:
    conn.settimeout(timeout)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # one small message a step: send it now


def _send(conn: socket.socket, vector: np.ndarray, failure: str) -> None:
    try:
        conn.sendall(memoryview(vector).cast("B"))
    except OSError as e:
        raise AllreduceError(f"{failure} ({e})") from None


def _recv(conn: socket.socket, count: int, failure: str) -> np.ndarray:
    return np.frombuffer(_recv_bytes(conn, 8 * count, failure), dtype=np.float64)


def _recv_bytes(conn: socket.socket, size: int, failure: str) -> bytearray:
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        try:
            n = conn.recv_into(view[got:])
        except OSError as e:  # socket.timeout included
            raise AllreduceError(f"{failure}: {e or 'timed out'}") from None
        if n == 0:
            raise AllreduceError(f"{failure}: it closed the connection")
        got += n
    return buffer


def _close(conns) -> None:
    for conn in conns:
        try:
            conn.close()
        except OSError:
            pass
