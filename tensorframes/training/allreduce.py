"""Summing float64 vectors over the tasks of a barrier stage, through TCP sockets.

A star: the task of partition 0 (rank 0) listens, every other task connects
to it once, then each :meth:`StarAllreduce.allreduce` is one round trip:
the others send their vector, rank 0 adds them all up in rank order and
sends the same total back. Every task therefore holds bit-identical sums
(and :func:`add_in_order` gives the driver the very same sums), so replicas
that apply the same update stay identical. Rank 0 learns nothing but the
vectors; where rank 0 listens is exchanged once through
``BarrierTaskContext.allGather`` (about 1 s a call, too slow per step).

Every socket has a timeout and a peer that goes away closes its connection,
so a lost task makes the others raise :class:`AllreduceError` and fail,
instead of hanging: Spark then retries the whole barrier stage. A star
suits the models trained here (up to a few million parameters); a ring
would spread the bandwidth of very large models.

>>> total = add_in_order([np.ones(2), np.ones(2)])
>>> total.tolist()
[2.0, 2.0]
"""

from __future__ import annotations

import socket
import struct
from typing import Sequence

import numpy as np

from tensorframes.errors import AllreduceError

#: Seconds a task waits for a peer before it gives up and fails (a step's compute included).
TIMEOUT = 600.0
_HELLO = struct.Struct("!16sI")  # the training's token, the rank that connects


def add_in_order(vectors: Sequence[np.ndarray]) -> np.ndarray:
    """The sum of ``vectors``, added one after the other in the given order."""
    total = np.array(vectors[0], dtype=np.float64, copy=True)
    for v in vectors[1:]:
        total += v
    return total


def open_listener() -> socket.socket:
    """A socket listening on every interface, on a free port."""
    return socket.create_server(("", 0), backlog=128)


class StarAllreduce:
    """The sockets of one task; rank 0 is the hub. Use as a context manager."""

    def __init__(self, rank: int, peers: list[socket.socket], timeout: float) -> None:
        self.rank = rank
        self.peers = peers  # rank 0: the other ranks in order; others: [rank 0]
        self.timeout = timeout

    @classmethod
    def connect(cls, rank: int, size: int, root: tuple[str, int], listener: socket.socket | None,
                token: bytes, timeout: float = TIMEOUT) -> "StarAllreduce":
        """Join the star: rank 0 accepts ``size - 1`` peers on ``listener``, the others connect to ``root``."""
        if rank != 0:
            try:
                conn = socket.create_connection(root, timeout=timeout)
            except OSError as e:
                raise AllreduceError(f"rank {rank}: cannot reach rank 0 at {root[0]}:{root[1]}: {e}") from None
            _tune(conn, timeout)
            conn.sendall(_HELLO.pack(token, rank))
            return cls(rank, [conn], timeout)
        peers: dict[int, socket.socket] = {}
        listener.settimeout(timeout)
        while len(peers) < size - 1:
            try:
                conn, _ = listener.accept()
                _tune(conn, timeout)
                got_token, peer = _HELLO.unpack(_recv_exact(conn, _HELLO.size, "rank 0 lost a joining peer"))
            except (OSError, AllreduceError) as e:
                _close(peers.values())
                raise AllreduceError(f"rank 0: {len(peers)} of {size - 1} peers joined within {timeout:g} s "
                                     f"({e})") from None
            if got_token != token or not 0 < peer < size or peer in peers:
                conn.close()  # a stray connection (e.g. from an earlier attempt): not one of ours
                continue
            peers[peer] = conn
        return cls(0, [peers[r] for r in range(1, size)], timeout)

    def allreduce(self, vector: np.ndarray) -> np.ndarray:
        """The sum of every task's ``vector`` (float64, same length everywhere).

        On a lost peer, closes every connection (so the others learn of it at once) and raises.
        """
        try:
            return self._allreduce(np.ascontiguousarray(vector, dtype=np.float64))
        except AllreduceError:
            self.close()
            raise

    def _allreduce(self, vector: np.ndarray) -> np.ndarray:
        if self.rank != 0:
            self._send(self.peers[0], vector, 0)
            return np.frombuffer(_recv_exact(self.peers[0], vector.nbytes, f"rank {self.rank} lost rank 0"))
        parts = [vector] + [np.frombuffer(_recv_exact(conn, vector.nbytes, f"rank 0 lost rank {r}"))
                            for r, conn in enumerate(self.peers, start=1)]
        total = add_in_order(parts)
        for r, conn in enumerate(self.peers, start=1):
            self._send(conn, total, r)
        return total

    def _send(self, conn: socket.socket, vector: np.ndarray, to: int) -> None:
        try:
            conn.sendall(memoryview(vector).cast("B"))
        except OSError as e:
            raise AllreduceError(f"rank {self.rank}: lost rank {to} ({e})") from None

    def close(self) -> None:
        _close(self.peers)

    def __enter__(self) -> "StarAllreduce":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _tune(conn: socket.socket, timeout: float) -> None:
    conn.settimeout(timeout)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # one small message a step: send it now


def _recv_exact(conn: socket.socket, size: int, failure: str) -> bytearray:
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
