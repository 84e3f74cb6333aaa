"""Small helpers the templates use. No Markdown work happens here.

Dates, times and numbers are formatted by ``manifesto.i18n`` (the ``datetime``
and ``date`` filters, Flask-Babel's ``numberformat``).
"""

from __future__ import annotations

from flask_babel import gettext as _

from .text.lines import format_line_range


def line_range(first: int, last: int) -> str:
    """Say "line 4" or "lines 4–6", in the reader's language."""
    return format_line_range(first, last, one=_("line {first}"), many=_("lines {first}\u2013{last}"))
