"""The ``export`` command."""

from flask import Flask


def register(app: Flask) -> None:
    """Attach the export command to the app."""
