"""Amendment services: propose, edit, support, decide, and follow the text.

One module per job: ``proposing`` (propose, edit, withdraw), ``support``,
``deciding``, ``following`` (rebase onto new versions), ``collisions``,
``queries`` (lists and counts), ``moderation`` (hide and restore), with
``permissions`` and ``core`` (loading, locking, validation, stored diffs)
beneath them. Callers use this package:
``from manifesto.amendments import services``.

Locks follow the protocol of ``manifesto.locking`` (document, then section,
then amendments): numbering takes the document, anything that changes which
amendments of a section are open (and so its collisions) takes the section,
and a change to one amendment takes that amendment. Every form carries the
amendment's ``revision``; a change made on an older revision is refused with
a ConflictError, never applied blindly.
"""

from __future__ import annotations

from .collisions import collisions_for
from .core import get_amendment_or_404
from .deciding import DECISIONS, decide_amendment
from .following import resolution_start
from .moderation import can_moderate, can_see_hidden, hide_amendment, restore_amendment
from .permissions import can_decide, can_edit, can_propose, can_support, can_view, can_withdraw
from .proposing import edit_amendment, propose_amendment, withdraw_amendment
from .queries import (SORTS, AmendmentPage, ListFilter, list_amendments, merged_target_code, my_drafts,
                      open_counts_by_section, private_reasons, revisions, status_counts, supported_among,
                      supporters)
from .support import support_amendment, withdraw_support

__all__ = [
    "DECISIONS", "SORTS", "AmendmentPage", "ListFilter", "can_decide", "can_edit", "can_moderate", "can_propose",
    "can_see_hidden", "can_support", "can_view", "can_withdraw", "collisions_for", "decide_amendment",
    "edit_amendment", "get_amendment_or_404", "hide_amendment", "list_amendments", "merged_target_code",
    "my_drafts", "open_counts_by_section", "private_reasons", "propose_amendment", "resolution_start", "restore_amendment",
    "revisions", "status_counts", "support_amendment", "supported_among", "supporters", "withdraw_amendment",
    "withdraw_support",
]
