"""What a login costs with Argon2id, and how many a burst gets through: to choose the ``ARGON2_*`` settings.

Usage::

    .venv/bin/python scripts/bench_login.py                 # the default parameter sets, 200 logins
    .venv/bin/python scripts/bench_login.py --logins 400 --workers 2 4
    .venv/bin/python scripts/bench_login.py --params 2:19456:1 1:47104:1

A login verifies one password against its hash: this is almost all of the
server's time for it, and all of its memory. For each parameter set
(``time_cost:memory_cost_KiB:parallelism``) the script prints:

- one verify alone: median wall and CPU time (of 20);
- a burst of ``--logins`` verifies by 2 and 4 threads at once (argon2-cffi
  releases the GIL while it hashes, as it does under a threaded server), or
  processes with ``--processes``: the wall time per login and logins per
  second the machine sustains;
- the share of the machine's cores that 800 delegates logging in within five
  minutes (2.7 logins/s) keep busy.

The target (OWASP's password storage cheat sheet, RFC 9106): at least
m=19 MiB t=2 p=1 (or m=46 MiB t=1 p=1, m=12 MiB t=3 p=1); one verify
about 50-100 ms of one core; the convention's morning burst well under half
the cores. werkzeug's ``scrypt`` (the former default) is measured alongside.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from argon2 import PasswordHasher, Type
from werkzeug.security import check_password_hash, generate_password_hash

DEFAULT_PARAMS = ["2:19456:1", "1:47104:1", "3:12288:1", "3:19456:1", "2:47104:1", "3:65536:4"]
PASSWORD = "a phrase of several words, typed at the door"
CONVENTION_RATE = 800 / 300  # logins per second: 800 delegates within five minutes


def make_verifier(spec: str):
    """A function that verifies PASSWORD once against a hash made with ``spec`` ("scrypt" or "t:m:p")."""
    if spec == "scrypt":
        stored = generate_password_hash(PASSWORD, method="scrypt")
        return lambda: check_password_hash(stored, PASSWORD)
    time_cost, memory_cost, parallelism = (int(x) for x in spec.split(":"))
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID)
    stored = hasher.hash(PASSWORD)
    return lambda: hasher.verify(stored, PASSWORD)


def one_verify(spec: str, repeat: int = 20) -> tuple[float, float]:
    """Median wall and CPU seconds of one verify, alone."""
    verify = make_verifier(spec)
    verify()  # warm-up
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        verify()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


_process_verifier = None


def _process_init(spec: str) -> None:
    """Each worker process makes its hash once, as a server's worker would have it in the database."""
    global _process_verifier
    _process_verifier = make_verifier(spec)


def _process_verify(_n: int) -> bool:
    """One login in a worker process."""
    return _process_verifier()


def burst(spec: str, logins: int, workers: int, processes: bool) -> float:
    """Wall seconds for ``logins`` verifies by ``workers`` at once."""
    if processes:
        with ProcessPoolExecutor(workers, initializer=_process_init, initargs=(spec,)) as pool:
            list(pool.map(_process_verify, range(workers)))  # start every worker before the clock
            start = time.perf_counter()
            assert all(pool.map(_process_verify, range(logins)))
            return time.perf_counter() - start
    verify = make_verifier(spec)
    with ThreadPoolExecutor(workers) as pool:
        start = time.perf_counter()
        assert all(pool.map(lambda _n: verify(), range(logins)))
        return time.perf_counter() - start


def main() -> int:
    """Measure each parameter set and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--params", nargs="+", default=DEFAULT_PARAMS + ["scrypt"],
                        help="time_cost:memory_cost_KiB:parallelism, or scrypt")
    parser.add_argument("--logins", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--processes", action="store_true", help="worker processes instead of threads")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    kind = "processes" if args.processes else "threads"
    print(f"{cores} cores; {args.logins} logins per burst by {kind}; convention rate {CONVENTION_RATE:.1f}/s")
    header = f"{'params t:m:p':<14} {'verify ms':>9} {'cpu ms':>7} {'busy@2.7/s':>10}"
    for workers in args.workers:
        header += f" {f'{workers}w ms/login':>14} {f'{workers}w logins/s':>13}"
    print(header)
    for spec in args.params:
        wall, cpu = one_verify(spec)
        row = f"{spec:<14} {wall * 1000:>9.1f} {cpu * 1000:>7.1f} {cpu * CONVENTION_RATE / cores:>9.1%} "
        for workers in args.workers:
            seconds = burst(spec, args.logins, workers, args.processes)
            row += f" {seconds / args.logins * 1000:>14.1f} {args.logins / seconds:>13.1f}"
        print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
