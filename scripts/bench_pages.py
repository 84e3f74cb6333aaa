"""Benchmark the heaviest pages on a convention-sized database.

Usage: python scripts/bench_pages.py --slug convention --repeat 20 [--language fr]

The app is configured from the environment exactly as ``flask`` is
(DATABASE_URL, MANIFESTO_INSTANCE_PATH, instance/config.py), so point it at
a database filled by ``flask --app manifesto seed-scale``. The script logs
in as a moderator and as a participant of that event (password
``scale-password``) through the test client and, for every page and role,
times ``client.get`` (median and p95 over ``--repeat`` runs, after one
warm-up), counts the SQL statements one request runs and reports the size
of the response. Times are server-side: no network, no browser. With the page cache on (the
default) the timed requests are served from it after the warm-up, and the
script says how much memory the cached pages take; ``PAGE_CACHE=off`` in the
environment measures rendering every time.
"""

from __future__ import annotations

import argparse
import re
import statistics
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# Measure pages, not mail: no in-process queue consumer (a separate worker would send it).
os.environ.setdefault("QUEUE_MODE", "worker")

from sqlalchemy import event, func, select  # noqa: E402

from manifesto import create_app  # noqa: E402
from manifesto.accounts.models import User  # noqa: E402
from manifesto.amendments.models import Amendment, Collision, Kind, Status  # noqa: E402
from manifesto.discussion.models import Comment  # noqa: E402
from manifesto.documents.models import Document, Section  # noqa: E402
from manifesto.extensions import db  # noqa: E402
from manifesto.seed.scale import SCALE_PASSWORD  # noqa: E402

TRANSACTION_CONTROL = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)", re.I)


@dataclass
class Result:
    """The measurements of one page for one role."""

    label: str
    role: str
    url: str
    status: int
    median_ms: float
    p95_ms: float
    queries: int
    size_kb: float


class QueryCounter:
    """Counts the SQL statements the requests run (transaction control left out).

    Only statements of the thread that created it count: a job queue working
    in the background of the same process is not the page's doing.
    """

    def __init__(self, engine):
        """Listen on ``engine``."""
        self.count = 0
        self.engine = engine
        self.thread = threading.get_ident()
        event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        """Count one statement of the measuring thread."""
        if threading.get_ident() == self.thread and not TRANSACTION_CONTROL.match(statement):
            self.count += 1

    def close(self) -> None:
        """Stop listening."""
        event.remove(self.engine, "before_cursor_execute", self._before)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of ``values`` (share in 0..1)."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, int(round(share * len(ordered) + 0.5)) - 1))
    return ordered[index]


def find_targets(slug: str) -> dict:
    """Look up the document and the sections, amendments and accounts worth measuring."""
    document = db.session.scalar(select(Document).where(Document.slug == slug))
    if document is None:
        sys.exit(f"No document with the slug {slug!r}: run `flask --app manifesto seed-scale --slug {slug}` first.")
    in_doc = Amendment.document_id == document.id
    open_ = Amendment.status == Status.SUBMITTED.value
    colliding = select(Collision.amendment_id).union(select(Collision.other_id))
    plain = db.session.scalar(select(Amendment.id).where(
        in_doc, open_, Amendment.kind == Kind.MODIFY.value, Amendment.conflicted.is_(False),
        Amendment.revision == 1, Amendment.id.not_in(colliding)).order_by(Amendment.number).limit(1))
    conflicted = db.session.scalar(select(Amendment.id).where(in_doc, open_, Amendment.conflicted.is_(True))
                                   .order_by(Amendment.number).limit(1))
    accepted = db.session.scalar(select(Amendment.id).where(
        in_doc, Amendment.status == Status.ACCEPTED.value, Amendment.kind == Kind.MODIFY.value)
        .order_by(Amendment.number).limit(1))
    most_revised = db.session.scalar(select(Amendment.id).where(in_doc, Amendment.status != Status.DRAFT.value)
                                     .order_by(Amendment.revision.desc(), Amendment.number).limit(1))
    busiest = db.session.scalar(select(Amendment.section_id).where(in_doc, Amendment.kind != Kind.INSERT.value)
                                .group_by(Amendment.section_id).order_by(func.count().desc(), Amendment.section_id)
                                .limit(1))
    versioned = db.session.execute(select(Section.id, Section.version_count).where(
        Section.document_id == document.id, Section.version_count >= 10)
        .order_by(Section.version_count.desc(), Section.id).limit(1)).first()
    talked_section = db.session.execute(
        select(Comment.section_id, func.count()).where(Comment.document_id == document.id,
                                                       Comment.section_id.is_not(None))
        .group_by(Comment.section_id).order_by(func.count().desc(), Comment.section_id).limit(1)).first()
    talked_amendment = db.session.execute(
        select(Comment.amendment_id, func.count()).where(Comment.document_id == document.id,
                                                         Comment.amendment_id.is_not(None))
        .group_by(Comment.amendment_id).order_by(func.count().desc(), Comment.amendment_id).limit(1)).first()
    domain = f"@{slug}.example.org"
    moderator = db.session.scalar(select(User.email).where(User.role == "moderator", User.email.endswith(domain))
                                  .order_by(User.id).limit(1))
    participant = db.session.scalar(select(User.email).where(User.role == "participant", User.email.endswith(domain))
                                    .order_by(User.id).limit(1))
    return {"plain": plain, "conflicted": conflicted, "accepted": accepted, "most_revised": most_revised,
            "busiest_section": busiest, "versioned": versioned, "moderator": moderator, "participant": participant,
            "talked_section": talked_section, "talked_amendment": talked_amendment,
            "revisions": db.session.scalar(select(Amendment.revision).where(Amendment.id == most_revised))}


def pages(slug: str, t: dict) -> list[tuple[str, str]]:
    """The (label, URL) pairs to measure."""
    base = f"/d/{slug}"
    found = [("document", f"{base}/"), ("document, line numbers", f"{base}/?lines=1"),
             ("amendments, default", f"{base}/amendments/"),
             ("amendments, all", f"{base}/amendments/?status=all"),
             ("amendments, all by section", f"{base}/amendments/?status=all&sort=section"),
             ("amendments, all, page 40", f"{base}/amendments/?status=all&page=40")]
    if t["busiest_section"]:
        found.append(("amendments, busiest section", f"{base}/amendments/?status=all&section={t['busiest_section']}"))
    found.append(("amendments, conflicted", f"{base}/amendments/?conflicted=1"))
    for key, label in (("plain", "open"), ("conflicted", "conflicted"), ("accepted", "accepted"),
                       ("most_revised", f"{t['revisions']} revisions")):
        if t[key]:
            found.append((f"amendment, {label}", f"{base}/amendments/{t[key]}"))
            found.append((f"amendment, {label}, side", f"{base}/amendments/{t[key]}?view=side"))
    if t["versioned"]:
        section_id, count = t["versioned"]
        found.append((f"section, {count} versions", f"{base}/sections/{section_id}"))
        found.append((f"compare v1..v{count}", f"{base}/sections/{section_id}/compare?from=1&to={count}"))
        found.append((f"compare v1..v{count}, side", f"{base}/sections/{section_id}/compare?from=1&to={count}&view=side"))
    if t["talked_section"]:
        section_id, count = t["talked_section"]
        found.append((f"section, {count} comments", f"{base}/sections/{section_id}"))
    if t["talked_amendment"]:
        amendment_id, count = t["talked_amendment"]
        found.append((f"amendment, {count} comments", f"{base}/amendments/{amendment_id}"))
    return found


def measure(client, counter: QueryCounter, label: str, role: str, url: str, repeat: int) -> Result:
    """Time ``repeat`` GETs of ``url`` after one warm-up; count the queries of the last one."""
    client.get(url)  # warm-up: templates compiled, flashed messages consumed
    times, queries, response = [], 0, None
    for _ in range(repeat):
        counter.count = 0
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        queries = counter.count
        response.close()
    return Result(label, role, url, response.status_code, statistics.median(times), percentile(times, 0.95),
                  queries, len(response.data) / 1024)


def print_table(results: list[Result], header: str) -> None:
    """Print the results as an aligned table."""
    columns = ["page", "role", "status", "median ms", "p95 ms", "queries", "KB"]
    rows = [[r.label, r.role, str(r.status), f"{r.median_ms:.1f}", f"{r.p95_ms:.1f}", str(r.queries),
             f"{r.size_kb:.0f}"] for r in results]
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(columns)]
    align = ["<", "<", ">", ">", ">", ">", ">"]

    def line(cells: list[str]) -> str:
        """One row, padded."""
        return "  ".join(f"{cell:{a}{w}}" for cell, a, w in zip(cells, align, widths, strict=True))

    print(header)
    print(line(columns))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, log in, measure every page and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slug", default="convention", help="The generated document (default: convention).")
    parser.add_argument("--repeat", type=int, default=20, help="Timed requests per page and role (default: 20).")
    parser.add_argument("--password", default=SCALE_PASSWORD, help="Password of the scale accounts.")
    parser.add_argument("--language", default="en", choices=["en", "fr", "es"],
                        help="The language the browser asks for (Accept-Language; default: en).")
    parser.add_argument("--roles", default="moderator,participant",
                        help="Comma-separated roles to measure as (default: moderator,participant).")
    args = parser.parse_args(argv)

    app = create_app({"WTF_CSRF_ENABLED": False})
    # Look everything up in a context of our own, then leave it, so that each
    # request below runs in its own app context and session, as in production.
    with app.app_context():
        targets = find_targets(args.slug)
        engine = db.engine
        dialect = engine.dialect.name
        db.session.remove()
    counter = QueryCounter(engine)
    results: list[Result] = []
    try:
        for role in [r.strip() for r in args.roles.split(",") if r.strip()]:
            email = targets.get(role)
            if not email:
                sys.exit(f"No {role} account of {args.slug!r} found.")
            client = app.test_client()
            client.environ_base["HTTP_ACCEPT_LANGUAGE"] = args.language
            login = client.post("/login", data={"email": email, "password": args.password})
            if login.status_code != 302:
                sys.exit(f"Could not log in as {email} (status {login.status_code}).")
            for label, url in pages(args.slug, targets):
                results.append(measure(client, counter, label, role, url, args.repeat))
    finally:
        counter.close()
    print_table(results, f"{dialect}: /d/{args.slug}/ in {args.language}, {args.repeat} timed requests per row "
                         "(after one warm-up)")
    cache = app.extensions.get("manifesto.pagecache")
    if cache is None or cache.memory is None:
        print("page cache: off (PAGE_CACHE=off): every row above was rendered")
    else:
        print(f"page cache: served from memory after the warm-up; this process holds {len(cache.memory)} pages in "
              f"{cache.memory.bytes / 1024 / 1024:.1f} MiB (bound {cache.memory.max_bytes / 1024 / 1024:.0f} MiB). "
              "PAGE_CACHE=off measures rendering.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
