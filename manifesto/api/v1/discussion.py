"""API v1: discussion (being written)."""

from __future__ import annotations
