"""Live progress of a barrier training: task 0 streams its steps to the driver.

A barrier stage returns its result only when it ends, so the task of
partition 0 sends each finished step (and, when due, a snapshot to
checkpoint) over a TCP connection to a :class:`ProgressServer` the driver
opened before the stage; the driver logs it, calls the user's callback and
writes checkpoints while the training runs. The connection starts with the
training's random token, so strays are ignored. Progress is best effort: if
the task can't reach the driver (e.g. a Spark Connect client outside the
cluster), it trains on without it and the driver reports the steps from
the result when the stage ends.
"""

from __future__ import annotations

import json
import logging
import queue
import socket
import struct
import threading
from typing import Iterator

from tensorframes.training.progress import StepInfo

logger = logging.getLogger("tensorframes.training")

_FRAME = struct.Struct("!QQ")  # lengths of the JSON step and of the snapshot bytes (0: none)
CONNECT_TIMEOUT = 5.0


class ProgressServer:
    """Driver side: accepts task 0's connection(s) and queues ``(StepInfo, snapshot bytes or None)``."""

    def __init__(self, host: str, token: bytes) -> None:
        self.token = token
        self._listener = socket.create_server(("", 0))
        self.address = (host, self._listener.getsockname()[1])
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._accept, name="tensorframes-progress", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:  # closed: the training is over
                return
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as stream:
            if stream.read(len(self.token)) != self.token:
                return
            try:
                while len(header := stream.read(_FRAME.size)) == _FRAME.size:
                    info_size, snapshot_size = _FRAME.unpack(header)
                    info = StepInfo(**json.loads(stream.read(info_size)))
                    snapshot = stream.read(snapshot_size) if snapshot_size else None
                    if snapshot is not None and len(snapshot) < snapshot_size:
                        return
                    self._queue.put((info, snapshot))
            except (OSError, ValueError, TypeError):  # a connection cut mid-frame: its task is gone
                return

    def messages(self, timeout: float) -> Iterator[tuple[StepInfo, bytes | None]]:
        """The steps received so far, waiting up to ``timeout`` seconds for the first."""
        try:
            yield self._queue.get(timeout=timeout)
            while True:
                yield self._queue.get_nowait()
        except queue.Empty:
            return

    def close(self) -> None:
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread; close alone would not
        except OSError:
            pass
        self._listener.close()

    def __enter__(self) -> "ProgressServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ProgressClient:
    """Task 0's side; sending never fails the training (a lost driver just stops the stream)."""

    def __init__(self, conn: socket.socket | None) -> None:
        self._conn = conn

    @property
    def connected(self) -> bool:
        return self._conn is not None

    @classmethod
    def connect(cls, address: tuple[str, int], token: bytes) -> "ProgressClient":
        try:
            conn = socket.create_connection(address, timeout=CONNECT_TIMEOUT)
            conn.sendall(token)
        except OSError as e:
            logger.warning("cannot reach the driver at %s:%d for live progress (%s); training on without it",
                           address[0], address[1], e)
            return cls(None)
        return cls(conn)

    def send(self, info: StepInfo, snapshot: bytes | None = None) -> None:
        if self._conn is None:
            return
        data = json.dumps(info.as_dict()).encode()
        try:
            self._conn.sendall(_FRAME.pack(len(data), len(snapshot or b"")) + data + (snapshot or b""))
        except OSError as e:
            logger.warning("lost the driver's progress connection (%s); training on without it", e)
            self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
