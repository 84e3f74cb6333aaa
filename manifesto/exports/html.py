"""Self-contained HTML export: one file with its print stylesheet inside, no script, nothing fetched.

Open it from a disk, put it on a website or print it: the ``lang``
attribute names the text's language, the contents link to every section,
and with line numbers each stored line is one row with its number in the
margin, exactly as on the reading page (the same visible text and inline
formatting, the same numbers). Every piece of user text was sanitised when
it was written (bodies, lines, diffs) or is escaped here (headings,
names, reasons); links in the text stay links, and nothing in the file
loads anything.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from ..text.lines import format_line_range
from ..text.render import render_plain
from .formats import change_label, clean, edition_label
from .model import ExportDocument

__all__ = ["render"]

_environment: Environment | None = None


def _env() -> Environment:
    """The template environment of exported files: the app's templates, no Flask needed (workers, CLI)."""
    global _environment
    if _environment is None:
        environment = Environment(loader=PackageLoader("manifesto", "templates"),
                                  autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
        environment.globals.update(change_label=change_label, line_range=format_line_range, plain=render_plain)
        _environment = environment
    return _environment


def render(doc: ExportDocument) -> bytes:
    """The HTML file of ``doc`` (UTF-8)."""
    appendices = []
    if doc.redline:
        appendices.append(("redline", f"Changes since {doc.redline_base or 'the earlier release'}"))
    if doc.options.annex:
        appendices.append(("annex", "Annex: amendments"))
    if doc.options.contributors:
        appendices.append(("contributors", "Contributors"))
    page = _env().get_template("exports/standalone.html").render(
        doc=doc, edition=edition_label(doc), numbers=doc.options.line_numbers, appendices=appendices,
        unchanged=sum(1 for change in doc.redline if change.change == "unchanged"))
    return clean(page).encode("utf-8")
