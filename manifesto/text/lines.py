"""Deterministic line numbering of the text people read.

Line numbers are a product promise: a printed copy, the screen and the
export must agree, because amendments are filed against "lines 12–14".
The layout is therefore a pure function of (text, width, first_number),
computed once when a version is written and never re-derived by a browser
or a PDF engine.

Lines are laid out over the *visible* text of each rendered block
(:mod:`manifesto.text.visible`), not over the Markdown source:

1. Each rendered block -- paragraph, heading, list item, quote, code block,
   table row -- starts a new line. A thematic break has no text and no line.
2. Markup does not count: ``**``, ``_``, list markers, ``>`` and link
   destinations are not visible. A link counts only its text. A list item
   starts with its bullet (``•``, ``◦``, ``▪`` by depth) or its number
   (``3.``) and one space, which count. Table cells are joined by ``" | "``.
3. Soft line breaks inside a paragraph join with one space, as a browser
   joins them; a hard line break (two trailing spaces or a backslash) starts
   a new line; so does every line of a code block.
4. Within a block, text is wrapped greedily at whitespace: each line takes
   as many words as fit in ``width`` characters. Characters are Python code
   points, nothing is normalised, and a tab counts as one character.
5. A line's content runs from its first to its last non-whitespace character;
   whitespace at a wrap point belongs to no line. Interior whitespace counts
   towards the width as written.
6. No-break spaces (U+00A0, U+2007, U+202F) never wrap: they are part of the
   word, as French typography expects before ``: ; ! ?``.
7. A word longer than ``width`` starts on a new line and is hard-split every
   ``width`` characters; its last piece may be followed by more words.
8. Numbering is continuous from ``first_number``; empty text has no lines.

So joining the lines of a block with single spaces gives the block's visible
text, with its whitespace runs at wrap points and hard breaks collapsed to
one space. Each line also keeps the source span its characters came from
(to place a change to the Markdown on a line) and its HTML with the inline
formatting it carries (to show the numbered text as it reads).
:func:`wrap` applies rules 4-7 to a plain string; :func:`layout_text`
numbers plain text whose every line break starts a line.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .render import render_marked
from .visible import visible_blocks

__all__ = ["DEFAULT_LINE_LENGTH", "Layout", "Line", "LineView", "format_line_range", "layout", "layout_text", "wrap"]

DEFAULT_LINE_LENGTH = 80

_NO_BREAK_SPACES = "\u00a0\u2007\u202f"
# Either a line break (group 1) or a word: a run of non-breaking characters.
_ITEM_RE = re.compile(rf"(\r\n|\r|\n)|(?:[^\s]|[{_NO_BREAK_SPACES}])+")


@dataclass(frozen=True)
class Line:
    """One numbered line: ``source[start:end]`` holds what it shows (empty only where the source could not be located)."""

    number: int
    start: int
    end: int


@dataclass(frozen=True)
class LineView:
    """How one numbered line reads: its block, nesting, visible text and HTML."""

    block: str  # p, h3..h6, li, quote, code, table
    depth: int
    starts_block: bool
    text: str
    html: str


@dataclass
class Layout:
    """The numbered lines of one text, as laid out by :func:`layout`."""

    source: str
    lines: list[Line]
    width: int = DEFAULT_LINE_LENGTH
    first_number: int = 1
    views: list[LineView] = field(default_factory=list)
    _starts: list[int] = field(init=False, repr=False, compare=False)
    _ends: list[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Index line offsets for span look-ups."""
        self._starts = [line.start for line in self.lines]
        self._ends = [line.end for line in self.lines]

    @property
    def line_count(self) -> int:
        """Number of numbered lines."""
        return len(self.lines)

    def text_of(self, line: Line) -> str:
        """Return the content of a line."""
        return self.source[line.start : line.end]

    def lines_for_span(self, start: int, end: int) -> tuple[int, int]:
        """First and last line numbers covering ``source[start:end]``."""
        if not 0 <= start <= end <= len(self.source):
            raise ValueError(f"span {start}:{end} outside text of length {len(self.source)}")
        if not self.lines:
            raise ValueError("text has no numbered lines")
        if start < end:
            first = bisect_right(self._ends, start)
            last = bisect_left(self._starts, end) - 1
            if first <= last:
                return self.lines[first].number, self.lines[last].number
        # An insertion point, or a span touching only whitespace between lines:
        # the line holding the offset, else the line before the gap.
        index = max(bisect_right(self._starts, start) - 1, 0)
        number = self.lines[index].number
        return number, number

    def to_json(self) -> dict[str, Any]:
        """Compact JSON-ready form, to store the layout once per text version."""
        data: dict[str, Any] = {
            "first_number": self.first_number,
            "width": self.width,
            "lines": [[line.start, line.end] for line in self.lines],
        }
        if self.views:
            data["views"] = [[v.block, v.depth, int(v.starts_block), v.text, v.html] for v in self.views]
        return data

    @classmethod
    def from_json(cls, source: str, data: Mapping[str, Any]) -> Layout:
        """Rebuild a layout stored with :meth:`to_json` for the same ``source``."""
        first_number = int(data["first_number"])
        width = int(data["width"])
        lines: list[Line] = []
        previous_end = 0
        for index, (raw_start, raw_end) in enumerate(data["lines"]):
            start, end = int(raw_start), int(raw_end)
            if not previous_end <= start <= end <= len(source):
                raise ValueError(f"stored line {index} ({start}:{end}) does not fit the text")
            lines.append(Line(first_number + index, start, end))
            previous_end = end
        views = [LineView(str(b), int(d), bool(s), str(t), str(h)) for b, d, s, t, h in data.get("views", [])]
        if views and len(views) != len(lines):
            raise ValueError("stored line views do not match the lines")
        return cls(source, lines, width, first_number, views)


def wrap(text: str, width: int = DEFAULT_LINE_LENGTH) -> list[tuple[int, int]]:
    """The ``(start, end)`` spans of ``text``'s lines: every line break starts one, rules 4-7 wrap the rest."""
    if width < 1:
        raise ValueError("width must be at least 1")
    spans: list[tuple[int, int]] = []
    line_start = line_end = -1  # -1: no open line

    for match in _ITEM_RE.finditer(text):
        if match.group(1) is not None:
            if line_start >= 0:
                spans.append((line_start, line_end))
                line_start = -1
            continue
        word_start, word_end = match.span()
        if line_start >= 0 and word_end - line_start <= width:
            line_end = word_end
            continue
        if line_start >= 0:
            spans.append((line_start, line_end))
        while word_end - word_start > width:
            spans.append((word_start, word_start + width))
            word_start += width
        line_start, line_end = word_start, word_end
    if line_start >= 0:
        spans.append((line_start, line_end))
    return spans


def layout_text(text: str, width: int = DEFAULT_LINE_LENGTH, first_number: int = 1) -> Layout:
    """Number the lines of plain ``text``: each line break starts a line, blank lines get no number."""
    spans = wrap(text, width)
    lines = [Line(first_number + index, start, end) for index, (start, end) in enumerate(spans)]
    return Layout(text, lines, width, first_number)


def layout(source: str, width: int = DEFAULT_LINE_LENGTH, first_number: int = 1) -> Layout:
    """Number the visible lines of the Markdown ``source`` wrapped at ``width`` (rules in module doc)."""
    if width < 1:
        raise ValueError("width must be at least 1")
    lines: list[Line] = []
    views: list[LineView] = []
    previous_end = 0
    for block in visible_blocks(source):
        for index, (start, end) in enumerate(wrap(block.text, width)):
            source_start, source_end = block.source_span(start, end)
            # Keep spans ordered and disjoint even where the mapping had to guess
            # (a span may then be empty, at the end of what could be located).
            source_start = min(max(source_start, previous_end), len(source))
            source_end = min(max(source_end, source_start), len(source))
            previous_end = source_end
            lines.append(Line(first_number + len(lines), source_start, source_end))
            views.append(LineView(block.kind, block.depth, index == 0, block.text[start:end],
                                  render_marked(block.text, block.marks, start, end)))
    return Layout(source, lines, width, first_number, views)


def format_line_range(
    first: int,
    last: int,
    *,
    one: str = "line {first}",
    many: str = "lines {first}\u2013{last}",
) -> str:
    """Describe a line range: "line 12" or "lines 12–14" (templates translatable)."""
    if last < first:
        raise ValueError(f"line range {first}-{last} is reversed")
    template = one if first == last else many
    return template.format(first=first, last=last)
