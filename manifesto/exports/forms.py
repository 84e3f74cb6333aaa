"""The export options, a GET form: the address of a file says what it holds, so it can be bookmarked and shared."""

from __future__ import annotations

from babel import Locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField

from ..forms import choices
from ..i18n import LANGUAGES, current_language
from .options import EXPORT_LANGUAGES, ExportOptions, export_language

TRUE_VALUES = {"1", "y", "yes", "on", "true"}


class ExportForm(FlaskForm):
    """Which text, and what to add to it. Read from the query string; nothing is written, so no CSRF token."""

    class Meta:
        csrf = False

    release = SelectField(_l("Text"), validate_choice=False,
                          description=_l("The live text as it stands now, or a published release."))
    lines = BooleanField(_l("With line numbers (PDF, Word, HTML and plain text; Markdown has none)"))
    annex = BooleanField(_l("With an annex listing every amendment, its status and the moderators’ reason"))
    credits = BooleanField(_l("With the contributors who agreed to be named"))
    against = SelectField(_l("Show the changes since"), validate_choice=False,
                          description=_l("A redline of every section against an earlier release."))
    lang = SelectField(_l("Language of headings and labels"), validate_choice=False,
                       description=_l("The contents, page numbers, annex and other fixed texts of the file are "
                                      "written in one language. The text itself is never translated."))

    def fill_choices(self, releases, document_language: str | None = None) -> None:
        """Offer the document's releases (newest first) in both lists, and the languages of the fixed texts."""
        listed = [(release.slug, release.name) for release in releases]
        self.release.choices = choices([("", _("Live text"))] + listed)
        self.against.choices = choices([("", _("No comparison"))] + listed)
        own = export_language(document_language)
        default = (_("The text’s own language (%(language)s)", language=language_name(own)) if own
                   else _("The text’s own language"))
        self.lang.choices = choices([("", default)] + [(code, LANGUAGES[code]) for code in EXPORT_LANGUAGES])


def language_name(code: str) -> str:
    """A language's name in the reader's language: "English", "anglais", "inglés"."""
    return Locale.parse(code).get_display_name(current_language()) or LANGUAGES.get(code, code)


def flag(args, name: str) -> bool:
    """Whether a checkbox of the query string is ticked (1, y, on, true, yes)."""
    return (args.get(name) or "").strip().lower() in TRUE_VALUES


def options_from(args) -> ExportOptions:
    """The export options named by a query string: lines, annex, credits, against, lang (unknown: the text's own)."""
    against = (args.get("against") or "").strip()[:200] or None
    return ExportOptions(line_numbers=flag(args, "lines"), annex=flag(args, "annex"),
                         contributors=flag(args, "credits"), redline_against=against,
                         language=export_language(args.get("lang")))


def query_of(options: ExportOptions, release_slug: str | None = None) -> dict:
    """The query string of a download with these options (defaults left out)."""
    query = {"release": release_slug, "lines": 1 if options.line_numbers else None,
             "annex": 1 if options.annex else None, "credits": 1 if options.contributors else None,
             "against": options.redline_against, "lang": options.language}
    return {key: value for key, value in query.items() if value}
