"""Supporting an amendment, and taking the support back: they lock only the amendment."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from ...accounts.rules import is_member
from ...audit.services import record_event
from ...extensions import db
from ...services import NotFound, PermissionDenied, ValidationError, writes
from ..models import Amendment, Status, Support
from .permissions import can_support
from .core import lock_for_change


@writes
def support_amendment(actor, document_id: int, amendment_id: int) -> Amendment:
    """Co-sign an open amendment.

    :raises PermissionDenied: for the author, anonymous users, or closed amendments.
    :raises ValidationError: when the actor supports it already.
    """
    amendment = lock_for_change(document_id, amendment_id, alone=True)[2]
    if amendment.status == Status.DRAFT:
        raise NotFound(_("There is no such amendment."))
    if is_member(actor) and actor.id == amendment.author_id:
        raise PermissionDenied(_("You cannot support your own amendment."))
    if not can_support(actor, amendment):
        raise PermissionDenied(_("Only open amendments can be supported, by someone other than their author."))
    try:
        with db.session.begin_nested():
            db.session.add(Support(amendment_id=amendment.id, user_id=actor.id))
    except IntegrityError as exc:
        raise ValidationError(_("You already support this amendment.")) from exc
    amendment.support_count += 1
    record_event(actor, "amendment.supported", amendment, document_id=document_id,
                 data={"supporters": amendment.support_count})
    return amendment


@writes
def withdraw_support(actor, document_id: int, amendment_id: int) -> Amendment:
    """Take one's support back from an open amendment.

    :raises ValidationError: when the actor did not support it.
    """
    amendment = lock_for_change(document_id, amendment_id, alone=True)[2]
    if not is_member(actor):
        raise NotFound(_("There is no such amendment."))
    if amendment.status != Status.SUBMITTED:
        raise ValidationError(_("Support can only be withdrawn while the amendment is open."))
    removed = db.session.execute(delete(Support).where(Support.amendment_id == amendment.id,
                                                       Support.user_id == actor.id)).rowcount
    if not removed:
        raise ValidationError(_("You do not support this amendment."))
    amendment.support_count -= 1
    record_event(actor, "amendment.support_withdrawn", amendment, document_id=document_id,
                 data={"supporters": amendment.support_count})
    return amendment
