"""Benchmark re-anchoring: how long a new version of a section takes to locate its passage comments again.

Usage:
    python scripts/bench_anchors.py [--comments 500] [--chars 8000] [--repeat 7] [--database URL]

Two measurements, on input generated from a fixed seed:

1. the engine alone (``manifesto.text.anchor.reanchor``): 500 passages of
   20 to 200 characters in a section, after three kinds of edit: a typical
   one (a sentence rewritten, a paragraph added at the top), a heavy one
   (a third of the sentences changed, so many passages need the fuzzy
   matcher or are lost), and a 50,000-character section (the largest a
   section may be) with a typical edit;
2. the whole path in the database: ``edit_section`` on a section with 500
   passage comments, with and without the discussion area's listener, and
   the listener alone (one SELECT, the engine, one bulk UPDATE). SQLite in
   a temporary folder by default; ``--database`` takes a PostgreSQL URL
   (its tables are created by the migrations, so use an empty database).

Prints the median and the worst of the repeats, in milliseconds.
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

from manifesto.text.anchor import Span, make_selector, reading_text, reanchor  # noqa: E402
from manifesto.text.render import render_markdown  # noqa: E402

SEED = 2026
WORDS = ("cooperatives mutuals associations workers members energy food sovereignty democracy finance "
         "governments transition communities women youth land rights public procurement solidarity economy "
         "local networks platform data care housing credit unions social protection decent work").split()


def sentence(rng: random.Random) -> str:
    """A sentence of manifesto-like words."""
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 22))).capitalize() + "."


def section_text(rng: random.Random, chars: int) -> str:
    """Markdown paragraphs of about ``chars`` characters."""
    paragraphs, size = [], 0
    while size < chars:
        paragraph = " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))
        paragraphs.append(paragraph)
        size += len(paragraph) + 2
    return "\n\n".join(paragraphs)


def passages(rng: random.Random, text: str, n: int) -> list[tuple]:
    """``n`` selectors with their spans, quotes of 20 to 200 characters starting on a word."""
    starts = [i for i in range(1, len(text) - 210) if text[i - 1] == " "]
    made = []
    for _ in range(n):
        start = rng.choice(starts)
        end = start + rng.randint(20, 200)
        while text[end - 1] == " ":
            end -= 1
        made.append((make_selector(text, start, end), Span(start, end)))
    return made


def typical_edit(rng: random.Random, body: str) -> str:
    """A paragraph added at the top and one sentence rewritten in the middle."""
    sentences = body.split(". ")
    middle = len(sentences) // 2
    sentences[middle] = sentence(rng).rstrip(".")
    return sentence(rng) + " " + sentence(rng) + "\n\n" + ". ".join(sentences)


def heavy_edit(rng: random.Random, body: str) -> str:
    """A third of the sentences rewritten or changed by a word."""
    sentences = body.split(". ")
    for i in range(0, len(sentences), 3):
        words = sentences[i].split(" ")
        if rng.random() < 0.5:
            sentences[i] = sentence(rng).rstrip(".")
        else:
            words[rng.randrange(len(words))] = rng.choice(WORDS)
            sentences[i] = " ".join(words)
    return ". ".join(sentences)


def timed(function, repeat: int) -> tuple[float, float, object]:
    """Median and worst time of ``function`` in milliseconds, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), max(times), result


def bench_engine(n: int, chars: int, repeat: int) -> None:
    """Time the engine alone on three edits."""
    print(f"Engine: {n} passages, re-anchored after one edit (median / worst of {repeat}, ms)")
    for label, size, edit in (("typical edit", chars, typical_edit), ("heavy edit", chars, heavy_edit),
                              ("typical edit, 50,000-character section", 50_000, typical_edit)):
        rng = random.Random(SEED)
        body = section_text(rng, size)
        old = reading_text(render_markdown(body))
        new = reading_text(render_markdown(edit(rng, body)))
        anchors = passages(rng, old, n)
        median, worst, spans = timed(lambda: reanchor(anchors, old, new), repeat)
        found = sum(1 for s in spans if s is not None)
        exact = sum(1 for (sel, _), s in zip(anchors, spans) if s is not None and new[s.start:s.end] == sel.exact)
        print(f"  {label:42} {median:8.1f} / {worst:8.1f}   ({len(old):,} characters; {exact} exact, "
              f"{found - exact} fuzzy, {n - found} lost)")


def bench_database(n: int, chars: int, repeat: int, database: str | None) -> None:
    """Time edit_section with n passage comments, with and without the listener, and the listener alone."""
    from flask_migrate import upgrade

    from manifesto import create_app
    from manifesto.accounts.services import register_user
    from manifesto.discussion import comments
    from manifesto.discussion.models import Comment
    from manifesto.documents import services as documents
    from manifesto.documents.models import SectionVersion
    from manifesto.documents.signals import version_written
    from manifesto.extensions import db

    instance = tempfile.mkdtemp(prefix="bench-anchors-")
    os.environ["MANIFESTO_INSTANCE_PATH"] = instance
    app = create_app({"DATABASE_URL": database or f"sqlite:///{instance}/bench.sqlite", "SECRET_KEY": "bench",
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "MAIL_SERVER": None})
    with app.app_context():
        upgrade()
        rng = random.Random(SEED)
        admin = register_user("admin@example.org", "Admin", "bench-password-1", None, None, role="admin")
        document = documents.create_document(admin, title="Bench", slug="bench")
        body = section_text(rng, chars)
        section = documents.create_section(admin, document.id, heading="Bench", body=body, reason="Start.")
        version = documents.get_section_or_404(document, section.id).current_version
        text = reading_text(version.body_html)
        for selector, _ in passages(rng, text, n):
            db.session.add(Comment(
                document_id=document.id, target="section", section_id=section.id, author_id=admin.id, depth=0,
                body="A comment.", body_html="<p>A comment.</p>", revision=1, quote=selector.exact,
                quote_prefix=selector.prefix, quote_suffix=selector.suffix, quote_start=selector.start,
                quote_end=selector.end, anchor_version_id=version.id, located_version_id=version.id,
                located_start=selector.start, located_end=selector.end, passage_lost=False))
        db.session.commit()
        engine = db.engine.dialect.name
        print(f"\nDatabase ({engine}): edit_section on a section of {len(text):,} characters with {n} passage "
              f"comments (median / worst of {repeat}, ms)")

        def edit():
            """One new version: alternately the typical edit and back to the original text."""
            edit.count += 1
            current = documents.get_section_or_404(document, section.id).current_version
            new_body = typical_edit(random.Random(edit.count), body) if edit.count % 2 else body
            documents.edit_section(admin, document.id, section.id, heading="Bench", body=new_body,
                                   reason="Bench.", base_version=None)
            return current
        edit.count = 0

        median, worst, _ = timed(edit, repeat)
        print(f"  {'edit_section, with re-anchoring':42} {median:8.1f} / {worst:8.1f}")
        version_written.disconnect(comments.follow_new_version)
        try:
            median, worst, _ = timed(edit, repeat)
        finally:
            version_written.connect(comments.follow_new_version)
        print(f"  {'edit_section, without the listener':42} {median:8.1f} / {worst:8.1f}")

        current = documents.get_section_or_404(document, section.id)
        newest = db.session.get(SectionVersion, current.current_version_id)

        def listener():
            """The listener alone, in a transaction rolled back afterwards."""
            comments.follow_new_version(current, document=document, version=newest, actor=admin)
            db.session.rollback()
        median, worst, _ = timed(listener, repeat)
        print(f"  {'the listener alone (SELECT, engine, UPDATE)':42} {median:8.1f} / {worst:8.1f}")
        located = db.session.query(Comment).filter(Comment.passage_lost.is_(False)).count()
        print(f"  after the last edit: {located} of {n} passages located, {n - located} lost")


def main() -> None:
    """Run both benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=500)
    parser.add_argument("--chars", type=int, default=8_000, help="size of the section's Markdown")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--database", help="a PostgreSQL URL (empty database); SQLite in a temporary folder by default")
    args = parser.parse_args()
    bench_engine(args.comments, args.chars, args.repeat)
    bench_database(args.comments, args.chars, args.repeat, args.database)


if __name__ == "__main__":
    main()
