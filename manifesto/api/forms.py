"""The form that makes a personal access token. Its rules (name, scopes, expiry) are the service's, in ``tokens.py``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import choices
from .models import SCOPES
from .tokens import EXPIRY_CHOICES

# What each scope lets a token do, in plain words; the page shows them by the checkboxes.
SCOPE_LABELS = {
    "read": _l("Read"),
    "propose": _l("Propose"),
    "comment": _l("Comment"),
    "moderate": _l("Moderate"),
}
SCOPE_HELP = {
    "read": _l("Read the documents, amendments and comments as you see them when logged in. Without it, the "
               "token can still do what its other choices allow, and anyone may read public data without a token."),
    "propose": _l("Propose, edit and withdraw your amendments, and support other people's."),
    "comment": _l("Comment, reply, and report comments, in your name."),
    "moderate": _l("Decide on amendments and publish releases. It works only while your account is a "
                   "moderator's or an admin's: a token never does more than your account may."),
}
NEVER = "never"


def expiry_choices() -> list:
    """The expiry menu: the days of ``EXPIRY_CHOICES``, then "never"."""
    return choices([(str(days), lazy_ngettext("%(num)s day", "%(num)s days", days)) for days in EXPIRY_CHOICES]
                   + [(NEVER, _l("Never (until you revoke it)"))])


class ScopesField(SelectMultipleField):
    """The scopes as checkboxes, one per scope."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form) -> None:
        """Leave the choice to the service: it names an empty or unknown choice in its own words, by this field."""


class TokenForm(FlaskForm):
    """Make a token: what it is for, what it may do, how long it lasts.

    No length or choice rules here: ``tokens.create_token`` checks them and
    its messages go by their field (``web.refusals``), so the page and the
    service can never disagree.
    """

    name = StringField(_l("Name"), description=_l("What will use it, so you recognise it later: for example "
                                                  "“Our website” or “Review meeting script”. At most 80 characters."))
    scopes = ScopesField(_l("What the token may do"), choices=choices((scope, SCOPE_LABELS[scope])
                                                                     for scope in SCOPES), default=["read"])
    expires_in_days = SelectField(_l("Expires after"), choices=expiry_choices(), default="90",
                                  description=_l("After that, the token stops working and you make a new one. "
                                                 "A shorter life limits the harm if it leaks."))

    def expiry_days(self) -> int | None:
        """The expiry chosen, in days (None: never)."""
        value = self.expires_in_days.data
        return None if value == NEVER else int(value)
