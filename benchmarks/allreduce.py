"""The allreduce of barrier training alone: star against ring, over plain processes on loopback.

For 2 and 4 processes (each a stand-in for a barrier task: its own
listener, linked by ``Mesh.connect``) and vectors of 1e3, 1e5 and 1e7
float64, every process runs ``--repeat`` timed allreduces of each scheme in
turns (after one warm-up each); a barrier of one tiny star allreduce lines
them up before each timed call. The time of a call is the slowest
process's. The script checks that both schemes give every process the
bits of ``add_in_order``, and prints best and median per case, and the
ring's time over the star's.

    python benchmarks/allreduce.py [--repeat 7] [--sizes 1000 100000 10000000] [--workers 2 4]
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time

import numpy as np

from tensorframes.training.allreduce import Mesh, add_in_order, open_listener

TOKEN = b"benchmark-token!"


def vector(rank: int, size: int) -> np.ndarray:
    return np.random.default_rng(rank).standard_normal(size)


def worker(rank: int, workers: int, ports, ready, out, sizes: list[int], repeat: int) -> None:
    """One process: join the mesh, then time every (size, scheme) case ``repeat`` times."""
    listener = open_listener()
    ports[rank] = listener.getsockname()[1]
    ready.wait()
    addresses = [("127.0.0.1", ports[r]) for r in range(workers)]
    times: dict = {}
    with Mesh.connect(rank, addresses, listener, TOKEN, 120.0) as mesh:
        for size in sizes:
            v = vector(rank, size)
            expected = add_in_order([vector(r, size) for r in range(workers)]) if rank == 0 else None
            for scheme in ("star", "ring"):
                mesh.scheme = scheme
                total = mesh.allreduce(v)  # warm-up, and the check
                if rank == 0:
                    assert np.array_equal(total, expected), (scheme, size)
                for _ in range(repeat):
                    mesh.scheme = "star"
                    mesh.allreduce(np.zeros(1))  # line up
                    mesh.scheme = scheme
                    began = time.perf_counter()
                    mesh.allreduce(v)
                    times.setdefault((size, scheme), []).append(time.perf_counter() - began)
    listener.close()
    out.put((rank, times))


def run(workers: int, sizes: list[int], repeat: int) -> dict:
    """(size, scheme) -> per-repeat seconds of the slowest process."""
    ctx = mp.get_context("spawn")
    manager = ctx.Manager()
    ports, ready, out = manager.dict(), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(r, workers, ports, ready, out, sizes, repeat)) for r in range(workers)]
    for p in procs:
        p.start()
    while len(ports) < workers:
        time.sleep(0.01)
    ready.set()
    found = dict(out.get(timeout=600) for _ in procs)
    for p in procs:
        p.join()
    manager.shutdown()
    return {case: [max(found[r][case][i] for r in found) for i in range(repeat)] for case in found[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000, 10_000_000])
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 4])
    args = parser.parse_args()
    print(f"allreduce of float64 vectors over loopback, best (median) of {args.repeat}, ms")
    print("| processes | float64 | MB | star | ring | ring / star (median) |")
    print("|---|---|---|---|---|---|")
    for workers in args.workers:
        times = run(workers, args.sizes, args.repeat)
        for size in args.sizes:
            star, ring = times[size, "star"], times[size, "ring"]
            ms = lambda t: f"{min(t) * 1e3:.3g} ({statistics.median(t) * 1e3:.3g})"  # noqa: E731
            print(f"| {workers} | {size:.0e} | {size * 8 / 1e6:.3g} | {ms(star)} | {ms(ring)} "
                  f"| {statistics.median(ring) / statistics.median(star):.2f}× |")


if __name__ == "__main__":
    main()
