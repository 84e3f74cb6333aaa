"""The visible text of a Markdown body, block by block, mapped back to its source.

Line numbers count what a reader sees, not the Markdown that produced it
(see :mod:`manifesto.text.lines`). This module turns a section body into
its rendered blocks -- paragraphs, headings, list items, quotes, code,
table rows -- each with

- ``text``: the characters shown, soft line breaks joined by a space as a
  browser joins them, a hard line break kept as ``"\\n"``, markup gone, a
  link reduced to its text, a list item starting with its bullet or number;
- ``offsets``: for every visible character, the offset in the source it
  came from, so a change found in the source (amendments diff the Markdown)
  can be placed on a visible line;
- ``marks``: the inline formatting (bold, italics, strike-through, code,
  links) as ranges of visible characters, so a single line can be rendered
  with its formatting.

A thematic break (``---``) has no text and therefore no block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import accumulate

from markdown_it.token import Token

from .render import parse_markdown

__all__ = ["Block", "Mark", "visible_blocks"]

# Bullets as browsers draw them at each nesting depth (disc, circle, square).
_BULLETS = ("\u2022", "\u25e6", "\u25aa")
_INLINE_MARKS = {"strong_open": "strong", "em_open": "em", "s_open": "del"}
_CELL_SEPARATOR = " | "
_SPACE = re.compile(r"\s")
_NEWLINE = re.compile("\n")


@dataclass(frozen=True)
class Mark:
    """Inline formatting over visible characters ``start`` to ``end`` of a block."""

    start: int
    end: int
    tag: str  # strong, em, del, code, a
    href: str | None = None


@dataclass
class Block:
    """One rendered block: its kind, nesting, visible text, source offsets and formatting."""

    kind: str  # p, h3..h6, li, quote, code, table
    depth: int
    text: str = ""
    offsets: list[int] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)

    @property
    def source_start(self) -> int:
        """Offset in the source of the block's first visible character."""
        return self.offsets[0]

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """The source span holding visible characters ``start`` to ``end``."""
        return self.offsets[start], self.offsets[end - 1] + 1


class _Builder:
    """Walks markdown-it tokens, following a cursor through the source."""

    def __init__(self, source: str) -> None:
        """Start at the top of ``source``."""
        self.source = source
        self.line_starts = [0] + [match.end() for match in _NEWLINE.finditer(source)]
        self.blocks: list[Block] = []
        self.cursor = 0
        self.limit = len(source)
        self.lists: list[list[str]] = []  # per open list: ["bullet"|"ordered", next number]
        self.quotes = 0
        self.pending_prefix = ""
        self.in_item = 0

    # ----------------------------------------------------------- positions
    def _offset_of_line(self, line: int) -> int:
        """Source offset where source line ``line`` (0-based) starts."""
        if line >= len(self.line_starts):
            return len(self.source)
        return self.line_starts[line]

    def _enter(self, token: Token) -> None:
        """Move the cursor to the start of a block token's source lines."""
        if token.map:
            self.cursor = max(self.cursor, self._offset_of_line(token.map[0]))
            self.limit = max(self.cursor, self._offset_of_line(token.map[1]))
        else:
            self.limit = len(self.source)

    def _locate(self, text: str) -> list[int]:
        """Source offsets of ``text``'s characters, found in order from the cursor."""
        found = self.source.find(text, self.cursor, self.limit) if text else -1
        if found >= 0:
            self.cursor = found + len(text)
            return list(range(found, found + len(text)))
        offsets = []
        for char in text:
            # A space may stand for a newline (code spans and soft breaks join lines).
            at = self._find_space(self.cursor) if char.isspace() else self.source.find(char, self.cursor, self.limit)
            if at < 0:  # decoded entity or other rewrite: stay where we are
                offsets.append(min(self.cursor, max(len(self.source) - 1, 0)))
                continue
            offsets.append(at)
            self.cursor = at + 1
        return offsets

    def _find_space(self, start: int) -> int:
        """The next whitespace character of the source from ``start`` (in the block), or -1."""
        match = _SPACE.search(self.source, start, self.limit)
        return match.start() if match else -1

    def _skip_link_destination(self) -> None:
        """Step over ``](destination "title")`` or ``][label]`` after a link's text."""
        source, at = self.source, self.cursor
        if at < self.limit and source[at] == "]":
            at += 1
            if at < self.limit and source[at] == "(":
                depth, at = 0, at
                while at < self.limit:
                    char = source[at]
                    if char == "\\":
                        at += 2
                        continue
                    if char == "(":
                        depth += 1
                    elif char == ")":
                        depth -= 1
                        if depth == 0:
                            at += 1
                            break
                    at += 1
            elif at < self.limit and source[at] == "[":
                close = source.find("]", at, self.limit)
                at = close + 1 if close >= 0 else at
            self.cursor = at
        elif at < self.limit and source[at] == ">":  # autolink
            self.cursor = at + 1

    # -------------------------------------------------------------- blocks
    def _new_block(self, kind: str) -> Block:
        """Open a block of ``kind`` at the current nesting, taking a pending list marker."""
        if self.in_item and kind == "p":
            kind = "li"
        elif self.quotes and kind == "p":
            kind = "quote"
        block = Block(kind, len(self.lists) + self.quotes)
        if self.pending_prefix:
            block.text = self.pending_prefix
            # The marker stands where the item starts in the source.
            block.offsets = [min(self.cursor, max(len(self.source) - 1, 0))] * len(self.pending_prefix)
            self.pending_prefix = ""
        self.blocks.append(block)
        return block

    def _append(self, block: Block, text: str, offsets: list[int]) -> None:
        """Add visible characters and their source offsets to a block."""
        block.text += text
        block.offsets.extend(offsets)

    def _inline(self, block: Block, token: Token) -> None:
        """Add an inline token's children to a block, with their marks."""
        open_marks: list[tuple[str, int, str | None]] = []
        for child in token.children or []:
            kind = child.type
            if kind == "text":
                self._append(block, child.content, self._locate(child.content))
            elif kind == "code_inline":
                start = len(block.text)
                self._append(block, child.content, self._locate(child.content))
                block.marks.append(Mark(start, len(block.text), "code"))
            elif kind in ("softbreak", "hardbreak"):
                at = self.source.find("\n", self.cursor, self.limit)
                at = at if at >= 0 else max(self.cursor - 1, 0)
                self.cursor = at + 1
                self._append(block, " " if kind == "softbreak" else "\n", [at])
            elif kind in _INLINE_MARKS:
                open_marks.append((_INLINE_MARKS[kind], len(block.text), None))
            elif kind == "link_open":
                open_marks.append(("a", len(block.text), str(child.attrs.get("href") or "")))
            elif kind.endswith("_close") and open_marks:
                tag, start, href = open_marks.pop()
                if len(block.text) > start:
                    block.marks.append(Mark(start, len(block.text), tag, href))
                if kind == "link_close":
                    self._skip_link_destination()
        block.marks.sort(key=lambda mark: (mark.start, -mark.end))

    def _code(self, token: Token) -> None:
        """A fenced or indented code block: its lines kept, in a monospace mark."""
        content = token.content.rstrip("\n")
        if not content.strip():
            return
        if token.type == "fence" and token.map:
            self.cursor = max(self.cursor, self._offset_of_line(token.map[0] + 1))
        block = self._new_block("code")
        start = len(block.text)
        self._append(block, content, self._locate(content))
        block.marks.append(Mark(start, len(block.text), "code"))

    def _table_row(self, tokens: list[Token], index: int) -> int:
        """One table row as one block, its cells joined by a bar; returns the index after it."""
        block = self._new_block("table")
        first_cell = True
        while index < len(tokens) and tokens[index].type != "tr_close":
            token = tokens[index]
            if token.type == "inline":
                if not first_cell:
                    at = max(self.cursor - 1, 0)
                    self._append(block, _CELL_SEPARATOR, [at] * len(_CELL_SEPARATOR))
                first_cell = False
                self._inline(block, token)
            index += 1
        if not block.text.strip():
            self.blocks.pop()
        return index

    def build(self, tokens: list[Token]) -> list[Block]:
        """Walk the block tokens and return the visible blocks."""
        index = 0
        while index < len(tokens):
            token = tokens[index]
            kind = token.type
            if kind in ("bullet_list_open", "ordered_list_open"):
                start = int(token.attrs.get("start") or 1) if kind == "ordered_list_open" else 0
                self.lists.append(["ordered" if start or kind == "ordered_list_open" else "bullet", start])
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.lists.pop()
            elif kind == "list_item_open":
                self._enter(token)
                style = self.lists[-1] if self.lists else ["bullet", 0]
                if style[0] == "ordered":
                    number = int(token.info) if token.info.isdigit() else int(style[1])
                    marker = f"{number}{token.markup or '.'} "
                    style[1] = number + 1
                else:
                    marker = _BULLETS[(len(self.lists) - 1) % len(_BULLETS)] + " "
                self.pending_prefix += marker
                self.in_item += 1
            elif kind == "list_item_close":
                self.in_item -= 1
                if self.pending_prefix:  # an empty item still shows its marker
                    self.pending_prefix = self.pending_prefix.rstrip() + " "
                    block = self._new_block("li")
                    block.text = block.text.rstrip()
                    block.offsets = block.offsets[: len(block.text)]
            elif kind == "blockquote_open":
                self.quotes += 1
            elif kind == "blockquote_close":
                self.quotes -= 1
            elif kind in ("paragraph_open", "heading_open"):
                self._enter(token)
                block = self._new_block("p" if kind == "paragraph_open" else token.tag)
                inline = tokens[index + 1]
                self._inline(block, inline)
                if not block.text.strip():
                    self.blocks.pop()
                index += 2
            elif kind in ("fence", "code_block"):
                self._enter(token)
                self._code(token)
            elif kind == "tr_open":
                self._enter(token)
                index = self._table_row(tokens, index + 1)
            index += 1
        return self.blocks


def visible_blocks(source: str) -> list[Block]:
    """The rendered blocks of a Markdown ``source``, in order (rules in the module docstring)."""
    if not source or source.isspace():
        return []
    blocks = _Builder(source).build(parse_markdown(source))
    for block in blocks:
        _make_monotonic(block.offsets, len(source))
    return blocks


def _make_monotonic(offsets: list[int], length: int) -> None:
    """Keep offsets non-decreasing and inside the source, whatever the mapping guessed."""
    # Each offset becomes the running maximum (from 0) capped at the last index: the same as
    # clamping one by one against the previous result, without a Python step per character.
    last = max(length - 1, 0)
    if not offsets or (offsets[0] >= 0 and offsets[-1] <= last and offsets == sorted(offsets)):
        return  # found in order, as nearly always: nothing to clamp
    running = accumulate(offsets, max, initial=0)
    next(running)
    offsets[:] = [offset if offset < last else last for offset in running]
