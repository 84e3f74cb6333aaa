"""API v1: amendments (being written)."""

from __future__ import annotations
