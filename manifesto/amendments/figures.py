"""What amendments show on the document's pages, and which parts of them an amendment's event changes.

Registered with ``documents.contributions`` and ``audit.states`` by the area's ``init_app``.
"""

from __future__ import annotations

from ..audit.states import amendment_scope, reading_scope, section_scope, section_text_scope
from ..documents.models import SectionVersion
from ..extensions import db
from . import services
from .models import Kind

# Events that change nothing but the amendment's own page (and the lists, which every write changes):
# its support count and supporters, or a draft only its author sees.
OWN_PAGE_ONLY = frozenset({"amendment.supported", "amendment.support_withdrawn", "amendment.drafted"})
# Decisions that write a new version of the section: when it has more or fewer lines than the one before,
# every later section's lines, and every citation of them, are numbered anew (see citations.py).
TEXT_DECISIONS = frozenset({"amendment.accepted", "amendment.accepted_modified"})


def document_page_figures(document, user, page: str, **context) -> dict:
    """Open amendments per section and whether the reader may propose; on the log, the reasons to withhold.

    With ``reader_only`` (the page caches what every reader of a role sees) nothing: both are the role's.
    """
    if page == "log":
        return {"withheld_reasons": services.private_reasons(context["events"], user)}
    if page not in ("read", "section") or context.get("reader_only"):
        return {}
    return {"open_counts": services.open_counts_by_section(document),
            "can_propose": services.can_propose(user, document)}


def changed_parts(event, amendment) -> set[str] | None:
    """The parts of the document an event on ``amendment`` changes (``audit.states.register_parts``).

    A change to a modifying amendment shows on its own page, on its section's page (open amendments)
    and on the pages of the section's other amendments (collisions, the text after a decision), and on
    the reading page (open amendments per section, the text). An amendment that inserts or deletes a
    section, or a merge, may renumber or touch anything: None, the whole frame.
    """
    own = {amendment_scope(amendment.id)}
    if event.action in OWN_PAGE_ONLY:
        return own
    if event.action in TEXT_DECISIONS and _moves_lines(amendment):
        return None  # every later line moved: the pages citing them (sections, amendments) show new numbers
    if amendment.kind != Kind.MODIFY.value or amendment.section_id is None or event.action == "amendment.merged":
        return None
    return own | {section_scope(amendment.section_id), section_text_scope(amendment.section_id),
                  reading_scope(event.document_id)}


def _moves_lines(amendment) -> bool:
    """Whether the version an accepted amendment wrote has another number of lines than the one it replaced.

    Both versions were just written or read by the decision: the session holds them, no query.
    """
    new = db.session.get(SectionVersion, amendment.result_version_id) if amendment.result_version_id else None
    if new is None or new.parent_id is None:
        return True
    old = db.session.get(SectionVersion, new.parent_id)
    return old is None or old.line_count != new.line_count


def page_scopes(amendment) -> list[str] | None:
    """The scopes an amendment's page is keyed by, beside the site and the document's frame (see ``changed_parts``).

    None for an amendment that inserts or deletes a section: its page follows the whole document.
    """
    if amendment.kind != Kind.MODIFY.value or amendment.section_id is None:
        return None
    return [section_text_scope(amendment.section_id), amendment_scope(amendment.id)]
