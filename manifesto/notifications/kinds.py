"""The kinds of notification a person can get, and how each reaches them unless they choose otherwise."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from .models import Delivery


@dataclass(frozen=True)
class Kind:
    """One kind of notification, as the settings page names it."""

    name: str
    label: object  # a lazy string: it speaks the reader's language when shown
    default: Delivery


# In the order of the settings page. Decisions, conflicts and moderation of
# one's own contributions go out at once; the rest waits for the daily digest.
KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("decision", _l("A decision on your amendment (accepted, rejected, obsolete, merged)"), Delivery.IMMEDIATE),
    Kind("conflict", _l("Your amendment conflicts with a new version of its section"), Delivery.IMMEDIATE),
    Kind("rebase", _l("Your amendment was carried over onto a new version of its section"), Delivery.DIGEST),
    Kind("support", _l("Someone supports your amendment"), Delivery.DIGEST),
    Kind("comment", _l("A comment on your amendment"), Delivery.DIGEST),
    Kind("reply", _l("A reply to your comment"), Delivery.DIGEST),
    Kind("moderation", _l("A moderator hides or restores your comment or amendment"), Delivery.IMMEDIATE),
    Kind("following", _l("Changes to sections and amendments you follow"), Delivery.DIGEST),
)}

DELIVERY_LABELS = {
    Delivery.IMMEDIATE: _l("Email me at once"),
    Delivery.DIGEST: _l("In the daily digest email"),
    Delivery.APP: _l("Only here, no email"),
}


def default_delivery(kind: str) -> Delivery:
    """How a kind reaches someone who has not chosen (in-app only for an unknown kind)."""
    found = KINDS.get(kind)
    return found.default if found else Delivery.APP
