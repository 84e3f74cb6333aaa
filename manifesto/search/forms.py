"""Search forms: a GET form, so results have an address that can be shared and bookmarked."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SearchField, SelectField

from ..forms import choices
from .services import KINDS


class SearchForm(FlaskForm):
    """The words to look for, and optionally which kind of text to look in.

    Read from the query string, without a CSRF token: searching changes nothing.
    Any text is accepted; the service keeps only its words.
    """

    class Meta:
        csrf = False

    q = SearchField(_l("Search this document"),
                    description=_l("Words to find in sections, amendments and comments. "
                                  "Every word must appear; quotes and other symbols are ignored."))
    kind = SelectField(_l("Look in"), choices=choices([("", _l("Everything"))] + list(KINDS.items())),
                       validate_choice=False, default="")
