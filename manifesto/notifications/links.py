"""Links and one-line text for notifications and emails, built without a request.

The fan-out runs inside someone else's request, a command or a worker, and
mail is written by the worker: neither may use the current request's host or
``url_for``'s request-bound form. The fan-out, mail and digests all take these
two helpers from here, a module that imports none of them.
"""

from __future__ import annotations

import re

from flask import current_app

# Runs of white space, except the no-break spaces of French typography ("Motif : …").
_SPACES = re.compile(r"[^\S\u00a0\u202f]+")


def one_line(text: str) -> str:
    """Text on one line with single spaces, keeping no-break spaces where the translation put them."""
    return _SPACES.sub(" ", text).strip()


def site_path(endpoint: str, anchor: str | None = None, **values) -> str:
    """The path of a page, built without a request (the fan-out also runs in commands and workers)."""
    adapter = current_app.url_map.bind("localhost", script_name=current_app.config.get("APPLICATION_ROOT") or "/")
    path = adapter.build(endpoint, values)
    return f"{path}#{anchor}" if anchor else path
