"""A change shown on the numbered lines of the text people read.

Amendments are written in Markdown, but delegates cite and read the
rendered text: "line 12" is a visible line (:mod:`manifesto.text.lines`).
This module diffs the *visible* text of the old and new bodies word by
word, lays the result on the old text's numbered lines, and renders every
piece with its own formatting: kept and deleted words with the old text's,
inserted words with the new text's. A change of formatting alone (a word
made bold, a link's address, a paragraph turned into a heading) is shown
as the old form deleted and the new form inserted, so nothing changes
unseen.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from .diff import DIFF_DELETE, DIFF_EQUAL, DIFF_INSERT, word_diff
from .diff_html import _LINE_GAP, DiffLabels, _break_marker, _changed, _PARAGRAPH, _LINE, change_separator
from .lines import DEFAULT_LINE_LENGTH, Layout, format_line_range, wrap
from .memo import remembered
from .render import render_marked
from .visible import Block, visible_blocks

__all__ = ["AmendedLines", "NumberedDiff", "amended_lines", "line_classes", "numbered_diff", "visible_diff"]

_BLOCK_SEPARATOR = "\n\n"
_DEFAULT_LABELS = DiffLabels()
_MAX_DEPTH_CLASS = 6


@dataclass(frozen=True)
class NumberedDiff:
    """The rendered diff and the first and last old line it changes (None when nothing visible changes)."""

    html: str
    first_changed: int | None
    last_changed: int | None


def line_classes(block: str, depth: int, starts_block: bool, changed: bool = False) -> str:
    """CSS classes of a numbered line: its block kind, nesting and whether it starts a block."""
    classes = f"line b-{block} d{min(depth, _MAX_DEPTH_CLASS)}"
    if starts_block:
        classes += " starts"
    if changed:
        classes += " changed"
    return classes


class _Flat:
    """The visible blocks of a text joined into one string, blocks separated by a blank line."""

    def __init__(self, blocks: list[Block]) -> None:
        """Join the blocks and remember where each starts."""
        self.blocks = blocks
        self.starts: list[int] = []
        parts, position = [], 0
        for block in blocks:
            if parts:
                parts.append(_BLOCK_SEPARATOR)
                position += len(_BLOCK_SEPARATOR)
            self.starts.append(position)
            parts.append(block.text)
            position += len(block.text)
        self.text = "".join(parts)
        self._signatures: dict[int, list[tuple]] = {}
        self.lines: dict[int | None, list[tuple[int, int, Block]]] = {}  # see _lines

    def locate(self, position: int) -> tuple[int, int]:
        """The block holding flat ``position`` and the offset inside it."""
        index = max(bisect_right(self.starts, position) - 1, 0)
        return index, position - self.starts[index]

    def signature(self, index: int, offset: int) -> tuple:
        """What a visible character looks like besides its letter: block, nesting and marks."""
        return self.signatures(index)[offset]

    def signatures(self, index: int) -> list[tuple]:
        """The :meth:`signature` of every visible character of block ``index`` (computed once)."""
        if index not in self._signatures:
            block = self.blocks[index]
            signs: list[list] = [[] for _ in block.text]
            for mark in block.marks:
                for at in range(mark.start, min(mark.end, len(block.text))):
                    signs[at].append((mark.tag, mark.href))
            self._signatures[index] = [(block.kind, block.depth, *sign) for sign in signs]
        return self._signatures[index]

    def render(self, start: int, end: int, op: int, labels: DiffLabels) -> str:
        """Render flat ``start:end`` with its formatting, in ``<ins>``/``<del>`` unless kept.

        Changed block and line breaks show as labelled marks of their own.
        """
        out: list[str] = []
        position = start
        while position < end:
            index, offset = self.locate(position)
            block = self.blocks[index]
            if offset >= len(block.text):  # inside the separator after this block
                separator_end = min(self.starts[index + 1] if index + 1 < len(self.starts) else end, end)
                if op != DIFF_EQUAL:
                    out.append(_break_marker(op, _PARAGRAPH, labels))
                position = max(separator_end, position + 1)
                continue
            stop = min(end, self.starts[index] + len(block.text))
            text_end = offset + (stop - position)
            hard = block.text.find("\n", offset, text_end)
            if hard >= 0:
                text_end, stop = hard, position + (hard - offset)
            if text_end > offset:
                html = render_marked(block.text, block.marks, offset, text_end)
                out.append(html if op == DIFF_EQUAL else _changed(op, "", html, labels))
            if hard >= 0:
                out.append(_break_marker(op, _LINE, labels) if op != DIFF_EQUAL else " ")
                stop += 1
            position = stop
        return "".join(out)


def _flat(source: str) -> _Flat:
    """The visible blocks of Markdown ``source``, joined (read only: shared inside memo.reusing_work).

    Accepting an amendment numbers every other open amendment of the section
    against the same new version: its Markdown is parsed once, not once each.
    """
    return remembered("flat", source, lambda: _Flat(visible_blocks(source)))


def _lines(flat: _Flat, width: int | None) -> list[tuple[int, int, Block]]:
    """The old text's numbered lines as flat spans, with their block (``width`` None: one per block).

    Kept on the (shared, read-only) flat text per width: the same text is numbered again for
    every amendment written on it.
    """
    if width not in flat.lines:
        result = []
        for index, block in enumerate(flat.blocks):
            base = flat.starts[index]
            for start, end in wrap(block.text, width or len(block.text) + 1):
                result.append((base + start, base + end, block))
        flat.lines[width] = result
    return flat.lines[width]


def numbered_diff(
    old: str,
    new: str,
    *,
    width: int = DEFAULT_LINE_LENGTH,
    first_number: int = 1,
    context: int | None = 2,
    labels: DiffLabels | None = None,
    numbers: bool = True,
) -> NumberedDiff:
    """Render the change from Markdown ``old`` to ``new`` on the old text's numbered visible lines.

    Insertions sit on the line where they are made. With ``context``, only
    changed lines and ``context`` lines around them are shown, and a gap
    marks what is left out. Numbers start at ``first_number``. Without
    ``numbers`` (see :func:`visible_diff`) each old block is one paragraph.
    """
    labels = labels or _DEFAULT_LABELS
    before, after = _flat(old), _flat(new)
    lines = _lines(before, width if numbers else None)
    css = "diff diff-numbered" if numbers else "diff diff-visible"
    if not lines:  # nothing to number: every block of the new text, inserted
        paragraphs = []
        for index, block in enumerate(after.blocks):
            start = after.starts[index]
            classes = line_classes(block.kind, block.depth, True, True).replace("line ", "", 1)
            paragraphs.append(f'<p class="{classes}">'
                              f'{after.render(start, start + len(block.text), DIFF_INSERT, labels)}</p>')
        return NumberedDiff(f'<div class="{css}">{"".join(paragraphs)}</div>', None, None)
    starts = [start for start, _, _ in lines]
    pieces: list[list[str]] = [[] for _ in lines]
    # The op and visible text of each line's last piece, to keep a deletion and an insertion apart.
    last: list[tuple[int, str] | None] = [None] * len(lines)
    changed = [False] * len(lines)
    old_at = new_at = 0

    def line_of(position: int) -> int:
        """The index of the numbered line holding old flat ``position``."""
        return max(bisect_right(starts, position) - 1, 0)

    def emit(index: int, op: int, plain: str, html: str) -> None:
        """Append a rendered piece to a line, spaced from an opposite change it would touch."""
        pieces[index].append(change_separator(last[index], op, plain) + html)
        if plain:
            last[index] = (op, plain)

    for op, text in _ops(before.text, after.text):
        length = len(text)
        if op == DIFF_INSERT:
            index = line_of(old_at)
            emit(index, op, after.text[new_at:new_at + length], after.render(new_at, new_at + length, op, labels))
            changed[index] = True
            new_at += length
            continue
        end = old_at + length
        while old_at < end:
            index = line_of(old_at)
            boundary = starts[index + 1] if index + 1 < len(starts) else len(before.text)
            piece_end = min(end, boundary) if boundary > old_at else end
            if op == DIFF_DELETE:
                emit(index, op, before.text[old_at:piece_end], before.render(old_at, piece_end, op, labels))
                changed[index] = True
            else:
                segments, differs = _equal(before, after, old_at, piece_end, new_at, labels)
                for segment in segments:
                    emit(index, *segment)
                changed[index] = changed[index] or differs
                new_at += piece_end - old_at
            old_at = piece_end
    if context is None:
        shown = [True] * len(lines)
    else:
        shown = [any(changed[max(0, i - context): i + context + 1]) for i in range(len(lines))]
    rows: list[str] = []
    previous_shown = True
    previous_block = None
    for index, (_start, _end, block) in enumerate(lines):
        starts_block = block is not previous_block
        previous_block = block
        if not shown[index]:
            previous_shown = False
            continue
        if not previous_shown:
            rows.append(_LINE_GAP)
        content = "".join(pieces[index]).strip()
        classes = line_classes(block.kind, block.depth, starts_block, changed[index])
        if numbers:
            rows.append(f'<div class="{classes}"><span class="ln">{first_number + index}</span> '
                        f'<span class="lt">{content}</span></div>')
        else:
            rows.append(f'<p class="{classes.replace("line ", "", 1)}">{content}</p>')
        previous_shown = True
    if not previous_shown:
        rows.append(_LINE_GAP)
    changed_numbers = [first_number + i for i, flag in enumerate(changed) if flag]
    return NumberedDiff(
        f'<div class="{css}">{"".join(rows)}</div>',
        changed_numbers[0] if changed_numbers else None,
        changed_numbers[-1] if changed_numbers else None,
    )


def visible_diff(old: str, new: str, *, labels: DiffLabels | None = None) -> str:
    """The whole change from Markdown ``old`` to ``new`` as it reads: one paragraph per block, no numbers."""
    return numbered_diff(old, new, context=None, labels=labels, numbers=False).html


def _ops(old: str, new: str) -> Sequence[tuple[int, str]]:
    """The word diff of two visible texts (both empty: nothing)."""
    if not old and not new:
        return []
    return word_diff(old, new)


def _equal(before: _Flat, after: _Flat, old_start: int, old_end: int, new_start: int,
           labels: DiffLabels) -> tuple[list[tuple[int, str, str]], bool]:
    """Render kept text as (op, visible text, html) segments, and whether its formatting changed.

    Where the formatting changed, the old form shows deleted and the new inserted.
    """
    out: list[tuple[int, str, str]] = []
    differs = False
    run_start = old_start
    run_differs: bool | None = None

    def flush(until: int, run_is_different: bool) -> None:
        if until <= run_start:
            return
        if run_is_different:
            new_from = new_start + (run_start - old_start)
            new_to = new_start + (until - old_start)
            out.append((DIFF_DELETE, before.text[run_start:until], before.render(run_start, until, DIFF_DELETE, labels)))
            out.append((DIFF_INSERT, after.text[new_from:new_to], after.render(new_from, new_to, DIFF_INSERT, labels)))
        else:
            kept = before.render(run_start, until, DIFF_EQUAL, labels)
            out.append((DIFF_EQUAL, before.text[run_start:until], kept))

    position = old_start

    def advance(different: bool, count: int) -> None:
        """Take ``count`` positions that all differ in formatting, or all do not."""
        nonlocal run_start, run_differs, differs, position
        if run_differs is None:
            run_differs = different
        elif different != run_differs:
            flush(position, run_differs)
            run_start = position
            run_differs = different
        differs = differs or different
        position += count

    while position < old_end:
        # A stretch inside one old and one new block is compared at once (a single position
        # between blocks has no formatting to compare); character by character only where it differs.
        old_index, old_offset = before.locate(position)
        new_index, new_offset = after.locate(new_start + (position - old_start))
        old_block, new_block = before.blocks[old_index], after.blocks[new_index]
        length = min(len(old_block.text) - old_offset, len(new_block.text) - new_offset, old_end - position)
        if length <= 0:
            advance(False, 1)
        elif not old_block.marks and not new_block.marks:
            advance((old_block.kind, old_block.depth) != (new_block.kind, new_block.depth), length)
        else:
            old_signs = before.signatures(old_index)[old_offset:old_offset + length]
            new_signs = after.signatures(new_index)[new_offset:new_offset + length]
            if old_signs == new_signs:
                advance(False, length)
            else:
                for old_sign, new_sign in zip(old_signs, new_signs):
                    advance(old_sign != new_sign, 1)
    flush(old_end, bool(run_differs))
    return out, differs


@dataclass(frozen=True)
class AmendedLines:
    """What an amendment to a section changes, as delegates cite it: its lines, its title's range, its diff."""

    first_line: int | None
    last_line: int | None
    line_range: str | None  # "line 12" / "lines 12–14", None when only the heading changes
    diff_html: str


def amended_lines(base: str, base_layout: Layout, proposed: str | None, hunks: Sequence[Sequence[int]], *,
                  offset: int = 0) -> AmendedLines:
    """Number an amendment: ``proposed`` None deletes the section; ``hunks`` are its changed source spans.

    Lines are counted from ``offset + 1`` (the section's first line in the
    document, less one). A change shows only its lines and two around them,
    a deletion all lines. When the Markdown changes but not what it shows,
    the lines holding the changed source are cited.
    """
    width = base_layout.width
    line_count = base_layout.line_count
    if proposed is None:
        shown = numbered_diff(base, "", width=width, first_number=offset + 1, context=None)
        first, last = 1, max(line_count, 1)
        return AmendedLines(first + offset, last + offset, format_line_range(first + offset, last + offset),
                            shown.html)
    shown = numbered_diff(base, proposed, width=width, first_number=offset + 1)
    if not hunks:
        return AmendedLines(None, None, None, shown.html)
    if shown.first_changed is not None and shown.last_changed is not None:
        first, last = shown.first_changed, shown.last_changed
    elif line_count:
        first = base_layout.lines_for_span(hunks[0][0], hunks[0][1])[0] + offset
        last = base_layout.lines_for_span(hunks[-1][0], hunks[-1][1])[1] + offset
    else:
        first = last = offset + 1
    return AmendedLines(first, last, format_line_range(first, last), shown.html)
