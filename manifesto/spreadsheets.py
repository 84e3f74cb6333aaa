"""CSV for spreadsheets: the one way the app writes a CSV file, with every cell read as text.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` is read by Excel,
LibreOffice and Google Sheets as a formula, and some of them skip a leading
tab or carriage return before one: a delegate named
``=HYPERLINK("http://x","y")`` would become a live link in the secretariat's
spreadsheet (CSV injection). Following OWASP's advice, such a cell is written
with a single quote in front, which spreadsheets show and never evaluate, and
every cell is quoted. Whatever the app exports as CSV goes through
:func:`csv_file`, so no export can forget it; the CSV import reads the quote
back off (:func:`unescape_cell`), so an exported list imports as it was.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

# What a spreadsheet may take for the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula(text: str | None) -> bool:
    """Whether a spreadsheet could read this cell as a formula."""
    return bool(text) and text.startswith(FORMULA_STARTS)


def safe_cell(value: object) -> str:
    """A cell's text as a spreadsheet shows it literally: a formula-like start gets a single quote in front."""
    text = "" if value is None else str(value)
    return "'" + text if is_formula(text) else text


def unescape_cell(text: str) -> str:
    """The text a :func:`safe_cell` came from (a quote before a formula-like start is taken off)."""
    return text[1:] if text.startswith("'") and is_formula(text[1:]) else text


def csv_file(header: Iterable[str], rows: Iterable[Iterable[object]]) -> bytes:
    """A whole CSV file: UTF-8 with a byte order mark (Excel then reads accents right), every cell quoted and safe."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue().encode("utf-8-sig")
