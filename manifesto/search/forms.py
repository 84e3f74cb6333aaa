"""Search forms: a GET form, so results have an address that can be shared and bookmarked."""

from __future__ import annotations

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

    q = SearchField("Search this document", description="Words to find in sections, amendments and comments. "
                    "Every word must appear; quotes and other symbols are ignored.")
    kind = SelectField("Look in", choices=choices([("", "Everything")] + list(KINDS.items())),
                       validate_choice=False, default="")
