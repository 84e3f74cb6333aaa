"""Hiding an amendment with a public reason, and bringing it back: moderators' services of the amendments area.

A hidden amendment stays in the database, in its history and in the audit
trail; its page shows the reason instead of its text to everyone but its
author and the moderators. The discussion area's moderation queue calls
these services (and resolves the reports in the same transaction). They
lock only the amendment: hiding changes no text, no decision and no
collision.
"""

from __future__ import annotations

from flask_babel import format_number, gettext as _

from ...accounts.rules import is_member, is_moderator, require_moderator
from ...audit.services import record_event
from ...services import NotFound, ValidationError, utcnow, writes
from ..models import Amendment, Status
from .core import lock_for_change

REASON_LIMIT = 2_000


def can_moderate(user) -> bool:
    """Moderators and admins hide and restore amendments."""
    return is_moderator(user)


def can_see_hidden(user, amendment: Amendment) -> bool:
    """Whether the user sees a hidden amendment's text: its author and the moderators do."""
    return not amendment.is_hidden or is_moderator(user) or (is_member(user) and user.id == amendment.author_id)


def clean_reason(reason: str | None, *, required: bool = True, message: str | None = None) -> str | None:
    """Validate a reason given with a report or a moderator's action (shown in public).

    :raises ValidationError: naming the ``reason`` field; ``message`` when a required reason is missing.
    """
    reason = (reason or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not reason:
        if required:
            raise ValidationError(message or _("Give the reason, shown to everyone in place of the hidden text."),
                                  "reason")
        return None
    if len(reason) > REASON_LIMIT:
        raise ValidationError(_("The reason is %(length)s characters long; the limit is %(limit)s.",
                                length=format_number(len(reason)), limit=format_number(REASON_LIMIT)), "reason")
    if "\x00" in reason:
        raise ValidationError(_("The reason contains a character that cannot be stored."), "reason")
    return reason


def _lock(actor, document_id: int, amendment_id: int) -> Amendment:
    """Check the actor moderates, then lock a submitted amendment of the document.

    :raises PermissionDenied:
    :raises NotFound: also for drafts, which only their author sees.
    """
    require_moderator(actor, _("Only moderators can hide or restore amendments."))
    amendment = lock_for_change(document_id, amendment_id, alone=True)[2]
    if amendment.status == Status.DRAFT:
        raise NotFound(_("There is no such amendment."))
    return amendment


@writes
def hide_amendment(actor, document_id: int, amendment_id: int, *, reason: str) -> Amendment:
    """Hide an amendment with a public reason.

    :raises PermissionDenied: unless the actor is a moderator.
    :raises ValidationError: without a reason, or when it is hidden already.
    """
    amendment = _lock(actor, document_id, amendment_id)
    reason = clean_reason(reason)
    if amendment.is_hidden:
        raise ValidationError(_("%(code)s is hidden already.", code=amendment.code))
    amendment.hidden_at, amendment.hidden_by_id, amendment.hidden_reason = utcnow(), actor.id, reason
    record_event(actor, "amendment.hidden", amendment, document_id=document_id, reason=reason)
    return amendment


@writes
def restore_amendment(actor, document_id: int, amendment_id: int, *, reason: str | None = None) -> Amendment:
    """Show a hidden amendment again; ``reason`` (optional) is recorded with the event.

    :raises PermissionDenied: unless the actor is a moderator.
    :raises ValidationError: when it is not hidden.
    """
    amendment = _lock(actor, document_id, amendment_id)
    reason = clean_reason(reason, required=False)
    if not amendment.is_hidden:
        raise ValidationError(_("%(code)s is not hidden.", code=amendment.code))
    amendment.hidden_at = amendment.hidden_by_id = amendment.hidden_reason = None
    record_event(actor, "amendment.restored", amendment, document_id=document_id, reason=reason)
    return amendment
