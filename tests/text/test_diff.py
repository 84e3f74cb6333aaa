"""Tests for manifesto.text.diff and diff_html: tokenizing, word diffs, rendering and hunks."""

from __future__ import annotations

import ast
import html
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from manifesto.text.diff import (
    DIFF_DELETE,
    DIFF_EQUAL,
    DIFF_INSERT,
    DiffOp,
    Hunk,
    _common_run,
    _common_run_back,
    apply_hunks,
    changed_ranges,
    changes_overlap,
    hunks_overlap,
    is_paragraph_break,
    tokenize,
    word_diff,
)
from manifesto.text.diff_html import DiffLabels, render_inline, render_side_by_side
from manifesto.text.numbered_diff import numbered_diff

# ------------------------------------------------------------------ helpers

PIECES = [
    *"abcdefXYZ",
    "é", "è", "à", "ç", "ñ", "¿", "¡", "œ", "ß",
    "e\u0301",  # decomposed é
    "😀", "👍🏽", "👩\u200d🔧", "🇫🇷", "♻️",
    "مرحبا", "ب", "שלום", "ש",
    " ", "  ", "\t", "\u00a0", "\n", "\n\n", "\r\n", "\r", "\n \n",
    ".", ",", ";", ":", "!", "?", "'", "-", "—", "«", "»", "<", ">", "&", '"',
]  # fmt: skip

random_text = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)

WORDS = [
    "nous", "voulons", "une", "économie", "solidaire", "et", "durable", "pour", "tous",
    "les", "citoyens", "señal", "niño", "¿por", "qué?", "école", "publique", "gratuite",
    "<script>alert(1)</script>", "a&b", "x<y", '"citation"', "😀", "👩🏽‍🔧", "مرحبا", "שלום",
    "démocratie", "participative", "logement", "digne", "santé", "travail",
]  # fmt: skip

SENTENCES = [
    "Nous voulons une économie au service des femmes et des hommes.",
    "La transition écologique doit être juste, solidaire et planifiée démocratiquement.",
    "Chaque commune disposera d'un budget participatif voté par ses habitants.",
    "El derecho a la vivienda digna será garantizado por la ley.",
    "L'école publique, laïque et gratuite reste le socle de notre République.",
    "Les services publics de proximité seront rétablis dans les territoires ruraux.",
    "Nous proposons la semaine de 32 heures sans perte de salaire.",
    "La santé n'est pas une marchandise ; l'hôpital public sera refinancé.",
]


def _paragraph(rng: random.Random) -> str:
    """A realistic paragraph: a few sentences, sometimes with a line break."""
    sentences = rng.sample(SENTENCES, rng.randint(1, 4))
    return "".join(
        s + ("" if i == len(sentences) - 1 else rng.choice([" ", " ", "\n"]))
        for i, s in enumerate(sentences)
    )


def _manifesto(rng: random.Random, paragraphs: int) -> str:
    """A realistic section of several paragraphs."""
    return "\n\n".join(_paragraph(rng) for _ in range(paragraphs))


def _edit(text: str, rng: random.Random, edits: int) -> str:
    """Apply random word-level edits (replace, insert, delete, split, merge)."""
    tokens = tokenize(text)
    for _ in range(edits):
        words = [i for i, t in enumerate(tokens) if t[0].isalnum() or t[0] in '<&x"😀']
        spaces = [i for i, t in enumerate(tokens) if t == " "]
        breaks = [i for i, t in enumerate(tokens) if t == "\n\n"]
        action = rng.choice(["replace", "replace", "insert", "delete", "split", "merge"])
        if action == "replace" and words:
            tokens[rng.choice(words)] = rng.choice(WORDS)
        elif action == "insert" and words:
            i = rng.choice(words)
            tokens[i:i] = [rng.choice(WORDS), " "]
        elif action == "delete" and words:
            i = rng.choice(words)
            if i + 1 < len(tokens) and tokens[i + 1] == " ":
                del tokens[i : i + 2]
            elif i > 0 and tokens[i - 1] == " ":
                del tokens[i - 1 : i + 1]
        elif action == "split" and spaces:
            tokens[rng.choice(spaces)] = rng.choice(["\n\n", "\n"])
        elif action == "merge" and breaks:
            tokens[rng.choice(breaks)] = " "
        tokens = tokenize("".join(tokens))
    return "".join(tokens)


def assert_valid_diff(old: str, new: str, ops: list[DiffOp]) -> None:
    """Check the structural properties every word diff must have."""
    assert "".join(t for op, t in ops if op != DIFF_INSERT) == old
    assert "".join(t for op, t in ops if op != DIFF_DELETE) == new
    assert all(text for _, text in ops)
    assert all(op in (DIFF_DELETE, DIFF_EQUAL, DIFF_INSERT) for op, _ in ops)
    assert all(a[0] != b[0] for a, b in pairwise(ops))


def assert_token_aligned(old: str, new: str, ops: list[DiffOp]) -> None:
    """Every op boundary falls on a token boundary of its side."""
    old_bounds = _bounds(old)
    new_bounds = _bounds(new)
    old_pos = new_pos = 0
    for op, text in ops:
        if op != DIFF_INSERT:
            old_pos += len(text)
            assert old_pos in old_bounds
        if op != DIFF_DELETE:
            new_pos += len(text)
            assert new_pos in new_bounds


def _bounds(text: str) -> set[int]:
    """Offsets at which tokens of ``text`` start or end."""
    bounds = {0}
    position = 0
    for token in tokenize(text):
        position += len(token)
        bounds.add(position)
    return bounds


@dataclass
class _Para:
    """Text recovered from one rendered paragraph."""

    old: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    marker: str | None = None  # "ins"/"del" when it ends in a changed paragraph break


class _DiffReader(HTMLParser):
    """Reads rendered diffs back into old/new text, per cell and paragraph."""

    def __init__(self) -> None:
        """Start with one implicit cell."""
        super().__init__(convert_charrefs=True)
        self.cells: list[list[_Para]] = [[]]
        self.changes: list[str] = []
        self.spans: list[bool] = []
        self.hidden = 0
        self.headings = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Track structure and change marks."""
        attributes = dict(attrs)
        if tag in ("caption", "th"):
            self.headings += 1
        elif tag == "td":
            self.cells.append([])
        elif tag == "p":
            self.cells[-1].append(_Para())
        elif tag in ("ins", "del"):
            self.changes.append(tag)
            if attributes.get("class") == "diff-para":
                self.cells[-1][-1].marker = tag
        elif tag == "span":
            # A separator between a deletion and an insertion belongs to neither text.
            hidden = attributes.get("class") in ("visually-hidden", "diff-sep") or "aria-hidden" in attributes
            self.spans.append(hidden)
            self.hidden += hidden
        elif tag == "br":
            self._text("\n")

    def handle_endtag(self, tag: str) -> None:
        """Pop change marks and spans."""
        if tag in ("caption", "th"):
            self.headings -= 1
        elif tag in ("ins", "del"):
            assert self.changes.pop() == tag
        elif tag == "span":
            self.hidden -= self.spans.pop()

    def handle_data(self, data: str) -> None:
        """Collect visible text on the side(s) it belongs to."""
        if self.headings:
            return
        if not self.hidden and self.cells[-1]:
            self._text(data)
        else:
            assert self.hidden or not data.strip(), f"text outside a paragraph: {data!r}"

    def _text(self, text: str) -> None:
        """Add text to the current paragraph, on the old and/or new side."""
        paragraph = self.cells[-1][-1]
        if "ins" not in self.changes:
            paragraph.old.append(text)
        if "del" not in self.changes:
            paragraph.new.append(text)


def _read(html: str) -> _DiffReader:
    """Parse a rendered diff."""
    reader = _DiffReader()
    reader.feed(html)
    reader.close()
    return reader


def _inline_texts(html: str) -> tuple[str, str]:
    """Rebuild (old, new) from an inline rendering."""
    paragraphs = [p for cell in _read(html).cells for p in cell]
    old: list[str] = []
    new: list[str] = []
    for index, paragraph in enumerate(paragraphs):
        old.append("".join(paragraph.old))
        new.append("".join(paragraph.new))
        last = index == len(paragraphs) - 1
        if paragraph.marker != "ins" and (not last or paragraph.marker):
            old.append("\n\n")
        if paragraph.marker != "del" and (not last or paragraph.marker):
            new.append("\n\n")
    return "".join(old), "".join(new)


def _side_texts(html: str) -> tuple[str, str]:
    """Rebuild (old, new) from a side-by-side rendering (left and right columns)."""
    cells = _read(html).cells[1:]
    left = [p for cell in cells[0::2] for p in cell]
    right = [p for cell in cells[1::2] for p in cell]
    return (
        "\n\n".join("".join(p.old) for p in left),
        "\n\n".join("".join(p.new) for p in right),
    )


# ----------------------------------------------------------------- tokenize


@given(random_text)
@settings(max_examples=300, deadline=None)
def test_tokenize_round_trips(text: str) -> None:
    """Joining the tokens gives back the exact text."""
    tokens = tokenize(text)
    assert "".join(tokens) == text
    assert all(tokens)


@given(st.text(max_size=80))
@settings(max_examples=300, deadline=None)
def test_tokenize_round_trips_any_unicode(text: str) -> None:
    """Round trip holds for arbitrary Unicode, including controls and surrogate-free astral."""
    assert "".join(tokenize(text)) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("économie señal", ["économie", " ", "señal"]),
        ("l'État", ["l", "'", "État"]),
        ("bien-être", ["bien", "-", "être"]),
        ("Hola, ¿qué tal?", ["Hola", ",", " ", "¿", "qué", " ", "tal", "?"]),
        ("a\r\nb", ["a", "\r\n", "b"]),
        ("a\n\nb", ["a", "\n\n", "b"]),
        ("a  \n  \n\tb", ["a", "  ", "\n  \n", "\t", "b"]),
        ("x😀😀", ["x", "😀", "😀"]),
        ("👍🏽!", ["👍🏽", "!"]),
        ("👩\u200d🔧 ok", ["👩\u200d🔧", " ", "ok"]),
        ("🇫🇷🇪🇸", ["🇫🇷", "🇪🇸"]),
        ("e\u0301te\u0301", ["e\u0301te\u0301"]),
        ("مرحبا بالعالم", ["مرحبا", " ", "بالعالم"]),
        ("हिन्दी भाषा", ["हिन्दी", " ", "भाषा"]),
        ("", []),
    ],
)
def test_tokenize_examples(text: str, expected: list[str]) -> None:
    """Words are whole (accents included), punctuation and emoji stand alone."""
    assert tokenize(text) == expected


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("\n", False),
        ("\r\n", False),
        ("\n\n", True),
        ("\r\n\r\n", True),
        ("\n  \n", True),
        (" ", False),
    ],
)
def test_is_paragraph_break(token: str, expected: bool) -> None:
    """Two or more newlines (\\r\\n counting once) make a paragraph break."""
    assert is_paragraph_break(token) is expected


# ---------------------------------------------------------------- word_diff


@given(random_text, random_text)
@settings(max_examples=300, deadline=None)
def test_word_diff_reconstructs_random_text(old: str, new: str) -> None:
    """Both texts are recovered exactly from the diff; ops are well-formed and token-aligned."""
    ops = word_diff(old, new)
    assert_valid_diff(old, new, ops)
    assert_token_aligned(old, new, ops)


@given(st.randoms(use_true_random=False), st.integers(1, 6), st.integers(0, 8))
@settings(max_examples=150, deadline=None)
def test_word_diff_reconstructs_manifesto_edits(
    rng: random.Random, paragraphs: int, edits: int
) -> None:
    """Realistic paragraphs with random word-level edits diff correctly."""
    old = _manifesto(rng, paragraphs)
    new = _edit(old, rng, edits)
    ops = word_diff(old, new)
    assert_valid_diff(old, new, ops)
    assert_token_aligned(old, new, ops)
    assert apply_hunks(old, changed_ranges(ops)) == new


def test_word_diff_identical_and_empty() -> None:
    """Edge cases: identical, empty on either side."""
    assert word_diff("", "") == []
    assert word_diff("same", "same") == [(DIFF_EQUAL, "same")]
    assert word_diff("", "new text") == [(DIFF_INSERT, "new text")]
    assert word_diff("old text", "") == [(DIFF_DELETE, "old text")]


def test_one_changed_word_is_one_small_change() -> None:
    """Changing one word of a long paragraph yields exactly that word as the change."""
    old = " ".join(SENTENCES * 3)
    new = old.replace("planifiée", "organisée", 1)
    ops = word_diff(old, new)
    assert [op for op in ops if op[0] != DIFF_EQUAL] == [
        (DIFF_DELETE, "planifiée"),
        (DIFF_INSERT, "organisée"),
    ]
    start = old.index("planifiée")
    assert changed_ranges(ops) == [Hunk(start, start + len("planifiée"), "organisée")]


def test_changed_word_never_split() -> None:
    """A word sharing letters with its replacement is replaced whole."""
    ops = word_diff("la transformation sociale", "la transition sociale")
    assert ops == [
        (DIFF_EQUAL, "la "),
        (DIFF_DELETE, "transformation"),
        (DIFF_INSERT, "transition"),
        (DIFF_EQUAL, " sociale"),
    ]


def test_accented_word_changed_whole() -> None:
    """Accents are part of the word: "ecole" -> "école" replaces the word."""
    ops = word_diff("une ecole libre", "une école libre")
    assert (DIFF_DELETE, "ecole") in ops and (DIFF_INSERT, "école") in ops


def test_replacement_across_paragraphs_keeps_break() -> None:
    """Edits on both sides of a paragraph break keep the break as an equality."""
    ops = word_diff("Alpha beta.\n\nGamma delta.", "Alpha zeta.\n\nEpsilon delta.")
    assert (DIFF_EQUAL, ".\n\n") in ops
    assert_valid_diff("Alpha beta.\n\nGamma delta.", "Alpha zeta.\n\nEpsilon delta.", ops)


# An unchanged clause between list edits (issue #18): semantic cleanup used to
# count the spaces, line breaks and markers of the edits, which outweighed a
# clause of seven words between them; it now counts words too.
SEVEN_WORDS = "et nous tiendrons parole dans chaque commune"


def test_unchanged_clause_of_seven_words_between_list_edits_stays_unchanged() -> None:
    """Items added before and after a seven-word line: the line is not deleted and inserted again."""
    old = f"Nous voulons :\n- eau\n- sport\n{SEVEN_WORDS}\n- énergie"
    new = (
        "Nous voulons :\n- travail\n- énergie\n- sport\n- transports\n- retraites\n"
        f"{SEVEN_WORDS}\n- climat\n- eau\n- énergie\n- salaires\n- retraites"
    )
    ops = word_diff(old, new)
    assert_valid_diff(old, new, ops)
    assert any(op == DIFF_EQUAL and SEVEN_WORDS in text for op, text in ops), ops
    assert not _changed_words(ops, DIFF_DELETE) & Counter(SEVEN_WORDS.split())


def test_replaced_list_items_keep_their_line_breaks() -> None:
    """Two neighbouring items rewritten: each item's change stays on its own item."""
    old = "Intro.\n\n- santé publique pour tous\n- école gratuite et laïque\n\nFin."
    new = "Intro.\n\n- santé universelle partout\n- école publique obligatoire\n\nFin."
    ops = word_diff(old, new)
    assert_valid_diff(old, new, ops)
    assert (DIFF_EQUAL, "\n- école ") in ops
    assert changed_ranges(ops) == [
        Hunk(old.index("publique"), old.index("\n- école"), "universelle partout"),
        Hunk(old.index("gratuite"), old.index("\n\nFin"), "publique obligatoire"),
    ]


@pytest.mark.parametrize("marker", ["- ", "* ", "1. ", "  - ", "2) "])
def test_list_item_breaks_anchor_rewritten_items(marker: str) -> None:
    """Short items all rewritten at once are shown item by item, whatever the marker."""
    old = "\n".join(marker + item for item in ["un deux", "trois quatre", "cinq six"])
    new = "\n".join(marker + item for item in ["UN DEUX", "TROIS QUATRE", "CINQ SIX"])
    ops = word_diff(old, new)
    assert_valid_diff(old, new, ops)
    assert len(changed_ranges(ops)) == 3
    assert ops.count((DIFF_EQUAL, "\n" + marker)) == 2


def test_line_breaks_that_start_no_list_item_are_not_anchors() -> None:
    """A hyphen after a line break that is no bullet ("-5") anchors nothing: the diff stays minimal."""
    old, new = "a b\n-5 c", "A B\n-5 C"
    ops = word_diff(old, new)
    assert_valid_diff(old, new, ops)
    assert_token_aligned(old, new, ops)


def test_whitespace_edits_around_a_word_keep_the_word() -> None:
    """Spaces turned into line breaks on both sides of a word: the word itself is unchanged."""
    old, new = "Nous voulons tous vivre", "Nous voulons\ntous\n\nvivre"
    ops = word_diff(old, new)
    assert (DIFF_EQUAL, "tous") in ops


# Different items before and after the line, so that no diff can read the edits as the line moving.
_ITEMS_BEFORE = st.lists(st.sampled_from(["eau", "sport", "santé", "école", "logement"]), max_size=6)
_ITEMS_AFTER = st.lists(st.sampled_from(["transports", "culture", "climat", "travail", "air"]), max_size=6)


@given(_ITEMS_BEFORE, _ITEMS_BEFORE, _ITEMS_AFTER, _ITEMS_AFTER, st.sampled_from(["- ", "1. ", "  * "]))
@settings(max_examples=200, deadline=None)
def test_a_seven_word_line_survives_any_one_word_items_around_it(
    old_before: list[str], new_before: list[str], old_after: list[str], new_after: list[str], marker: str
) -> None:
    """One-word items rewritten at will before and after a seven-word line: the line stays equal.

    Each side changes at most six words, fewer than the line holds, so no
    cleanup may absorb it, however many spaces, breaks and markers they bring.
    """
    # Every item is a whole line, so line matching keeps the line: only cleanup could lose it.
    old = "Programme :\n" + "".join(marker + item + "\n" for item in [*old_before, SEVEN_WORDS, *old_after])
    new = "Programme :\n" + "".join(marker + item + "\n" for item in [*new_before, SEVEN_WORDS, *new_after])
    ops = word_diff(old + "Fin.", new + "Fin.")
    assert_valid_diff(old + "Fin.", new + "Fin.", ops)
    assert any(op == DIFF_EQUAL and SEVEN_WORDS in text for op, text in ops), ops


def test_big_section_diff_stays_minimal() -> None:
    """20,000 words with scattered edits: no delete-all/insert-all, and fast."""
    rng = random.Random(20_000)
    vocabulary = [w for s in SENTENCES for w in s.split()] + [f"mot{i}" for i in range(2000)]
    words = [rng.choice(vocabulary) for _ in range(20_000)]
    old = " ".join(words)
    for _ in range(60):
        words[rng.randrange(len(words))] = "CHANGÉ"
    for _ in range(20):
        del words[rng.randrange(len(words))]
    for _ in range(20):
        words.insert(rng.randrange(len(words)), "NOUVEAU")
    new = " ".join(words)

    started = time.perf_counter()
    ops = word_diff(old, new)
    elapsed = time.perf_counter() - started

    assert_valid_diff(old, new, ops)
    equal = sum(len(text) for op, text in ops if op == DIFF_EQUAL)
    assert equal > 0.9 * len(old)
    assert len(changed_ranges(ops)) <= 100
    assert elapsed < 5.0


def _changed_words(ops: list[DiffOp], side: int) -> Counter[str]:
    """The words (not spaces or punctuation) a diff deletes (side -1) or inserts (side 1)."""
    return Counter(t for op, text in ops if op == side for t in tokenize(text) if t[0].isalnum())


@pytest.mark.parametrize("paragraph", [120, 10_000], ids=["paragraphs", "one-paragraph"])
def test_scattered_edits_in_a_long_section_change_exactly_the_edited_words(paragraph: int) -> None:
    """10,000 words, 40 edits far apart: 40 changes holding only the edited words."""
    rng = random.Random(15)
    vocabulary = sorted({w.strip(".,;") for s in SENTENCES for w in s.split()} - {""})
    # One piece per word, carrying the separator before it: a paragraph
    # break every ``paragraph`` words, a space otherwise.
    pieces = [
        ("\n\n" if i % paragraph == 0 else " ") * bool(i) + rng.choice(vocabulary)
        for i in range(10_000)
    ]
    old = "".join(pieces)
    removed: Counter[str] = Counter()
    added: Counter[str] = Counter()
    for edit in reversed(range(40)):  # back to front, so earlier indices stay valid
        size = rng.randint(1, 3)
        at = edit * 250 + rng.randrange(10, 200)
        while any((at + i) % paragraph == 0 for i in range(size + 1)):  # keep breaks
            at += 1
        markers = [f"NOUVEAU{edit}x{i}" for i in range(size)]  # found nowhere else
        if edit % 3 == 0:
            removed += _changed_words([(DIFF_DELETE, "".join(pieces[at : at + size]))], DIFF_DELETE)
            pieces[at : at + size] = [f" {marker}" for marker in markers]
            added.update(markers)
        elif edit % 3 == 1:
            pieces[at:at] = [f" {marker}" for marker in markers]
            added.update(markers)
        else:
            removed += _changed_words([(DIFF_DELETE, "".join(pieces[at : at + size]))], DIFF_DELETE)
            del pieces[at : at + size]
    new = "".join(pieces)

    ops = word_diff(old, new)

    assert_valid_diff(old, new, ops)
    # Nothing but the edited words changes: a coarser diff (up to "delete
    # everything, insert everything") shows untouched words as changed.
    assert _changed_words(ops, DIFF_DELETE) == removed
    assert _changed_words(ops, DIFF_INSERT) == added
    assert len(changed_ranges(ops)) == 40


@given(st.lists(st.text("ab", max_size=40), min_size=5, max_size=5), st.data())
@settings(max_examples=300, deadline=None)
def test_common_runs_match_a_step_by_step_walk(parts: list[str], data: st.DataObject) -> None:
    """The bisection's snakes, compared a slice at a time, stop exactly where a walk would."""
    common, before1, after1, before2, after2 = parts  # long shared runs, as in real diffs
    text1, text2 = before1 + common + after1, before2 + common + after2
    start1 = data.draw(st.integers(0, len(text1)))
    aligned = min(max(start1 - len(before1) + len(before2), 0), len(text2))  # inside the run
    start2 = data.draw(st.one_of(st.just(aligned), st.integers(0, len(text2))))
    forward = 0
    while text1[start1 + forward :][:1] == text2[start2 + forward :][:1] != "":
        forward += 1
    assert _common_run(text1, text2, start1, start2) == forward
    backward = 0
    while text1[: start1 - backward][-1:] == text2[: start2 - backward][-1:] != "":
        backward += 1
    assert _common_run_back(text1, text2, start1, start2) == backward


def test_short_paragraph_moved_past_an_edited_long_one_moves_the_short_one() -> None:
    """Matching whole lines first must not keep the short paragraph and re-insert the long one."""
    long_old = " ".join(SENTENCES)
    long_new = long_old.replace("planifiée", "organisée")
    old = f"Préambule.\n\n{long_old}\n\nArticle premier.\n\nFin."
    new = f"Préambule.\n\nArticle premier.\n\n{long_new}\n\nFin."

    ops = word_diff(old, new)

    assert_valid_diff(old, new, ops)
    assert _changed_words(ops, DIFF_DELETE) == Counter(["Article", "premier", "planifiée"])
    assert _changed_words(ops, DIFF_INSERT) == Counter(["Article", "premier", "organisée"])


# ---------------------------------------------------------------- rendering

ALPHA_BETA = ("Alpha one two.\n\nBeta three four.", "Alpha one TWO.\n\nBETA three four.")


@pytest.mark.parametrize("render", [render_inline, render_side_by_side])
def test_rendering_escapes_text(render: object) -> None:
    """User text is escaped; only our own markup appears."""
    ops = word_diff("a <b>bold</b> & <script>x</script>", "a <script>alert(1)</script> & <i>it</i>")
    html = render(ops)  # type: ignore[operator]
    assert "<script" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html or "&lt;" in html
    assert "<ins>" in html and "<del>" in html
    assert '<span class="visually-hidden">inserted: </span>' in html
    assert '<span class="visually-hidden">deleted: </span>' in html


def test_render_inline_structure() -> None:
    """Inline diff: wrapper, paragraphs, labelled ins/del."""
    html = render_inline(word_diff(*ALPHA_BETA))
    assert html.startswith('<div class="diff diff-inline"><p>') and html.endswith("</p></div>")
    assert html.count("<p>") == 2
    assert '<del><span class="visually-hidden">deleted: </span>two</del>' in html
    assert '<ins><span class="visually-hidden">inserted: </span>TWO</ins>' in html


def test_render_side_by_side_structure() -> None:
    """Side-by-side: caption, column headers, one row per aligned paragraph."""
    html = render_side_by_side(word_diff(*ALPHA_BETA))
    assert html.startswith('<table class="diff diff-side"><caption class="visually-hidden">')
    assert '<th scope="col">Before</th><th scope="col">After</th>' in html
    assert html.count("<tr>") == 3  # header + two paragraph rows
    left, right = re.findall(
        r'<td class="diff-before" data-label="Before">(.*?)</td><td class="diff-after" data-label="After">(.*?)</td>',
        html,
    )[0]
    assert "<del>" in left and "<ins>" not in left
    assert "<ins>" in right and "<del>" not in right


def test_labels_are_overridable() -> None:
    """Labels can be translated and are escaped."""
    labels = DiffLabels(
        inserted="inséré : ", deleted="supprimé : ", before="Avant", after="Après",
        caption="Modifications <proposées>", paragraph_break="saut de paragraphe",
    )  # fmt: skip
    ops = word_diff("un deux\n\ntrois", "un DEUX trois")
    inline = render_inline(ops, labels=labels)
    side = render_side_by_side(ops, labels=labels)
    assert "inséré : " in inline and "supprimé : saut de paragraphe" in inline
    assert '<th scope="col">Avant</th>' in side and "Modifications &lt;proposées&gt;" in side
    assert 'data-label="Avant"' in side and 'data-label="Après"' in side


def test_deleted_paragraph_break_is_visible() -> None:
    """Merging two paragraphs shows a deleted ¶ and keeps them visually apart."""
    html = render_inline(word_diff("First para.\n\nSecond para.", "First para. Second para."))
    assert html.count("<p>") == 2
    assert 'class="diff-para"' in html and "¶" in html
    first, second = re.findall(r"<p>(.*?)</p>", html)
    assert "First" in first and "Second" not in first
    assert "Second" in second


def test_inserted_line_break_is_visible() -> None:
    """An inserted single newline shows a marker and a <br>."""
    html = render_inline(word_diff("one two", "one\ntwo"))
    assert '<ins class="diff-line">' in html and "↵" in html and "<br>" in html


def test_inserted_paragraph_gets_own_row() -> None:
    """A whole inserted paragraph gets its own row; the next paragraph stays aligned."""
    html = render_side_by_side(word_diff("A a.\n\nB b.", "A a.\n\nX x.\n\nB b."))
    rows = re.findall(r'<td class="diff-before"[^>]*>(.*?)</td><td class="diff-after"[^>]*>(.*?)</td>', html)
    assert rows[0] == ("<p>A a.</p>", "<p>A a.</p>")
    assert rows[1][0] == "" and "X" in rows[1][1]
    assert rows[2] == ("<p>B b.</p>", "<p>B b.</p>")


@given(st.randoms(use_true_random=False), st.integers(1, 5), st.integers(0, 8))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_renderings_preserve_both_texts_and_paragraphs(
    rng: random.Random, paragraphs: int, edits: int
) -> None:
    """Reading the HTML back gives both texts, paragraph by paragraph: nothing glued or lost."""
    old = _manifesto(rng, paragraphs)
    new = _edit(old, rng, edits)
    ops = word_diff(old, new)
    assert _inline_texts(render_inline(ops)) == (old, new)
    assert _side_texts(render_side_by_side(ops)) == (old, new)


@given(random_text, random_text)
@settings(max_examples=200, deadline=None)
def test_renderings_never_leak_markup(old: str, new: str) -> None:
    """Whatever the text, the only tags are ours."""
    for rendered in (render_inline(word_diff(old, new)), render_side_by_side(word_diff(old, new))):
        tags = set(re.findall(r"</?([a-zA-Z0-9]+)", rendered))
        assert tags <= {
            "div",
            "p",
            "br",
            "ins",
            "del",
            "span",
            "table",
            "caption",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
        }


# ------------------------------------------------------------------- hunks


@given(random_text, random_text)
@settings(max_examples=300, deadline=None)
def test_changed_ranges_apply_back(old: str, new: str) -> None:
    """Applying a diff's hunks to the old text gives the new text."""
    hunks = changed_ranges(word_diff(old, new))
    assert apply_hunks(old, hunks) == new
    assert hunks == sorted(hunks)
    assert all(a.end < b.start for a, b in pairwise(hunks))


def test_changed_ranges_examples() -> None:
    """Replacement, pure insertion and pure deletion in old coordinates."""
    assert changed_ranges(word_diff("a b c", "a X c")) == [Hunk(2, 3, "X")]
    assert changed_ranges(word_diff("a c", "a b c")) == [Hunk(2, 2, "b ")]
    assert changed_ranges(word_diff("a b c", "a c")) == [Hunk(2, 4, "")]
    assert changed_ranges([]) == []


def test_apply_hunks_examples() -> None:
    """Exact application, including insertions at the edges."""
    assert apply_hunks("abcdef", [Hunk(0, 0, ">"), Hunk(1, 3, "X"), Hunk(6, 6, "<")]) == ">aXdef<"
    assert apply_hunks("abc", []) == "abc"
    assert apply_hunks("abc", [Hunk(1, 1, "-"), Hunk(1, 2, "B")]) == "a-Bc"


@pytest.mark.parametrize(
    "hunks",
    [
        [Hunk(2, 4, "x"), Hunk(0, 1, "y")],  # unsorted
        [Hunk(0, 3, "x"), Hunk(2, 4, "y")],  # overlapping
        [Hunk(1, 3, "x"), Hunk(1, 1, "y")],  # insertion inside a replaced range
        [Hunk(2, 2, "x"), Hunk(2, 2, "y")],  # ambiguous order
        [Hunk(4, 9, "x")],  # out of range
        [Hunk(3, 2, "x")],  # reversed
    ],
)
def test_apply_hunks_rejects_bad_input(hunks: list[Hunk]) -> None:
    """Unsorted, overlapping, ambiguous or out-of-range hunks raise ValueError."""
    with pytest.raises(ValueError):
        apply_hunks("abcdef", hunks)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (Hunk(0, 5, "x"), Hunk(3, 8, "y"), True),  # intersecting
        (Hunk(0, 5, "x"), Hunk(1, 2, "y"), True),  # contained
        (Hunk(0, 5, "x"), Hunk(5, 8, "y"), True),  # touching
        (Hunk(0, 5, "x"), Hunk(6, 8, "y"), False),  # one char apart
        (Hunk(3, 3, "x"), Hunk(0, 5, "y"), True),  # insertion inside
        (Hunk(0, 3, "x"), Hunk(3, 3, "y"), True),  # insertion on the end boundary
        (Hunk(3, 3, "x"), Hunk(3, 6, "y"), True),  # insertion on the start boundary
        (Hunk(3, 3, "x"), Hunk(3, 3, "y"), True),  # two insertions, same point
        (Hunk(3, 3, "x"), Hunk(4, 4, "y"), False),  # two insertions, different points
        (Hunk(2, 2, "x"), Hunk(3, 6, "y"), False),  # insertion before a range
        (Hunk(7, 7, "x"), Hunk(3, 6, "y"), False),  # insertion after a range
    ],
)
def test_hunks_overlap_table(a: Hunk, b: Hunk, expected: bool) -> None:
    """The overlap rule is conservative and symmetric."""
    assert hunks_overlap(a, b) is expected
    assert hunks_overlap(b, a) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (Hunk(0, 2, "la"), Hunk(3, 7, "chatte"), True),  # "le chat": adjacent words
        (Hunk(0, 2, "la"), Hunk(8, 11, "noir"), False),  # a word in between
        (Hunk(8, 11, "x"), Hunk(13, 19, "y"), False),  # "gris.\n\nUn": paragraph break
        (Hunk(2, 2, " gros"), Hunk(3, 7, "chien"), True),  # insertion next to a word
    ],
)
def test_hunks_overlap_with_base_counts_adjacent_words(a: Hunk, b: Hunk, expected: bool) -> None:
    """With the base text, changes separated only by spaces in one paragraph collide."""
    base = "le chat est gris.\n\nUn autre"
    assert hunks_overlap(a, b, base) is expected
    assert hunks_overlap(b, a, base) is expected


def test_changes_overlap() -> None:
    """Two proposals collide when they change the same or adjacent words."""
    base = "Nous voulons une école publique.\n\nLa santé pour tous."
    a = base.replace("publique", "laïque")
    assert changes_overlap(base, a, base.replace("publique", "gratuite"))  # same word
    assert changes_overlap(base, a, base.replace("école", "université"))  # adjacent word
    assert changes_overlap(base, a, base.replace("publique", "publique et gratuite"))  # touching
    assert changes_overlap(base, a, a)  # duplicates are a collision for moderators
    assert not changes_overlap(base, a, base.replace("santé", "santé publique"))
    assert not changes_overlap(base, a, base.replace("Nous", "Ensemble, nous"))
    assert not changes_overlap(base, a, base)


# ------------------------------------------------------------- standalone


def test_engine_imports_nothing_from_the_app() -> None:
    """manifesto.text stays a pure library: no Flask, SQLAlchemy or app imports."""
    forbidden = ("flask", "sqlalchemy", "werkzeug", "jinja2", "manifesto")
    package = Path(__file__).resolve().parents[2] / "manifesto" / "text"
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [] if node.level else [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"


# ------------------------------------------------------------ numbered lines

def _visible_old_text(numbered_html: str) -> str:
    """The old text a numbered diff shows: drop insertions, labels, numbers and tags."""
    import re as _re

    text = _re.sub(r"<ins\b.*?</ins>", "", numbered_html, flags=_re.S)
    text = _re.sub(r'<span class="visually-hidden">.*?</span>', "", text)
    text = _re.sub(r'<span class="ln">\d+</span>', "", text)
    text = _re.sub(r'<span aria-hidden="true">.*?</span>', "", text)
    text = _re.sub(r"<[^>]+>", "", text)
    return html.unescape(text)


@given(st.lists(st.sampled_from(["coopérative", "énergie", "señal", "👩🏽‍🌾", "وطن", "a", "b", "ç."]),
                min_size=1, max_size=60), st.data())
@settings(max_examples=150, deadline=None)
def test_numbered_diff_shows_every_old_word_once_in_order(words, data):
    from manifesto.text.lines import layout

    old = " ".join(words).replace(" ç.", " ç.\n\n")
    new_words = list(words)
    for _ in range(data.draw(st.integers(0, 4))):
        i = data.draw(st.integers(0, len(new_words) - 1))
        new_words[i] = data.draw(st.sampled_from(["X", "", "nouveau mot", "<b>"]))
    new = " ".join(new_words)
    rendered = numbered_diff(old, new, width=20, first_number=7, context=None).html
    assert "".join(_visible_old_text(rendered).split()) == "".join(old.split())
    numbers = [int(n) for n in __import__("re").findall(r'<span class="ln">(\d+)</span>', rendered)]
    assert numbers == list(range(7, 7 + len(layout(old, 20).lines)))
    assert "<b>" not in rendered


def test_numbered_diff_with_context_shows_changed_lines_and_a_gap():
    from manifesto.text.lines import layout

    old = "\n\n".join(f"Line number {i} of the text." for i in range(1, 21))
    new = old.replace("Line number 15 of", "Line number 15, amended, of")
    rendered = numbered_diff(old, new, first_number=101, context=1).html
    assert '<span class="ln">115</span>' in rendered  # the changed line, numbered from 101
    assert '<span class="ln">114</span>' in rendered and '<span class="ln">116</span>' in rendered
    assert '<span class="ln">110</span>' not in rendered and "line-gap" in rendered
    assert "inserted: </span>, amended" in rendered
