"""Time the import of delegates from a CSV file: 1,000 and 10,000 rows, request included.

Usage: python scripts/bench_import.py [--rows 1000 10000] [--database-url postgresql://...]
                                      [--redis-url redis://127.0.0.1:6379/13]

Without ``--database-url`` (or ``DATABASE_URL``) the script builds a fresh
SQLite database in a temporary folder. With one, it builds the schema there
(``flask db upgrade``) and adds its accounts under addresses of its own run
(``bench-<random>-<n>@example.org``): use a scratch database. The mail jobs
wait in a SQLite file of the temporary folder, or with ``--redis-url`` in
that Redis database, as in production; the script empties that queue when
it is done, so give it a Redis database number nobody else uses.

For each size it logs in as an admin through the test client and times, as
an admin's browser would send them, the upload (the preview: parse, check,
look the accounts up) and the import button (one transaction: insert, events,
the invitation mails queued), then the same file again (nothing changes) and
a file that renames a tenth of the people and adds a tenth more. Mail is not
sent in the request: the queue runs in ``worker`` mode, so the invitations
wait for a worker, as in production; queueing them is timed. Times are
server-side: no network, no browser.
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402
from werkzeug.datastructures import FileStorage  # noqa: E402
from werkzeug.test import encode_multipart  # noqa: E402

PASSWORD = "bench-import-password-long-enough"
HEADER = "name,email,organisation,country,role,language"


def delegates(run: str, count: int, *, renamed: int = 0, extra: int = 0) -> bytes:
    """A CSV file of ``count`` delegates (the first ``renamed`` with a new name), plus ``extra`` new ones."""
    languages = ("en", "fr", "es", "")
    lines = [HEADER]
    for i in range(count + extra):
        name = f"Delegate {i}" + (" (renamed)" if i < renamed else "")
        role = "moderator" if i % 50 == 0 else "participant"
        lines.append(f'"{name}",bench-{run}-{i}@example.org,"Organisation {i % 300}",Country {i % 120},'
                     f"{role},{languages[i % 4]}")
    return ("\r\n".join(lines) + "\r\n").encode()


def timed(call) -> tuple[float, object]:
    """Milliseconds a call takes, and its result."""
    start = time.perf_counter()
    result = call()
    return (time.perf_counter() - start) * 1000, result


def hidden(page: str, name: str) -> str:
    """The value of a hidden field of a page."""
    import re
    from html import unescape

    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page)
    if not match:
        raise SystemExit(f"no {name} on the preview page:\n{page[:3000]}")
    return unescape(match.group(1))


def run_import(client, data: bytes) -> tuple[float, float, str]:
    """Upload and import one file; the preview's and the import's milliseconds, and what the import said."""
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), filename="delegates.csv")})
    preview_ms, response = timed(lambda: client.post("/admin/users/import", data=body,
                                                     content_type=f"multipart/form-data; boundary={boundary}"))
    page = response.get_data(as_text=True)
    if response.status_code != 200:
        raise SystemExit(f"preview answered {response.status_code}:\n{page[:3000]}")
    form = {"payload": hidden(page, "payload"), "digest": hidden(page, "digest")}
    import_ms, response = timed(lambda: client.post("/admin/users/import/confirm", data=form))
    if response.status_code != 302:
        raise SystemExit(f"import answered {response.status_code}:\n{response.get_data(as_text=True)[:3000]}")
    with client.session_transaction() as session:
        said = " ".join(message for _category, message in session.get("_flashes", []))
        session.pop("_flashes", None)
    return preview_ms, import_ms, said


def main() -> None:
    """Build the app and the database, then time each size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--redis-url", help="queue the mail jobs in this Redis database (emptied afterwards)")
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="bench-import-")
    os.environ["MANIFESTO_INSTANCE_PATH"] = instance
    from flask_migrate import upgrade

    from manifesto import create_app, jobs
    from manifesto.accounts.models import User
    from manifesto.accounts.services import register_user
    from manifesto.extensions import db

    url = args.database_url or "sqlite:///" + str(Path(instance) / "bench.sqlite")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(16), "WTF_CSRF_ENABLED": False,
                      "QUEUE_MODE": "worker", "RATELIMIT_ENABLED": False, "EMAIL_VERIFICATION": "off",
                      "SERVER_NAME": "localhost", "IMPORT_MAX_ROWS": max(args.rows) * 2,
                      "REDIS_URL": args.redis_url})
    run = secrets.token_hex(3)
    with app.app_context():
        upgrade()
        admin = register_user(f"bench-{run}-admin@example.org", "Bench Admin", PASSWORD, role="admin")
        engine = db.engine.dialect.name
        client = app.test_client()
        response = client.post("/login", data={"email": admin.email, "password": PASSWORD})
        if response.status_code != 302:
            raise SystemExit(f"login answered {response.status_code}")
        queue = "Redis" if args.redis_url else "SQLite"
        print(f"Import of delegates on {engine} ({url.split('@')[-1]}), request included; "
              f"mail queued in {queue}, not sent")
        print(f"{'rows':>7} {'file':>8} {'what':<28} {'preview':>9} {'import':>9} {'total':>9}")
        for count in args.rows:
            size_run = f"{run}-{count}"
            first = delegates(size_run, count)
            updated = delegates(size_run, count, renamed=count // 10, extra=count // 10)
            queued_before = jobs.pending_jobs()
            for label, data in (("new accounts, invited", first), ("the same file again", first),
                                ("10% renamed, 10% new", updated)):
                preview_ms, import_ms, said = run_import(client, data)
                print(f"{count:>7} {len(data) / 1024:>6.0f}KB {label:<28} {preview_ms:>7.0f}ms {import_ms:>7.0f}ms "
                      f"{preview_ms + import_ms:>7.0f}ms  {said}")
            accounts = db.session.scalar(select(func.count()).select_from(User)
                                         .where(User.email.like(f"bench-{size_run}-%")))
            print(f"{'':>7} {accounts} accounts, {jobs.pending_jobs() - queued_before} mail jobs waiting for a worker")
        jobs.huey.flush()  # the invitations to example.org stay unsent


if __name__ == "__main__":
    main()
