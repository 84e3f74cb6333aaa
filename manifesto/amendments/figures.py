"""What amendments show on the document's pages: open amendments per section, and who may propose.

Registered with ``documents.contributions`` by the area's ``init_app``.
"""

from __future__ import annotations

from . import services


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
