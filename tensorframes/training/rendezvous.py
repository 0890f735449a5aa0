"""How the tasks of one barrier stage attempt learn each other's addresses, and never a stranger's.

Through the driver (classic sessions, no Spark barrier call): each task
opens its listener and joins at once, over a connection to the driver's
:class:`~tensorframes.training.channel.ProgressServer`, with its rank, the
size of its stage, its stage id, its task attempt id (unique in the
application) and its address; then it loads its partition and reads the
answer. The driver asks Spark's own status store which attempt of the stage
launched that task id (:class:`Attempts`; a task is known there from the
moment it was launched) and files the task under ``(stage, attempt)``
(:class:`Meeting`). When every rank of an attempt has joined, all of them
get the addresses in rank order and a fresh random nonce, the token of
their allreduce links. So the tasks that meet are those Spark launched
together: a late task of a failed attempt is filed under its own attempt,
can't complete a newer one and is told to stop once a newer attempt of its
stage joins; and even a stray connection is refused, with another nonce.

Every wait has a deadline: a task that has not met all its peers within
``Deadlines.rendezvous`` seconds (a lost task, or a retried stage that
launched only some of its tasks) raises :class:`RendezvousError`, its
stage attempt fails and Spark retries it.

Fallback (Spark Connect: the driver's JVM is out of reach, so a task's
attempt can't be asked): one ``BarrierTaskContext.allGather`` of the ports
(about 1 s; Spark pairs only the tasks of one attempt, and its
``spark.barrier.sync.timeout`` is the deadline), chosen by
:func:`choose_rendezvous` and logged.
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from typing import Callable

from tensorframes.errors import RendezvousError
from tensorframes.training.channel import read_frame, write_frame

logger = logging.getLogger("tensorframes.training")

DRIVER, ALLGATHER = "driver", "allgather"
_POLL = 0.01  # seconds between looks into the status store for a task it does not list yet
_TASK_BATCH = 1 << 20  # tasks of one stage attempt read at once from the status store


def choose_rendezvous(spark) -> str:
    """``"driver"`` where the driver's JVM can tell stage attempts apart (classic), else ``"allgather"``."""
    if getattr(spark, "_jsc", None) is not None:
        return DRIVER
    logger.info("Spark Connect: the driver can't ask Spark which stage attempt a task belongs to, so the barrier "
                "tasks meet through BarrierTaskContext.allGather (about 1 s)")
    return ALLGATHER


class Attempts:
    """Which attempt of a stage launched a task, from Spark's status store on the driver (classic only)."""

    def __init__(self, spark_context) -> None:
        self._store = spark_context._jsc.sc().statusStore()
        self._tracker = spark_context.statusTracker()
        self._known: dict[tuple[int, int], set[int]] = {}
        self._lock = threading.Lock()

    def of(self, stage: int, task: int) -> int | None:
        """The attempt number, or None while the store does not list the task yet."""
        info = self._tracker.getStageInfo(stage)
        if info is None:
            return None
        with self._lock:
            for attempt in range(info.currentAttemptId, -1, -1):
                if task in self._known.get((stage, attempt), ()):
                    return attempt
                tasks = self._store.taskList(stage, attempt, _TASK_BATCH)
                self._known[stage, attempt] = {tasks.apply(i).taskId() for i in range(tasks.size())}
                if task in self._known[stage, attempt]:
                    return attempt
        return None

    def wait(self, stage: int, task: int, timeout: float) -> int | None:
        """:meth:`of`, polled for up to ``timeout`` seconds (Spark's listener files a launch shortly after)."""
        deadline = time.monotonic() + timeout
        while (attempt := self.of(stage, task)) is None and time.monotonic() < deadline:
            time.sleep(_POLL)
        return attempt


@dataclass
class _Group:
    size: int
    members: dict  # rank -> (address, reply)


class Meeting:
    """The driver's side: groups joins by ``(stage, attempt)`` and answers each group once it is complete.

    ``attempt_of(join)`` tells a join's attempt (None: unknown, it is refused).
    """

    def __init__(self, attempt_of: Callable[[dict], int | None]) -> None:
        self._attempt_of = attempt_of
        self._groups: dict[tuple[int, int], _Group] = {}
        self._newest: dict[int, int] = {}  # stage -> newest attempt seen
        self._lock = threading.Lock()

    def join(self, join: dict, reply: Callable[[dict], None]) -> None:
        """File a task's ``join`` ({rank, size, stage, task, host, port}); ``reply`` answers it, now or later."""
        attempt = self._attempt_of(join)
        if attempt is None:
            reply({"error": f"the driver could not find task {join['task']} of stage {join['stage']} in Spark's "
                            "status store"})
            return
        stage, answers = join["stage"], []
        with self._lock:
            if attempt < self._newest.get(stage, attempt):
                answers.append((reply, _superseded(stage, attempt, self._newest[stage])))
            else:
                answers += self._supersede(stage, attempt)
                group = self._groups.setdefault((stage, attempt), _Group(join["size"], {}))
                group.members[join["rank"]] = ((join["host"], join["port"]), reply)
                if len(group.members) == group.size:
                    del self._groups[stage, attempt]
                    answers += _answers(group)
                    logger.info("barrier stage %d attempt %d: %d tasks met through the driver", stage, attempt,
                                group.size)
        for send, answer in answers:
            try:
                send(answer)
            except OSError:  # that task is gone; its peers find out when they connect to it
                pass

    def _supersede(self, stage: int, attempt: int) -> list:
        """Tell the tasks of older, incomplete attempts of ``stage`` to stop."""
        self._newest[stage] = attempt
        answers = []
        for key in [k for k in self._groups if k[0] == stage and k[1] < attempt]:
            for _, send in self._groups.pop(key).members.values():
                answers.append((send, _superseded(stage, key[1], attempt)))
        return answers


def _answers(group: _Group) -> list:
    nonce = secrets.token_bytes(16).hex()
    addresses = [group.members[r][0] for r in range(group.size)]
    return [(send, {"nonce": nonce, "addresses": addresses}) for _, send in group.members.values()]


def _superseded(stage: int, attempt: int, newest: int) -> dict:
    return {"error": f"attempt {attempt} of stage {stage} is over: attempt {newest} runs now"}


# -- in the tasks --------------------------------------------------------------------------------
def join_driver(driver: tuple[str, int], token: bytes, join: dict, timeout: float) -> socket.socket:
    """Connect to the driver and send ``join``; the connection, to :func:`await_peers` on."""
    try:
        conn = socket.create_connection(driver, timeout=timeout)
        conn.sendall(token)
        write_frame(conn, {"join": join})
    except OSError as e:
        raise RendezvousError(f"rank {join['rank']}: cannot reach the driver at {driver[0]}:{driver[1]} to meet the "
                              f"other tasks ({e}); check that the executors can connect to spark.driver.host") from None
    return conn


def await_peers(conn: socket.socket, rank: int, deadline: float, timeout: float) -> tuple[bytes, list]:
    """The attempt's nonce and every rank's address, once all have joined; by ``deadline`` (monotonic)."""
    conn.settimeout(max(deadline - time.monotonic(), 0.001))
    try:
        frame = read_frame(conn.makefile("rb"))
    except OSError:
        frame = None
    if frame is None:
        raise RendezvousError(f"rank {rank}: the other tasks of this barrier stage attempt did not all join within "
                              f"{timeout:g} s (a task was lost, or a retried stage launched only some of its tasks); "
                              "failing so that Spark retries the stage")
    answer = frame[0]
    if "error" in answer:
        raise RendezvousError(f"rank {rank}: {answer['error']}")
    conn.settimeout(timeout)
    return bytes.fromhex(answer["nonce"]), [tuple(a) for a in answer["addresses"]]


def allgather_peers(context, rank: int, port: int) -> list:
    """Every rank's address through one ``BarrierTaskContext.allGather`` (the fallback)."""
    hosts = [info.address.rsplit(":", 1)[0] for info in context.getTaskInfos()]
    ports = {m["rank"]: m["port"] for m in map(json.loads, context.allGather(json.dumps({"rank": rank, "port": port})))}
    return [(host, ports[r]) for r, host in enumerate(hosts)]
