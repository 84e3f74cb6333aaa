"""Benchmark the text engine on a manifesto-sized document.

Usage: python scripts/bench_text.py

The document is 450,000 characters in 300 sections, each edited in a few
places; the script times word diffs, their rendering, line layout and the
rebase of 100 amendments. Input is generated from a fixed seed, so runs are
comparable.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from manifesto.text import (
    layout,
    rebase,
    render_inline,
    render_side_by_side,
    word_diff,
)

SECTIONS = 300
SECTION_CHARS = 1_500
EDITS_PER_SECTION = 3
AMENDMENTS = 100
REPEAT = 3
SEED = 2024

VOCABULARY = (
    "nous voulons une économie au service des femmes et des hommes la transition "
    "écologique doit être juste solidaire planifiée démocratiquement chaque commune "
    "disposera d'un budget participatif voté par ses habitants école publique laïque "
    "gratuite socle République services publics proximité territoires ruraux semaine "
    "heures salaire santé marchandise hôpital refinancé logement digne travail citoyens "
    "señal niño derecho vivienda garantizado ley"
).split()


def _sentence(rng: random.Random) -> str:
    """A pseudo-French sentence."""
    words = [rng.choice(VOCABULARY) for _ in range(rng.randint(6, 18))]
    return " ".join(words).capitalize() + rng.choice([".", ".", ";", " !", " ?"])


def _section(rng: random.Random) -> str:
    """A section of about SECTION_CHARS characters in a few paragraphs."""
    paragraphs: list[str] = []
    size = 0
    while size < SECTION_CHARS:
        paragraph = " ".join(_sentence(rng) for _ in range(rng.randint(2, 5)))
        paragraphs.append(paragraph)
        size += len(paragraph) + 2
    return "\n\n".join(paragraphs)[:SECTION_CHARS].rstrip()


def _edit(text: str, rng: random.Random, edits: int) -> str:
    """Replace, insert or delete a few words."""
    words = text.split(" ")
    for _ in range(edits):
        index = rng.randrange(len(words))
        action = rng.choice(["replace", "insert", "delete"])
        if action == "replace":
            words[index] = rng.choice(VOCABULARY)
        elif action == "insert":
            words.insert(index, rng.choice(VOCABULARY))
        elif len(words) > 1:
            del words[index]
    return " ".join(words)


def _time(label: str, task: Callable[[], object]) -> None:
    """Run ``task`` REPEAT times and print the best and mean wall time."""
    timings = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        task()
        timings.append(time.perf_counter() - started)
    best, mean = min(timings), sum(timings) / len(timings)
    print(f"{label:<52} best {best * 1000:8.1f} ms   mean {mean * 1000:8.1f} ms")


def main() -> None:
    """Build the document and print the timings."""
    rng = random.Random(SEED)
    old_sections = [_section(rng) for _ in range(SECTIONS)]
    new_sections = [_edit(section, rng, EDITS_PER_SECTION) for section in old_sections]
    total = sum(len(section) for section in old_sections)
    print(f"document: {total:,} characters in {SECTIONS} sections, {EDITS_PER_SECTION} edits each")
    print(f"python {sys.version.split()[0]}, {REPEAT} repetitions\n")

    diffs = [word_diff(old, new) for old, new in zip(old_sections, new_sections, strict=True)]

    _time(
        f"word_diff, {SECTIONS} sections",
        lambda: [word_diff(o, n) for o, n in zip(old_sections, new_sections, strict=True)],
    )
    _time(f"render_inline, {SECTIONS} sections", lambda: [render_inline(ops) for ops in diffs])
    _time(
        f"render_side_by_side, {SECTIONS} sections",
        lambda: [render_side_by_side(ops) for ops in diffs],
    )
    whole_old, whole_new = "\n\n".join(old_sections), "\n\n".join(new_sections)
    _time("word_diff, whole document as one text", lambda: word_diff(whole_old, whole_new))

    def layout_sections() -> None:
        """Lay out all sections with continuous numbering."""
        number = 1
        for section in old_sections:
            number += layout(section, first_number=number).line_count

    _time(f"layout, {SECTIONS} sections (continuous numbering)", layout_sections)
    _time("layout, whole document as one text", lambda: layout(whole_old))

    proposals = [_edit(old_sections[i], rng, 2) for i in range(AMENDMENTS)]
    outcomes: list[bool] = []

    def rebase_all(cross_check: bool) -> None:
        """Rebase every amendment onto the edited section."""
        outcomes.clear()
        for index, proposal in enumerate(proposals):
            result = rebase(
                old_sections[index], proposal, new_sections[index], cross_check=cross_check
            )
            outcomes.append(result.clean)

    _time(f"rebase, {AMENDMENTS} amendments", lambda: rebase_all(True))
    _time(f"rebase, {AMENDMENTS} amendments, no patch_apply check", lambda: rebase_all(False))
    print(f"\nrebase outcomes: {sum(outcomes)} clean, {len(outcomes) - sum(outcomes)} conflicts")


if __name__ == "__main__":
    main()
