"""Webhooks: admins' receivers of a document's events, signed, delivered by the job queue (being written)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Wire webhooks into the app (being written)."""
