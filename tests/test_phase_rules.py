"""documents.rules: what each phase allows, asked the same way by every area, refused with the same words."""

from __future__ import annotations

from datetime import timedelta

import pytest

from manifesto.accounts import rules as roles
from manifesto.amendments import services as amendments
from manifesto.documents import rules
from manifesto.documents import services as documents
from manifesto.documents.models import Document, Phase
from manifesto.amendments.models import Amendment
from manifesto.extensions import db
from manifesto.services import ValidationError, utcnow


def _document(phase: str, deadline=None) -> Document:
    """A document in memory: the rules read only its phase and deadline."""
    return Document(slug="d", title="D", phase=phase, amendment_deadline=deadline)


@pytest.mark.parametrize("phase,amendments_open,text_changes", [
    ("drafting", False, True), ("amendments", True, True), ("review", False, True), ("final", False, False)])
def test_each_phase_allows_its_own_changes(app, phase, amendments_open, text_changes):
    document = _document(phase)
    assert rules.accepts_amendments(document) is amendments_open
    assert rules.accepts_text_changes(document) is text_changes
    assert rules.closed_by_phase(document) is (phase != "amendments")


def test_the_deadline_closes_the_window_but_not_the_phase(app):
    document = _document("amendments", utcnow() - timedelta(minutes=1))
    assert not rules.accepts_amendments(document) and not rules.closed_by_phase(document)
    assert rules.accepts_amendments(_document("amendments", utcnow() + timedelta(days=1)))
    with pytest.raises(ValidationError, match="The deadline for amendments has passed"):
        rules.require_amendments_open(document)


def test_refusals_name_the_phase(app):
    with app.test_request_context():
        with pytest.raises(ValidationError, match="current phase of the document \\(“Review”\\)"):
            rules.require_amendments_open(_document("review"))
        with pytest.raises(ValidationError, match="The document is final"):
            rules.require_text_changes(_document(Phase.FINAL.value))
    rules.require_amendments_open(_document("amendments"))
    rules.require_text_changes(_document("drafting"))


@pytest.mark.parametrize("role", ["participant", "moderator", "admin"])
def test_proposing_asks_the_phase_and_the_role(make_user, role):
    user = make_user(role)
    assert amendments.can_propose(user, _document("amendments")) is roles.is_member(user)
    assert not amendments.can_propose(user, _document("final"))
    user.active = False
    assert not amendments.can_propose(user, _document("amendments"))


def test_a_final_document_refuses_section_edits_with_the_rule(make_document, users):
    document = make_document(editor=users["admin"])
    documents.update_document(users["admin"], document.id, title=document.title, introduction="",
                              phase="final", amendment_deadline=None, min_supporters=0)
    section = documents.current_sections(document)[0].section
    with pytest.raises(ValidationError, match="The document is final"):
        documents.edit_section(users["moderator"], document.id, section.id, heading="H", body="New text.",
                               reason="R.", base_version=1)


def test_a_final_document_refuses_accepting_but_not_rejecting(make_document, make_user, users):
    """Accepting writes a new version: once the text is final, only decisions that write nothing go through."""
    document = make_document(phase="amendments", editor=users["admin"])
    entry = documents.current_sections(document)[0]
    author = make_user("participant")
    proposed = [amendments.propose_amendment(author, document.id, kind="modify", section_id=entry.section.id,
                                             heading=None, body=entry.version.body + f" Change {n}.",
                                             reason="Because.", submit=True) for n in (1, 2)]
    documents.update_document(users["admin"], document.id, title=document.title, introduction="",
                              phase="final", amendment_deadline=None, min_supporters=0)
    first, second = (db.session.get(Amendment, a.id) for a in proposed)
    with pytest.raises(ValidationError, match="The document is final"):
        amendments.decide_amendment(users["moderator"], document.id, first.id, decision="accept",
                                    reason="Agreed.", revision=first.revision)
    assert documents.current_sections(document)[0].version.id == entry.version.id
    rejected = amendments.decide_amendment(users["moderator"], document.id, second.id, decision="reject",
                                           reason="Too late.", revision=second.revision)
    assert rejected.status == "rejected"
