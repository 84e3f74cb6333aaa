"""API v1: search (being written)."""

from __future__ import annotations
