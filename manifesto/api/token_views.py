"""The pages of one's API tokens, and the admins' list of every token (being written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_tokens", __name__)
