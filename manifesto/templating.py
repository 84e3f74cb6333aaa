"""Small helpers the templates use. No Markdown work happens here."""

from __future__ import annotations

from datetime import datetime

from .services import as_utc
from .text.lines import format_line_range


def format_datetime(value: datetime | None, fmt: str = "%d %b %Y, %H:%M UTC") -> str:
    """Show a stored time in UTC, the one clock every delegate shares."""
    if value is None:
        return ""
    return as_utc(value).strftime(fmt)


def line_range(first: int, last: int) -> str:
    """Say "line 4" or "lines 4–6"."""
    return format_line_range(first, last)
