"""The export options, a GET form: the address of a file says what it holds, so it can be bookmarked and shared."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField

from ..forms import choices
from .model import ExportOptions

TRUE_VALUES = {"1", "y", "yes", "on", "true"}


class ExportForm(FlaskForm):
    """Which text, and what to add to it. Read from the query string; nothing is written, so no CSRF token."""

    class Meta:
        csrf = False

    release = SelectField("Text", validate_choice=False,
                          description="The live text as it stands now, or a published release.")
    lines = BooleanField("With line numbers (PDF, Word, HTML and plain text; Markdown has none)")
    annex = BooleanField("With an annex listing every amendment, its status and the moderators’ reason")
    credits = BooleanField("With the contributors who agreed to be named")
    against = SelectField("Show the changes since", validate_choice=False,
                          description="A redline of every section against an earlier release.")

    def fill_choices(self, releases) -> None:
        """Offer the document's releases (newest first) in both lists."""
        listed = [(release.slug, release.name) for release in releases]
        self.release.choices = choices([("", "Live text")] + listed)
        self.against.choices = choices([("", "No comparison")] + listed)


def flag(args, name: str) -> bool:
    """Whether a checkbox of the query string is ticked (1, y, on, true, yes)."""
    return (args.get(name) or "").strip().lower() in TRUE_VALUES


def options_from(args) -> ExportOptions:
    """The export options named by a query string: lines, annex, credits, against."""
    against = (args.get("against") or "").strip()[:200] or None
    return ExportOptions(line_numbers=flag(args, "lines"), annex=flag(args, "annex"),
                         contributors=flag(args, "credits"), redline_against=against)


def query_of(options: ExportOptions, release_slug: str | None = None) -> dict:
    """The query string of a download with these options (defaults left out)."""
    query = {"release": release_slug, "lines": 1 if options.line_numbers else None,
             "annex": 1 if options.annex else None, "credits": 1 if options.contributors else None,
             "against": options.redline_against}
    return {key: value for key, value in query.items() if value}
