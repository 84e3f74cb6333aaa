"""What the plenary shows on the document's pages, and which parts of them a vote's event changes.

Registered with ``documents.contributions`` and ``audit.states`` by the area's ``init_app``.
"""

from __future__ import annotations

from flask_babel import gettext as _

from ..audit.states import amendment_scope, reading_scope
from ..exports.document import AnnexVote
from . import votes
from .forms import CHOICE_LABELS
from .wording import rule_text, why_text


def document_page_figures(document, user, page: str, **context) -> dict:
    """The votes part of a page: an amendment's votes on its page, the votes on the whole text on the reading page.

    With them how many took part and whether the reader's role opens votes; all of it the same for
    every reader of a role. With ``reader_only`` nothing (a reader's own vote and ballot are on the
    vote's page, never on a cached page).
    """
    if context.get("reader_only"):
        return {}
    if page == "export-annex":
        return {"annex_votes": annex_votes(document, context.get("release"))}
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


def annex_votes(document, release=None) -> list[AnnexVote]:
    """The export annex's votes: every closed one (by the release's date for a release), in words (three queries)."""
    closed = votes.closed_votes_of(document.id, release.created_at if release is not None else None)
    codes = votes.amendment_codes([vote.amendment_id for vote in closed if vote.amendment_id])
    rolls = votes.rolls_of(closed)
    result = []
    for vote in closed:
        outcome = vote.outcome
        result.append(AnnexVote(
            vote_id=vote.id, closed_at=vote.closed_at, question=vote.question,
            subject=codes.get(vote.amendment_id, "") if vote.amendment_id else _("The whole text"),
            kind=_("Secret vote") if vote.secret else _("Named vote"), rule=rule_text(vote.rule),
            yes=outcome.yes, no=outcome.no, abstain=outcome.abstain, passed=outcome.passed,
            result=_("Passed.") if outcome.passed else _("Not passed."), why=why_text(outcome),
            roll=[(name, str(CHOICE_LABELS[choice])) for name, choice in rolls.get(vote.id, [])]))
    return result
