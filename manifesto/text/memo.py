"""Doing the text engine's work on the same texts once, inside one block of work.

Accepting an amendment writes a new version of its section, and every other
open amendment of the section then follows it: each is merged onto the new
version, diffed against it and numbered on its lines. Those are pure
functions of the texts, and one text (the old version, the new one, their
visible text) comes back in every one of them. Inside :func:`reusing_work`
the engine keeps its last few results for a text (or a pair of texts) and
gives one again when asked again; outside a block it computes everything
anew, as always, so nothing is kept between requests and a benchmark that
repeats a call measures the call.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

__all__ = ["remembered", "reusing_work"]

T = TypeVar("T")

# Results kept per kind: the last ones asked for. The text that comes back (the new version) is asked
# for again every few calls and stays; a long block over long texts keeps no more than these.
KEPT_PER_KIND = 8

# What the running block computed, by kind and key, least recently asked for first; None outside a block.
_kept: ContextVar[dict[str, OrderedDict[Hashable, Any]] | None] = ContextVar("text_work_kept", default=None)


@contextmanager
def reusing_work() -> Iterator[None]:
    """Keep the engine's results for the texts seen in the block, until it ends (a block inside one adds to it)."""
    if _kept.get() is not None:
        yield
        return
    token = _kept.set({})
    try:
        yield
    finally:
        _kept.reset(token)


def remembered(kind: str, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, or what it gave for ``key`` recently in the block; outside a block, always ``compute()``.

    What is kept is shared by every caller in the block: only immutable
    results, or results their users never change, may be kept. Of each kind
    the last ``KEPT_PER_KIND`` asked for are kept.
    """
    kept = _kept.get()
    if kept is None:
        return compute()
    results = kept.setdefault(kind, OrderedDict())
    if key in results:
        results.move_to_end(key)
        return results[key]
    value = results[key] = compute()
    if len(results) > KEPT_PER_KIND:
        results.popitem(last=False)
    return value
