"""What a document's phase allows: the one place every area asks before acting on a document.

Who acts is asked of ``accounts.rules``; *when* is asked here, because the
phase belongs to the document and ``accounts`` sits below ``documents``. Two
rules exist today:

- amendments are proposed and edited only while the amendment window is
  open: the ``amendments`` phase, before its deadline (if any);
- the text of a document in its ``final`` phase no longer changes: section
  edits, reverts and structural changes are refused until an admin moves it
  back to another phase.

Reading, commenting and supporting do not depend on the phase; deciding does
only where it writes text (accepting, in a final document).
The ``accepts_*`` questions answer True or False (templates hide what is
refused); the ``require_*`` checks raise :class:`ValidationError` with the
words shown to the person who tried (their text is kept on the form).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from ..services import ValidationError
from .models import Document, Phase


def accepts_amendments(document: Document, now: datetime | None = None) -> bool:
    """Whether participants may propose or edit amendments now (the window is open)."""
    return document.amendments_open(now)


def closed_by_phase(document: Document) -> bool:
    """Whether the amendment window is shut by the phase itself (rather than by its deadline)."""
    return document.phase != Phase.AMENDMENTS


def require_amendments_open(document: Document) -> None:
    """Refuse proposals and edits outside the amendment window.

    :raises ValidationError: naming the phase, or the passed deadline.
    """
    if accepts_amendments(document):
        return
    if closed_by_phase(document):
        raise ValidationError(_("Amendments cannot be proposed in the current phase of the document "
                                "(“%(phase)s”). Your text is kept below.", phase=document.phase_enum.label))
    raise ValidationError(_("The deadline for amendments has passed. Your text is kept below."))


def accepts_text_changes(document: Document) -> bool:
    """Whether the document's text may still change (it may not once final)."""
    return document.phase != Phase.FINAL


def require_text_changes(document: Document) -> None:
    """Refuse any change to the text of a final document.

    :raises ValidationError:
    """
    if not accepts_text_changes(document):
        raise ValidationError(_("The document is final. An admin must change its phase before it can be edited."))
