"""The driver's server for a barrier training: rendezvous, then task 0's live progress.

A barrier stage returns its result only when it ends, so the task of
partition 0 sends each finished step (and, when due, a snapshot to
checkpoint) over a TCP connection to a :class:`ProgressServer` the driver
opened before the stage; the driver logs it, calls the user's callback and
writes checkpoints while the training runs. The connection starts with the
training's random token, so strays are ignored. Progress is best effort: if
the task can't reach the driver (e.g. a Spark Connect client outside the
cluster), it trains on without it and the driver reports the steps from
the result when the stage ends.

The same server is where the tasks meet (:mod:`~tensorframes.training.rendezvous`):
a connection's first frame may be a join, answered by one frame once every
task of the stage attempt has joined; task 0 then streams its steps on it.
The server also keeps the time it last heard from any task, so the driver
can give up on a stage that went silent.
"""

from __future__ import annotations

import json
import logging
import queue
import socket
import struct
import threading
import time
from typing import Callable, Iterator, Mapping

import numpy as np

from tensorframes.training.progress import StepInfo

logger = logging.getLogger("tensorframes.training")

_FRAME = struct.Struct("!QQ")  # lengths of the JSON step and of the snapshot bytes (0: none)
CONNECT_TIMEOUT = 5.0
#: Task 0 sends the state after every step up to this size (else only with the checkpoints that are due),
#: so that a cancelled training leaves the driver's session at the last completed step. Its cost on a
#: step, measured: ~2 us for a model of a few dozen floats, ~75 us at this size (512 float64).
LIVE_STATE_BYTES = 1 << 12


def state_layout(state: Mapping[str, np.ndarray]) -> list:
    """The variables' names, dtypes and shapes: sent once, the first time a state goes with a step.

    >>> state = {"w": np.arange(3.0)}
    >>> unpack_state(state_layout(state), state_bytes(state))["w"].tolist()
    [0.0, 1.0, 2.0]
    """
    return [[name, np.asarray(value).dtype.str, list(np.shape(value))] for name, value in state.items()]


def state_bytes(state: Mapping[str, np.ndarray]) -> bytes:
    """The variables' values, in the order of their layout: no archive, one copy."""
    return b"".join([value.tobytes() for value in state.values()])


def unpack_state(layout: list, blob: bytes) -> dict[str, np.ndarray]:
    state, at = {}, 0
    for name, dtype, shape in layout:
        value = np.frombuffer(blob, dtype=dtype, count=int(np.prod(shape)), offset=at).reshape(shape)
        state[name], at = value.copy(), at + value.nbytes
    return state


def write_frame(conn: socket.socket, message: dict, blob: bytes = b"") -> None:
    """One frame: the lengths, a JSON message, optional bytes."""
    data = json.dumps(message).encode()
    conn.sendall(_FRAME.pack(len(data), len(blob)) + data + blob)


def read_frame(stream) -> tuple[dict, bytes | None] | None:
    """The next frame of a binary stream (None at its end, or when cut mid-frame)."""
    header = stream.read(_FRAME.size)
    if len(header) != _FRAME.size:
        return None
    size, blob_size = _FRAME.unpack(header)
    data = stream.read(size)
    blob = stream.read(blob_size) if blob_size else None
    if len(data) < size or (blob is not None and len(blob) < blob_size):
        return None
    return json.loads(data), blob


#: ``on_join(join message, reply)``: a task joins; ``reply(message)`` answers it (see rendezvous.Meeting).
JoinHandler = Callable[[dict, Callable[[dict], None]], None]


class ProgressServer:
    """Driver side: answers joins (with ``on_join``) and queues ``(StepInfo, snapshot bytes or None, state or
    None)`` (the state: the variables after the step, see :data:`LIVE_STATE_BYTES`).

    Closing it closes every connection too, so that none of its threads outlives the training.
    """

    def __init__(self, host: str, token: bytes, on_join: JoinHandler | None = None) -> None:
        self.token = token
        self.on_join = on_join
        self.heard: float | None = None  # time.monotonic() of the last frame from a task
        self._listener = socket.create_server(("", 0))
        self.address = (host, self._listener.getsockname()[1])
        self._queue: queue.Queue = queue.Queue()
        self._conns: set[socket.socket] = set()
        self._closed = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name="tensorframes-progress", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:  # closed: the training is over
                return
            with self._lock:
                if self._closed:
                    conn.close()
                    return
                self._conns.add(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        layout = None  # of the states this connection sends
        try:
            with conn, conn.makefile("rb") as stream:
                if stream.read(len(self.token)) != self.token:
                    return
                while (frame := read_frame(stream)) is not None:
                    self.heard = time.monotonic()
                    message, blob = frame
                    if "join" in message and self.on_join is not None:
                        self.on_join(message["join"], lambda answer: write_frame(conn, answer))
                        continue
                    sent = message.pop("state", None)  # the layout the first time, then True
                    layout = sent if isinstance(sent, list) else layout
                    state = unpack_state(layout, blob or b"") if sent is not None else None
                    self._queue.put((StepInfo(**message), None if sent is not None else blob, state))
        except (OSError, ValueError, TypeError):  # a connection cut mid-frame (its task is gone), or closed here
            return
        finally:
            with self._lock:
                self._conns.discard(conn)

    def messages(self, timeout: float) -> Iterator[tuple[StepInfo, bytes | None, dict | None]]:
        """The steps received so far, waiting up to ``timeout`` seconds for the first."""
        try:
            yield self._queue.get(timeout=timeout)
            while True:
                yield self._queue.get_nowait()
        except queue.Empty:
            return

    def close(self) -> None:
        with self._lock:
            self._closed = True
            sockets = [self._listener, *self._conns]
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked on it; close alone would not
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
        self._conn = conn  # task 0's connection to the driver (the one it joined through, if any)
        self._layout_sent = False

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

    def send(self, info: StepInfo, snapshot: bytes | None = None,
             state: Mapping[str, np.ndarray] | None = None) -> None:
        """Send a finished step, with a snapshot to checkpoint, or else the ``state`` after it."""
        if self._conn is None:
            return
        message, blob = info.as_dict(), snapshot or b""
        if state is not None and snapshot is None:
            message["state"], blob = True if self._layout_sent else state_layout(state), state_bytes(state)
            self._layout_sent = True
        try:
            write_frame(self._conn, message, blob)
        except OSError as e:
            logger.warning("lost the driver's progress connection (%s); training on without it", e)
            self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
