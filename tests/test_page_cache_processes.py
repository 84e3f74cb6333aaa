"""Two app processes on one database and one Redis: a write through one is never followed by a stale page from the other.

Each process keeps its own memory tier and shares the Redis tier; the
content state that keys both is read from the database, so neither can
serve a page from before a write the other committed. The servers are real
processes (Werkzeug's threaded server) speaking HTTP, and the moderator edits
through the real form with its CSRF token.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from harness import REDIS_URL, _config, redis_client, serve_app

PASSWORD = "a moderator's long password"


def _prepare(tmp_path: Path) -> tuple[str, int]:
    """A SQLite database built by the migrations, with a moderator and a one-section document."""
    from flask_migrate import upgrade

    from manifesto import create_app
    from manifesto.accounts.services import register_user
    from manifesto.documents import services as documents
    from manifesto.extensions import db

    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    app = create_app(_config(url))
    with app.app_context():
        upgrade()
        moderator = register_user("mod@example.org", "Moderator", PASSWORD, None, None, role="admin")
        document = documents.create_document(moderator, title="Shared", slug="shared", introduction="")
        section = documents.create_section(moderator, document.id, heading="The section", body="Version zero.",
                                           reason="First.", after_section_id=None)
        section_id = section.id
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return url, section_id


def _serve(tmp_path: Path, name: str, url: str, prefix: str) -> tuple[subprocess.Popen, str]:
    """Start one app process on its own port and instance folder, caching in the shared Redis."""
    return serve_app(tmp_path / f"instance-{name}", url, f"PAGE_CACHE = 'redis'\nPAGE_CACHE_PREFIX = {prefix!r}\n"
                     "QUEUE_MODE = 'immediate'\n")


def _csrf(html: str) -> str:
    """The CSRF token of the page's first form."""
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in the tests' Redis database, removed afterwards."""
    client = redis_client()
    prefix = f"manifesto:test-processes:{time.monotonic_ns()}:"
    yield prefix
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)


def test_a_write_through_one_process_is_never_followed_by_a_stale_page_from_the_other(tmp_path, redis_prefix):
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("runs on a SQLite file of its own; the PostgreSQL run builds its schema by the same migrations")
    url, section_id = _prepare(tmp_path)
    servers = [_serve(tmp_path, name, url, redis_prefix) for name in ("a", "b")]
    try:
        (_, a), (_, b) = servers
        moderator = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        reader = urllib.request.build_opener()  # a visitor: no cookies at all

        def get(opener, url: str) -> str:
            with opener.open(url, timeout=10) as response:
                return response.read().decode()

        def post(path: str, fields: dict) -> str:
            with moderator.open(a + path, data=urllib.parse.urlencode(fields).encode(), timeout=10) as response:
                return response.read().decode()

        login_page = get(moderator, a + "/login")
        post("/login", {"csrf_token": _csrf(login_page), "email": "mod@example.org", "password": PASSWORD})
        for round_ in range(1, 6):
            # Both processes hold the current page, in memory and in Redis.
            for base in (a, b):
                assert f"Version {round_ - 1 or 'zero'}" in get(reader, base + "/d/shared/")
            form = get(moderator, a + f"/d/shared/sections/{section_id}/edit")
            post(f"/d/shared/sections/{section_id}/edit",
                 {"csrf_token": _csrf(form), "heading": "The section", "body": f"Version {round_}.",
                  "reason": f"Round {round_}.", "base_version": str(round_)})
            page = get(reader, b + "/d/shared/")
            assert f"Version {round_}." in page, f"process b served a stale page after round {round_}"
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait(timeout=10)
