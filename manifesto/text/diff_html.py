"""Diffs as HTML: inline and side by side (``numbered_diff`` puts them on numbered lines).

Changes are ``<ins>``/``<del>`` with a visually hidden label for screen
readers ("inserted: "), never colour alone. A deletion and an insertion
that would touch ("platformsbravely") are kept apart by a plain space
outside both (in ``<span class="diff-sep">``, so tools reading a diff
back can drop it), so copied text and screen readers do not run them
together.
Every piece of text is escaped here; the output is safe to store and to
mark safe in templates.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .diff import _NEWLINE_SPLIT_RE, DIFF_DELETE, DIFF_EQUAL, DIFF_INSERT, DiffOp, is_paragraph_break

__all__ = ["DiffLabels", "change_separator", "relabel", "render_inline", "render_side_by_side"]


@dataclass(frozen=True)
class DiffLabels:
    """Human-readable strings used in rendered diffs (override to translate)."""

    # ``inserted``/``deleted`` are read by screen readers right before the
    # changed text, so they carry their own separator ("inséré : " in French).
    inserted: str = "inserted: "
    deleted: str = "deleted: "
    before: str = "Before"
    after: str = "After"
    caption: str = "Changes"
    paragraph_break: str = "paragraph break"
    line_break: str = "line break"


_DEFAULT_LABELS = DiffLabels()
_PARAGRAPH_MARK = "\u00b6"  # ¶
_LINE_MARK = "\u21b5"  # ↵
_TEXT, _LINE, _PARAGRAPH = range(3)
# Put between a deletion and an insertion that would otherwise touch; part of neither text.
_CHANGE_SEPARATOR = '<span class="diff-sep"> </span>'


def change_separator(previous: tuple[int, str] | None, op: int, text: str) -> str:
    """A plain space when ``text`` (of ``op``) directly follows the opposite change with no whitespace between.

    ``previous`` is the op and plain text of what comes right before, or
    None at the start of a line or paragraph.
    """
    if previous is None or not text:
        return ""
    previous_op, previous_text = previous
    if {previous_op, op} != {DIFF_DELETE, DIFF_INSERT} or not previous_text:
        return ""
    if previous_text[-1].isspace() or text[0].isspace():
        return ""
    return _CHANGE_SEPARATOR


def _esc(text: str) -> str:
    """Escape text for HTML element content and attribute values."""
    return html.escape(text, quote=True)


def _pieces(text: str) -> Iterator[tuple[int, str]]:
    """Split op text into (kind, text) pieces: plain text, line break or paragraph break."""
    for index, piece in enumerate(_NEWLINE_SPLIT_RE.split(text)):
        if not piece:
            continue
        if index % 2 == 0:
            yield _TEXT, piece
        else:
            yield (_PARAGRAPH if is_paragraph_break(piece) else _LINE), piece


def _changed(op: int, label_suffix: str, visible: str, labels: DiffLabels, css: str = "") -> str:
    """Wrap already-escaped content in ``<ins>``/``<del>`` with a screen-reader label."""
    tag, prefix = ("ins", labels.inserted) if op == DIFF_INSERT else ("del", labels.deleted)
    class_attr = f' class="{css}"' if css else ""
    return (
        f'<{tag}{class_attr}><span class="visually-hidden">'
        f"{_esc(prefix + label_suffix)}</span>{visible}</{tag}>"
    )


def _break_marker(op: int, kind: int, labels: DiffLabels) -> str:
    """Render an inserted or deleted line/paragraph break as a visible, labelled mark."""
    if kind == _PARAGRAPH:
        # The paragraph itself is closed by the caller, outside the mark.
        visible = f'<span aria-hidden="true">{_PARAGRAPH_MARK}</span>'
        return _changed(op, labels.paragraph_break, visible, labels, "diff-para")
    visible = f'<span aria-hidden="true">{_LINE_MARK}</span><br>'
    return _changed(op, labels.line_break, visible, labels, "diff-line")


class _Flow:
    """Accumulates rendered pieces into paragraphs."""

    def __init__(self, labels: DiffLabels) -> None:
        """Start with one empty paragraph."""
        self.labels = labels
        self.paragraphs: list[str] = []
        self.current: list[str] = []
        self.previous: tuple[int, str] | None = None  # op and text of the last piece in this paragraph

    def add(self, op: int, kind: int, text: str) -> None:
        """Append one piece of an op, starting a new paragraph at paragraph breaks."""
        if kind == _TEXT:
            escaped = _esc(text)
            separator = change_separator(self.previous, op, text)
            self.current.append(
                separator + (escaped if op == DIFF_EQUAL else _changed(op, "", escaped, self.labels))
            )
            self.previous = (op, text)
            return
        self.previous = None  # a break mark stands between whatever comes before and after
        if op != DIFF_EQUAL:
            self.current.append(_break_marker(op, kind, self.labels))
        elif kind == _LINE:
            self.current.append("<br>")
        if kind == _PARAGRAPH:
            self.end_paragraph()

    def end_paragraph(self) -> None:
        """Close the current paragraph (empty ones are dropped)."""
        if self.current:
            self.paragraphs.append("".join(self.current))
        self.current = []
        self.previous = None

    def html(self) -> str:
        """Return the paragraphs as ``<p>`` elements."""
        self.end_paragraph()
        return "".join(f"<p>{paragraph}</p>" for paragraph in self.paragraphs)


def render_inline(ops: Sequence[DiffOp], *, labels: DiffLabels | None = None) -> str:
    """Render a diff as one flow of paragraphs with ``<ins>``/``<del>`` marks."""
    flow = _Flow(labels or _DEFAULT_LABELS)
    for op, text in ops:
        for kind, piece in _pieces(text):
            flow.add(op, kind, piece)
    return f'<div class="diff diff-inline">{flow.html()}</div>'


def _ends_with_paragraph_break(text: str) -> bool:
    """Tell whether op text ends with a paragraph break token."""
    parts = _NEWLINE_SPLIT_RE.split(text)
    return len(parts) >= 3 and parts[-1] == "" and is_paragraph_break(parts[-2])


def render_side_by_side(ops: Sequence[DiffOp], *, labels: DiffLabels | None = None) -> str:
    """Render a diff as a two-column table, rows aligned on unchanged paragraph breaks."""
    labels = labels or _DEFAULT_LABELS
    rows: list[str] = []
    before, after = _Flow(labels), _Flow(labels)

    # A side is "open" when its part of the current row stops mid-paragraph.
    old_open = new_open = False

    def close_row() -> None:
        """Emit the current row unless both sides are empty."""
        nonlocal before, after, old_open, new_open
        left, right = before.html(), after.html()
        if left or right:
            rows.append(
                f'<tr><td class="diff-before" data-label="{_esc(labels.before)}">{left}</td>'
                f'<td class="diff-after" data-label="{_esc(labels.after)}">{right}</td></tr>'
            )
        before, after, old_open, new_open = _Flow(labels), _Flow(labels), False, False

    for index, (op, text) in enumerate(ops):
        for kind, piece in _pieces(text):
            if op == DIFF_EQUAL and kind == _PARAGRAPH:
                close_row()
                continue
            if op != DIFF_INSERT:
                before.add(op, kind, piece)
            if op != DIFF_DELETE:
                after.add(op, kind, piece)
        at_break = _ends_with_paragraph_break(text)
        if op != DIFF_INSERT:
            old_open = not at_break
        if op != DIFF_DELETE:
            new_open = not at_break
        next_op = ops[index + 1][0] if index + 1 < len(ops) else DIFF_EQUAL
        if op != DIFF_EQUAL and next_op == DIFF_EQUAL and not (old_open or new_open):
            # Whole paragraphs added or removed get a row of their own, so the
            # next unchanged paragraph lines up with its counterpart.
            close_row()
    close_row()
    return (
        '<table class="diff diff-side">'
        f'<caption class="visually-hidden">{_esc(labels.caption)}</caption>'
        f'<thead><tr><th scope="col">{_esc(labels.before)}</th>'
        f'<th scope="col">{_esc(labels.after)}</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


# Marks lines left out around the changes; the numbers on either side say which.
_LINE_GAP = '<div class="line-gap" aria-hidden="true">\u22ef</div>'


def relabel(rendered: str, labels: DiffLabels, *, was: DiffLabels = _DEFAULT_LABELS) -> str:
    """A diff rendered (and stored) with the labels ``was`` (English), with ``labels`` instead.

    Stored diffs are rendered once, in English; a page shows them in its
    reader's language by swapping the screen-reader labels and the column
    headings. Only the markup this module writes is touched: every piece of
    text inside is escaped, so it can never look like a label's element.
    """
    if not rendered or labels == was:
        return rendered
    hidden = '<span class="visually-hidden">{}</span>'
    swaps = []
    for old_prefix, new_prefix in ((was.inserted, labels.inserted), (was.deleted, labels.deleted)):
        for old_suffix, new_suffix in (("", ""), (was.paragraph_break, labels.paragraph_break),
                                       (was.line_break, labels.line_break)):
            swaps.append((hidden.format(_esc(old_prefix + old_suffix)), hidden.format(_esc(new_prefix + new_suffix))))
    for old, new in ((was.before, labels.before), (was.after, labels.after)):
        swaps.append((f'data-label="{_esc(old)}"', f'data-label="{_esc(new)}"'))
        swaps.append((f'<th scope="col">{_esc(old)}</th>', f'<th scope="col">{_esc(new)}</th>'))
    swaps.append((f'<caption class="visually-hidden">{_esc(was.caption)}</caption>',
                  f'<caption class="visually-hidden">{_esc(labels.caption)}</caption>'))
    # One pass, so a translated label is never swapped again.
    table = dict(swaps)
    pattern = re.compile("|".join(re.escape(old) for old in sorted(table, key=len, reverse=True)))
    return pattern.sub(lambda match: table[match.group(0)], rendered)
