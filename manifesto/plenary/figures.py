"""What the plenary shows on the amendment page, and which parts of it a vote's event changes.

Registered with ``documents.contributions`` and ``audit.states`` by the area's ``init_app``.
"""

from __future__ import annotations

from ..audit.states import amendment_scope
from . import votes


def document_page_figures(document, user, page: str, **context) -> dict:
    """On the amendment page: its votes with how many took part, and whether the reader's role opens votes.

    All of it is the same for every reader of a role; with ``reader_only`` nothing (a reader's own
    vote and ballot are on the vote's page, never on the cached amendment page).
    """
    if page != "amendment" or context.get("reader_only"):
        return {}
    amendment = context["amendment"]
    found = votes.votes_on(amendment.id)
    return {"votes": found, "vote_participants": votes.participant_counts([v.id for v in found]),
            "can_open_vote": votes.can_open(user) and amendment.is_open}


def changed_parts(event, vote) -> set[str]:
    """A vote's events change its amendment's page alone (``audit.states.register_parts``)."""
    return {amendment_scope(vote.amendment_id)}
