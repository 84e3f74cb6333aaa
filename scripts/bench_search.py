"""Benchmark full-text search on a convention-sized database, on whichever engine it runs.

Usage: python scripts/bench_search.py --slug convention --repeat 20 [--comments 20000]

The app is configured from the environment exactly as ``flask`` is
(DATABASE_URL, MANIFESTO_INSTANCE_PATH), so point it at a database filled by
``flask --app manifesto seed-scale``. For a set of realistic queries (common
and rare words, phrases of the event's vocabulary, an amendment code, a
stop word, operators typed by mistake) it times the search service (counts
per kind, one page of ranked results, highlights and links) and the whole
search page through the test client, each ``--repeat`` times after a
warm-up, and prints the median and p95 per query and the median over all;
then the activity page, anonymous and as a participant of the event.
Times are server-side: no network, no browser. The issue asks for a median
under 200 ms on both engines.

``--comments N`` first adds synthetic comments (threads of the event's
prose on sections and amendments, 2% hidden) until the document has N, and
indexes them, for seeds that have no comments yet. ``--reindex`` rebuilds
the index first and times it. On PostgreSQL the script also prints the plan
of one query, to show that it uses the GIN index ``ix_search_entries_vector``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select, text  # noqa: E402

from manifesto import create_app  # noqa: E402
from manifesto.accounts.models import User  # noqa: E402
from manifesto.amendments.models import Amendment, Status  # noqa: E402
from manifesto.discussion.models import Comment  # noqa: E402
from manifesto.documents.models import Document, Section  # noqa: E402
from manifesto.extensions import db  # noqa: E402
from manifesto.search import indexing, services  # noqa: E402
from manifesto.search.models import SearchEntry  # noqa: E402
from manifesto.search.schema import VECTOR_COLUMN, language_config  # noqa: E402
from manifesto.seed.scale import AREAS, SCALE_PASSWORD, Prose  # noqa: E402
from manifesto.services import utcnow  # noqa: E402
from manifesto.text.render import render_markdown  # noqa: E402

# What delegates type: the event's vocabulary, one word or a few, common and rare.
QUERIES = [
    "energy",
    "social housing",
    "public transport fares",
    "cooperatives",
    "minimum wage",
    "night trains",
    "climate adaptation plans",
    "participatory budgets",
    "water",
    "tax havens",
    "community solar projects",
    "renewable energy production municipal",
    "school meals",
    "pesticide use",
    "public",
    "the",
    "A-1778",
    "guarantee",
    '"energy NEAR poverty',
    "heat networks tenants",
]


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of ``values`` (share in 0..1)."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, int(round(share * len(ordered) + 0.5)) - 1))
    return ordered[index]


def add_comments(document: Document, wanted: int, seed: int = 7) -> int:
    """Add synthetic comments until the document has ``wanted``; index them. Returns how many were added."""
    have = db.session.scalar(select(func.count()).select_from(Comment).where(Comment.document_id == document.id))
    missing = wanted - have
    if missing <= 0:
        return 0
    rng = random.Random(seed)
    prose = Prose(rng)
    people = db.session.scalars(select(User.id).where(User.role == "participant")).all()
    sections = db.session.scalars(select(Section.id).where(Section.document_id == document.id,
                                                           Section.retired_at.is_(None))).all()
    open_amendments = db.session.scalars(select(Amendment.id).where(
        Amendment.document_id == document.id, Amendment.status != Status.DRAFT.value)).all()
    areas = list(AREAS)
    rows = []
    now = utcnow()
    for _ in range(missing):
        on_amendment = open_amendments and rng.random() < 0.4
        body = " ".join(prose.sentence(rng.choice(areas)) for _ in range(rng.randint(1, 4)))
        hidden = rng.random() < 0.02
        rows.append({"document_id": document.id, "target": "amendment" if on_amendment else "section",
                     "section_id": None if on_amendment else rng.choice(sections),
                     "amendment_id": rng.choice(open_amendments) if on_amendment else None,
                     "depth": 0, "author_id": rng.choice(people), "body": body, "body_html": render_markdown(body),
                     "created_at": now, "hidden_at": now if hidden else None,
                     "hidden_reason": "Off topic." if hidden else None, "revision": 1, "passage_lost": False})
    for start in range(0, len(rows), 1000):
        db.session.execute(insert(Comment), rows[start:start + 1000])
    db.session.execute(Comment.__table__.update().where(Comment.thread_id.is_(None)).values(thread_id=Comment.id))
    ids = db.session.scalars(select(Comment.id).where(Comment.document_id == document.id)).all()
    indexing.refresh(db.session(), indexing.Pending(comments=set(ids)))
    db.session.commit()
    return missing


def time_it(func, repeat: int) -> list[float]:
    """Milliseconds of ``repeat`` calls after one warm-up."""
    func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main(argv: list[str] | None = None) -> int:
    """Prepare the index, time every query through the service and the page, and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slug", default="convention", help="The generated document (default: convention).")
    parser.add_argument("--repeat", type=int, default=20, help="Timed runs per query (default: 20).")
    parser.add_argument("--comments", type=int, default=0, help="Add synthetic comments up to this number.")
    parser.add_argument("--reindex", action="store_true", help="Rebuild the whole index first (and time it).")
    args = parser.parse_args(argv)

    # No mail worker thread in this process: it would compete with the timings.
    app = create_app({"WTF_CSRF_ENABLED": False, "QUEUE_MODE": "worker"})
    with app.app_context():
        dialect = db.engine.dialect.name
        document = db.session.scalar(select(Document).where(Document.slug == args.slug))
        if document is None:
            sys.exit(f"No document with the slug {args.slug!r}: run `flask --app manifesto seed-scale` first.")
        if args.comments:
            start = time.perf_counter()
            added = add_comments(document, args.comments)
            print(f"added {added} synthetic comments in {time.perf_counter() - start:.1f} s")
        if args.reindex:
            start = time.perf_counter()
            counts = indexing.reindex()
            print(f"reindex: {counts} in {time.perf_counter() - start:.1f} s")
        entries = dict(db.session.execute(select(SearchEntry.kind, func.count()).where(
            SearchEntry.document_id == document.id).group_by(SearchEntry.kind)).all())
        if not entries:
            sys.exit("The search index is empty: run `flask --app manifesto reindex` (or pass --reindex).")
        characters = db.session.scalar(select(func.sum(func.length(SearchEntry.body))).where(
            SearchEntry.document_id == document.id))
        print(f"{dialect}: {sum(entries.values())} entries {entries}, {characters / 1e6:.1f} M characters")
        if dialect == "postgresql":
            plan = db.session.execute(text(
                f"EXPLAIN ANALYZE SELECT kind, count(*) FROM search_entries WHERE document_id = :d AND "
                f"{VECTOR_COLUMN} @@ plainto_tsquery(CAST(:c AS regconfig), :q) GROUP BY kind"),
                {"d": document.id, "c": language_config(document.language), "q": "energy"}).scalars().all()
            print("plan for 'energy':\n  " + "\n  ".join(plan))
        document_id = document.id
        db.session.remove()

    client = app.test_client()
    rows, service_all, page_all = [], [], []
    for query in QUERIES:
        with app.app_context():
            document = db.session.get(Document, document_id)
            result = services.search(document, query)
            service_times = time_it(lambda: services.search(document, query), args.repeat)
            db.session.remove()
        url = f"/d/{args.slug}/search?" + urlencode({"q": query})
        page_times = time_it(lambda: client.get(url).close(), args.repeat)
        assert client.get(url).status_code == 200
        service_all += service_times
        page_all += page_times
        rows.append((query, result.total, statistics.median(service_times), percentile(service_times, .95),
                     statistics.median(page_times), percentile(page_times, .95)))

    # The activity page, anonymous and logged in (the visit is recorded on the first view only).
    activity_rows = []
    with app.app_context():
        participant = db.session.scalar(select(User.email).where(
            User.role == "participant", User.email.endswith(f"@{args.slug}.example.org")).order_by(User.id).limit(1))
    member = app.test_client()
    if participant and member.post("/login", data={"email": participant, "password": SCALE_PASSWORD}).status_code == 302:
        clients = [("anonymous", client), ("participant", member)]
    else:
        clients = [("anonymous", client)]
    for role, who in clients:
        for label, query in (("latest", ""), ("page 20", "?page=20"), ("decisions", "?what=decisions"),
                             ("comments", "?what=comments")):
            url = f"/d/{args.slug}/activity{query}"
            assert who.get(url).status_code == 200
            times = time_it(lambda: who.get(url).close(), args.repeat)
            activity_rows.append((f"activity, {label}", role, statistics.median(times), percentile(times, .95)))

    width = max(len(r[0]) for r in rows)
    print(f"\n{'query':<{width}}  {'matches':>7}  {'service median':>14}  {'p95':>6}  {'page median':>11}  {'p95':>6}")
    for query, total, s_med, s_p95, p_med, p_p95 in rows:
        print(f"{query:<{width}}  {total:>7}  {s_med:>11.1f} ms  {s_p95:>6.1f}  {p_med:>8.1f} ms  {p_p95:>6.1f}")
    print(f"\nmedian over {len(QUERIES)} queries x {args.repeat} runs: service {statistics.median(service_all):.1f} ms "
          f"(p95 {percentile(service_all, .95):.1f}), page {statistics.median(page_all):.1f} ms "
          f"(p95 {percentile(page_all, .95):.1f})")
    print(f"\n{'page':<22}  {'role':<11}  {'median':>9}  {'p95':>6}")
    for label, role, median, p95 in activity_rows:
        print(f"{label:<22}  {role:<11}  {median:>6.1f} ms  {p95:>6.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
