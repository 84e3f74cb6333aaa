"""Who may do what with an amendment: checked by the services, used by templates to hide what is refused."""

from __future__ import annotations

from ...accounts.rules import is_member, is_moderator
from ...documents import rules as phase
from ...documents.models import Document
from ..models import Amendment, Status


def can_propose(user, document: Document) -> bool:
    """Logged-in people may propose while the amendment window is open."""
    return is_member(user) and phase.accepts_amendments(document)


def can_edit(user, amendment: Amendment) -> bool:
    """Authors edit their undecided amendments; moderators may resolve conflicts."""
    if not is_member(user) or amendment.status not in (Status.DRAFT, Status.SUBMITTED):
        return False
    return user.id == amendment.author_id or (amendment.conflicted and is_moderator(user))


def can_withdraw(user, amendment: Amendment) -> bool:
    """Authors may withdraw their undecided amendments."""
    return is_member(user) and user.id == amendment.author_id and amendment.status in (Status.DRAFT, Status.SUBMITTED)


def can_support(user, amendment: Amendment) -> bool:
    """Anyone but the author may co-sign an open amendment."""
    return is_member(user) and user.id != amendment.author_id and amendment.status == Status.SUBMITTED


def can_decide(user, amendment: Amendment) -> bool:
    """Moderators decide open amendments, never their own."""
    return is_moderator(user) and user.id != amendment.author_id and amendment.status == Status.SUBMITTED


def can_view(user, amendment: Amendment) -> bool:
    """Submitted amendments are public; drafts belong to their author."""
    return amendment.status != Status.DRAFT or (is_member(user) and user.id == amendment.author_id)
