"""Tests for manifesto.text.lines: deterministic wrapping and numbering of plain text (rules 4-8)."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from manifesto.text.lines import DEFAULT_LINE_LENGTH, Layout, Line, format_line_range
from manifesto.text.lines import layout_text as layout  # rules 4-7 on plain text; Markdown in test_visible_lines

BREAKABLE = re.compile(r"[^\S\u00a0\u2007\u202f]")  # whitespace we may wrap at
WORD = re.compile(r"(?:[^\s]|[\u00a0\u2007\u202f])+")

PIECES = [
    "a", "b", "mot", "économie", "señal", "😀", "مرحبا", "abcdefghijklmnop",
    " ", " ", "  ", "\t", "\u00a0", "\n", "\n\n", "\r\n", "\r", "\n \n", ".", "—",
]  # fmt: skip
texts = st.lists(st.sampled_from(PIECES), max_size=80).map("".join)
widths = st.integers(min_value=1, max_value=30)


def contents(text: str, width: int = DEFAULT_LINE_LENGTH, first_number: int = 1) -> list[str]:
    """The text of each numbered line."""
    result = layout(text, width, first_number)
    return [result.text_of(line) for line in result.lines]


# ------------------------------------------------------------------- rules


def test_empty_text_has_no_lines() -> None:
    """Empty and blank text produce zero lines."""
    for text in ("", "   ", "\n\n", " \t\r\n "):
        assert layout(text).lines == []
        assert layout(text).line_count == 0


def test_short_text_is_one_line() -> None:
    """A short paragraph is a single line numbered 1."""
    result = layout("Nous voulons une école publique.")
    assert result.lines == [Line(1, 0, 32)]


def test_blocks_start_on_new_lines_and_blank_lines_are_not_numbered() -> None:
    """Paragraphs each start a line; the blank lines between them get no number."""
    text = "Premier paragraphe.\n\n\nDeuxième.\n  \nTroisième."
    result = layout(text)
    assert [result.text_of(line) for line in result.lines] == [
        "Premier paragraphe.",
        "Deuxième.",
        "Troisième.",
    ]
    assert [line.number for line in result.lines] == [1, 2, 3]


def test_single_newline_starts_a_new_line() -> None:
    """Every line break, including \\r\\n and \\r, starts a new line."""
    assert contents("un\ndeux\r\ntrois\rquatre") == ["un", "deux", "trois", "quatre"]


def test_greedy_wrap_at_whitespace() -> None:
    """Lines take as many words as fit; exact fits are allowed."""
    assert contents("aaaa bbbb cccc", width=9) == ["aaaa bbbb", "cccc"]
    assert contents("aaaa bbbb cccc", width=8) == ["aaaa", "bbbb", "cccc"]
    assert contents("aaaa bbbb cccc", width=14) == ["aaaa bbbb cccc"]


def test_whitespace_at_wrap_point_belongs_to_no_line() -> None:
    """Spaces where a line wraps, indentation and trailing spaces are not content."""
    text = "  aaaa    bbbb   "
    result = layout(text, width=6)
    assert result.lines == [Line(1, 2, 6), Line(2, 10, 14)]


def test_interior_whitespace_counts_as_written() -> None:
    """Runs of spaces and tabs inside a line count one character each."""
    assert contents("a\t\tb   c", width=6) == ["a\t\tb", "c"]
    assert contents("a\t\tb   c", width=8) == ["a\t\tb   c"]


def test_no_break_spaces_do_not_wrap() -> None:
    """French no-break spaces keep punctuation with its word."""
    assert contents("Vraiment\u00a0? Oui\u202f!", width=10) == ["Vraiment\u00a0?", "Oui\u202f!"]


def test_long_word_is_hard_split() -> None:
    """A word longer than the width is cut every ``width`` characters."""
    assert contents("abcdefghij", width=4) == ["abcd", "efgh", "ij"]
    assert contents("x abcdefghij y z", width=4) == ["x", "abcd", "efgh", "ij y", "z"]
    assert contents("abcdefgh", width=4) == ["abcd", "efgh"]


def test_width_is_configurable() -> None:
    """Default is 80 characters; other widths wrap accordingly."""
    text = " ".join(["mot"] * 40)  # 159 characters
    assert [len(c) for c in contents(text)] == [79, 79]
    assert len(contents(text, width=40)) == 4
    with pytest.raises(ValueError):
        layout(text, width=0)


def test_numbering_continues_from_first_number() -> None:
    """Sections continue the numbering of the previous one."""
    first = layout("un deux trois quatre", width=8)
    second = layout("cinq six\n\nsept", width=8, first_number=first.lines[-1].number + 1)
    assert [line.number for line in first.lines] == [1, 2, 3]
    assert [line.number for line in second.lines] == [4, 5]
    assert second.first_number == 4


def test_unicode_counts_code_points() -> None:
    """Accented letters, emoji and RTL text count as code points."""
    assert contents("économie señal", width=8) == ["économie", "señal"]
    assert contents("😀😀 مرحبا", width=2) == ["😀😀", "مر", "حب", "ا"]


# ------------------------------------------------------------ span lookups

SPAN_TEXT = "aaaa bbbb\ncccc\n\ndddd eeee"  # width 4: aaaa|bbbb|cccc|dddd|eeee


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, 4, (1, 1)),  # one word
        (2, 7, (1, 2)),  # across a wrap point
        (0, len(SPAN_TEXT), (1, 5)),  # everything
        (0, 0, (1, 1)),  # insertion at the very start
        (4, 4, (1, 1)),  # insertion at the end of a line
        (5, 5, (2, 2)),  # insertion at the start of the next line
        (14, 14, (3, 3)),  # insertion right after "cccc"
        (15, 15, (3, 3)),  # insertion in the blank line: previous line
        (4, 5, (1, 1)),  # span covering only the wrap space: previous line
        (14, 16, (3, 3)),  # span covering only the break
        (13, 17, (3, 4)),  # span across the paragraph break
        (len(SPAN_TEXT), len(SPAN_TEXT), (5, 5)),  # insertion at the very end
    ],
)
def test_lines_for_span(start: int, end: int, expected: tuple[int, int]) -> None:
    """Spans map to the lines they touch; insertion points to their line or the one before."""
    assert layout(SPAN_TEXT, width=4).lines_for_span(start, end) == expected


def test_lines_for_span_before_first_line() -> None:
    """An offset in leading whitespace maps to the first line."""
    assert layout("\n\n  texte", width=10, first_number=7).lines_for_span(0, 1) == (7, 7)


def test_lines_for_span_errors() -> None:
    """Out-of-range spans and texts without lines raise ValueError."""
    with pytest.raises(ValueError):
        layout("abc").lines_for_span(2, 1)
    with pytest.raises(ValueError):
        layout("abc").lines_for_span(0, 4)
    with pytest.raises(ValueError):
        layout("   ").lines_for_span(0, 0)


# -------------------------------------------------------------------- json


def test_json_round_trip() -> None:
    """A stored layout comes back identical, through real JSON."""
    original = layout("un deux trois\n\nquatre cinq", width=7, first_number=12)
    stored = json.dumps(original.to_json())
    assert json.loads(stored) == {
        "first_number": 12,
        "width": 7,
        "lines": [[0, 7], [8, 13], [15, 21], [22, 26]],
    }
    restored = Layout.from_json(original.source, json.loads(stored))
    assert restored == original
    assert restored.lines_for_span(16, 16) == (14, 14)


@pytest.mark.parametrize(
    "lines",
    [[[0, 30]], [[3, 2]], [[0, 4], [2, 6]], [[14, 14]]],
)
def test_from_json_rejects_layouts_of_another_text(lines: list[list[int]]) -> None:
    """Offsets that do not fit the text are refused rather than misnumbered."""
    with pytest.raises(ValueError):
        Layout.from_json("un deux trois", {"first_number": 1, "width": 80, "lines": lines})


# ---------------------------------------------------------- line range text


def test_format_line_range() -> None:
    """Singular for one line, en dash for ranges, translatable templates."""
    assert format_line_range(12, 12) == "line 12"
    assert format_line_range(12, 14) == "lines 12\u201314"
    assert format_line_range(3, 5, one="ligne {first}", many="lignes {first} à {last}") == (
        "lignes 3 à 5"
    )
    with pytest.raises(ValueError):
        format_line_range(5, 4)


# -------------------------------------------------------------- properties


@given(texts, widths, st.integers(-5, 1000))
@settings(max_examples=400, deadline=None)
def test_layout_properties(text: str, width: int, first_number: int) -> None:
    """Width respected; every word character covered exactly once, in order; greedy; numbered."""
    result = layout(text, width, first_number)
    assert [line.number for line in result.lines] == list(
        range(first_number, first_number + len(result.lines))
    )
    position = 0
    for index, line in enumerate(result.lines):
        content = result.text_of(line)
        assert 0 < len(content) <= width
        assert not BREAKABLE.match(content[0]) and not BREAKABLE.match(content[-1])
        gap = text[position : line.start]
        assert all(BREAKABLE.match(char) for char in gap)  # skipped text is whitespace only
        if index and not gap:
            # Lines touch only where a long word was hard-split.
            assert len(result.text_of(result.lines[index - 1])) == width
        if index and gap and "\n" not in gap and "\r" not in gap:
            # Greedy: the next line's first word did not fit on the previous line.
            first_word = WORD.match(text, line.start)
            assert first_word is not None
            assert first_word.end() - result.lines[index - 1].start > width
        position = line.end
    assert all(BREAKABLE.match(char) for char in text[position:])
    assert "".join(WORD.findall(text)) == "".join(
        "".join(WORD.findall(result.text_of(line))) for line in result.lines
    )


@given(texts, widths)
@settings(max_examples=200, deadline=None)
def test_layout_is_deterministic(text: str, width: int) -> None:
    """Same input, same layout; through JSON too."""
    first = layout(text, width)
    assert first == layout(text, width)
    assert Layout.from_json(text, json.loads(json.dumps(first.to_json()))) == first


@given(texts, widths, st.data())
@settings(max_examples=300, deadline=None)
def test_lines_for_span_property(text: str, width: int, data: st.DataObject) -> None:
    """The reported range is the tightest one covering every line the span touches."""
    result = layout(text, width)
    assume(result.lines)
    start = data.draw(st.integers(0, len(text)), label="start")
    end = data.draw(st.integers(start, len(text)), label="end")
    first, last = result.lines_for_span(start, end)
    assert first <= last
    touched = [line.number for line in result.lines if line.start < end and start < line.end]
    if start < end and touched:
        assert (first, last) == (touched[0], touched[-1])
    else:
        # Insertion point or whitespace-only span: the line holding it, else the one before.
        preceding = [line.number for line in result.lines if line.start <= start]
        assert first == last == (preceding[-1] if preceding else result.lines[0].number)
