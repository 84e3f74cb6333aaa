"""Which topics a reader may follow: the one rule every stream and poll asks, in one place.

A topic is ``<kind>:<id>`` (``amendment:12``, ``section:4``, ``projector:1``)
or ``site``. The content-state scopes of ``audit/states.py`` are topics, and
areas add their own kinds (the plenary's ``projector``, ``merge``, ``vote``).
A notice says nothing but its topic, yet a topic names a thing: a reader may
follow only what the pages would show them, so following someone's draft
amendment, or a topic of a kind nobody registered, is refused like its page
(404), never answered with silence.

Each kind has a check, registered by the area that owns its objects (the
live area's ``init_app`` registers those of the areas beneath it):
``check(user, ids) -> the ids the user may follow``, one query for all the
ids of a kind, so a stream of sixteen topics costs a few queries, not sixteen.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

TOPIC = re.compile(r"^(?:site|(?P<kind>[a-z][a-z-]{0,31}):(?P<id>[1-9][0-9]{0,9}))$")
MAX_ID = 2**31 - 1

Check = Callable[[object, set[int]], set[int]]
_checks: dict[str, Check] = {}


def register_topic(kind: str, check: Check) -> None:
    """Let the area owning ``kind`` say which of its ids a user may follow: ``check(user, ids) -> ids``."""
    if not re.fullmatch(r"[a-z][a-z-]{0,31}", kind):
        raise ValueError(f"a topic kind is lower-case letters and dashes, not {kind!r}")
    _checks[kind] = check


def kinds() -> list[str]:
    """The kinds registered so far."""
    return sorted(_checks)


def parse(values: Iterable[str]) -> list[str]:
    """The topics asked for (each value may hold several, separated by spaces), in order, without repeats.

    :raises ValueError: for a topic that is not ``site`` or ``<kind>:<id>``.
    """
    topics: list[str] = []
    for value in values:
        for topic in value.split(" "):
            if not topic:
                continue
            match = TOPIC.fullmatch(topic)
            if match is None or (match["id"] and int(match["id"]) > MAX_ID):
                raise ValueError(topic)
            if topic not in topics:
                topics.append(topic)
    return topics


def refused(user, topics: list[str]) -> list[str]:
    """The topics ``user`` may not follow (an unknown kind, something that does not exist or is not theirs)."""
    wanted: dict[str, set[int]] = {}
    for topic in topics:
        if topic == "site":
            continue
        kind, _, number = topic.partition(":")
        wanted.setdefault(kind, set()).add(int(number))
    allowed = {"site"}
    for kind, ids in wanted.items():
        check = _checks.get(kind)
        if check is not None:
            allowed |= {f"{kind}:{number}" for number in check(user, ids) & ids}
    return [topic for topic in topics if topic not in allowed]
