"""What other areas show on a document's pages, without the areas beneath them importing them.

The reading page, the section page, the amendment lists and the amendment
page show parts that belong to other areas: open amendments per section,
whether the reader may propose, comment counts and threads. Each area
registers a provider here when it is imported; a page's view asks all of
them at once, naming the page and what it shows. The arrows stay one way:
amendments and discussion import documents, never the reverse.

A provider is called as ``provider(document, user, page=..., **context)``
and returns a dict of template values (or an empty one for pages it does
not serve). Pages and their context:

- ``"read"``: the reading page's text;
- ``"read-comments"``: the reading page's comment counts (kept apart from its text);
- ``"section"``: ``section`` (a Section);
- ``"amendments"``: ``amendment_ids`` (the ids on the list's page);
- ``"amendment"``: ``amendment`` (an Amendment);
- ``"log"``: ``events`` (the audit events on the log's page); providers name the
  events whose reason the reader may not see in ``withheld_reasons`` (a set of
  event ids, merged across areas).

A page served from the page cache (``serving.py``) asks twice: for a stand-in
of the reader's role (``accounts.rules.stand_in``) when it renders the part it
keeps, and for the reader with ``reader_only=True`` on every request; then a
provider returns only what is about the reader (or what this reader, unlike
the stand-in, sees otherwise), never again what is the same for the role.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .models import Document

Provider = Callable[..., dict[str, Any]]

# By name, so that wiring an area twice (tests build many apps) registers it once.
_providers: dict[str, Provider] = {}


def register_provider(name: str, provider: Provider) -> None:
    """Register ``provider(document, user, page=..., **context) -> dict`` of template values under ``name``."""
    _providers[name] = provider


def providers() -> dict[str, Provider]:
    """The registered providers by name, in the order the areas registered them."""
    return dict(_providers)


def page_figures(document: Document, user, page: str, **context: Any) -> dict[str, Any]:
    """Every area's parts for one page, merged (each area runs a fixed number of queries)."""
    figures: dict[str, Any] = {}
    withheld: set[int] = set()
    for provider in _providers.values():
        part = provider(document, user, page=page, **context)
        withheld |= part.pop("withheld_reasons", set())
        figures.update(part)
    if page == "log":
        figures["withheld_reasons"] = withheld
    return figures
