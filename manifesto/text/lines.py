"""Deterministic line numbering of a text.

Line numbers are a product promise: a printed copy, the screen and the
export must agree, because amendments are filed against "lines 12–14".
The layout is therefore a pure function of (text, width, first_number),
computed here once and never re-derived by a browser or a PDF engine.

Rules:

1. Only ``\\r\\n``, ``\\r`` and ``\\n`` break lines. Every line break starts a
   new line, so blocks separated by blank lines each start on a new line.
2. Lines containing only whitespace (blank lines) get no number.
3. Within a line, text is wrapped greedily at whitespace: each line takes as
   many words as fit in ``width`` characters. Characters are Python code
   points, nothing is normalised, and a tab counts as one character.
4. A line's content runs from its first to its last non-whitespace character;
   whitespace at a wrap point, indentation and trailing spaces belong to no
   line. Interior whitespace counts towards the width as written.
5. No-break spaces (U+00A0, U+2007, U+202F) never wrap: they are part of the
   word, as French typography expects before ``: ; ! ?``.
6. A word longer than ``width`` starts on a new line and is hard-split every
   ``width`` characters; its last piece may be followed by more words.
7. Numbering is continuous from ``first_number``; empty text has no lines.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEFAULT_LINE_LENGTH", "Layout", "Line", "format_line_range", "layout"]

DEFAULT_LINE_LENGTH = 80

_NO_BREAK_SPACES = "\u00a0\u2007\u202f"
# Either a line break (group 1) or a word: a run of non-breaking characters.
_ITEM_RE = re.compile(rf"(\r\n|\r|\n)|(?:[^\s]|[{_NO_BREAK_SPACES}])+")


@dataclass(frozen=True)
class Line:
    """One numbered line: ``source[start:end]``, without surrounding whitespace."""

    number: int
    start: int
    end: int


@dataclass
class Layout:
    """The numbered lines of one text, as laid out by :func:`layout`."""

    source: str
    lines: list[Line]
    width: int = DEFAULT_LINE_LENGTH
    first_number: int = 1
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
        return {
            "first_number": self.first_number,
            "width": self.width,
            "lines": [[line.start, line.end] for line in self.lines],
        }

    @classmethod
    def from_json(cls, source: str, data: Mapping[str, Any]) -> Layout:
        """Rebuild a layout stored with :meth:`to_json` for the same ``source``."""
        first_number = int(data["first_number"])
        width = int(data["width"])
        lines: list[Line] = []
        previous_end = 0
        for index, (raw_start, raw_end) in enumerate(data["lines"]):
            start, end = int(raw_start), int(raw_end)
            if not previous_end <= start < end <= len(source):
                raise ValueError(f"stored line {index} ({start}:{end}) does not fit the text")
            lines.append(Line(first_number + index, start, end))
            previous_end = end
        return cls(source, lines, width, first_number)


def layout(text: str, width: int = DEFAULT_LINE_LENGTH, first_number: int = 1) -> Layout:
    """Number the lines of ``text`` wrapped at ``width`` characters (rules in module doc)."""
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

    lines = [Line(first_number + index, start, end) for index, (start, end) in enumerate(spans)]
    return Layout(text, lines, width, first_number)


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
