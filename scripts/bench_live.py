"""How long a change takes to reach 200 open pages: the events process, Redis, and one write through a service.

Usage::

    REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python scripts/bench_live.py
    REDIS_URL=... .venv/bin/python scripts/bench_live.py --clients 400 --threads 512 --changes 5
    REDIS_URL=... .venv/bin/python scripts/bench_live.py --sections 300 --chars 1500   # seed-scale's text

The script makes a fresh instance (SQLite in a temporary folder, migrated, one
document), starts the events process on it (``gunicorn -c gunicorn.conf.py
-w 1 --threads N events:app``, as docs/DEPLOYMENT.md runs it), opens
``--clients`` streams to it (one thread and one HTTP connection each, like a
browser's EventSource) following the document's projector (``--follow
projector``, the default: what 200 screens and phones in the room follow) or
the document itself (``--follow document``), waits until every stream has
begun, then writes once through a service in this process: a moderator's
console action (``projector.show_section``, then ``show_nothing``, in turn),
or ``update_document``. The notice leaves after the commit, through Redis, to
the events process, to each stream. For each change it
prints the delay from the service call to each stream's notice: median, 95th
percentile, maximum, and how many arrived within one second.

Following the projector, each stream asks for the screen with its notice
(``content=``, as the projector page does, manifesto/live/content.py): the
events process renders it and the page shows what it was handed; the script
checks that each page was handed the new screen (its text) and times it.
``--fetch`` measures the way before content notices, and the console's
preview today: a plain notice, then live.js's wait and a fetch of the
fragment from the app (four gunicorn workers, started beside it). ``--base`` skips
the setup and measures a running events process (``--document`` names the
document id; the change is then yours to make: the script waits for it).
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import random
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# static/live.js's waits before it fetches a region's fragment after a notice.
DEBOUNCE_MS, SPREAD_MS = 250, 400
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    """A port nobody listens on."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(instance: Path, redis_url: str, prefix: str, sections: int = 1, chars: int = 10):
    """A migrated SQLite instance with one document of ``sections`` sections, and an app that publishes through Redis.

    Each section holds about ``chars`` characters in paragraphs; the projector shows the middle one, numbered
    after every line before it (seed-scale: 300 sections of 1,500 characters).
    """
    os.environ["MANIFESTO_INSTANCE_PATH"] = str(instance)
    from flask_migrate import upgrade

    from manifesto import create_app
    from manifesto.accounts.services import register_user
    from manifesto.documents import services as documents

    app = create_app({"DATABASE_URL": f"sqlite:///{instance}/manifesto.sqlite", "REDIS_URL": redis_url,
                      "LIVE_PREFIX": prefix, "QUEUE_MODE": "immediate", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                      "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        upgrade()
        admin = register_user("admin@example.org", "Admin", "a long enough password here", None, None, role="admin")
        document = documents.create_document(admin, title="Bench", slug="bench", introduction="Live.")
        after = None
        filler = "Cooperatives share work, income and decisions among the members who make them live. "
        for number in range(sections):
            body = "Some text." if number == sections // 2 else "\n\n".join(
                filler * 3 for _ in range(max(1, chars // (len(filler) * 3))))
            after = documents.create_section(admin, document.id, heading=f"Section {number + 1}", body=body,
                                             reason="Start.", after_section_id=after).id
        ids = admin.id, document.id
    return app, *ids


def start_events(instance: Path, redis_url: str, prefix: str, threads: int, *, target: str = "events:app",
                 workers: int = 1, name: str = "events") -> tuple[subprocess.Popen, str]:
    """The events process on the instance, one worker with ``threads`` threads (or, with ``target``, the app)."""
    port = free_port()
    env = {**os.environ, "MANIFESTO_INSTANCE_PATH": str(instance), "REDIS_URL": redis_url,
           "DATABASE_URL": f"sqlite:///{instance}/manifesto.sqlite", "LIVE_PREFIX": prefix,
           "LIVE_STREAMS_PER_PROCESS": str(threads - 8), "GUNICORN_LOG_LEVEL": "warning"}
    log = open(instance / f"{name}.log", "wb")  # noqa: SIM115 - the server's log for its whole life
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-w", str(workers),
                                "--threads", str(threads), "--graceful-timeout", "3", "--bind",
                                f"127.0.0.1:{port}", target], cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                return process, base
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"the {name} process did not start:\n" + (instance / f"{name}.log").read_text())


class Client(threading.Thread):
    """One open page: a stream, and the moments its notices arrived."""

    def __init__(self, base: str, topic: str, ready: threading.Barrier, fragment: str | None = None,
                 content: bool = False) -> None:
        super().__init__(daemon=True)
        self.address = urllib.parse.urlsplit(base)
        self.topic = topic
        self.ready = ready
        self.content = content
        self.arrivals: list[float] = []
        self.updated: list[float] = []  # when the page had its new part (notice, live.js's wait, the fetch)
        self.screens: list[tuple[float, str]] = []  # content notices: when, and the HTML they brought
        self.fragment = urllib.parse.urlsplit(fragment) if fragment else None
        self.error: str | None = None

    def fetch(self) -> None:
        """What live.js does on a notice: wait DEBOUNCE plus a random SPREAD, then fetch the region's fragment."""
        time.sleep((DEBOUNCE_MS + random.random() * SPREAD_MS) / 1000)
        try:
            connection = http.client.HTTPConnection(self.fragment.hostname, self.fragment.port, timeout=30)
            connection.request("GET", self.fragment.path)
            response = connection.getresponse()
            response.read()
            connection.close()
            if response.status == 200:
                self.updated.append(time.monotonic())
            else:
                self.error = f"fragment status {response.status}"
        except Exception as error:  # noqa: BLE001 - reported with the results
            self.error = f"fragment {type(error).__name__}: {error}"

    def run(self) -> None:
        """Open the stream, say it has begun, then note each notice of the topic."""
        try:
            connection = http.client.HTTPConnection(self.address.hostname, self.address.port, timeout=120)
            query = f"topic={self.topic}" + (f"&content={self.topic}" if self.content else "")
            connection.request("GET", f"/live/stream?{query}", headers={"Accept": "text/event-stream"})
            response = connection.getresponse()
            if response.status != 200:
                self.error = f"status {response.status}"
                self.ready.wait()
                return
            response.readline()  # retry: the stream has begun
            self.ready.wait()
            kind, data = None, []
            for line in iter(response.readline, b""):
                line = line.decode().rstrip("\r\n")
                if line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
                elif not line:  # the end of an event
                    if data and data[0] == self.topic:
                        now = time.monotonic()
                        self.arrivals.append(now)
                        if kind == "content":
                            self.screens.append((now, "\n".join(data[1:])))
                        elif self.fragment is not None:
                            threading.Thread(target=self.fetch, daemon=True).start()
                    kind, data = None, []
        except threading.BrokenBarrierError:
            pass
        except Exception as error:  # noqa: BLE001 - reported with the results
            self.error = f"{type(error).__name__}: {error}"
            try:
                self.ready.wait(timeout=0)
            except threading.BrokenBarrierError:
                pass


def worker_memory(master: subprocess.Popen) -> str:
    """The resident memory and thread count of the events process's worker (Linux /proc), as words."""
    try:
        children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
        status = Path(f"/proc/{children[0]}/status").read_text()
    except (OSError, IndexError):
        return "worker memory unknown"
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return f"the worker holds {fields['VmRSS'].strip()} resident, {fields['Threads'].strip()} threads"


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of the sorted values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main() -> None:
    """Set up, connect, change, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--threads", type=int, default=256, help="the events process's threads")
    parser.add_argument("--changes", type=int, default=3, help="changes made one after another, 2 s apart")
    parser.add_argument("--base", help="a running events process (skips the setup; you make the change)")
    parser.add_argument("--document", type=int, default=1, help="with --base: the document to follow")
    parser.add_argument("--no-fetch", action="store_true",
                        help="with --fetch: only time the notices, fetch nothing")
    parser.add_argument("--fetch", action="store_true",
                        help="plain notices, then each page fetches the projector's fragment from the app after "
                             "live.js's wait (the way before content notices)")
    parser.add_argument("--sections", type=int, default=1,
                        help="sections in the document (the projector shows the middle one, numbered after the rest)")
    parser.add_argument("--chars", type=int, default=1500, help="characters per section, with --sections")
    parser.add_argument("--follow", choices=("projector", "document"), default="projector",
                        help="what the pages follow: the projector (a console action) or the document (an edit)")
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url and not args.base:
        raise SystemExit("set REDIS_URL (the events process hears the writers' changes through Redis)")

    prefix = f"bench-live:{uuid.uuid4().hex[:8]}:"
    process = app = web = fragment = None
    with tempfile.TemporaryDirectory(prefix="bench-live-") as folder:
        instance = Path(folder)
        if args.base:
            base, document_id = args.base, args.document
        else:
            app, admin_id, document_id = prepare(instance, redis_url, prefix, args.sections, args.chars)
            process, base = start_events(instance, redis_url, prefix, args.threads)
            if args.fetch and not args.no_fetch and args.follow == "projector":
                # The app as docs/DEPLOYMENT.md runs it (gunicorn.conf.py's workers and threads), for the fragments.
                web, web_base = start_events(instance, redis_url, prefix, 4, target="wsgi:app",
                                             workers=int(os.environ.get("WEB_CONCURRENCY", "4")), name="web")
                fragment = f"{web_base}/d/bench/projector/screen"
        topic = f"{args.follow}:{document_id}"
        try:
            ready = threading.Barrier(args.clients + 1, timeout=120)
            content = args.follow == "projector" and not args.fetch
            clients = [Client(base, topic, ready, fragment, content) for _ in range(args.clients)]
            opened = time.monotonic()
            for client in clients:
                client.start()
            ready.wait()
            failed = [c.error for c in clients if c.error]
            print(f"{args.clients - len(failed)} of {args.clients} streams open in {time.monotonic() - opened:.1f} s"
                  + (f"; failed: {failed[:3]}" if failed else "") + (f"; {worker_memory(process)}" if process else ""))
            starts, markers = [], []
            for number in range(args.changes):
                time.sleep(2.0)
                if app is None:
                    input("make a change on the document, then press Enter ")
                    starts.append(time.monotonic())
                    continue
                with app.app_context():
                    from manifesto.accounts.models import User
                    from manifesto.documents import services as documents
                    from manifesto.extensions import db

                    from manifesto.documents.models import Section
                    from manifesto.plenary.projector import services as projector

                    admin = db.session.get(User, admin_id)
                    section_id = db.session.scalar(db.select(Section.id).where(
                        Section.document_id == document_id).order_by(Section.position).offset(args.sections // 2)
                        .limit(1))
                    starts.append(time.monotonic())
                    if args.follow == "document":
                        documents.update_document(admin, document_id, title=f"Bench {number}", introduction="Live.",
                                                  phase="drafting", amendment_deadline=None, min_supporters=0)
                    elif number % 2 == 0:
                        markers.append("Some text.")
                        projector.show_section(admin, document_id, section_id)
                    else:
                        markers.append(f"Back in {number} minutes")
                        projector.show_nothing(admin, document_id, message=markers[-1])
                    committed = time.monotonic() - starts[-1]
                print(f"change {number + 1}: the service call took {committed * 1000:.0f} ms (commit included)")
            time.sleep(3.0)
            errors = [c.error for c in clients if c.error]
            if errors:
                print(f"{len(errors)} pages failed: {errors[:3]}")
            for number, started in enumerate(starts):
                delays = [next((t for t in c.arrivals if t >= started), None) for c in clients if not c.error]
                arrived = [d - started for d in delays if d is not None]
                within = sum(1 for d in arrived if d <= 1.0)
                if not arrived:
                    print(f"change {number + 1}: no stream heard it")
                    continue
                print(f"change {number + 1}: {len(arrived)} of {len(clients)} heard it; "
                      f"p50 {statistics.median(arrived) * 1000:.0f} ms, p95 {percentile(arrived, 0.95) * 1000:.0f} ms, "
                      f"max {max(arrived) * 1000:.0f} ms; {within} of {len(clients)} within 1 s")
                if content and markers:
                    shown = [next((t for t, html in c.screens if t >= started and markers[number] in html), None)
                             for c in clients if not c.error]
                    took = [d - started for d in shown if d is not None]
                    print(f"change {number + 1}: {len(took)} of {len(clients)} pages were handed the new screen "
                          f"with the notice" + (f"; p50 {statistics.median(took) * 1000:.0f} ms, p95 "
                                                f"{percentile(took, 0.95) * 1000:.0f} ms, max {max(took) * 1000:.0f} ms; "
                                                f"{sum(1 for d in took if d <= 1.0)} of {len(clients)} within 1 s"
                                                if took else ""))
                if fragment:
                    shown = [next((t for t in c.updated if t >= started), None) for c in clients if not c.error]
                    took = [d - started for d in shown if d is not None]
                    if took:
                        print(f"change {number + 1}: {len(took)} of {len(clients)} pages showed the new screen; "
                              f"p50 {statistics.median(took) * 1000:.0f} ms, p95 {percentile(took, 0.95) * 1000:.0f} ms, "
                              f"max {max(took) * 1000:.0f} ms; {sum(1 for d in took if d <= 1.0)} of {len(clients)} "
                              f"within 1 s (live.js waits {DEBOUNCE_MS}-{DEBOUNCE_MS + SPREAD_MS} ms of that)")
        finally:
            if web is not None:
                web.terminate()
                web.wait(timeout=10)
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
            if redis_url and not args.base:
                import redis

                client = redis.Redis.from_url(redis_url)
                keys = list(client.scan_iter(prefix + "*"))
                if keys:
                    client.delete(*keys)


if __name__ == "__main__":
    main()
