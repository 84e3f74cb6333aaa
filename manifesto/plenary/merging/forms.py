"""The workspace's forms. The changes' checkboxes, orders, statuses and reasons are one per change or amendment,
so the view reads them by name (``display.read_form``); these carry the rest and the CSRF token."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField


class MergeForm(FlaskForm):
    """The workspace: what the page was based on, and the merged text as the moderator edits it."""

    revision = HiddenField()
    base_version = HiddenField()
    seen = HiddenField()
    composed = HiddenField()
    text = TextAreaField(_l("Merged text"),
                         description=_l("The text the ticked changes make (Markdown). Edit it by hand if you need "
                                        "to; your edits are kept until you start again from the ticks."))


class StartForm(FlaskForm):
    """Start, resume, restart or take over a merge (the buttons are all it carries)."""


class DiscardForm(FlaskForm):
    """Give up one's merge (the button is all it carries)."""

    revision = HiddenField()
