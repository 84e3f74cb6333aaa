"""Server time of the writes a convention makes most: commenting, supporting and deciding, at seed-scale.

Usage::

    MANIFESTO_INSTANCE_PATH=/tmp/scale-sqlite .venv/bin/python scripts/bench_writes.py --repeat 50
    MANIFESTO_INSTANCE_PATH=/tmp/scale-sqlite .venv/bin/python scripts/bench_writes.py --profile accept

The app is configured from the environment exactly as ``flask`` is, so point
it at a database filled by ``flask --app manifesto seed-scale`` (the issue's
target is SQLite: each write under 50 ms median). On SQLite the script works
on a copy of the database (SQLite's backup API, into a temporary instance
folder), so every run starts from the same event and the seeded file is left
as it was; on PostgreSQL (``DATABASE_URL``) it writes into that database.

It logs in through the test client (CSRF off, as ``bench_pages.py`` does) and
times ``client.post`` of each write, the whole request: the view, the
service, the audit event, the notifications' fan-out, the search index, the
queue's job for the mail (``QUEUE_MODE=worker``: queued, not sent, as with a
separate worker) and whatever else a write does in the code measured (cache
invalidation). Per kind, ``--repeat`` times, after one warm-up, on different
targets, by different people:

- comment on an amendment, comment on a section (a delegate each);
- support an open amendment (a delegate who neither wrote nor supports it);
- reject and accept an open amendment that needs a decision (a moderator;
  accepted ones are taken one per section, so none conflicts the next).

It prints median, p95 and max in ms, the median CPU time of the process
per write (less sensitive to other load on a shared machine), the SQL
statements of the median request, and the answer's status (a redirect is
success). ``--profile KIND``
runs that kind under cProfile and prints the top functions by cumulative and
by own time (``--dump FILE`` keeps the raw profile, for pstats' callers and
callees). Times are server-side: no network, no browser.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Measure the write, not the mail: the job is queued as for a separate worker, not run in this process.
os.environ.setdefault("QUEUE_MODE", "worker")

KINDS = ("comment_amendment", "comment_section", "support", "reject", "accept")
TRANSACTION_CONTROL = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)", re.I)


def copy_sqlite(instance: Path) -> Path:
    """Copy the instance's SQLite database (and secret key) into a fresh temporary instance folder."""
    source = instance / "manifesto.sqlite"
    if not source.exists():
        sys.exit(f"No SQLite database at {source}: run `flask --app manifesto seed-scale` with "
                 "MANIFESTO_INSTANCE_PATH pointing there first.")
    target = Path(tempfile.mkdtemp(prefix="bench-writes-"))
    with sqlite3.connect(source) as src, sqlite3.connect(target / "manifesto.sqlite") as dst:
        src.backup(dst)
    if (instance / "secret_key").exists():
        (target / "secret_key").write_text((instance / "secret_key").read_text())
    return target


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of ``values`` (share in 0..1)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(share * len(ordered) + 0.5)) - 1))]


def main(argv: list[str] | None = None) -> int:
    """Copy the database, find targets, time each kind of write, print the table (and a profile)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slug", default="convention")
    parser.add_argument("--repeat", type=int, default=50, help="Timed writes per kind (default: 50).")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"Comma-separated, of {', '.join(KINDS)}.")
    parser.add_argument("--profile", choices=KINDS, default=None, help="Profile this kind and print the top.")
    parser.add_argument("--top", type=int, default=40, help="Rows of the profile (default: 40).")
    parser.add_argument("--dump", type=Path, default=None,
                        help="With --profile: also save the raw profile there (for pstats: callers, callees).")
    parser.add_argument("--in-place", action="store_true", help="SQLite: write into the seeded file itself.")
    parser.add_argument("--code", type=Path, default=ROOT,
                        help="Tree to measure (default: this repository; a git worktree for 'before').")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.code.resolve()))
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    if args.profile and args.profile not in kinds:
        kinds.append(args.profile)

    if not os.environ.get("DATABASE_URL") and not args.in_place:
        instance = Path(os.environ.get("MANIFESTO_INSTANCE_PATH") or ROOT / "instance")
        os.environ["MANIFESTO_INSTANCE_PATH"] = str(copy_sqlite(instance))

    # Imported here, not at the top: --code chooses which tree's manifesto this is.
    from sqlalchemy import event, func, select

    from manifesto import create_app
    from manifesto.accounts.models import User
    from manifesto.amendments.models import Amendment, Kind, Status, Support
    from manifesto.documents.models import Document, Section
    from manifesto.extensions import db
    from manifesto.seed.scale import SCALE_PASSWORD

    app = create_app({"WTF_CSRF_ENABLED": False})
    need = args.repeat + 1  # one warm-up each
    with app.app_context():
        engine = db.engine
        document = db.session.scalar(select(Document).where(Document.slug == args.slug))
        if document is None:
            sys.exit(f"No document {args.slug!r}: run seed-scale first.")
        domain = f"@{args.slug}.example.org"
        delegates = db.session.execute(select(User.id, User.email).where(
            User.role == "participant", User.email.endswith(domain)).order_by(User.id)).all()
        moderator = db.session.scalar(select(User.email).where(User.role == "moderator", User.email.endswith(domain))
                                      .order_by(User.id).limit(1))
        base = (Amendment.document_id == document.id, Amendment.status == Status.SUBMITTED.value)
        deciding = select(Amendment.id, Amendment.section_id, Amendment.revision).where(
            *base, Amendment.conflicted.is_(False), Amendment.support_count >= document.min_supporters,
            Amendment.kind == Kind.MODIFY.value).order_by(Amendment.number)
        decidable = db.session.execute(deciding).all()
        one_per_section, seen = [], set()
        for row in decidable:
            if row.section_id not in seen:
                seen.add(row.section_id)
                one_per_section.append(row)
        accept_targets = one_per_section[:need]
        taken = {row.id for row in accept_targets}
        reject_targets = [row for row in decidable if row.id not in taken][:need]
        open_ids = db.session.scalars(select(Amendment.id).where(*base).order_by(Amendment.number.desc())).all()
        authors = dict(db.session.execute(select(Amendment.id, Amendment.author_id).where(*base)).all())
        supports = {(a, u) for a, u in db.session.execute(select(Support.amendment_id, Support.user_id))}
        support_targets = []
        open_pool = [a for a in open_ids if a not in taken and a not in {r.id for r in reject_targets}]
        for i, amendment_id in enumerate(open_pool):
            user_id, email = delegates[(i * 7) % len(delegates)]
            if authors.get(amendment_id) != user_id and (amendment_id, user_id) not in supports:
                support_targets.append((amendment_id, email))
            if len(support_targets) == need:
                break
        sections = db.session.scalars(select(Section.id).where(Section.document_id == document.id,
                                                               Section.retired_at.is_(None))
                                      .order_by(Section.position)).all()
        dialect = engine.dialect.name
        counts = {"amendments": db.session.scalar(select(func.count()).select_from(Amendment)
                                                  .where(Amendment.document_id == document.id))}
        db.session.remove()
    if min(len(accept_targets), len(reject_targets), len(support_targets)) < need:
        print(f"note: fewer targets than asked (accept {len(accept_targets)}, reject {len(reject_targets)}, "
              f"support {len(support_targets)})")

    thread = threading.get_ident()
    queries = {"n": 0}

    def count(conn, cursor, statement, *_args):
        """Count the measuring thread's statements."""
        if threading.get_ident() == thread and not TRANSACTION_CONTROL.match(statement):
            queries["n"] += 1

    event.listen(engine, "before_cursor_execute", count)
    clients: dict[str, object] = {}

    def client_for(email: str):
        """A logged-in test client of ``email`` (one per person)."""
        if email not in clients:
            client = app.test_client()
            response = client.post("/login", data={"email": email, "password": SCALE_PASSWORD})
            if response.status_code != 302:
                sys.exit(f"Could not log in as {email} (HTTP {response.status_code}).")
            clients[email] = client
        return clients[email]

    prefix = f"/d/{args.slug}"
    comment = "The committee should look at the financing of this before the vote. " * 2

    def writes(kind: str) -> list[tuple]:
        """(client, url, form) of each write of ``kind``, the warm-up first."""
        if kind == "comment_amendment":
            return [(client_for(delegates[(i * 13) % len(delegates)][1]), f"{prefix}/amendments/{a}/comments",
                     {"body": comment}) for i, a in enumerate(open_ids[:need])]
        if kind == "comment_section":
            return [(client_for(delegates[(i * 17 + 3) % len(delegates)][1]),
                     f"{prefix}/sections/{sections[(i * 5) % len(sections)]}/comments",
                     {"body": comment, "quote": ""}) for i in range(need)]
        if kind == "support":
            return [(client_for(email), f"{prefix}/amendments/{a}/support", {"action": "support"})
                    for a, email in support_targets]
        targets = accept_targets if kind == "accept" else reject_targets
        moderating = client_for(moderator)
        return [(moderating, f"{prefix}/amendments/{row.id}/decide",
                 {"decision": kind, "reason": "Decided by the benchmark.", "revision": row.revision})
                for row in targets]

    results = []
    for kind in kinds:
        planned = writes(kind)  # logins happen here, outside the timing
        times, cpu, statements, statuses = [], [], [], {}
        profiler = cProfile.Profile() if kind == args.profile else None
        for number, (client, url, form) in enumerate(planned):
            queries["n"] = 0
            if profiler and number:
                profiler.enable()
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.post(url, data=form)
            elapsed = (time.perf_counter() - start) * 1000
            used = (time.process_time() - start_cpu) * 1000
            if profiler:
                profiler.disable()
            response.close()
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if number:  # the first is the warm-up
                times.append(elapsed)
                cpu.append(used)
                statements.append(queries["n"])
        if times:
            median_index = sorted(range(len(times)), key=times.__getitem__)[len(times) // 2]
            results.append((kind, len(times), statistics.median(times), percentile(times, 0.95), max(times),
                            statistics.median(cpu), statements[median_index], statuses))
        if profiler:
            if args.dump:
                profiler.dump_stats(args.dump)
            for order in ("cumulative", "tottime"):
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(args.top)
                print(f"--- profile of {kind}, {len(times)} writes, by {order} ---")
                print(out.getvalue().split("\n", 4)[-1] if "function calls" in out.getvalue() else out.getvalue())
    event.remove(engine, "before_cursor_execute", count)

    print(f"{dialect}: /d/{args.slug}/ ({counts['amendments']} amendments), {args.repeat} timed writes per kind "
          "(after one warm-up), server time of the whole request")
    print(f"{'write':<20} {'n':>4} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'CPU ms':>7} {'queries':>8}  statuses")
    for kind, n, median, p95, worst, cpu_median, statements, statuses in results:
        note = "  (under cProfile: slower than without)" if kind == args.profile else ""
        print(f"{kind:<20} {n:>4} {median:>10.1f} {p95:>8.1f} {worst:>8.1f} {cpu_median:>7.1f} {statements:>8}  "
              f"{statuses}{note}")
    print("CPU ms: median CPU time of this process per write (SQLite works in it; PostgreSQL's share is not in "
          "it), which other load on a shared machine changes less than the wall time.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
