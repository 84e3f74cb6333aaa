"""Anchor comments to passages of a text, and find the passages again after the text changes.

A passage is anchored the way the W3C Web Annotation model does it: a
TextQuoteSelector (the exact quote, plus up to ``DEFAULT_CONTEXT`` characters of
prefix and suffix) and a TextPositionSelector (start and end in the text it
was written on). Nothing here depends on how pages lay the text out.

The text a passage lives in is the *reading text* of a rendered section: the
characters a reader sees and selects in the page, taken from the sanitised
HTML (:class:`ReadingText`), with every run of whitespace read as one space.
Offsets everywhere in this module are offsets into that text.

Finding a passage again (:func:`locate`) tries, in order:

1. the place a word diff of the old and new text maps the old position to,
   when the quote is still there: an edit elsewhere moves it exactly;
2. every exact occurrence of the quote, the best by how much of its prefix
   and suffix still surround it, then by nearness to the expected place;
3. a fuzzy match with diff-match-patch's ``match_main`` near the expected
   place: its bitap matcher takes at most 32 characters, so the start and
   the end of a long quote are matched separately, and the span between them
   is aligned with the quote and accepted only if it is similar enough.

Otherwise the passage is lost, and the caller says so.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from diff_match_patch import diff_match_patch

from .diff import DIFF_DELETE, DIFF_EQUAL, DIFF_INSERT, word_diff

__all__ = [
    "DEFAULT_CONTEXT",
    "MATCH_DISTANCE",
    "MATCH_THRESHOLD",
    "MIN_SIMILARITY",
    "Passage",
    "PositionMap",
    "ReadingText",
    "Span",
    "TextQuoteSelector",
    "find_quote",
    "highlight_passages",
    "locate",
    "make_selector",
    "normalize_space",
    "reading_text",
    "reanchor",
    "similarity",
]

DEFAULT_CONTEXT = 32  # characters of prefix and suffix, as in the stored selectors

# diff-match-patch's fuzzy matcher: 0.0 asks for a perfect match, 1.0 takes
# anything. 0.35 lets about one character in three differ (a word changed
# or inserted inside a 32-character stretch) while refusing unrelated text.
MATCH_THRESHOLD = 0.35
# How far (in characters) from the expected place a fuzzy match may start:
# the matcher counts every MATCH_DISTANCE characters of distance as one whole
# mismatch. The expected place comes from a word diff, so it is precise, and
# a small distance keeps the matcher's scan short (about ±70 characters).
MATCH_DISTANCE = 200
# A fuzzy candidate must share this much with the quote (1 - edit distance /
# length), or the passage counts as changed: the words a reader commented on
# must still be recognisably there.
MIN_SIMILARITY = 0.6

_SPACE_RUN = re.compile(r"\s+")


class Span(NamedTuple):
    """A half-open range ``[start, end)`` of the reading text."""

    start: int
    end: int


@dataclass(frozen=True)
class TextQuoteSelector:
    """A W3C TextQuoteSelector with the TextPositionSelector of the text it was made on."""

    exact: str
    prefix: str
    suffix: str
    start: int
    end: int


def normalize_space(value: str | None) -> str:
    """Read every run of whitespace as one space, and trim the ends (how quotes are compared)."""
    return _SPACE_RUN.sub(" ", value or "").strip()


def make_selector(text: str, start: int, end: int, context: int = DEFAULT_CONTEXT) -> TextQuoteSelector:
    """Describe ``text[start:end]`` by its quote, up to ``context`` characters around it, and its position.

    :raises ValueError: for an empty or out-of-range span.
    """
    if not 0 <= start < end <= len(text):
        raise ValueError(f"not a passage of the text: [{start}, {end}) of {len(text)} characters")
    return TextQuoteSelector(exact=text[start:end], prefix=text[max(0, start - context):start],
                             suffix=text[end:end + context], start=start, end=end)


# ------------------------------------------------------------ exact matches

def _occurrences(text: str, quote: str) -> list[int]:
    """Every start of ``quote`` in ``text``, overlapping ones included."""
    found, index = [], text.find(quote)
    while index != -1:
        found.append(index)
        index = text.find(quote, index + 1)
    return found


def _common_tail(a: str, b: str) -> int:
    """How many characters ``a`` and ``b`` share at their ends."""
    n = 0
    for x, y in zip(reversed(a), reversed(b)):
        if x != y:
            break
        n += 1
    return n


def _common_head(a: str, b: str) -> int:
    """How many characters ``a`` and ``b`` share at their starts."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _context_score(text: str, start: int, end: int, prefix: str, suffix: str) -> int:
    """How many characters of the expected prefix and suffix surround ``text[start:end]``."""
    before = text[max(0, start - len(prefix)):start] if prefix else ""
    after = text[end:end + len(suffix)] if suffix else ""
    return _common_tail(before, prefix) + _common_head(after, suffix)


def _best_occurrences(text: str, quote: str, prefix: str, suffix: str, near: int | None) -> list[int]:
    """The occurrences of ``quote`` with the best context, nearest ``near`` first (all of them if tied)."""
    starts = _occurrences(text, quote)
    if len(starts) <= 1:
        return starts
    scored = [(_context_score(text, s, s + len(quote), prefix, suffix), s) for s in starts]
    best = max(score for score, _ in scored)
    winners = [s for score, s in scored if score == best]
    if near is not None:
        winners.sort(key=lambda s: (abs(s - near), s))
    return winners


def find_quote(text: str, quote: str, prefix: str = "", suffix: str = "") -> list[Span]:
    """Where a reader's quote is in ``text``: one span, several equally likely ones, or none.

    ``prefix`` and ``suffix`` are what the reader's browser saw around the
    selection, when it could tell; they pick among repeated words. The quote
    is compared with its whitespace normalised, the context with its runs of
    whitespace read as one space.
    """
    quote = normalize_space(quote)
    if not quote:
        return []
    prefix = _SPACE_RUN.sub(" ", prefix or "").lstrip()
    suffix = _SPACE_RUN.sub(" ", suffix or "").rstrip()
    return [Span(s, s + len(quote)) for s in _best_occurrences(text, quote, prefix, suffix, None)]


# ------------------------------------------------------------ fuzzy matches

def _matcher() -> diff_match_patch:
    """A diff-match-patch instance tuned for finding edited passages."""
    dmp = diff_match_patch()
    dmp.Match_Threshold = MATCH_THRESHOLD
    dmp.Match_Distance = MATCH_DISTANCE
    dmp.Diff_Timeout = 0.2  # only ever diffs a quote against a window of about its size
    return dmp


def similarity(a: str, b: str) -> float:
    """How alike two strings are: 1 - (character edit distance / length of the longer)."""
    if not a and not b:
        return 1.0
    dmp = _matcher()
    return 1.0 - dmp.diff_levenshtein(dmp.diff_main(a, b, False)) / max(len(a), len(b))


def _align(quote: str, text: str, lo: int, hi: int) -> Span | None:
    """The part of ``text[lo:hi]`` that corresponds to ``quote``, by a character diff of the two.

    The window holds the candidate plus some text on either side; the span
    runs from the first to the last character the diff keeps from the quote,
    widened by whatever the quote has before and after them (changed words
    at its ends count as part of the passage).
    """
    dmp = _matcher()
    window = text[lo:hi]
    diffs = dmp.diff_main(quote, window, False)
    dmp.diff_cleanupSemantic(diffs)
    pos1 = pos2 = 0
    first = last = None  # (pos1, pos2) at the start of the first / end of the last equality
    for op, chunk in diffs:
        if op == DIFF_EQUAL:
            if first is None:
                first = (pos1, pos2)
            pos1 += len(chunk)
            pos2 += len(chunk)
            last = (pos1, pos2)
        elif op == DIFF_DELETE:
            pos1 += len(chunk)
        elif op == DIFF_INSERT:
            pos2 += len(chunk)
    if first is None or last is None:
        return None
    start = max(0, first[1] - first[0])
    end = min(len(window), last[1] + (len(quote) - last[0]))
    if end <= start:
        return None
    return Span(lo + start, lo + end)


def _snap(text: str, span: Span, selector: TextQuoteSelector) -> Span:
    """Widen a fuzzy span to whole words where the quote itself began and ended on word boundaries."""
    start, end = span
    begins_word = not selector.prefix or not selector.prefix[-1].isalnum() or not selector.exact[0].isalnum()
    ends_word = not selector.suffix or not selector.suffix[0].isalnum() or not selector.exact[-1].isalnum()
    if begins_word:
        while 0 < start < len(text) and text[start - 1].isalnum() and text[start].isalnum():
            start -= 1
    if ends_word:
        while 0 < end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
            end += 1
    return Span(start, end)


def _fuzzy(selector: TextQuoteSelector, text: str, near: int) -> Span | None:
    """Find an edited version of the quote near ``near``; None when nothing similar enough is there."""
    quote = selector.exact
    if not text or not quote:
        return None
    dmp = _matcher()
    bits = dmp.Match_MaxBits
    near = max(0, min(near, len(text)))
    head = quote[:bits]
    start = dmp.match_main(text, head, near)
    if start == -1:
        return None
    if len(quote) <= bits:
        end = start + len(quote)
    else:
        tail = quote[-bits:]
        expected_tail = max(0, min(start + len(quote) - len(tail), len(text)))
        tail_start = dmp.match_main(text, tail, expected_tail)
        if tail_start == -1 or tail_start < start:
            return None
        end = tail_start + len(tail)
        # The two ends must enclose a stretch of roughly the quote's length.
        if not 0.5 * len(quote) <= end - start <= 2 * len(quote):
            return None
    # Room for words inserted into the passage: the alignment below finds its exact ends.
    slack = max(16, len(quote) if len(quote) <= bits else len(quote) // 4)
    span = _align(quote, text, max(0, start - slack), min(len(text), end + slack))
    if span is None:
        return None
    start, end = _snap(text, span, selector)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    span = Span(start, end)
    if end <= start or similarity(quote, text[span.start:span.end]) < MIN_SIMILARITY:
        return None
    return span


# ------------------------------------------------------------ locating

def locate(selector: TextQuoteSelector, text: str, near: int | None = None) -> Span | None:
    """Find the passage ``selector`` describes in ``text``: its span, or None when it is gone.

    ``near`` is where the passage is expected (its old start mapped through a
    diff of the old and new text); without it, the selector's own position.
    """
    quote = selector.exact
    if not quote:
        return None
    if near is not None and text.startswith(quote, near):
        return Span(near, near + len(quote))
    expected = near if near is not None else selector.start
    starts = _best_occurrences(text, quote, selector.prefix, selector.suffix, expected)
    if starts:
        return Span(starts[0], starts[0] + len(quote))
    return _fuzzy(selector, text, expected)


class PositionMap:
    """Map offsets of an old text to the new text, through a word diff of the two."""

    def __init__(self, old: str, new: str):
        """Diff the texts once; every mapping afterwards is a binary search."""
        self._old_starts: list[int] = []  # where each diff operation starts in the old text
        self._new_starts: list[int] = []  # ... and in the new text
        self._equal: list[bool] = []
        old_pos = new_pos = 0
        for op, chunk in (word_diff(old, new) if old != new else [(DIFF_EQUAL, old)]):
            if not chunk:
                continue
            self._old_starts.append(old_pos)
            self._new_starts.append(new_pos)
            self._equal.append(op == DIFF_EQUAL)
            if op != DIFF_INSERT:
                old_pos += len(chunk)
            if op != DIFF_DELETE:
                new_pos += len(chunk)
        self._old_length, self._new_length = old_pos, new_pos

    def map(self, position: int) -> int:
        """The new offset of an old one; a position inside a change maps to where the change begins."""
        if position >= self._old_length:
            return self._new_length
        # The last operation starting at or before ``position`` in the old text that consumes old text.
        i = bisect_right(self._old_starts, position) - 1
        while i > 0 and self._old_starts[i] == self._old_starts[i - 1] and not self._equal[i]:
            i -= 1  # an insertion shares its start with the operation after it
        if i < 0:
            return 0
        if self._equal[i]:
            return self._new_starts[i] + (position - self._old_starts[i])
        return self._new_starts[i]


def reanchor(anchors: Iterable[tuple[TextQuoteSelector, Span | None]], old_text: str | None,
             new_text: str) -> list[Span | None]:
    """Locate many passages in a new text at once; each comes with its span in ``old_text`` (or None).

    The two texts are diffed once, so that every passage is searched first
    where its old position now is.
    """
    mapper = PositionMap(old_text, new_text) if old_text is not None else None
    results = []
    for selector, old_span in anchors:
        near = mapper.map(old_span.start) if mapper is not None and old_span is not None else None
        results.append(locate(selector, new_text, near))
    return results


# ------------------------------------------------------------ rendered HTML

_TAG = re.compile(r"""<(/?)([a-zA-Z][a-zA-Z0-9]*)(?:"[^"]*"|'[^']*'|[^'">])*>""")
_ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);")
_BLOCK_TAGS = frozenset({"p", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
                         "hr", "table", "thead", "tbody", "tr", "th", "td", "div"})
_VIRTUAL = -1  # the node index of a space that stands for a block boundary, not for a character


class ReadingText:
    """The text a reader sees in a piece of sanitised HTML, with the way back to the markup.

    ``text`` is every text node, entities decoded, block boundaries read as
    spaces, and each run of whitespace read as one space, trimmed. For each of
    its characters the index keeps the text node it came from and where it
    sits in the markup, so that passages of ``text`` can be marked up in the
    HTML without ever touching a tag.

    Only for HTML the engine's sanitiser produced (well formed, no comments,
    no raw text elements).
    """

    def __init__(self, markup: str):
        """Read the markup once."""
        self.markup = markup
        self._link_ends: list[tuple[int, int]] = []  # (start of <a>, end of </a>) in the markup
        # Every character as it comes: (char, start in markup, end in markup, text node, inside a link).
        stream: list[tuple[str, int, int, int, bool]] = []
        link_open: int | None = None
        node = position = 0
        for tag in _TAG.finditer(markup):
            self._read_text(markup, position, tag.start(), node, link_open is not None, stream)
            node += 1
            name = tag.group(2).lower()
            if name == "a":
                if tag.group(1):
                    if link_open is not None:
                        self._link_ends.append((link_open, tag.end()))
                    link_open = None
                else:
                    link_open = tag.start()
            if name in _BLOCK_TAGS:
                stream.append((" ", tag.start(), tag.start(), _VIRTUAL, False))
            position = tag.end()
        self._read_text(markup, position, len(markup), node, link_open is not None, stream)

        chars: list[str] = []
        self._raw_start: list[int] = []
        self._raw_end: list[int] = []
        self._nodes: list[int] = []
        self._in_link: list[bool] = []
        space: tuple[str, int, int, int, bool] | None = None  # the run of whitespace being read
        for item in stream:
            if item[0].isspace():
                # A run of whitespace becomes one space, standing for its first real character.
                if space is None or (space[3] == _VIRTUAL and item[3] != _VIRTUAL):
                    space = item
                continue
            if space is not None and chars:
                self._append(chars, " ", space)
            space = None
            self._append(chars, item[0], item)
        self.text = "".join(chars)

    def _append(self, chars: list[str], char: str, item: tuple[str, int, int, int, bool]) -> None:
        """Add one character of the reading text with where it came from."""
        chars.append(char)
        self._raw_start.append(item[1])
        self._raw_end.append(item[2])
        self._nodes.append(item[3])
        self._in_link.append(item[4])

    @staticmethod
    def _read_text(markup: str, start: int, end: int, node: int, in_link: bool, stream: list) -> None:
        """Add the characters of one text node to ``stream``, entities decoded."""
        position = start
        while position < end:
            if markup[position] == "&":
                entity = _ENTITY.match(markup, position, end)
                if entity:
                    for char in html.unescape(entity.group()):
                        stream.append((char, position, entity.end(), node, in_link))
                    position = entity.end()
                    continue
            stream.append((markup[position], position, position + 1, node, in_link))
            position += 1

    def _after_link(self, raw: int) -> int:
        """Move a markup position inside a link to just after the link (links must not nest)."""
        for start, end in self._link_ends:
            if start < raw < end:
                return end
        return raw

    def _real(self, indices: Iterable[int]) -> int | None:
        """The first index that stands for a character of the markup (not a block boundary)."""
        return next((i for i in indices if self._nodes[i] != _VIRTUAL), None)

    def highlight(self, passages: Sequence[Passage]) -> str:
        """The markup with each passage marked: ``<mark>`` over its words, an anchor, and a link to its comment.

        Text is copied from the markup untouched; only tags of our own, with
        escaped attributes, are added, and only between characters of one
        text node, so the result stays well formed and as safe as the input.
        Overlapping passages share their marks; each has its own anchor and link.
        """
        n = len(self.text)
        spans = [p for p in passages if 0 <= p.start < p.end <= n]
        if not spans:
            return self.markup
        inserts: list[tuple[int, int, int, str]] = []  # (markup position, order at one position, tie-break, tag)
        # Marks: runs of covered characters within one text node.
        cover = [0] * (n + 1)
        for p in spans:
            cover[p.start] += 1
            cover[p.end] -= 1
        covered, run_start, run_node = 0, None, None
        for i in range(n + 1):
            if i < n:
                covered += cover[i]
            node = self._nodes[i] if i < n and covered > 0 and self._nodes[i] != _VIRTUAL else None
            if run_node is not None and node != run_node:
                # Whitespace alone may sit between blocks (in a list, a table row): never mark it.
                if not self.text[run_start:i].isspace():
                    inserts.append((self._raw_start[run_start], 3, run_start, '<mark class="passage">'))
                    inserts.append((self._raw_end[i - 1], 0, run_start, "</mark>"))
                run_node = None
            if node is not None and run_node is None:
                run_start, run_node = i, node
        # Each passage: an anchor where it starts, a numbered link to its comment where it ends.
        for p in spans:
            first = self._real(range(p.start, p.end))
            last = self._real(range(p.end - 1, p.start - 1, -1))
            if first is None or last is None:
                continue
            inserts.append((self._raw_start[first], 2, p.start,
                            f'<span class="passage-anchor" id="passage-{int(p.key)}"></span>'))
            end = self._after_link(self._raw_end[last]) if self._in_link[last] else self._raw_end[last]
            inserts.append((end, 1, p.start,
                            f'<a class="passage-ref" href="{html.escape(p.href)}" title="{html.escape(p.title)}"'
                            + (f' lang="{html.escape(p.lang)}"' if p.lang else '') + '>'
                            f'[{html.escape(p.label)}]<span class="visually-hidden"> {html.escape(p.title)}</span>'
                            '</a>'))
        inserts.sort(key=lambda item: (item[0], item[1], item[2]))
        out, position = [], 0
        for raw, _, _, tag in inserts:
            out.append(self.markup[position:raw])
            out.append(tag)
            position = raw
        out.append(self.markup[position:])
        return "".join(out)


@dataclass(frozen=True)
class Passage:
    """A passage to mark in rendered text: its comment's id, span, link and label."""

    key: int
    start: int
    end: int
    href: str
    label: str
    title: str
    # The language of ``title`` (the reader's), when it differs from the text's around it.
    lang: str | None = None


def reading_text(markup: str) -> str:
    """The reading text of sanitised HTML (see :class:`ReadingText`)."""
    return ReadingText(markup).text


def highlight_passages(markup: str, passages: Sequence[Passage]) -> str:
    """Mark passages of the reading text in sanitised HTML (see :meth:`ReadingText.highlight`)."""
    return ReadingText(markup).highlight(passages) if passages else markup
