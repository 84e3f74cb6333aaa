"""The document's activity log never shows what only an author (or the moderators) may read."""

from __future__ import annotations

import pytest

from manifesto.amendments import services as amendments
from manifesto.documents import services as documents


@pytest.fixture
def amendments_in_log(make_document, users, make_user):
    """A private draft and a submitted amendment that a moderator then hid."""
    document = make_document(phase="amendments", editor=users["admin"])
    entry = documents.current_sections(document)[0]
    author = users["participant"]
    amendments.propose_amendment(author, document.id, kind="modify", section_id=entry.section.id, heading=None,
                                 body=entry.version.body + " Draft.", reason="SECRET-DRAFT-REASON", submit=False)
    hidden = amendments.propose_amendment(author, document.id, kind="modify", section_id=entry.section.id,
                                          heading=None, body=entry.version.body + " Rude.",
                                          reason="OFFENSIVE-REASON", submit=True)
    amendments.hide_amendment(users["moderator"], document.id, hidden.id, reason="It insults a delegate.")
    return document


@pytest.mark.parametrize("role, sees_draft, sees_hidden", [
    (None, False, False), ("other", False, False), ("author", True, True), ("moderator", False, True),
])
def test_the_log_withholds_private_reasons(client, login, users, make_user, amendments_in_log, role,
                                           sees_draft, sees_hidden):
    viewer = {"other": make_user(), "author": users["participant"], "moderator": users["moderator"]}.get(role)
    if viewer is not None:
        login(viewer)
    page = client.get("/d/doc/log").get_data(as_text=True)
    assert ("SECRET-DRAFT-REASON" in page) is sees_draft
    assert ("OFFENSIVE-REASON" in page) is sees_hidden
    assert "It insults a delegate." in page  # the moderator's public reason stays public
    if not (sees_draft and sees_hidden):
        assert "not shown (a private draft, or hidden by a moderator)" in page
