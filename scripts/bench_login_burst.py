"""The convention's morning: N delegates behind ONE address log in through gunicorn, with Argon2id.

Usage::

    .venv/bin/python scripts/bench_login_burst.py                          # 800 logins within 300 s, SQLite
    .venv/bin/python scripts/bench_login_burst.py --within 60               # the same 800 in one minute
    .venv/bin/python scripts/bench_login_burst.py --database-url postgresql://postgres@127.0.0.1/benchlogin \\
        --redis-url redis://127.0.0.1:6379/12

It makes a fresh instance (SQLite in a temporary folder unless ``--database-url``),
creates ``--users`` accounts sharing one Argon2id hash made with the app's own
settings (the same cost per login as distinct hashes), starts gunicorn
(``gunicorn.conf.py``: ``--workers`` processes of 4 threads) with the rate limits
ON, and lets ``--clients`` threads log the accounts in, at an even pace that
spreads them over ``--within`` seconds, all from 127.0.0.1: one address, as a
hall behind one NAT. Each login is what a browser does: GET /login (session
cookie and CSRF token), then POST /login. The script prints the POST's latency
(p50, p95, p99, max), the statuses (any 429 means a delegate was slowed), and the
CPU the server used per login.

It measures; it asserts nothing (the tests check that 800 logins from one
address pass: tests/test_limits.py).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "a phrase of several words, typed at the door"
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def free_port() -> int:
    """A port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(env: dict[str, str], users: int) -> None:
    """Migrate the database and add the accounts (one Argon2id hash, shared)."""
    subprocess.run([sys.executable, "-m", "flask", "--app", "manifesto", "db", "upgrade"], env=env, check=True,
                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    code = f"""
from manifesto import create_app
from manifesto.extensions import db
from manifesto.accounts.models import User
from manifesto.accounts.passwords import hash_password
from manifesto.services import utcnow
app = create_app()
with app.app_context():
    stored = hash_password({PASSWORD!r})
    now = utcnow()
    db.session.execute(User.__table__.insert(), [
        dict(email=f"delegate{{i}}@example.org", name=f"Delegate {{i}}", password_hash=stored, role="participant",
             active=True, credit_in_exports=False, session_token=f"t{{i}}", created_at=now, email_verified_at=now,
             awaiting_approval=False, totp_failures=0)
        for i in range({users})])
    db.session.commit()
    print(stored.split("$")[3])
"""
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=ROOT, capture_output=True, text=True)
    print(f"{users} accounts, Argon2id {out.stdout.strip()}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children so far (Linux /proc)."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, IndexError, ValueError):
            pass
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=800)
    parser.add_argument("--within", type=float, default=300.0, help="seconds over which the logins are spread")
    parser.add_argument("--clients", type=int, default=32, help="browsers logging in at once, at most")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="bench-login-")
    env = {**os.environ, "MANIFESTO_INSTANCE_PATH": instance, "QUEUE_MODE": "worker", "PAGE_CACHE": "memory",
           "WEB_CONCURRENCY": str(args.workers), "RATELIMIT_ENABLED": "true", "FLASK_DEBUG": "0"}
    env.pop("DATABASE_URL", None)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    prepare(env, args.users)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}",
                               "wsgi:app"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                requests.get(base + "/healthz", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        latencies: list[float] = []
        statuses: Counter = Counter()
        lock = threading.Lock()
        gap = args.within / args.users
        start = time.monotonic()
        next_index = iter(range(args.users))

        def client() -> None:
            while True:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                due = start + index * gap
                if due > time.monotonic():
                    time.sleep(due - time.monotonic())
                browser = requests.Session()
                page = browser.get(base + "/login", timeout=30)
                found = TOKEN.search(page.text)
                data = {"email": f"delegate{index}@example.org", "password": PASSWORD,
                        "csrf_token": found.group(1) if found else ""}
                began = time.perf_counter()
                answer = browser.post(base + "/login", data=data, allow_redirects=False, timeout=60)
                took = time.perf_counter() - began
                with lock:
                    latencies.append(took)
                    ok = answer.status_code == 302 and "/login" not in answer.headers.get("Location", "")
                    statuses["logged in" if ok else str(answer.status_code)] += 1

        cpu_before = cpu_seconds(server.pid)
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - start
        cpu = cpu_seconds(server.pid) - cpu_before
        latencies.sort()

        def pct(p: float) -> float:
            return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

        print(f"{args.users} logins from one address in {elapsed:.1f} s ({args.users / elapsed:.1f}/s), "
              f"{args.workers} gunicorn workers, {'PostgreSQL' if args.database_url else 'SQLite'}")
        print(f"POST /login: p50 {pct(50):.0f} ms, p95 {pct(95):.0f} ms, p99 {pct(99):.0f} ms, "
              f"max {latencies[-1] * 1000:.0f} ms, mean {statistics.mean(latencies) * 1000:.0f} ms")
        print(f"outcomes: {dict(statuses)}")
        print(f"server CPU: {cpu:.1f} s in all, {cpu / args.users * 1000:.0f} ms per login (GET + POST)")
        return 0 if statuses.get("logged in") == args.users else 1
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
