"""Benchmark the merge workspace of a section with 40 open amendments (#18: under 300 ms median).

Usage:
    python scripts/bench_merge_workspace.py --slug convention --amendments 40 --repeat 30
    python scripts/bench_merge_workspace.py --seed-scale --repeat 30      # a temporary database, seeded first

The app is configured from the environment exactly as ``flask`` is
(DATABASE_URL, MANIFESTO_INSTANCE_PATH), so point it at a database filled by
``flask --app manifesto seed-scale``; ``--seed-scale`` instead seeds a fresh
SQLite database in a temporary folder at full scale (a few minutes).

On the section of the document with the longest text among the first
twenty, the script proposes ``--amendments`` new amendments on its current
version the way ``seed-scale`` writes them (``seed.scale.modify_body``: word
swaps, added sentences, deleted clauses, a quarter of them at a passage an
earlier one changed, so some compete), by participants of that event. A
moderator starts a merge and ticks every change that competes with none;
then the workspace (``GET /d/<slug>/merge/<section>``) is timed over
``--repeat`` runs after one warm-up: median, p95, SQL statements of one
request and its size. Server-side times through the test client.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QUEUE_MODE", "worker")  # measure pages, not mail


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, prepare the section, time the workspace and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slug", default="convention")
    parser.add_argument("--amendments", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--seed-scale", action="store_true", help="seed a temporary SQLite database first")
    parser.add_argument("--small", action="store_true",
                        help="with --seed-scale: 10 sections of the same size as seed-scale's, 100 people, "
                             "no comments (a quick run; the section measured is as large)")
    parser.add_argument("--profile", action="store_true", help="print where one request spends its time")
    args = parser.parse_args(argv)
    if args.seed_scale:
        folder = tempfile.mkdtemp(prefix="bench-merge-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.db"
        os.environ["MANIFESTO_INSTANCE_PATH"] = folder

    from bench_pages import QueryCounter, percentile  # noqa: PLC0415 - the sibling script's helpers
    from sqlalchemy import func, select  # noqa: PLC0415

    from manifesto import create_app  # noqa: PLC0415
    from manifesto.accounts.models import User  # noqa: PLC0415
    from manifesto.amendments import services as amendments  # noqa: PLC0415
    from manifesto.amendments.models import Amendment, Status  # noqa: PLC0415
    from manifesto.documents import services as documents  # noqa: PLC0415
    from manifesto.documents.models import Document, Section, SectionVersion  # noqa: PLC0415
    from manifesto.extensions import db  # noqa: PLC0415
    from manifesto.plenary.merging import services as merging  # noqa: PLC0415
    from manifesto.seed.scale import AREAS, SCALE_PASSWORD, Prose, Site, _paragraphs, _sentences, modify_body  # noqa: PLC0415
    from manifesto.seed.scale import seed_scale  # noqa: PLC0415

    app = create_app({"WTF_CSRF_ENABLED": False})  # the test client logs in without a form
    with app.app_context():
        if args.seed_scale:
            from flask_migrate import upgrade  # noqa: PLC0415
            upgrade()
            sizes = dict(sections=10, chars=15_000, participants=100, amendments=30, comments=0,
                         versioned_sections=1, versions=2) if args.small else {}
            seed_scale(slug=args.slug, echo=lambda line: None, **sizes)
        document = db.session.scalar(select(Document).where(Document.slug == args.slug))
        if document is None:
            sys.exit(f"No document {args.slug!r}: run `flask --app manifesto seed-scale --slug {args.slug}` first.")
        if document.phase != "amendments" or document.min_supporters:
            documents.update_document(db.session.scalar(select(User).where(User.role == "admin").limit(1)),
                                      document.id, title=document.title, introduction=document.introduction,
                                      phase="amendments", amendment_deadline=None, min_supporters=0)
        # The longest text among the first twenty live sections: a realistic, heavy section.
        section_id = db.session.scalar(
            select(Section.id).join(SectionVersion, SectionVersion.id == Section.current_version_id)
            .where(Section.document_id == document.id, Section.retired_at.is_(None), Section.position <= 20)
            .order_by(func.length(SectionVersion.body).desc()).limit(1))
        section = documents.get_section_or_404(document, section_id)
        domain = f"@{args.slug}.example.org"
        people = list(db.session.scalars(select(User).where(User.role == "participant", User.email.endswith(domain))
                                         .order_by(User.id).limit(args.amendments)))
        moderator = db.session.scalar(select(User).where(User.role == "moderator", User.email.endswith(domain))
                                      .order_by(User.id).limit(1))
        rng = random.Random(18)
        prose = Prose(rng)
        body, area = section.current_version.body, list(AREAS)[0]
        sites: list = []
        # Run again on the same database, the section keeps the amendments made before: only the missing ones.
        already = len(merging.board(document, section).amendments)
        for n in range(already, args.amendments):
            if sites and rng.random() < 0.25:
                site = rng.choice(sites)  # the same passage as an earlier one, as seed-scale does
            else:
                paragraphs = _paragraphs(body)
                p = rng.randrange(len(paragraphs))
                site = Site(p, rng.randrange(len(_sentences(paragraphs[p]))))
            sites.append(site)
            amendments.propose_amendment(people[n % len(people)], document.id, kind="modify", section_id=section.id,
                                         heading=None, body=modify_body(body, site, prose, area),
                                         reason=prose.reason())
        draft = merging.start_merge(moderator, document.id, section.id)
        board = merging.board(document, documents.get_section_or_404(document, section.id))
        places = {place.id: [c.id for c in place.changes] for place in board.work.places if not place.colliding}
        merging.save_draft(moderator, section.id, revision=draft.revision, choices={"places": places, "heading": None},
                           text=None, reasons={})
        open_count = db.session.scalar(select(func.count()).select_from(Amendment).where(
            Amendment.section_id == section.id, Amendment.status == Status.SUBMITTED.value))
        colliding = sum(1 for place in board.work.places if place.colliding)
        email = moderator.email
        url = f"/d/{args.slug}/merge/{section.id}"

    client = app.test_client()
    if args.profile:
        import cProfile  # noqa: PLC0415
        import pstats  # noqa: PLC0415
        assert client.post("/login", data={"email": email, "password": SCALE_PASSWORD}).status_code == 302
        client.get(url)
        profiler = cProfile.Profile()
        profiler.enable()
        client.get(url)
        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(35)
    assert client.post("/login", data={"email": email, "password": SCALE_PASSWORD}).status_code == 302
    with app.app_context():
        counter = QueryCounter(db.engine)
        response = client.get(url)  # warm-up
        assert response.status_code == 200, response.status_code
        times = []
        for _ in range(args.repeat):
            counter.count = 0
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            queries = counter.count
        counter.close()
    print(f"Section {section_id}: {len(body):,} characters, {open_count} open amendments "
          f"({len(board.amendments)} mergeable), {len(board.work.places)} places, {colliding} colliding")
    print(f"GET {url}: median {statistics.median(times):.1f} ms, p95 {percentile(times, 0.95):.1f} ms over "
          f"{args.repeat} runs, {queries} queries, {len(response.data) / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
