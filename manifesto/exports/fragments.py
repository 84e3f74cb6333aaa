"""User text made safe for any file format: invalid characters dropped, white space collapsed, HTML to text.

The renderers take a sanitised HTML fragment (a body, the introduction, a
word diff) apart here into paragraphs of plain, inserted or deleted text,
with white space collapsed the way a browser collapses it, so every format
shows the words the reading page shows.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

__all__ = ["Segment", "clean", "collapse", "escape", "html_segments", "html_to_text", "plain_paragraphs", "squash"]

# Characters no XML 1.0 document may contain (DOCX breaks on them), plus the C1
# controls, which HTML forbids and no reader shows: stripped from every format.
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")

_SPACES = re.compile(r"[ \t\r\n\f\v]+")


def collapse(text: str) -> str:
    """Collapse runs of ASCII white space into one space, as a browser does, keeping one at either end."""
    return _SPACES.sub(" ", text)


def squash(text: str) -> str:
    """Collapse runs of ASCII white space into one space and trim; no-break spaces stay (French typography)."""
    return collapse(text).strip(" ")


def clean(text: str | None) -> str:
    """Drop the characters that would make a file invalid (control characters, lone surrogates)."""
    return _INVALID.sub("", text or "")


Segment = tuple[str | None, str]  # (None, "ins" or "del"; text)


class _TextExtractor(HTMLParser):
    """Sanitised HTML to paragraphs of text segments; a segment is plain, inserted or deleted."""

    BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "tr", "table", "ul", "ol", "div",
              "hr"}

    def __init__(self) -> None:
        """Start with no paragraph."""
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[list[Segment]] = []
        self.current: list[Segment] = []
        self.marks: list[str] = []
        self.in_pre = 0
        self.hidden = 0  # inside <span class="visually-hidden">: words for screen readers ("inserted: ")

    def _add(self, text: str) -> None:
        """Append text in the current mark."""
        mark = self.marks[-1] if self.marks else None
        if self.current and self.current[-1][0] == mark:
            self.current[-1] = (mark, self.current[-1][1] + text)
        else:
            self.current.append((mark, text))

    def _flush(self) -> None:
        """End the current paragraph, collapsing white space as a browser does (except in code).

        Across segments too: a space that follows a space, or starts the
        paragraph, is not shown, whichever mark holds it.
        """
        segments: list[Segment] = []
        for mark, text in self.current:
            if not self.in_pre:
                text = re.sub(r"[ \t\r\n]+", " ", text)
                if text.startswith(" ") and (not segments or segments[-1][1].endswith(" ")):
                    text = text[1:]
            if text:
                segments.append((mark, text))
        if segments and not self.in_pre and segments[-1][1].endswith(" "):
            mark, text = segments.pop()
            if text.rstrip(" "):
                segments.append((mark, text.rstrip(" ")))
        if segments:
            self.paragraphs.append(segments)
        self.current = []

    def handle_starttag(self, tag, attrs):
        """Open a block or a mark."""
        if tag == "span" and (self.hidden or "visually-hidden" in (dict(attrs).get("class") or "").split()):
            self.hidden += 1
            return
        if tag in self.BLOCKS:
            self._flush()
        if tag == "pre":
            self.in_pre += 1
        elif tag == "br":
            self._add("\n" if self.in_pre else " ")
        elif tag in ("td", "th") and self.current:
            self._add(" | ")
        elif tag in ("ins", "del"):
            self.marks.append(tag)

    def handle_endtag(self, tag):
        """Close a block or a mark."""
        if tag == "span" and self.hidden:
            self.hidden -= 1
            return
        if tag in ("ins", "del") and self.marks:
            self.marks.pop()
        if tag in self.BLOCKS:
            self._flush()
        if tag == "pre":
            self.in_pre = max(0, self.in_pre - 1)

    def handle_data(self, data):
        """Keep the text (not what only screen readers say)."""
        if not self.hidden:
            self._add(data)


def html_segments(fragment: str) -> list[list[Segment]]:
    """The paragraphs of a sanitised HTML fragment, each a list of (mark, text) with mark None, "ins" or "del"."""
    parser = _TextExtractor()
    parser.feed(clean(fragment))
    parser.close()
    parser._flush()
    return parser.paragraphs


def html_to_text(fragment: str, inserted: tuple[str, str] = ("", ""),
                 deleted: tuple[str, str] = ("", "")) -> list[str]:
    """The paragraphs of a sanitised HTML fragment as plain text, insertions and deletions between markers."""
    markers = {None: ("", ""), "ins": inserted, "del": deleted}
    return ["".join(markers[mark][0] + text + markers[mark][1] for mark, text in paragraph)
            for paragraph in html_segments(fragment)]


def plain_paragraphs(text: str) -> list[str]:
    """A plain text (a reason) split into its paragraphs, lines inside a paragraph joined."""
    return [squash(part) for part in re.split(r"\n[ \t\r\f\v]*\n", clean(text).strip()) if part.strip()]


def escape(text: str) -> str:
    """HTML-escape a plain string, dropping invalid characters."""
    return html.escape(clean(text), quote=True)
