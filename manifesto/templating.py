"""Small helpers the templates use. No Markdown work happens here.

Dates, times and numbers are formatted by ``manifesto.i18n`` (the ``datetime``
and ``date`` filters, Flask-Babel's ``numberformat``).
"""

from __future__ import annotations

from flask_babel import gettext as _

from .text.diff_html import DiffLabels, relabel
from .text.lines import format_line_range


def line_range(first: int, last: int) -> str:
    """Say "line 4" or "lines 4–6", in the reader's language."""
    return format_line_range(first, last, one=_("line {first}"), many=_("lines {first}\u2013{last}"))


def diff_labels() -> DiffLabels:
    """The screen-reader labels and column headings of a diff, in the reader's language."""
    return DiffLabels(inserted=_("inserted: "), deleted=_("deleted: "), before=_("Before"), after=_("After"),
                      caption=_("Changes"), paragraph_break=_("paragraph break"), line_break=_("line break"))


def relabel_diff(html: str | None) -> str:
    """A diff stored with English labels, speaking the reader's language (the ``diff_labels`` filter)."""
    return relabel(html or "", diff_labels())
