"""Benchmark the word diff on one long section with scattered edits (issue #15).

Usage: python scripts/bench_word_diff.py [--words 10000] [--edits 40] [--runs 31] [--profile]
                                         [--baseline FILE] [--one-paragraph]

The section is generated from a fixed seed: a word-bigram chain trained on
the demo manifesto (real words and punctuation, no sentence repeated
wholesale), cut into paragraphs of 60-160 words. The edits are spread over
the whole section, one per equal slice: replacing, inserting or deleting one
to four words. The script prints the median and the best of ``--runs``
calls of ``word_diff`` plus the shape of the diff (how many changes, how many
words changed), so a faster but coarser diff shows up here too. Wall time
moves with whatever else the machine runs; CPU time of this process much less.

``--baseline FILE`` times another version of ``manifesto/text/diff.py`` in
the same run, interleaved, and checks that both give the same diff:

    git show HEAD~1:manifesto/text/diff.py > /tmp/diff_before.py
    python scripts/bench_word_diff.py --baseline /tmp/diff_before.py
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import pstats
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from manifesto.seed.demo_content import SECTIONS
from manifesto.text.diff import DIFF_EQUAL, changed_ranges, word_diff

SEED = 15
PARAGRAPH = "\n\n"


def _corpus() -> list[str]:
    """Every word of the demo manifesto, in order, punctuation attached."""
    bodies = (version["body"] for section in SECTIONS for version in section["versions"])
    return " ".join(bodies).split()


def _section(rng: random.Random, words: int) -> list[str]:
    """A section of ``words`` words, with paragraph markers between sentences."""
    corpus = _corpus()
    successors: dict[str, list[str]] = {}
    for current, following in zip(corpus, corpus[1:], strict=False):
        successors.setdefault(current, []).append(following)
    starts = [word for word in corpus if word[:1].isupper()]

    result: list[str] = []
    count = 0
    paragraph_length = rng.randint(60, 160)
    word = rng.choice(starts)
    while count < words:
        result.append(word)
        count += 1
        paragraph_length -= 1
        if word.endswith((".", "!", "?")) and paragraph_length <= 0 and count < words:
            # Paragraphs end on a sentence, as people write them.
            result.append(PARAGRAPH)
            paragraph_length = rng.randint(60, 160)
        word = rng.choice(successors.get(word) or starts)
    return result


def _edit(rng: random.Random, tokens: list[str], edits: int) -> list[str]:
    """Apply ``edits`` small edits, one in each of ``edits`` equal slices of the text."""
    edited = list(tokens)
    vocabulary = [token for token in tokens if token != PARAGRAPH]
    # Back to front, so earlier positions stay valid while later ones change.
    bounds = [len(tokens) * slice_ // edits for slice_ in range(edits + 1)]
    for slice_ in reversed(range(edits)):
        start, end = bounds[slice_], bounds[slice_ + 1] - 4
        position = rng.randrange(start, max(start + 1, end))
        if edited[position] == PARAGRAPH:
            position += 1
        size = rng.randint(1, 4)
        new_words = [rng.choice(vocabulary) for _ in range(size)]
        action = ("replace", "insert", "delete")[slice_ % 3]
        if action == "replace":
            edited[position : position + size] = new_words
        elif action == "insert":
            edited[position:position] = new_words
        else:
            del edited[position : position + size]
    return edited


def _join(tokens: list[str]) -> str:
    """Glue words with spaces and paragraph markers with nothing."""
    parts: list[str] = []
    for token in tokens:
        if token == PARAGRAPH:
            parts.append(PARAGRAPH)
        else:
            if parts and parts[-1] != PARAGRAPH:
                parts.append(" ")
            parts.append(token)
    return "".join(parts)


def _load(path: str) -> ModuleType:
    """Import another version of the diff module from a file."""
    spec = importlib.util.spec_from_file_location("baseline_diff", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main() -> None:
    """Build the texts, time word_diff and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=10_000)
    parser.add_argument("--edits", type=int, default=40)
    parser.add_argument("--runs", type=int, default=31)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one run")
    parser.add_argument("--baseline", help="another diff.py to time against, interleaved")
    parser.add_argument(
        "--one-paragraph", action="store_true", help="no paragraph breaks (the worst case)"
    )
    arguments = parser.parse_args()

    rng = random.Random(SEED)
    tokens = _section(rng, arguments.words)
    if arguments.one_paragraph:
        tokens = [token for token in tokens if token != PARAGRAPH]
    old = _join(tokens)
    new = _join(_edit(rng, tokens, arguments.edits))
    print(
        f"section: {arguments.words:,} words, {old.count(PARAGRAPH) + 1} paragraphs, "
        f"{len(old):,} characters; {arguments.edits} scattered edits"
    )
    print(f"python {sys.version.split()[0]}, {arguments.runs} runs")

    ops = word_diff(old, new)  # warm-up, and the diff whose shape is reported
    assert "".join(text for op, text in ops if op <= DIFF_EQUAL) == old
    assert "".join(text for op, text in ops if op >= DIFF_EQUAL) == new
    changed_words = sum(len(text.split()) for op, text in ops if op != DIFF_EQUAL)
    print(f"diff: {len(changed_ranges(ops))} changes, {changed_words} words deleted or inserted")

    engines: dict[str, Callable[[str, str], object]] = {"word_diff": word_diff}
    if arguments.baseline:
        baseline = _load(arguments.baseline).word_diff
        same = baseline(old, new) == ops
        print(f"baseline {arguments.baseline}: {'same' if same else 'a different'} diff")
        engines["baseline"] = baseline

    if arguments.profile:
        profiler = cProfile.Profile()
        profiler.runcall(word_diff, old, new)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)

    walls: dict[str, list[float]] = {name: [] for name in engines}
    cpus: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(arguments.runs):
        for name, engine in engines.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            engine(old, new)
            cpus[name].append(time.process_time() - started_cpu)
            walls[name].append(time.perf_counter() - started)
    for name in engines:
        print(
            f"{name}: median {statistics.median(walls[name]) * 1000:.1f} ms "
            f"(best {min(walls[name]) * 1000:.1f} ms), "
            f"CPU median {statistics.median(cpus[name]) * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()
