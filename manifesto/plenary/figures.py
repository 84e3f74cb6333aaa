"""What the plenary shows on the document's pages, and which parts of them a vote's event changes.

Registered with ``documents.contributions`` and ``audit.states`` by the area's ``init_app``.
"""

from __future__ import annotations

from ..audit.states import amendment_scope, reading_scope
from . import votes


def document_page_figures(document, user, page: str, **context) -> dict:
    """The votes part of a page: an amendment's votes on its page, the votes on the whole text on the reading page.

    With them how many took part and whether the reader's role opens votes; all of it the same for
    every reader of a role. With ``reader_only`` nothing (a reader's own vote and ballot are on the
    vote's page, never on a cached page).
    """
    if context.get("reader_only"):
        return {}
    if page == "read":
        found = votes.votes_on_text(document.id)
        return {"text_votes": found, "text_vote_participants": votes.participant_counts([v.id for v in found]),
                "can_open_text_vote": votes.can_open(user)}
    if page != "amendment":
        return {}
    amendment = context["amendment"]
    found = votes.votes_on(amendment.id)
    return {"votes": found, "vote_participants": votes.participant_counts([v.id for v in found]),
            "can_open_vote": votes.can_open(user) and amendment.is_open}


def changed_parts(event, vote) -> set[str]:
    """A vote's events change its amendment's page, or for a vote on the whole text the reading page."""
    if vote.amendment_id is None:
        return {reading_scope(vote.document_id)}
    return {amendment_scope(vote.amendment_id)}
