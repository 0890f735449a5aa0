"""The sockets of barrier training, with threads standing in for barrier tasks: the allreduce
between the tasks, and the progress channel from task 0 to the driver."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from tensorframes.errors import AllreduceError
from tensorframes.training.allreduce import StarAllreduce, add_in_order, open_listener
from tensorframes.training.channel import ProgressClient, ProgressServer
from tensorframes.training.progress import StepInfo

TOKEN = b"0123456789abcdef"


def star(size: int, timeout: float = 5.0):
    """Connect `size` ranks in threads; a list of StarAllreduce, rank order."""
    listener = open_listener()
    root = ("127.0.0.1", listener.getsockname()[1])
    with ThreadPoolExecutor(size) as pool:
        futures = [pool.submit(StarAllreduce.connect, r, size, root, listener if r == 0 else None, TOKEN, timeout)
                   for r in range(size)]
        comms = [f.result() for f in futures]
    listener.close()
    return comms


def allreduce_all(comms, vectors):
    with ThreadPoolExecutor(len(comms)) as pool:
        return [f.result() for f in [pool.submit(c.allreduce, v) for c, v in zip(comms, vectors)]]


def test_every_rank_gets_the_same_bits_as_adding_in_rank_order():
    comms = star(4)
    rng = np.random.default_rng(0)
    for _ in range(20):
        vectors = [rng.standard_normal(1000) * 10.0 ** rng.integers(-8, 8) for _ in comms]
        totals = allreduce_all(comms, vectors)
        for total in totals:
            np.testing.assert_array_equal(total, add_in_order(vectors))
    for c in comms:
        c.close()


def test_one_rank_alone_reduces_to_itself():
    (comm,) = star(1)
    np.testing.assert_array_equal(comm.allreduce(np.arange(3.0)), np.arange(3.0))


def test_a_lost_peer_fails_the_others_quickly_instead_of_hanging():
    comms = star(3, timeout=30.0)
    comms[2].close()
    began = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(c.allreduce, np.ones(4)) for c in comms[:2]]
        for f in futures:
            with pytest.raises(AllreduceError, match="lost rank"):
                f.result()
    assert time.perf_counter() - began < 5


def test_a_silent_peer_times_out():
    comms = star(2, timeout=0.3)
    with pytest.raises(AllreduceError, match="lost rank 1"):
        comms[0].allreduce(np.ones(2))  # rank 1 never sends


def test_strangers_are_turned_away_and_missing_peers_time_out():
    listener = open_listener()
    stranger = socket.create_connection(("127.0.0.1", listener.getsockname()[1]))
    stranger.sendall(b"x" * 16 + (1).to_bytes(4, "big"))  # another training's token
    with pytest.raises(AllreduceError, match="0 of 1 peers joined"):
        StarAllreduce.connect(0, 2, None, listener, TOKEN, 0.5)
    stranger.close()
    listener.close()


def test_an_unreachable_root_is_reported():
    listener = open_listener()
    port = listener.getsockname()[1]
    listener.close()
    with pytest.raises(AllreduceError, match="cannot reach rank 0"):
        StarAllreduce.connect(1, 2, ("127.0.0.1", port), None, TOKEN, 1.0)


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
    assert [(info.step, snapshot) for info, snapshot in found] == [(1, None), (2, b"state"), (3, None)]
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
