"""Run the convention day (``locustfile.py``) against gunicorn on PostgreSQL and print the figures per page.

Usage (from the repository root, after ``seed-scale`` on that database)::

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/loadtest \\
        .venv/bin/python scripts/load/run.py --users 200 --spawn-rate 20 --run-time 250 --workers 4

What it does, in order:

1. starts the job queue's consumer (``huey_consumer manifesto.worker.huey``)
   and gunicorn with ``--workers`` processes (``wsgi:app``, web processes in
   ``QUEUE_MODE=worker``, the queue on ``--redis-url``), as production runs
   them. gunicorn reads ``gunicorn.conf.py`` at the root of ``--code`` when
   there is one (gthread and its settings); ``--workers`` still wins;
2. warms every worker up (templates compiled) with a few reads of the text;
3. runs Locust headless (``--users``, ``--spawn-rate``, ``--run-time``,
   ``--processes``) with its CSV files and a per-request log in ``--out``;
4. meanwhile samples the CPU time of gunicorn, PostgreSQL, Locust, the
   consumer and Redis from ``/proc`` every few seconds, and the load average;
5. prints, for the whole run and for the steady state (from ``--settle``
   seconds after the last user started to the end), per page: requests,
   requests/s, p50, p95, p99, max and errors; the expected refusals; a
   timeline per 10 s (throughput, latency and the CPU of each party: it shows
   the backlog of the arrivals and when it drained); the CPU share of each
   party during the steady state, in cores. ``--analyse DIR`` prints them
   again from a kept run (with another ``--settle``, say).

``--code`` chooses the tree to serve: the default is this repository; point
it at a ``git worktree`` of an older commit to measure "before" (its
packages come from this venv, its code from ``PYTHONPATH``).

Traffic goes only to the loopback address. Nothing is changed outside
``--out`` except what the scenario writes through the app (supports,
comments, decisions) and the queue's keys in ``--redis-url``'s database.
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A free TCP port on the loopback address."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of sorted ``values`` (share in 0..1)."""
    if not values:
        return float("nan")
    index = max(0, min(len(values) - 1, int(round(share * len(values) + 0.5)) - 1))
    return values[index]


# ---------------------------------------------------------------- CPU

def _stat(pid: int) -> tuple[int, int, str, int] | None:
    """(ppid, CPU ticks, command name, process group) of ``pid``, or None when it has gone.

    The ticks include those of the children it has reaped, so a gunicorn worker replaced during the run
    (max_requests) still counts, in its master.
    """
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    return int(fields[1]), sum(int(f) for f in fields[11:15]), name, int(fields[2])


def _cmdline(pid: int) -> str:
    """The command line of ``pid`` (a PostgreSQL backend shows its database there), '' when it has gone."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _descendants(roots: set[int], table: dict[int, tuple]) -> set[int]:
    """``roots`` and every process below them in ``table``."""
    found = set(roots)
    grew = True
    while grew:
        grew = False
        for pid, (ppid, *_rest) in table.items():
            if ppid in found and pid not in found:
                found.add(pid)
                grew = True
    return found


class CpuSampler(threading.Thread):
    """Samples the CPU ticks of each party (and of the whole machine) every ``every`` seconds."""

    def __init__(self, parties: dict[str, int], every: float, path: Path, database: str):
        """Watch the process trees rooted at ``parties`` (name -> pid); PostgreSQL and Redis by name.

        PostgreSQL's backends serving ``database`` count as "postgres"; its other processes (background
        writers, other databases: the tests of whoever shares the machine) as "postgres, rest".
        """
        super().__init__(daemon=True)
        self.parties, self.every, self.path = parties, every, path
        self.database = f" {database} "
        self.samples: list[dict] = []
        self.halt = threading.Event()

    @staticmethod
    def machine() -> tuple[int, int]:
        """(busy, total) CPU ticks of the whole machine."""
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = values[3] + values[4]
        return sum(values) - idle, sum(values)

    def sample(self) -> dict:
        """One reading: cumulative ticks of each party, of the machine, and the load average."""
        table = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                found = _stat(int(entry))
                if found:
                    table[int(entry)] = found
        reading = {"time": time.time(), "load1": os.getloadavg()[0]}
        counted: set[int] = set()
        for name, root in self.parties.items():
            pids = _descendants({root}, table) if root in table else set()
            counted |= pids
            reading[name] = sum(table[p][1] for p in pids)
        postgres = {p for p, row in table.items() if row[2].startswith("postgres")} - counted
        ours = {p for p in postgres if self.database in _cmdline(p)}
        reading["postgres"] = sum(table[p][1] for p in ours)
        reading["postgres, rest"] = sum(table[p][1] for p in postgres - ours)
        reading["redis"] = sum(table[p][1] for p, row in table.items() if row[2].startswith("redis-server"))
        reading["machine_busy"], reading["machine_total"] = self.machine()
        return reading

    def run(self) -> None:
        """Sample until told to stop."""
        with self.path.open("w") as out:
            while not self.halt.is_set():
                reading = self.sample()
                self.samples.append(reading)
                out.write(json.dumps(reading) + "\n")
                out.flush()
                self.halt.wait(self.every)



def cpu_shares(samples: list[dict], start: float, end: float) -> dict[str, float]:
    """Average cores used by each party between ``start`` and ``end`` (the first and last samples inside)."""
    inside = [s for s in samples if start <= s["time"] <= end]
    if len(inside) < 2:
        return {}
    first, last = inside[0], inside[-1]
    seconds = last["time"] - first["time"]
    names = [k for k in first if k not in ("time", "load1", "machine_busy", "machine_total")]
    result = {name: (last[name] - first[name]) / TICK / seconds for name in names}
    cores = os.cpu_count() or 1
    total = last["machine_total"] - first["machine_total"]
    result["machine"] = (last["machine_busy"] - first["machine_busy"]) / total * cores if total else 0.0
    result["other"] = result["machine"] - sum(result[n] for n in names)
    result["load1 (mean)"] = statistics.mean(s["load1"] for s in inside)
    return result


# ---------------------------------------------------------------- servers

def start_servers(args, env: dict) -> tuple[subprocess.Popen, subprocess.Popen | None, str]:
    """Start the consumer and gunicorn; return them and the base URL once gunicorn answers."""
    consumer = None
    if args.redis_url:
        consumer = subprocess.Popen([str(BIN / "huey_consumer"), "manifesto.worker.huey", "-k", "thread", "-w", "2",
                                     "-q"], cwd=args.code, env=env, stdout=(args.out / "consumer.log").open("w"),
                                    stderr=subprocess.STDOUT, start_new_session=True)
    port = args.port or free_port()
    command = [sys.executable, "-m", "gunicorn", "--chdir", str(args.code), "--workers", str(args.workers),
               "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    config = args.code / "gunicorn.conf.py"
    if config.exists():
        command += ["--config", str(config)]
    if args.worker_class:
        command += ["--worker-class", args.worker_class]
    if args.threads:
        command += ["--threads", str(args.threads)]
    command.append("wsgi:app")
    gunicorn = subprocess.Popen(command, cwd=args.code, env=env, stdout=(args.out / "gunicorn.log").open("w"),
                                stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2).read()
            break
        except OSError:
            if gunicorn.poll() is not None:
                sys.exit(f"gunicorn stopped; see {args.out / 'gunicorn.log'}")
            time.sleep(0.2)
    else:
        sys.exit("gunicorn did not answer /healthz within a minute")
    print("servers:", " ".join(command), flush=True)
    return gunicorn, consumer, base


def stop(process: subprocess.Popen | None) -> None:
    """Stop a server we started (its own process group), politely first."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def warm_up(base: str, slug: str, workers: int) -> None:
    """Read the text a few times per worker, so no figure pays for compiling templates."""
    def read(path: str) -> None:
        """One read, answer ignored."""
        try:
            urllib.request.urlopen(base + path, timeout=120).read()
        except OSError:
            pass
    threads = [threading.Thread(target=read, args=(path,)) for _ in range(workers * 2)
               for path in (f"/d/{slug}/", f"/d/{slug}/amendments/")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# ---------------------------------------------------------------- figures

def read_log(directory: Path) -> list[dict]:
    """Every request the Locust processes logged, in order of start."""
    rows = []
    for path in glob.glob(str(directory / "requests-*.csv")):
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle):
                row["start"], row["ms"] = float(row["start"]), float(row["ms"])
                row["status"] = int(row["status"] or 0)
                rows.append(row)
    rows.sort(key=lambda r: r["start"])
    return rows


def table(rows: list[dict], seconds: float, title: str) -> str:
    """Per page: requests, req/s, p50, p95, p99, max, errors; then all pages together."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[row["name"]].append(row)
    lines = [title, f"{'page':<36} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
                    f"{'max ms':>8} {'errors':>6} {'KiB':>6}"]

    def line(name: str, items: list[dict]) -> str:
        """One row."""
        times = sorted(r["ms"] for r in items)
        errors = sum(1 for r in items if r["error"])
        size = statistics.median(int(r["bytes"] or 0) for r in items) / 1024
        return (f"{name:<36} {len(items):>8} {len(items) / seconds:>7.2f} {percentile(times, .5):>8.0f} "
                f"{percentile(times, .95):>8.0f} {percentile(times, .99):>8.0f} {times[-1]:>8.0f} {errors:>6} "
                f"{size:>6.0f}")

    for name in sorted(groups, key=lambda n: -len(groups[n])):
        lines.append(line(name, groups[name]))
    if rows:
        lines.append(line("ALL", rows))
    return "\n".join(lines)


def summarise(rows: list[dict], t0: float, steady_from: float, end: float) -> str:
    """The tables of the whole run and of the steady state, errors by kind, and the expected refusals."""
    out = [table(rows, max(1e-9, end - t0), f"Whole run ({end - t0:.0f} s, logins and ramp-up included)"), ""]
    steady = [r for r in rows if r["start"] >= steady_from]
    out.append(table(steady, max(1e-9, end - steady_from),
                     f"Steady state ({end - steady_from:.0f} s, from {steady_from - t0:.0f} s after the start)"))
    errors: dict[tuple, int] = defaultdict(int)
    for row in rows:
        if row["error"]:
            errors[(row["name"], row["status"], row["error"][:80])] += 1
    out.append("")
    out.append("Errors: " + ("none" if not errors else ""))
    for (name, status, text), count in sorted(errors.items(), key=lambda kv: -kv[1]):
        out.append(f"  {count:>6}  {name}  HTTP {status}  {text}")
    refused = defaultdict(int)
    for row in rows:
        if row["method"] == "POST" and row["status"] >= 400 and not row["error"]:
            refused[(row["name"], row["status"])] += 1
    out.append("Expected refusals (stale decisions): "
               + (", ".join(f"{n} HTTP {s}: {c}" for (n, s), c in sorted(refused.items())) or "none"))
    not_modified = sum(1 for r in rows if r["status"] == 304)
    out.append(f"304 answers (browser cache revalidated): {not_modified} of {len(rows)}")
    return "\n".join(out)


def git_commit(code: Path) -> str:
    """The commit the served tree is at (with a mark when it has local changes)."""
    try:
        commit = subprocess.run(["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(code), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return commit + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    """Start the servers, run Locust, sample the CPU, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="Tree to serve (default: this repository).")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="The seeded database (default: $DATABASE_URL).")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14",
                        help="Redis for the job queue (and whatever the code keeps there); '' for none: the "
                             "SQLite queue in the instance folder, run by a thread in each worker.")
    parser.add_argument("--instance", type=Path, default=Path("/tmp/manifesto-load-instance"),
                        help="MANIFESTO_INSTANCE_PATH of the servers (secret key shared by the workers).")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default: 4).")
    parser.add_argument("--worker-class", default=None, help="gunicorn worker class (default: the config's, "
                                                             "else sync).")
    parser.add_argument("--threads", type=int, default=None, help="gunicorn threads per worker (gthread).")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--spawn-rate", type=float, default=20)
    parser.add_argument("--run-time", type=int, default=250, help="Seconds of the whole run, ramp-up included.")
    parser.add_argument("--settle", type=int, default=60,
                        help="Seconds after the last user started before the steady state counts (default: 60; "
                             "the timeline shows when the arrivals' backlog drained).")
    parser.add_argument("--processes", type=int, default=1,
                        help="Locust processes (each takes a core's share; -1: one per core).")
    parser.add_argument("--slug", default="convention")
    parser.add_argument("--no-browser-cache", action="store_true", help="Never send If-None-Match.")
    parser.add_argument("--writes", type=float, default=1.0,
                        help="Share of the delegates' supports and comments actually sent (default: 1).")
    parser.add_argument("--out", type=Path, default=None, help="Directory for logs and CSV files.")
    parser.add_argument("--analyse", type=Path, default=None, metavar="DIR",
                        help="Run nothing: print the figures of the run kept in DIR again (with this --settle).")
    args = parser.parse_args(argv)
    if args.analyse:
        return analyse(args.analyse, args.settle)
    if not args.database_url:
        parser.error("give --database-url or set DATABASE_URL (the seed-scale PostgreSQL database)")
    args.code = args.code.resolve()
    args.out = (args.out or Path(f"/tmp/manifesto-load-{args.users}u-{time.strftime('%Y%m%d-%H%M%S')}")).resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    args.instance.mkdir(parents=True, exist_ok=True)

    env = {**os.environ, "DATABASE_URL": args.database_url, "MANIFESTO_INSTANCE_PATH": str(args.instance),
           "PYTHONPATH": str(args.code), "QUEUE_MODE": "worker" if args.redis_url else "thread"}
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    else:
        env.pop("REDIS_URL", None)
    print(f"code: {args.code} at {git_commit(args.code)}; out: {args.out}", flush=True)
    print("uptime before:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), flush=True)
    gunicorn, consumer, base = start_servers(args, env)
    sampler = None
    try:
        warm_up(base, args.slug, args.workers)
        locust_env = {**os.environ, "LOAD_LOG_DIR": str(args.out / "requests"), "LOAD_SLUG": args.slug,
                      "LOAD_PROCESSES": str(args.processes if args.processes > 0 else os.cpu_count() or 1),
                      "LOAD_BROWSER_CACHE": "0" if args.no_browser_cache else "1",
                      "LOAD_WRITES": str(args.writes)}
        command = [str(BIN / "locust"), "-f", str(HERE / "locustfile.py"), "--headless", "--host", base,
                   "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
                   "--run-time", f"{args.run_time}s", "--stop-timeout", "30", "--csv", str(args.out / "locust"),
                   "--only-summary", "--loglevel", "WARNING"]
        if args.processes != 1:
            command += ["--processes", str(args.processes)]
        print("locust:", " ".join(command), flush=True)
        t0 = time.time()
        locust = subprocess.Popen(command, env=locust_env, stdout=(args.out / "locust.log").open("w"),
                                  stderr=subprocess.STDOUT, start_new_session=True)
        parties = {"gunicorn": gunicorn.pid, "locust": locust.pid}
        if consumer is not None:
            parties["consumer"] = consumer.pid
        database = args.database_url.rsplit("/", 1)[-1].split("?")[0]
        sampler = CpuSampler(parties, 2.5, args.out / "cpu.jsonl", database)
        sampler.start()
        locust.wait()
        end = time.time()
        sampler.halt.set()
        sampler.join()
    finally:
        if sampler is not None:
            sampler.halt.set()
        stop(gunicorn)
        stop(consumer)
    print("uptime after:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    meta = {"users": args.users, "spawn_rate": args.spawn_rate, "run_time": args.run_time,
            "workers": args.workers, "processes": args.processes, "code": git_commit(args.code),
            "writes": args.writes,
            "t0": t0, "end": end, "command": command}
    (args.out / "meta.json").write_text(json.dumps(meta, indent=1))
    return analyse(args.out, args.settle)


def timeline(rows: list[dict], samples: list[dict], t0: float, end: float, step: int = 10) -> str:
    """Per ``step`` seconds: requests, p50, p95, max, errors, and the cores gunicorn, PostgreSQL and the machine used."""
    lines = [f"Timeline (per {step} s)", f"{'from s':>6} {'req/s':>6} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} "
                                         f"{'errors':>6} {'gunicorn':>8} {'postgres':>8} {'locust':>6} {'machine':>7}"]
    for start in range(0, int(end - t0) + 1, step):
        inside = sorted(r["ms"] for r in rows if start <= r["start"] - t0 < start + step)
        errors = sum(1 for r in rows if start <= r["start"] - t0 < start + step and r["error"])
        cpu = cpu_shares(samples, t0 + start - 2.5, t0 + start + step + 2.5)
        if not inside:
            continue
        lines.append(f"{start:>6} {len(inside) / step:>6.1f} {percentile(inside, .5):>7.0f} "
                     f"{percentile(inside, .95):>7.0f} {inside[-1]:>7.0f} {errors:>6} "
                     f"{cpu.get('gunicorn', 0):>8.2f} {cpu.get('postgres', 0):>8.2f} {cpu.get('locust', 0):>6.2f} "
                     f"{cpu.get('machine', 0):>7.2f}")
    return "\n".join(lines)


REQUEST_LINE = re.compile(r"\] (GET|POST|HEAD) (\S+) (\d{3}) ([\d.]+) ms, (\d+) queries, cache (\S+)")


def server_side(out: Path) -> str:
    """Per route and cache outcome, from the app's one line per request (when the served code writes them)."""
    path = out / "gunicorn.log"
    groups: dict[tuple, list[float]] = defaultdict(list)
    if path.exists():
        with path.open(errors="replace") as handle:
            for line in handle:
                found = REQUEST_LINE.search(line)
                if found:
                    method, route, _status, ms, _queries, cache = found.groups()
                    groups[(f"{method} {route}", cache)].append(float(ms))
    if not groups:
        return "Server side: the served code writes no request lines (no page cache outcome to show)."
    lines = ["Server side, whole run (the app's request lines): requests, mean and p95 ms by route and cache outcome",
             f"{'route':<48} {'cache':<13} {'requests':>8} {'mean ms':>8} {'p95 ms':>8}"]
    for (route, cache), times in sorted(groups.items(), key=lambda kv: (kv[0][0], -len(kv[1]))):
        times.sort()
        lines.append(f"{route:<48} {cache:<13} {len(times):>8} {statistics.mean(times):>8.1f} "
                     f"{percentile(times, .95):>8.1f}")
    return "\n".join(lines)


def analyse(out: Path, settle: int) -> int:
    """Print (and write to report.txt) the figures of the run kept in ``out``."""
    meta = json.loads((out / "meta.json").read_text())
    rows = read_log(out / "requests")
    if not rows:
        print(f"No request was logged; see {out / 'locust.log'}")
        return 1
    samples = [json.loads(line) for line in (out / "cpu.jsonl").read_text().splitlines() if line.strip()]
    t0 = min(meta["t0"], rows[0]["start"])
    steady_from = t0 + meta["users"] / meta["spawn_rate"] + settle
    end = min(meta["end"], max(r["start"] + r["ms"] / 1000 for r in rows))
    report = [f"{meta['users']} users (spawn {meta['spawn_rate']}/s), {meta['run_time']} s, {meta['workers']} gunicorn "
              f"workers, {meta['processes']} Locust process(es), writes {meta.get('writes', 1)}, code {meta['code']}",
              "",
              summarise(rows, t0, steady_from, end), "", timeline(rows, samples, t0, end), ""]
    report += [server_side(out), ""]
    shares = cpu_shares(samples, steady_from, end)
    if shares:
        report.append("CPU during the steady state, in cores (of %d): " % (os.cpu_count() or 1)
                      + ", ".join(f"{name} {value:.2f}" for name, value in shares.items()))
        answered = sum(1 for r in rows if steady_from <= r["start"] <= end)
        seconds = end - steady_from
        posts = sum(1 for r in rows if steady_from <= r["start"] <= end and r["method"] == "POST")
        report.append(f"Per request in the steady state ({answered} requests, {posts / seconds:.2f} POSTs/s): "
                      f"gunicorn {shares['gunicorn'] * seconds / answered * 1000:.1f} ms CPU, PostgreSQL "
                      f"{shares['postgres'] * seconds / answered * 1000:.1f} ms CPU (figures other load on the "
                      "machine changes less than the latencies)")
    text = "\n".join(report)
    print(text)
    (out / "report.txt").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
