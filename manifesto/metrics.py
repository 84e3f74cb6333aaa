"""Operators' metrics (placeholder API; the Prometheus registry is being built)."""

from __future__ import annotations


def page_cache(outcome: str) -> None:
    """Count one page-cache lookup: ``hit``, ``miss``, ``wait`` (another worker rendered it) or ``error``."""


def database_retry(kind: str) -> None:
    """Count one transaction run again after a deadlock, serialization failure or busy database."""


def database_error(kind: str) -> None:
    """Count one database failure that reached the user as an error page."""
