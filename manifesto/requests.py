"""The request class: input that no database can store never reaches a service.

PostgreSQL refuses NUL characters in text and SQLite stores them in ways
that break later comparisons. Browsers never send them in typed text, so we
drop them from form data and the query string instead of failing with a 500.
"""

from __future__ import annotations

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.utils import cached_property


def _without_nul(data: MultiDict) -> ImmutableMultiDict:
    """Copy a multi-dict with NUL characters removed from every key and value."""
    return ImmutableMultiDict(
        [(key.replace("\x00", ""), value.replace("\x00", "") if isinstance(value, str) else value)
         for key, value in data.items(multi=True)])


class CleanRequest(Request):
    """A request whose form data and query string carry no NUL characters."""

    def _load_form_data(self) -> None:
        """Parse the body as usual, then drop NUL characters."""
        super()._load_form_data()
        self.__dict__["form"] = _without_nul(self.__dict__["form"])

    @cached_property
    def args(self) -> ImmutableMultiDict:  # type: ignore[override]
        """The query string without NUL characters."""
        return _without_nul(super().args)
