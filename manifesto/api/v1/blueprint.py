"""The one blueprint of API v1, with what runs around each of its views.

Set up once, at import: a blueprint registered on an app takes no more
setup, and the tests build many apps from it.
"""

from __future__ import annotations

from flask import Blueprint

from .. import auth, problems
from ..spec import PREFIX

bp = Blueprint("api", __name__, url_prefix=PREFIX)
bp.before_request(auth.identify)
bp.after_request(auth.add_rate_headers)
problems.register(bp)
