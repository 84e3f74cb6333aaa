"""Webhooks: admins' receivers of a document's events, signed (Standard Webhooks), delivered by the job queue.

``addresses`` guards the server's own network; ``sending`` signs and sends one
message to the address checked; ``events`` turns audit events into what a
receiver is told; ``services`` holds the admins' services and the queue's
jobs; ``views`` the admins' pages (their blueprint is registered by the API's
``init_app``: only an area's own ``__init__`` imports views).
"""

from __future__ import annotations

from flask import Flask

from ...audit import states
from ...audit.services import event_recorded
from . import services


def init_app(app: Flask) -> None:
    """Wire webhooks into the app: the listener that notes the events to deliver."""
    event_recorded.connect(services.on_event_recorded)
    # A webhook's events change the document's log, not its text or its discussion.
    states.register_parts("webhooks", lambda event, obj: set())
