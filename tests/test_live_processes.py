"""Live updates across processes: a change made through one gunicorn server reaches a stream held by another.

Two real servers on the test database and the tests' Redis: the events
process (``events:app``) holds the streams, a page server (``wsgi:app``) takes
a participant's support, then a moderator's console action. The notices go
through Redis publish/subscribe, since nothing else joins the two processes;
the projector's stream is handed the new screen, rendered by the events
process from the database. Skipped without Redis.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest
import requests

from manifesto.amendments import services as amendments
from manifesto.audit.states import amendment_scope
from manifesto.documents import services as documents

from harness import PASSWORD, REDIS_URL, free_port, redis_client

ROOT = Path(__file__).resolve().parents[1]


def start_gunicorn(instance: Path, database_url: str, target: str, settings: str) -> tuple[subprocess.Popen, str]:
    """A gunicorn server (one worker, a few threads) of ``target`` on a free port, with its own instance folder."""
    instance.mkdir()
    (instance / "config.py").write_text(settings)
    port = free_port()
    env = {**os.environ, "MANIFESTO_INSTANCE_PATH": str(instance), "DATABASE_URL": database_url,
           "REDIS_URL": REDIS_URL, "SECRET_KEY": "one key for both machines", "WEB_CONCURRENCY": "1",
           "GUNICORN_THREADS": "8", "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_LOG_LEVEL": "warning",
           # A stream ends a second after its client went (the heartbeat finds out), so stopping is quick.
           "GUNICORN_GRACEFUL_TIMEOUT": "2"}
    for name in ("RATELIMIT_STORAGE_URI", "PROMETHEUS_MULTIPROC_DIR", "MANIFESTO_MADE_METRICS_DIR"):
        env.pop(name, None)
    with (instance / "server.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", target], cwd=ROOT,
                                   env=env, stdout=log, stderr=log)
    return process, f"http://127.0.0.1:{port}"


def wait_until_up(process: subprocess.Popen, base: str, instance: Path) -> None:
    """Wait until the server answers its health check; fail with its log when it does not start."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    pytest.fail(f"{base} did not start:\n" + (instance / "server.log").read_text())


def test_a_support_through_one_server_reaches_a_stream_on_another_within_a_second(app, database_url, tmp_path,
                                                                                   make_document, users):
    redis = redis_client()
    prefix = f"test-live-processes:{uuid.uuid4().hex[:8]}:"
    document = make_document(phase="amendments", editor=users["admin"])
    entry = documents.current_sections(document)[0]
    amendment = amendments.propose_amendment(
        users["participant"], document.id, kind="modify", section_id=entry.section.id, heading=None,
        body=entry.version.body.replace("cooperatives", "worker cooperatives", 1), reason="Better.")
    settings = (f"LIVE_PREFIX = {prefix!r}\nWTF_CSRF_ENABLED = False\nRATELIMIT_STORAGE_URI = 'memory://'\n"
                "QUEUE_MODE = 'immediate'\nPAGE_CACHE = 'memory'\n"
                "PASSWORD_HASH_METHOD = 'pbkdf2:sha256:1000'\nLIVE_HEARTBEAT = 0.5\n")
    servers = [start_gunicorn(tmp_path / "events", database_url, "events:app", settings),
               start_gunicorn(tmp_path / "pages", database_url, "wsgi:app", settings)]
    try:
        for (process, base), name in zip(servers, ("events", "pages")):
            wait_until_up(process, base, tmp_path / name)
        (events_process, events_base), (pages_process, pages_base) = servers
        assert events_process.pid != pages_process.pid
        assert requests.get(events_base + "/", timeout=5).status_code == 404  # the events process serves no page

        # A delegate's page holds a stream on the events process.
        topic = amendment_scope(amendment.id)
        address = urllib.parse.urlsplit(events_base)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
        connection.request("GET", f"/live/stream?topic={topic}", headers={"Accept": "text/event-stream"})
        stream = connection.getresponse()
        assert stream.status == 200 and stream.getheader("Content-Type").startswith("text/event-stream")
        assert stream.readline().startswith(b"retry:")  # subscribed: the stream has begun
        arrived: dict[str, float] = {}

        def listen():
            for line in iter(stream.readline, b""):
                if line.strip() == f"data: {topic}".encode():
                    arrived["at"] = time.monotonic()
                    return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()

        # A projector holds a stream that asks for the screen with each notice.
        projector_topic = f"projector:{document.id}"
        projector_connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
        projector_connection.request("GET", f"/live/stream?topic={projector_topic}&content={projector_topic}",
                                     headers={"Accept": "text/event-stream", "Accept-Language": "es"})
        projector_stream = projector_connection.getresponse()
        assert projector_stream.status == 200 and projector_stream.readline().startswith(b"retry:")
        screens: list[tuple[float, str]] = []

        def watch():
            kind, data = None, []
            for line in iter(projector_stream.readline, b""):
                line = line.decode().rstrip("\r\n")
                if line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
                elif not line:
                    if kind == "content" and data and data[0] == projector_topic:
                        screens.append((time.monotonic(), "\n".join(data[1:])))
                        return
                    kind, data = None, []

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()

        # A supporter acts on the page server, another process.
        supporter = requests.Session()
        login = supporter.post(pages_base + "/login", data={"email": users["moderator"].email, "password": PASSWORD},
                               allow_redirects=False, timeout=10)
        assert login.status_code == 302
        started = time.monotonic()
        answer = supporter.post(f"{pages_base}/d/{document.slug}/amendments/{amendment.id}/support",
                                data={"action": "support"}, allow_redirects=False, timeout=10)
        assert answer.status_code == 302
        listener.join(timeout=3)
        assert "at" in arrived, "the notice never reached the other process's stream"
        assert arrived["at"] - started < 1.0

        # The moderator puts the amendment on the projector: the events process renders the screen, in Spanish.
        started = time.monotonic()
        answer = supporter.post(f"{pages_base}/d/{document.slug}/console/amendment",
                                data={"amendment_id": amendment.id, "revision": "0"}, allow_redirects=False,
                                timeout=10)
        assert answer.status_code == 303
        watcher.join(timeout=3)
        assert screens, "the projector's stream was not handed the new screen"
        at, html = screens[0]
        assert at - started < 1.0
        assert amendment.code in html and "Propuesto por" in html
        projector_connection.close()
        connection.close()
    finally:
        for process, _ in servers:
            process.terminate()
        for process, _ in servers:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        keys = list(redis.scan_iter(prefix + "*"))
        if keys:
            redis.delete(*keys)
