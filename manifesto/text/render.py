"""Turn user text into safe HTML.

This module is the only place where user-written text becomes HTML. Every
path ends in :func:`sanitize`, so even a bug in the Markdown configuration
cannot let executable markup through.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from bleach.html5lib_shim import Filter
from bleach.sanitizer import Cleaner
from markdown_it import MarkdownIt
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


def _new_markdown() -> MarkdownIt:
    """Build the Markdown parser used for section bodies."""
    # maxNesting: markdown-it silently drops the rest of a text once nesting
    # passes it (20 in the preset, reached by a list ten deep); 100 keeps any
    # text a person writes whole while still bounding the parser's recursion.
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False, "maxNesting": 100})
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
