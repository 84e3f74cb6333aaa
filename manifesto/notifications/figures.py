"""What notifications show on other areas' pages: the follow button's state.

Registered with ``documents.contributions`` by the area's ``init_app``.
"""

from __future__ import annotations

from . import services


def follow_button(document, user, page: str, **context) -> dict:
    """The follow button's state on the section and amendment pages (one query for a logged-in reader)."""
    if page == "section":
        return {"follow_state": services.follow_state(user, "section", context["section"].id)}
    if page == "amendment":
        amendment = context["amendment"]
        if amendment.status == "draft":
            return {"follow_state": None}
        return {"follow_state": services.follow_state(user, "amendment", amendment.id)}
    return {}
