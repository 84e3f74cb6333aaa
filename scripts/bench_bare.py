"""The side-by-side ratio: each heavy page from the app against a bare Flask app serving the same bytes.

Usage (wrk must be installed: ``sh scripts/load/setup.sh`` runs ``apt-get install -y wrk``)::

    MANIFESTO_INSTANCE_PATH=/tmp/scale-sqlite .venv/bin/python scripts/bench_bare.py --workers 2 --duration 10

The app is configured from the environment exactly as ``flask`` is
(``DATABASE_URL``, ``MANIFESTO_INSTANCE_PATH``), so point it at a database
filled by ``flask --app manifesto seed-scale``. The script

1. starts the app under gunicorn (``--workers``; the tree's
   ``gunicorn.conf.py`` when it has one, else sync workers) and fetches, as
   a visitor (no cookie), the reading page, the reading page with line
   numbers, the amendment list and an amendment page (the first one the
   list shows), with the request headers given by ``--header``;
2. starts a bare Flask app under the same gunicorn settings that answers
   those very paths with those very bytes and response headers from memory;
   (the gunicorn.conf.py of the served tree too, if any);
3. runs ``wrk`` (``--connections``, 2 threads, ``--duration``) against the
   app, then against the bare app, page by page, one after the other;
4. prints per page: size, app req/s, bare req/s, app / bare, app p50 and
   bare p50 (wrk's latency distribution), and the CPU time each server
   spent per request (from ``/proc``: a figure that other load on a shared
   machine changes less than req/s).

Read the ratios: absolute figures move between machines and with what else
runs on them. ``--code`` serves another tree (a ``git worktree`` of an older
commit, for "before"), with this venv's packages. Traffic goes only to the
loopback address.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AMENDMENT_LINK = r'class="a-title"><a href="(/d/{slug}/amendments/\d+)"'
# Response headers the bare app repeats: what a client or proxy would act on (length is its own).
KEPT_HEADERS = {"content-type", "content-encoding", "etag", "last-modified", "cache-control", "vary",
                "content-language"}

BARE_APP = '''
"""A bare Flask app: the pages in {store} from memory, nothing else."""
import json
from pathlib import Path

from flask import Flask, Response, request

store = Path({store!r})
pages = {{}}
for entry in json.loads((store / "index.json").read_text()):
    pages[entry["path"]] = ((store / entry["file"]).read_bytes(), entry["headers"])
app = Flask(__name__)


@app.route("/", defaults={{"rest": ""}})
@app.route("/<path:rest>")
def page(rest):
    """The stored bytes of the requested path (and query), with their headers."""
    body, headers = pages[request.full_path.rstrip("?")]
    return Response(body, headers=headers)
'''


def free_port() -> int:
    """A free TCP port on the loopback address."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn(code: Path, module: str, workers: int, env: dict, log: Path, config: Path | None,
             worker_class: str | None, threads: int | None) -> tuple[subprocess.Popen, str]:
    """Start gunicorn serving ``module`` from ``code``; return it and its base URL once it listens."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--chdir", str(code), "--workers", str(workers),
               "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    # Explicitly one or none: gunicorn would otherwise pick up a gunicorn.conf.py of its working directory.
    if config is None:
        config = log.parent / "no_config.py"
        config.write_text("")
    command += ["--config", str(config)]
    if worker_class:
        command += ["--worker-class", worker_class]
    if threads:
        command += ["--threads", str(threads)]
    command.append(module)
    process = subprocess.Popen(command, cwd=code, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                               start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, base
        except OSError:
            if process.poll() is not None:
                sys.exit(f"gunicorn stopped ({module}); see {log}")
            time.sleep(0.2)
    sys.exit(f"gunicorn ({module}) did not listen within a minute")


def stop(process: subprocess.Popen) -> None:
    """Stop a gunicorn we started (its own process group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def fetch(base: str, path: str, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """The body and kept headers of one GET, as a visitor.

    :raises SystemExit: when the page does not answer 200.
    """
    request = urllib.request.Request(base + path, headers=headers)
    with urllib.request.urlopen(request, timeout=300) as response:
        if response.status != 200:
            sys.exit(f"{path} answered {response.status}")
        kept = {k: v for k, v in response.headers.items() if k.lower() in KEPT_HEADERS}
        return response.read(), kept


def cpu_seconds(root: int) -> float:
    """CPU seconds used so far by process ``root`` and its children (gunicorn's master and workers)."""
    found: dict[int, tuple[int, int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                raw = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = raw[raw.rindex(")") + 2:].split()
            ticks = int(fields[11]) + int(fields[12])
            if int(entry) == root:  # the master's reaped children: workers replaced meanwhile (max_requests)
                ticks += int(fields[13]) + int(fields[14])
            found[int(entry)] = (int(fields[1]), ticks)
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, (ppid, _ticks) in found.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return sum(found[p][1] for p in tree if p in found) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, connections: int, duration: int, headers: list[str]) -> tuple[float, float, int, int]:
    """Run wrk; return requests/s, p50 in ms, the count of non-2xx/3xx or socket errors, and of requests."""
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--timeout", "60s", "--latency"]
    for header in headers:
        command += ["-H", header]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    done = int(re.search(r"(\d+) requests in", output).group(1))
    found = re.search(r"50%\s+([\d.]+)(us|ms|s)\b", output)
    p50 = float(found.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[found.group(2)]
    errors = 0
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    return rate, p50, errors, done


def main(argv: list[str] | None = None) -> int:
    """Fetch the pages, start both servers, run wrk side by side and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="Tree to serve (default: this repository).")
    parser.add_argument("--slug", default="convention")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers for both apps (default: 2).")
    parser.add_argument("--worker-class", default=None, help="gunicorn worker class for both (default: the "
                                                             "config's, else sync).")
    parser.add_argument("--threads", type=int, default=None, help="gunicorn threads for both (gthread).")
    parser.add_argument("--no-config", action="store_true", help="Ignore gunicorn.conf.py.")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default: 8).")
    parser.add_argument("--duration", type=int, default=10, help="Seconds of wrk per page and app (default: 10).")
    parser.add_argument("--header", action="append", default=[],
                        help="A request header for the fetch and for wrk, e.g. 'Accept-Encoding: gzip' "
                             "(repeatable; default: none, as wrk sends).")
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures to this file.")
    args = parser.parse_args(argv)
    code = args.code.resolve()
    headers = dict(h.split(":", 1) for h in args.header)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    env = {**os.environ, "PYTHONPATH": str(code), "QUEUE_MODE": os.environ.get("QUEUE_MODE", "worker")}
    store = Path(tempfile.mkdtemp(prefix="bench-bare-"))
    print(f"code: {code}; uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")

    config = code / "gunicorn.conf.py"
    config = config if config.exists() and not args.no_config else None
    app, app_base = gunicorn(code, "wsgi:app", args.workers, env, store / "app.log", config,
                             args.worker_class, args.threads)
    bare = None
    try:
        base = f"/d/{args.slug}"
        listing, _ = fetch(app_base, f"{base}/amendments/", {})  # plain, to read its first link
        found = re.search(AMENDMENT_LINK.format(slug=re.escape(args.slug)), listing.decode("utf-8", "replace"))
        if found is None:
            sys.exit("The amendment list shows no amendment: is the database seeded (seed-scale)?")
        amendment = found.group(1)
        pages = [("reading page", f"{base}/"), ("reading page with line numbers", f"{base}/?lines=1"),
                 ("amendment list", f"{base}/amendments/"), ("amendment page", amendment)]
        index = []
        for number, (label, path) in enumerate(pages):
            body, kept = fetch(app_base, path, headers)
            (store / f"{number}.bin").write_bytes(body)
            index.append({"label": label, "path": path, "file": f"{number}.bin", "headers": kept,
                          "size": len(body)})
        (store / "index.json").write_text(json.dumps(index))
        (store / "bare_app.py").write_text(textwrap.dedent(BARE_APP.format(store=str(store))))
        bare_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
        bare_env["PYTHONPATH"] = str(store)
        bare, bare_base = gunicorn(store, "bare_app:app", args.workers, bare_env, store / "bare.log",
                                   config, args.worker_class, args.threads)
        # Each page once through the bare app, which also proves it serves the same bytes.
        for entry in index:
            body, _ = fetch(bare_base, entry["path"], headers)
            if body != (store / entry["file"]).read_bytes():
                sys.exit(f"The bare app does not serve the bytes of {entry['path']}")
        wrk_headers = [f"{k}: {v}" for k, v in headers.items()]
        results = []
        for entry in index:
            used = cpu_seconds(app.pid)
            app_rate, app_p50, app_errors, app_done = wrk(app_base + entry["path"], args.connections,
                                                          args.duration, wrk_headers)
            app_cpu = (cpu_seconds(app.pid) - used) / max(1, app_done) * 1000
            used = cpu_seconds(bare.pid)
            bare_rate, bare_p50, bare_errors, bare_done = wrk(bare_base + entry["path"], args.connections,
                                                              args.duration, wrk_headers)
            bare_cpu = (cpu_seconds(bare.pid) - used) / max(1, bare_done) * 1000
            results.append({**entry, "app_rps": app_rate, "bare_rps": bare_rate, "ratio": app_rate / bare_rate,
                            "app_p50_ms": app_p50, "bare_p50_ms": bare_p50, "app_cpu_ms": app_cpu,
                            "bare_cpu_ms": bare_cpu, "errors": app_errors + bare_errors})
    finally:
        stop(app)
        if bare is not None:
            stop(bare)
    print(f"{args.workers} gunicorn workers each, wrk {args.connections} connections x {args.duration} s per page "
          f"and app, headers: {wrk_headers or 'none'}; uptime after: "
          f"{subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    print(f"{'page':<32} {'size KiB':>9} {'app req/s':>10} {'bare req/s':>11} {'app/bare':>9} {'app p50 ms':>11} "
          f"{'bare p50 ms':>12} {'app CPU ms':>11} {'bare CPU ms':>12} {'errors':>7}")
    for r in results:
        print(f"{r['label']:<32} {r['size'] / 1024:>9.0f} {r['app_rps']:>10.1f} {r['bare_rps']:>11.1f} "
              f"{r['ratio']:>9.1%} {r['app_p50_ms']:>11.1f} {r['bare_p50_ms']:>12.2f} {r['app_cpu_ms']:>11.1f} "
              f"{r['bare_cpu_ms']:>12.2f} {r['errors']:>7}")
    print("CPU ms: the servers' CPU time per answered request (all workers), which other load on the machine "
          "does not change as much as req/s.")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 1 if any(r["errors"] for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
