"""The sockets of barrier training, with threads standing in for barrier tasks: the allreduce
between the tasks, and the progress channel from task 0 to the driver."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from tensorframes.errors import AllreduceError, RendezvousError
from tensorframes.training import allreduce
from tensorframes.training.allreduce import Mesh, add_in_order, open_listener
from tensorframes.training.channel import ProgressClient, ProgressServer
from tensorframes.training.progress import StepInfo
from tensorframes.training.rendezvous import Meeting, await_peers, join_driver

TOKEN = b"0123456789abcdef"


def mesh(size: int, timeout: float = 5.0, scheme: str = "auto"):
    """Connect `size` ranks in threads; a list of Mesh, rank order."""
    listeners = [open_listener() for _ in range(size)]
    addresses = [("127.0.0.1", lst.getsockname()[1]) for lst in listeners]
    with ThreadPoolExecutor(size) as pool:
        futures = [pool.submit(Mesh.connect, r, addresses, listeners[r], TOKEN, timeout, scheme) for r in range(size)]
        comms = [f.result() for f in futures]
    for listener in listeners:
        listener.close()
    return comms


def allreduce_all(comms, vectors):
    with ThreadPoolExecutor(len(comms)) as pool:
        return [f.result() for f in [pool.submit(c.allreduce, v) for c, v in zip(comms, vectors)]]


@pytest.mark.parametrize("scheme", ["star", "ring"])
@pytest.mark.parametrize("size", [2, 3, 4])
def test_every_rank_gets_the_same_bits_as_adding_in_rank_order(monkeypatch, scheme, size):
    monkeypatch.setattr(allreduce, "SEGMENT_BYTES", 800)  # many segments, and a ragged last one
    comms = mesh(size, scheme=scheme)
    rng = np.random.default_rng(0)
    for length in (1, 7, 100, 1001):
        vectors = [rng.standard_normal(length) * 10.0 ** rng.integers(-8, 8, length) for _ in comms]
        for total in allreduce_all(comms, vectors):
            np.testing.assert_array_equal(total, add_in_order(vectors))
    for c in comms:
        c.close()


def test_large_vectors_go_around_the_ring_small_ones_through_rank_0():
    assert allreduce.choose(allreduce.RING_MIN_BYTES, 3) == "ring"
    assert allreduce.choose(allreduce.RING_MIN_BYTES - 8, 3) == "star"
    assert allreduce.choose(10 ** 8, 2) == "ring"  # two tasks: the same bytes, but pipelined
    assert allreduce.choose(10 ** 8, 1) == "star"
    with pytest.raises(ValueError, match="allreduce must be one of"):
        allreduce.choose(8, 2, "tree")


def test_one_rank_alone_reduces_to_itself():
    (comm,) = mesh(1)
    np.testing.assert_array_equal(comm.allreduce(np.arange(3.0)), np.arange(3.0))


@pytest.mark.parametrize("scheme", ["star", "ring"])
def test_a_lost_peer_fails_the_others_quickly_instead_of_hanging(scheme):
    comms = mesh(3, timeout=30.0, scheme=scheme)
    comms[2].close()
    began = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(c.allreduce, np.ones(4)) for c in comms[:2]]
        for f in futures:
            with pytest.raises(AllreduceError, match="lost rank"):
                f.result()
    assert time.perf_counter() - began < 5


def test_a_silent_peer_times_out():
    comms = mesh(2, timeout=0.3)
    with pytest.raises(AllreduceError, match="lost rank 1"):
        comms[0].allreduce(np.ones(2))  # rank 1 never sends


def test_strangers_are_turned_away_and_missing_peers_time_out():
    listener = open_listener()
    stranger = socket.create_connection(("127.0.0.1", listener.getsockname()[1]))
    stranger.sendall(b"x" * 16 + (1).to_bytes(4, "big") + b"\0")  # another attempt's token
    with pytest.raises(AllreduceError, match="0 of 2 links joined"):
        Mesh.connect(0, [("127.0.0.1", listener.getsockname()[1])] * 2, listener, TOKEN, 0.5)
    stranger.close()
    listener.close()


def test_an_unreachable_peer_is_reported():
    listener = open_listener()
    port = listener.getsockname()[1]
    listener.close()
    with pytest.raises(AllreduceError, match="cannot reach rank 0"):
        Mesh.connect(1, [("127.0.0.1", port), ("127.0.0.1", port)], open_listener(), TOKEN, 1.0)


# -- rendezvous ----------------------------------------------------------------------------------
def joins(meeting: Meeting, *tasks):
    """File joins (rank, attempt) of stage 7, size 2; what each got, in order of the tasks."""
    got = [[] for _ in tasks]
    for i, (rank, attempt) in enumerate(tasks):
        meeting.join({"rank": rank, "size": 2, "stage": 7, "task": 100 * attempt + rank, "host": "h",
                      "port": 1000 * attempt + rank}, got[i].append)
    return got


def attempt_of(join):
    return join["task"] // 100


def test_tasks_of_a_dead_attempt_are_never_paired_with_a_newer_one():
    meeting = Meeting(attempt_of)
    # rank 1 of attempt 0 joins late, after attempt 1 started; attempt 1's rank 0 must not take it
    late, first, newer, second = joins(meeting, (1, 0), (0, 1), (0, 0), (1, 1))
    assert [a["error"] for a in late] == ["attempt 0 of stage 7 is over: attempt 1 runs now"]
    assert "error" in newer[0]  # an attempt-0 task after attempt 1 began: refused at once
    assert first[0]["addresses"] == second[0]["addresses"] == [("h", 1000), ("h", 1001)]
    assert first[0]["nonce"] == second[0]["nonce"]


def test_every_attempt_gets_a_fresh_nonce_and_unknown_tasks_are_refused():
    meeting = Meeting(attempt_of)
    a0 = joins(meeting, (0, 0), (1, 0))
    a1 = joins(meeting, (0, 1), (1, 1))
    assert a0[0][0]["nonce"] != a1[0][0]["nonce"]
    unknown = []
    Meeting(lambda join: None).join({"rank": 0, "size": 1, "stage": 1, "task": 5, "host": "h", "port": 1},
                                    unknown.append)
    assert "status store" in unknown[0]["error"]


def test_a_task_whose_peers_never_join_gives_up_at_its_deadline():
    with ProgressServer("127.0.0.1", TOKEN, Meeting(attempt_of).join) as server:
        join = {"rank": 0, "size": 2, "stage": 7, "task": 0, "host": "h", "port": 1}
        conn = join_driver(server.address, TOKEN, join, 5.0)
        began = time.monotonic()
        with pytest.raises(RendezvousError, match="did not all join within 0.5 s"):
            await_peers(conn, 0, began + 0.5, 0.5)
        assert time.monotonic() - began < 2
        conn.close()


def test_tasks_meet_through_the_driver_and_task_0_streams_progress_on_the_same_connection():
    with ProgressServer("127.0.0.1", TOKEN, Meeting(attempt_of).join) as server:
        conns = [join_driver(server.address, TOKEN, {"rank": r, "size": 2, "stage": 7, "task": r, "host": "h",
                                                     "port": 10 + r}, 5.0) for r in (1, 0)]
        answers = [await_peers(c, r, time.monotonic() + 5, 5.0) for c, r in zip(conns, (1, 0))]
        assert answers[0] == answers[1] and answers[0][1] == [("h", 10), ("h", 11)]
        ProgressClient(conns[1]).send(StepInfo(1, 0.5, 10, 0.1, 100.0))
        assert [info.step for info, _, _ in received(server, 1)] == [1]
        assert server.heard is not None
        for c in conns:
            c.close()


# -- progress channel ------------------------------------------------------------------------
def received(server: ProgressServer, count: int, wait: float = 5.0) -> list:
    found = []
    deadline = time.monotonic() + wait
    while len(found) < count and time.monotonic() < deadline:
        found += list(server.messages(timeout=0.1))
    return found


def test_steps_and_snapshots_reach_the_driver_in_order():
    with ProgressServer("127.0.0.1", TOKEN) as server:
        client = ProgressClient.connect(server.address, TOKEN)
        assert client.connected
        for step in (1, 2, 3):
            client.send(StepInfo(step, 1.0 / step, 100, 0.1 * step, 1000.0), b"state" if step == 2 else None)
        client.close()
        found = received(server, 3)
    assert [(info.step, snapshot) for info, snapshot, _ in found] == [(1, None), (2, b"state"), (3, None)]
    assert found[2][0] == StepInfo(3, 1 / 3, 100, 0.1 * 3, 1000.0)


def test_the_driver_ignores_strangers_and_a_task_trains_on_without_the_driver():
    with ProgressServer("127.0.0.1", TOKEN) as server:
        stranger = ProgressClient.connect(server.address, b"x" * 16)
        stranger.send(StepInfo(1, 1.0, 1, 0.1, 10.0))
        stranger.close()
        assert received(server, 1, wait=0.5) == []
        address = server.address
    lost = ProgressClient.connect(address, TOKEN)  # the server is closed
    assert not lost.connected
    lost.send(StepInfo(1, 1.0, 1, 0.1, 10.0))  # does nothing, raises nothing


def test_the_state_after_a_step_reaches_the_driver_with_it():
    state = {"w": np.arange(6.0).reshape(2, 3), "step_count": np.int64(4)}
    with ProgressServer("127.0.0.1", TOKEN) as server:
        client = ProgressClient.connect(server.address, TOKEN)
        client.send(StepInfo(1, 0.5, 10, 0.1, 100.0), state=state)
        client.close()
        (info, snapshot, found), = received(server, 1)
    assert info.step == 1 and snapshot is None
    np.testing.assert_array_equal(found["w"], state["w"])
    assert found["step_count"] == 4 and found["step_count"].dtype == np.int64


def test_closing_the_server_ends_its_threads_while_a_task_is_still_connected():
    before = set(threading.enumerate())
    server = ProgressServer("127.0.0.1", TOKEN)
    client = ProgressClient.connect(server.address, TOKEN)  # a task that never hangs up
    client.send(StepInfo(1, 0.5, 10, 0.1, 100.0))
    assert len(received(server, 1)) == 1
    server.close()
    deadline = time.monotonic() + 5
    while set(threading.enumerate()) - before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [t.name for t in set(threading.enumerate()) - before] == []
    client.close()
