"""Benchmark the API's amendment list on a convention-sized database.

Usage:
    DATABASE_URL=postgresql+psycopg://... python scripts/bench_api_list.py --slug convention --repeat 30
    (add ``--seed`` to fill an empty database first with ``seed-scale``'s defaults)

The app is configured from the environment exactly as ``flask`` is
(DATABASE_URL, MANIFESTO_INSTANCE_PATH, instance/config.py), so point it at
a database filled by ``flask --app manifesto seed-scale`` (or pass
``--seed``). The script makes read tokens for a moderator and a participant
of that event (revoked at the end), then, for several filters and pages of
``GET /api/v1/documents/<slug>/amendments`` and for a visitor, a
participant and a moderator, times the request through the test client
(median and p95 over ``--repeat`` runs after one warm-up, server-side: no
network), counts its SQL statements and checks they do not grow with the
page size. The targets: a fixed number of queries, under 100 ms median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QUEUE_MODE", "worker")  # measure the API, not mail
# Every call is counted by the API's rate limits; a benchmark makes thousands.
os.environ.setdefault("RATELIMIT_ENABLED", "false")

from sqlalchemy import select  # noqa: E402

from manifesto import create_app  # noqa: E402
from manifesto.accounts.models import User  # noqa: E402
from manifesto.amendments.models import Amendment, Support  # noqa: E402
from manifesto.api.tokens import create_token, revoke_token  # noqa: E402
from manifesto.documents.models import Document, Section  # noqa: E402
from manifesto.extensions import db  # noqa: E402
from manifesto.seed.scale import seed_scale  # noqa: E402

from bench_pages import QueryCounter, percentile  # noqa: E402

TARGET_MS = 100.0


def cases(slug: str, section_id: int, author_id: int) -> list[tuple[str, str]]:
    """The lists to time: (label, address)."""
    base = f"/api/v1/documents/{slug}/amendments"
    return [
        ("open, code, page 1 (25)", base),
        ("all, 100 per page", f"{base}?status=all&per_page=100"),
        ("all, page 20 of 100s", f"{base}?status=all&per_page=100&page=20"),
        ("decided, by date desc", f"{base}?status=decided&sort=date&desc=1&per_page=50"),
        ("open, by support desc", f"{base}?sort=support&desc=1&per_page=50"),
        ("open, by section", f"{base}?sort=section&per_page=50"),
        ("needs a decision", f"{base}?needs_decision=1&per_page=50"),
        ("conflicted", f"{base}?conflicted=1&status=all&per_page=50"),
        ("one section", f"{base}?section={section_id}&status=all&per_page=100"),
        ("one author", f"{base}?author={author_id}&status=all"),
        ("supported by me", f"{base}?supported_by_me=1&status=all&per_page=100"),
        ("page past the end", f"{base}?status=all&page=100000"),
    ]


def main() -> None:
    """Seed if asked, then time every case for every role and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slug", default="convention")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--seed", action="store_true", help="run seed-scale (its defaults) when the slug is missing")
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        document = db.session.scalar(select(Document).where(Document.slug == args.slug))
        if document is None and args.seed:
            seed_scale(slug=args.slug)
            document = db.session.scalar(select(Document).where(Document.slug == args.slug))
        if document is None:
            sys.exit(f"No document {args.slug!r}: run `flask --app manifesto seed-scale --slug {args.slug}` "
                     "or pass --seed.")
        total = db.session.scalar(select(db.func.count()).select_from(Amendment)
                                  .where(Amendment.document_id == document.id))
        moderator = db.session.scalar(select(User).where(User.role == "moderator").order_by(User.id).limit(1))
        # The participant who supports the most: "supported by me" is a long list for them.
        supporter_id = db.session.scalar(select(Support.user_id).group_by(Support.user_id)
                                         .order_by(db.func.count().desc()).limit(1))
        participant = db.session.get(User, supporter_id)
        busiest = db.session.scalar(select(Amendment.section_id).where(Amendment.document_id == document.id)
                                    .group_by(Amendment.section_id).order_by(db.func.count().desc()).limit(1))
        author_id = db.session.scalar(select(Amendment.author_id).where(Amendment.document_id == document.id)
                                      .group_by(Amendment.author_id).order_by(db.func.count().desc()).limit(1))
        section_id = busiest or db.session.scalar(select(Section.id).where(Section.document_id == document.id)
                                                  .limit(1))
        people = (moderator, participant)
        made = [create_token(person, name="bench_api_list", scopes=("read",), expires_in_days=1) for person in people]
        token_ids = [(person.id, token.token.id) for person, token in zip(people, made)]
        db.session.commit()
        roles = [("visitor", {}), ("participant", {"Authorization": f"Bearer {made[1].secret}"}),
                 ("moderator", {"Authorization": f"Bearer {made[0].secret}"})]
        print(f"{args.slug}: {total} amendments; {args.repeat} runs each after a warm-up; "
              f"database {db.engine.dialect.name}")
        print(f"{'case':34} {'role':12} {'status':>6} {'items':>5} {'median':>8} {'p95':>8} {'queries':>7}")
        client = app.test_client()
        worst = 0.0
        counts: dict[str, set[int]] = {}
        try:
            for label, url in cases(args.slug, section_id, author_id):
                for role, headers in roles:
                    response = client.get(url, headers=headers)  # warm-up
                    items = len(response.get_json().get("items", [])) if response.is_json else 0
                    times, queries = [], set()
                    for _ in range(args.repeat):
                        counter = QueryCounter(db.engine)
                        started = time.perf_counter()
                        response = client.get(url, headers=headers)
                        times.append((time.perf_counter() - started) * 1000)
                        counter.close()
                        queries.add(counter.count)
                    median = statistics.median(times)
                    worst = max(worst, median)
                    counts.setdefault(role, set()).update(queries)
                    print(f"{label:34} {role:12} {response.status_code:>6} {items:>5} {median:>7.1f}ms "
                          f"{percentile(times, 0.95):>6.1f}ms {'/'.join(map(str, sorted(queries))):>7}")
        finally:
            for person_id, token_id in token_ids:
                revoke_token(db.session.get(User, person_id), token_id)
            db.session.commit()
        print()
        print("queries per request, by role:", {role: sorted(found) for role, found in counts.items()})
        print(f"worst median {worst:.1f} ms: {'under' if worst < TARGET_MS else 'OVER'} the {TARGET_MS:.0f} ms target")


if __name__ == "__main__":
    main()
