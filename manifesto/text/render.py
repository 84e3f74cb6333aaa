"""Turn user text into safe HTML.

This module is the only place where user-written text becomes HTML. Every
path ends in :func:`sanitize`, so even a bug in the Markdown configuration
cannot let executable markup through.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from bleach.html5lib_shim import Filter
from bleach.sanitizer import Cleaner
from markdown_it import MarkdownIt
from markdown_it.parser_block import ParserBlock
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_PROTOCOLS",
    "ALLOWED_TAGS",
    "LINK_REL",
    "parse_markdown",
    "render_markdown",
    "render_marked",
    "render_plain",
    "sanitize",
]

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote",
        "ul", "ol", "li", "a", "h3", "h4", "h5", "h6", "hr",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, list[str]] = {"a": ["href", "title"], "ol": ["start"]}
ALLOWED_PROTOCOLS: frozenset[str] = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener noreferrer"

# Section bodies sit below the page title (h1) and section title (h2).
_HEADING_OFFSET = 2
_MAX_HEADING_LEVEL = 6

_BLANK_LINES = re.compile(r"\n[^\S\n]*\n\s*")
_NEWLINES = re.compile(r"\r\n|\r")
# Browsers ignore these inside a URL scheme ("java\tscript:" still runs).
_URL_IGNORED = re.compile(r"[`\x00-\x20\x7f-\xa0\s]+|[^\x00-\x7f]+")
_URL_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
_MAX_UNESCAPE_ROUNDS = 4

# Lists nest 40 deep at most; a list deeper than that continues at the 40th level
# (two token levels per list level: the list and its item).
_MAX_LIST_LEVEL = 80
# Past this token nesting, blocks are read as paragraphs, below markdown-it's maxNesting (100).
_MAX_BLOCK_LEVEL = 96
_LIST_MARKER = re.compile(r"(?:[-+*]|[0-9]{1,9}[.)])(?:[ \t]|$)")
_NESTED_MARKERS = re.compile(r"(?:(?:[-+*]|[0-9]{1,9}[.)])[ \t]+)+")
_FENCE_OPENING = re.compile(r"(`{3,}|~{3,})")


def _is_safe_href(value: str) -> bool:
    """Tell whether a (possibly entity-encoded) href has an allowed scheme or none."""
    # bleach alone lets "&#106;avascript:1" through: urlparse reads "scheme:digits"
    # as a path. Check every decoding stage, so double encoding cannot hide a scheme.
    candidate = value
    for _ in range(_MAX_UNESCAPE_ROUNDS):
        normalized = _URL_IGNORED.sub("", candidate).lower()
        match = _URL_SCHEME.match(normalized)
        if match and match.group(1) not in ALLOWED_PROTOCOLS:
            return False
        decoded = html.unescape(candidate)
        if decoded == candidate:
            return True
        candidate = decoded
    return False


class _LinkFilter(Filter):  # type: ignore[misc]
    """html5lib filter: re-check hrefs strictly and mark links as untrusted."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Yield tokens, dropping unsafe hrefs and adding ``rel`` to links."""
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EmptyTag") and token["name"] == "a":
                attrs = dict(token.get("data") or {})
                href = attrs.get((None, "href"))
                if href is not None and not _is_safe_href(href):
                    del attrs[(None, "href")]
                # Sanitizing runs first, so any user-supplied rel is already gone.
                if (None, "href") in attrs:
                    attrs[(None, "rel")] = LINK_REL
                token["data"] = attrs
            yield token


def _shift_headings(state: StateCore) -> None:
    """Markdown-it core rule: demote ``#`` to h3, ``##`` to h4, ... capped at h6."""
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            level = min(int(token.tag[1:]) + _HEADING_OFFSET, _MAX_HEADING_LEVEL)
            token.tag = f"h{level}"


# A block parser that knows paragraphs only: it reads anything without nesting further.
_PARAGRAPHS_ONLY = ParserBlock()
_PARAGRAPHS_ONLY.ruler.enableOnly(["paragraph"])
_PARAGRAPHS_ONLY.ruler.getRules("")  # compile its rule chain now, not in two threads at once


def _lift_deep_lists(tokenize: Callable[[StateBlock, int, int], None]) -> Callable[[StateBlock, int, int], None]:
    """Wrap markdown-it's block tokenizer so lists deeper than the cap continue at the cap.

    markdown-it silently drops the rest of a text once its nesting passes ``maxNesting``,
    and each list level costs Python stack frames. So inside a list item already at
    ``_MAX_LIST_LEVEL`` (token nesting, two per list level), a list that would open one
    level deeper is lifted instead: its lines are read as indented like the item's own
    marker, so its items become the item's siblings, and nested markers on the item's
    first line (``- - - x``) are read as that item's text start. Anything else nesting
    past ``_MAX_BLOCK_LEVEL`` (quotes in quotes) is read as paragraphs, markers shown.
    The source is never changed (its lines are only re-measured for this parse), so
    every word stays, at the offsets :mod:`manifesto.text.visible` finds them.
    """
    def capped(state: StateBlock, start_line: int, end_line: int) -> None:
        """Tokenize ``start_line``..``end_line``, lifting any list that would open past the cap."""
        if state.level >= _MAX_BLOCK_LEVEL:
            # Whatever else nests this deep (quotes in quotes) reads as plain paragraphs, markers and all.
            _PARAGRAPHS_ONLY.tokenize(state, start_line, end_line)
            return
        # The list rule has just opened an item (parentType is no sure sign: lheading leaves it changed).
        if (state.level >= _MAX_LIST_LEVEL and state.listIndent >= 0 and state.tokens
                and state.tokens[-1].type == "list_item_open"):
            _skip_nested_markers(state, start_line)
            _lift_nested_list(state, start_line, end_line)
        tokenize(state, start_line, end_line)
    return capped


def _skip_nested_markers(state: StateBlock, line: int) -> None:
    """Read list markers opening a list item's first line (``- - x``) as part of the item, not new lists."""
    start = state.bMarks[line] + state.tShift[line]
    match = _NESTED_MARKERS.match(state.src, start, state.eMarks[line])
    if match:  # the enclosing list rule restores both after the item
        state.tShift[line] += match.end() - start
        state.sCount[line] += match.end() - start


def _lift_nested_list(state: StateBlock, start_line: int, end_line: int) -> None:
    """Re-indent the first list nested in this item (and what follows in it) to the item's own marker."""
    fence = ""
    for line in range(start_line + 1, end_line):
        if state.isEmpty(line):
            continue
        if state.sCount[line] < state.blkIndent:
            return  # the item ends before any nested list
        text = state.src[state.bMarks[line] + state.tShift[line]:state.eMarks[line]]
        if state.sCount[line] - state.blkIndent >= 4:
            continue  # indented code
        if fence:
            if text.startswith(fence) and not text.strip(fence[0]).strip():
                fence = ""
            continue
        opening = _FENCE_OPENING.match(text)
        if opening:
            fence = opening.group(1)
            continue
        if _LIST_MARKER.match(text):
            shift, indent = state.sCount[line] - state.listIndent, state.sCount[line]
            for lifted in range(line, end_line):
                if not state.isEmpty(lifted):
                    if state.sCount[lifted] < indent:
                        break
                    _dedent(state, lifted, shift)
            return


def _dedent(state: StateBlock, line: int, columns: int) -> None:
    """Read ``line`` as if ``columns`` of its leading white space were not there (a tab stays whole)."""
    removed = 0
    while removed < columns and state.tShift[line] > 0:
        width = 4 - (removed + state.bsCount[line]) % 4 if state.src[state.bMarks[line]] == "\t" else 1
        if removed + width > columns:
            break
        state.bMarks[line] += 1
        state.tShift[line] -= 1
        removed += width
    state.sCount[line] -= removed


def _new_markdown() -> MarkdownIt:
    """Build the Markdown parser used for section bodies."""
    # maxNesting: markdown-it silently drops the rest of a text once nesting
    # passes it (20 in the preset, reached by a list ten deep). Lists deeper than
    # _MAX_LIST_LEVEL are lifted to it (_lift_deep_lists); the 100 leaves room for
    # the quotes and paragraphs inside the deepest item.
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False, "maxNesting": 100})
    md.block.tokenize = _lift_deep_lists(md.block.tokenize)  # type: ignore[method-assign]
    md.enable("table").enable("strikethrough")
    # Images are not in the allowlist; without this rule the sanitizer would
    # silently drop them, whereas as plain links the reader still sees them.
    md.disable("image")
    md.core.ruler.push("shift_headings", _shift_headings)
    return md


def _new_cleaner() -> Cleaner:
    """Build the bleach cleaner enforcing the allowlist."""
    return Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[_LinkFilter],
    )


class _PerThread(threading.local):
    """Per-thread parser and cleaner: bleach's Cleaner is not thread-safe."""

    def __init__(self) -> None:
        """Create this thread's instances."""
        self.markdown = _new_markdown()
        self.cleaner = _new_cleaner()


_local = _PerThread()


def sanitize(html_text: str) -> str:
    """Reduce arbitrary HTML to the allowlisted tags, attributes and protocols."""
    if not html_text:
        return ""
    return str(_local.cleaner.clean(html_text))


def render_markdown(source: str) -> str:
    """Render a Markdown section body to sanitized HTML ("" for blank input)."""
    if not source or source.isspace():
        return ""
    return sanitize(_local.markdown.render(source)).strip()


def parse_markdown(source: str) -> list[Any]:
    """The markdown-it block tokens of a section body, parsed exactly as :func:`render_markdown` parses it."""
    return _local.markdown.parse(source)


_MARK_TAGS = frozenset({"strong", "em", "del", "code", "a"})


def render_marked(text: str, marks: Sequence[Any], start: int = 0, end: int | None = None) -> str:
    """Render ``text[start:end]`` as HTML with the inline ``marks`` that cover it.

    ``marks`` have ``start``, ``end``, ``tag`` (strong, em, del, code, a) and
    ``href``, in visible-character offsets of ``text``, sorted outermost first.
    Text is escaped, tags come from a fixed list, and a link keeps its href
    only when it passes the same check as :func:`sanitize` (with the same
    ``rel``), so the result is safe without another bleach pass -- which
    matters when every numbered line of a long document is rendered.
    """
    end = len(text) if end is None else end
    covering = [m for m in marks if m.start < end and m.end > start and m.tag in _MARK_TAGS]
    cuts = sorted({start, end, *(max(m.start, start) for m in covering), *(min(m.end, end) for m in covering)})
    out: list[str] = []
    stack: list[Any] = []
    for left, right in zip(cuts, cuts[1:]):
        active = [m for m in covering if m.start <= left and m.end >= right]
        keep = 0
        while keep < len(stack) and keep < len(active) and stack[keep] is active[keep]:
            keep += 1
        for mark in reversed(stack[keep:]):
            out.append(f"</{mark.tag}>")
        for mark in active[keep:]:
            out.append(_open_mark(mark))
        stack = active
        out.append(html.escape(text[left:right], quote=False).replace("\n", "<br>"))
    for mark in reversed(stack):
        out.append(f"</{mark.tag}>")
    return "".join(out)


def _open_mark(mark: Any) -> str:
    """The opening tag of a mark; a link without a safe href becomes a plain ``<a>``."""
    if mark.tag != "a":
        return f"<{mark.tag}>"
    href = mark.href or ""
    if not href or not _is_safe_href(href):
        return "<a>"
    return f'<a href="{html.escape(href, quote=True)}" rel="{LINK_REL}">'


def render_plain(text: str) -> str:
    """Render short plain text as escaped paragraphs with ``<br>`` line breaks."""
    if not text or text.isspace():
        return ""
    normalized = _NEWLINES.sub("\n", text).strip()
    paragraphs = [
        "<p>" + "<br>".join(html.escape(line, quote=False) for line in block.split("\n")) + "</p>"
        for block in _BLANK_LINES.split(normalized)
    ]
    return sanitize("\n".join(paragraphs))
