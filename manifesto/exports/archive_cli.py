"""The ``import-archive`` command."""

from flask import Flask


def register(app: Flask) -> None:
    """Attach the archive commands to the app."""
