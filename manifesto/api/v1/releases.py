"""API v1: releases (being written)."""

from __future__ import annotations
