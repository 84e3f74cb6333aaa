"""The audit trail: who did what, when, from which state to which, and why."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Nothing to wire: every service writes the trail itself, and other areas follow it through ``event_recorded``."""
