"""What other areas show on the document's pages, without the documents area importing them.

The reading page and the section page show figures that belong to other
areas: open amendments per section, whether the reader may propose, and
(soon) comments. Each area registers a provider here when it is imported;
the documents views ask all of them at once. The arrows stay one way:
amendments and discussion import documents, never the reverse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .models import Document

Provider = Callable[[Document, Any], dict[str, Any]]

# By name, so that importing an area twice (tests build many apps) registers it once.
_providers: dict[str, Provider] = {}


def provides(name: str) -> Callable[[Provider], Provider]:
    """Register ``provider(document, user) -> dict`` of template values for the document's pages."""

    def register(provider: Provider) -> Provider:
        _providers[name] = provider
        return provider

    return register


def page_figures(document: Document, user) -> dict[str, Any]:
    """Every area's figures for the document's pages, merged (one small query per area at most)."""
    figures: dict[str, Any] = {}
    for provider in _providers.values():
        figures.update(provider(document, user))
    return figures
