"""The projector and the moderators' console: what the room's screen shows, live.

``models.py`` holds the one projection per document; ``services.py`` the
console's changes (moderators only, audited, announced on the live topic
``projector:<document_id>``) and what the screen shows; ``views.py`` the
projector page, its live fragment and the console.
"""

from __future__ import annotations

from flask import Flask

from ...audit.services import event_recorded
from ...audit.states import register_parts
from . import services


def init_app(app: Flask) -> None:
    """Wire the projector: its events' parts, and following what it shows (the area registers its pages)."""
    register_parts("projections", services.changed_parts)
    event_recorded.connect(services.follow_shown)
