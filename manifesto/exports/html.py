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

from flask_babel import gettext, ngettext
from jinja2 import Environment, PackageLoader, select_autoescape

from ..text.lines import format_line_range
from ..text.render import render_plain
from .document import ExportDocument
from .formats import register
from .fragments import clean
from .labels import change_label, edition_label, in_language, number

__all__ = ["render"]

_environment: Environment | None = None


def _env() -> Environment:
    """The template environment of exported files: the app's templates, no Flask needed (workers, CLI)."""
    global _environment
    if _environment is None:
        environment = Environment(loader=PackageLoader("manifesto", "templates"),
                                  autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
                                  extensions=["jinja2.ext.i18n"])
        # The app's translations, in whatever locale the caller forced (the export's language).
        environment.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
        environment.policies["ext.i18n.trimmed"] = True
        environment.globals.update(change_label=change_label, line_range=format_line_range, plain=render_plain,
                                   number=number)
        _environment = environment
    return _environment


@register("html")
def render(doc: ExportDocument) -> bytes:
    """The HTML file of ``doc`` (UTF-8), its fixed texts in ``doc.labels_language`` (the page's ``lang``)."""
    with in_language(doc) as language:
        appendices = []
        if doc.redline:
            since = (gettext("Changes since %(release)s", release=doc.redline_base) if doc.redline_base
                     else gettext("Changes since the earlier release"))
            appendices.append(("redline", since))
        if doc.options.annex:
            appendices.append(("annex", gettext("Annex: amendments")))
            if doc.votes:
                appendices.append(("votes", gettext("Annex: votes")))
        if doc.options.contributors:
            appendices.append(("contributors", gettext("Contributors")))
        page = _env().get_template("exports/standalone.html").render(
            doc=doc, edition=edition_label(doc), numbers=doc.options.line_numbers, appendices=appendices,
            unchanged=sum(1 for change in doc.redline if change.change == "unchanged"), language=language)
    return clean(page).encode("utf-8")
