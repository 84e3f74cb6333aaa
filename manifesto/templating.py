"""Small helpers the templates use. No Markdown work happens here.

Dates, times and numbers are formatted by ``manifesto.i18n`` (the ``datetime``
and ``date`` filters, Flask-Babel's ``numberformat``).
"""

from __future__ import annotations

import json

from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup

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


def render_parts(template_name: str, only: tuple[str, ...] | None = None, **context) -> str:
    """Render each ``{% block %}`` of a template on its own, packed in one string a page cache can keep.

    A cached body in parts lets a page's shell put what is personal (forms,
    one's own links) between them, where the page shows it. Blocks are
    rendered without the template's top level: each imports its own macros.
    ``only`` renders the named blocks alone (a live region's fragment).
    """
    app = current_app._get_current_object()
    app.update_template_context(context)
    template = app.jinja_env.get_template(template_name)
    jinja_context = template.new_context(context)
    try:
        parts = {name: template.environment.concat(render(jinja_context))
                 for name, render in template.blocks.items() if only is None or name in only}
    except Exception:
        template.environment.handle_exception()  # the template's own traceback, as render_template gives
    return json.dumps(parts, ensure_ascii=False)


def unpack_parts(packed: str) -> dict[str, Markup]:
    """The parts :func:`render_parts` packed, as markup for the shell's template."""
    return {name: Markup(html) for name, html in json.loads(packed).items()}
