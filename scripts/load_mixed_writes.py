"""Different writes at the same moment, over HTTP, against a real multi-process server.

Usage:
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/loadtest \\
        python scripts/load_mixed_writes.py --start-server --workers 4 --rounds 3

It prepares its own small event in the database named by the environment
(document ``load-writes``: three sections, 30 delegates, 2 moderators; the
password of every account is ``load-password``), then fires bursts of real
browser-like requests (a session and CSRF token per person) released
together:

- supports and proposals on the same section at once (25 requests);
- supports while a moderator decides the amendment (12 supports + 1 decision);
- the author withdrawing while a moderator decides (2 requests, 16 times).

With ``--start-server`` it runs ``gunicorn --workers N wsgi:app`` on a free
loopback port for the run and stops it afterwards; otherwise give ``--url``
of a server on this machine that uses the same database. It prints, per
burst, the answers by HTTP status and the latency; any 5xx is a failure and
makes the exit status 1. Traffic goes only to the loopback address; the
number of requests is fixed by ``--rounds``.
"""

from __future__ import annotations

import argparse
import collections
import http.cookiejar
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from manifesto import create_app  # noqa: E402
from manifesto.accounts import services as accounts  # noqa: E402
from manifesto.amendments import services as amendments  # noqa: E402
from manifesto.documents import services as documents  # noqa: E402
from manifesto.extensions import db  # noqa: E402

SLUG = "load-writes"
PASSWORD = "load-password"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report a redirect as the answer instead of following it: the POST's own status counts."""

    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One person's browser: a cookie jar, a CSRF token, and timed requests."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  NoRedirect())
        self.token = ""

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, float]:
        """GET (or POST ``data`` with the CSRF token); return status, body and seconds."""
        body = None
        if data is not None:
            body = urllib.parse.urlencode({"csrf_token": self.token, **data}).encode()
        start = time.perf_counter()
        try:
            with self.opener.open(self.base + path, body, timeout=60) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode(errors="replace")
        elapsed = time.perf_counter() - start
        found = CSRF.search(text)
        if found:
            self.token = found.group(1)
        return status, text, elapsed

    def login(self, email: str) -> None:
        """Log in through the form, as a person would."""
        self.request("/login")
        status, _, _ = self.request("/login", {"email": email, "password": PASSWORD})
        if status != 302:
            raise SystemExit(f"could not log in as {email}: HTTP {status}")
        self.request("/")  # a page with a fresh token for this session


def prepare(app) -> dict:
    """Create (or find) the event, its people and an open amendment; return ids and emails."""
    with app.app_context():
        def person(email, role):
            user = accounts.get_user_by_email(email)
            return user or accounts.register_user(email, email.split("@")[0], PASSWORD, role=role)

        admin = person("load-admin@example.org", "admin")
        moderators = [person(f"load-moderator{i}@example.org", "moderator") for i in range(2)]
        delegates = [person(f"load-delegate{i:02d}@example.org", "participant") for i in range(30)]
        document = db.session.scalar(select(documents.Document).where(documents.Document.slug == SLUG))
        if document is None:
            document = documents.create_document(admin, title="Load test", slug=SLUG)
            after = None
            for i in range(1, 4):
                after = documents.create_section(admin, document.id, heading=f"Section {i}",
                                                 body=f"Section {i} speaks of cooperatives and of work.",
                                                 reason="Start.", after_section_id=after).id
        documents.update_document(admin, document.id, title=document.title, introduction="", phase="amendments",
                                  amendment_deadline=None, min_supporters=0)
        section = documents.current_sections(document)[0]
        return {"document": document.id, "section": section.section.id, "version": section.version.id,
                "body": section.version.body,
                "moderators": [m.email for m in moderators], "delegates": [d.email for d in delegates]}


def fresh_amendment(app, event: dict, author_email: str) -> tuple[int, int]:
    """Propose a new open amendment by ``author_email`` through the service; return (id, revision)."""
    with app.app_context():
        author = accounts.get_user_by_email(author_email)
        entry = documents.current_sections(db.session.get(documents.Document, event["document"]))[1]
        amendment = amendments.propose_amendment(author, event["document"], kind="modify",
                                                 section_id=entry.section.id, heading=None,
                                                 body=entry.version.body + f" Load {time.time_ns()}.",
                                                 reason="Load.")
        return amendment.id, amendment.revision


def burst(actions: list) -> list[tuple[int, float]]:
    """Run the (browser, path, data) actions released together; return (status, seconds) of each."""
    gate = threading.Barrier(len(actions))
    results: list[tuple[int, float]] = []

    def run(browser, path, data):
        gate.wait()
        status, _, elapsed = browser.request(path, data)
        results.append((status, elapsed))

    threads = [threading.Thread(target=run, args=action) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def report(name: str, results: list[tuple[int, float]]) -> int:
    """Print one burst's statuses and latency; return how many answers were 5xx."""
    statuses = collections.Counter(status for status, _ in results)
    times = sorted(t * 1000 for _, t in results)
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    print(f"{name:<44} {len(results):>4} requests  statuses {dict(sorted(statuses.items()))}  "
          f"median {statistics.median(times):.0f} ms  p95 {p95:.0f} ms  max {times[-1]:.0f} ms")
    return sum(n for status, n in statuses.items() if status >= 500)


def free_port() -> int:
    """A free TCP port on the loopback address."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--start-server", action="store_true", help="run gunicorn for the test")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    app = create_app()
    event = prepare(app)
    server = None
    base = args.url.rstrip("/")
    if args.start_server:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", str(args.workers),
                                   "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
                                  cwd=ROOT, env=os.environ.copy())
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
    try:
        delegates = []
        for email in event["delegates"]:
            browser = Browser(base)
            browser.login(email)
            delegates.append(browser)
        moderator = Browser(base)
        moderator.login(event["moderators"][0])
        prefix = f"/d/{SLUG}/amendments"
        failures = 0
        totals: dict[str, list] = collections.defaultdict(list)
        for round_ in range(args.rounds):
            # Supports and proposals on the same section at the same moment.
            target, _ = fresh_amendment(app, event, event["delegates"][0])
            actions = []
            for i, browser in enumerate(delegates[1:26]):
                if i % 2:
                    actions.append((browser, f"{prefix}/{target}/support", {}))
                else:
                    actions.append((browser, f"{prefix}/new", {
                        "kind": "modify", "section_id": event["section"], "base_version_id": event["version"],
                        "heading": "", "body": event["body"] + f" Round {round_}, idea {i}.",
                        "reason": "Load.", "action": "submit"}))
            totals["supports and proposals on one section"] += burst(actions)
            # Supports while a moderator decides.
            target, revision = fresh_amendment(app, event, event["delegates"][0])
            actions = [(browser, f"{prefix}/{target}/support", {}) for browser in delegates[1:13]]
            actions.append((moderator, f"{prefix}/{target}/decide",
                            {"decision": "reject", "reason": "Load.", "revision": revision}))
            totals["supports while a moderator decides"] += burst(actions)
            # The author withdraws while a moderator decides.
            for _ in range(16 // args.rounds + 1):
                author = delegates[round_ % len(delegates)]
                target, revision = fresh_amendment(app, event, event["delegates"][round_ % len(delegates)])
                totals["withdraw while deciding"] += burst([
                    (author, f"{prefix}/{target}/withdraw", {"revision": revision, "reason": ""}),
                    (moderator, f"{prefix}/{target}/decide", {"decision": "reject", "reason": "Load.",
                                                              "revision": revision})])
        for name, results in totals.items():
            failures += report(name, results)
        print("5xx answers:", failures)
        return 1 if failures else 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    sys.exit(main())
