"""Amendments: propose, see, edit, withdraw, support, decide, and follow the text."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from manifesto.amendments import services
from manifesto.amendments.models import Amendment, Collision
from manifesto.audit.models import AuditEvent
from manifesto.documents import services as documents
from manifesto.documents.models import Section, SectionVersion
from manifesto.extensions import db
from manifesto.services import PermissionDenied, ValidationError

P1 = "Paragraph one of section {n}, about cooperatives and energy."
P2 = "Paragraph two of section {n}, about democracy at work."


@pytest.fixture
def open_document(make_document, users):
    """A document in the amendment phase, edited by the admin."""
    return make_document(phase="amendments", editor=users["admin"])


@pytest.fixture
def entries(open_document):
    return documents.current_sections(open_document)


@pytest.fixture
def propose(open_document, entries):
    """Propose a change to section ``n`` (1-based) by replacing words of its current text."""

    def do(author, n=1, old="cooperatives", new="worker cooperatives", kind="modify", submit=True,
           reason="Because it is better.", heading=None, body=None):
        entry = documents.current_sections(open_document)[n - 1]
        if kind == "modify" and body is None:
            body = entry.version.body.replace(old, new, 1)
        return services.propose_amendment(author, open_document.id, kind=kind, section_id=entry.section.id,
                                          heading=heading, body=body, reason=reason, submit=submit)

    return do


def fresh(amendment) -> Amendment:
    return db.session.get(Amendment, amendment.id)


def decide(amendment, moderator, decision="accept", reason="Agreed by the committee.", **kwargs):
    amendment = fresh(amendment)
    return services.decide_amendment(moderator, amendment.document_id, amendment.id, decision=decision,
                                     reason=reason, revision=amendment.revision, **kwargs)


# ------------------------------------------------------------------ proposing

def test_propose_gives_code_title_and_stored_diff(client, open_document, users, login, entries):
    login(users["participant"])
    entry = entries[1]
    body = entry.version.body.replace("democracy at work", "democracy at work and in finance")
    response = client.post("/d/doc/amendments/new", data={
        "kind": "modify", "section_id": entry.section.id, "body": body, "heading": entry.version.heading,
        "reason": "Finance matters.", "base_version_id": entry.version.id, "action": "submit"})
    assert response.status_code == 302
    amendment = db.session.scalar(select(Amendment))
    assert amendment.code == "A-001" and amendment.status == "submitted"
    last = entry.last_line
    assert amendment.title == f"§2, line {last}"
    assert "and in finance" in amendment.diff_inline_html and "<ins>" in amendment.diff_inline_html
    page = client.get(f"/d/doc/amendments/{amendment.id}").get_data(as_text=True)
    assert "A-001" in page and "Finance matters." in page and f"line {last}" in page
    # The inline diff is on the numbered lines of the version it was written on.
    assert re.search(rf'<div class="line [^"]*\bchanged"><span class="ln">{last}</span>', page)


def test_two_submissions_get_consecutive_codes(propose, users):
    a = propose(users["participant"])
    b = propose(users["moderator"], n=2)
    assert (a.code, b.code) == ("A-001", "A-002")


def test_draft_is_visible_to_its_author_only(client, app, propose, users, login):
    draft = propose(users["participant"], submit=False)
    assert draft.status == "draft" and draft.number is None
    assert client.get(f"/d/doc/amendments/{draft.id}").status_code == 404
    login(users["moderator"])
    assert client.get(f"/d/doc/amendments/{draft.id}").status_code == 404
    assert "Draft" not in client.get("/d/doc/amendments/?status=all").get_data(as_text=True)
    other = app.test_client()
    login(users["participant"], test_client=other)
    assert other.get(f"/d/doc/amendments/{draft.id}").status_code == 200
    assert "Your drafts" in other.get("/d/doc/amendments/").get_data(as_text=True)


def test_draft_can_be_submitted_later(propose, users, open_document):
    draft = propose(users["participant"], submit=False)
    submitted = services.edit_amendment(users["participant"], open_document.id, draft.id, heading=None,
                                        body=draft.proposed_body, reason="Now ready.", revision=draft.revision,
                                        submit=True)
    assert submitted.status == "submitted" and submitted.code == "A-001"


@pytest.mark.parametrize("body,reason,field,message", [
    (None, "Why.", "body", "same as the current text"),
    ("", "Why.", "body", "cannot be empty"),
    ("changed text", "", "reason", "This field is required"),
    ("changed text", "x" * 2001, "reason", "2000"),
])
def test_bad_proposals_get_a_message_next_to_the_field(client, users, login, entries, body, reason, field, message):
    login(users["participant"])
    entry = entries[0]
    response = client.post("/d/doc/amendments/new", data={
        "kind": "modify", "section_id": entry.section.id, "heading": entry.version.heading,
        "body": entry.version.body if body is None else body, "reason": reason,
        "base_version_id": entry.version.id, "action": "submit"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in page and message in page
    assert db.session.scalar(select(db.func.count()).select_from(Amendment)) == 0
    if body:
        assert body in page  # the text is kept


@pytest.mark.parametrize("phase,deadline_passed", [("drafting", False), ("review", False), ("amendments", True)])
def test_proposing_outside_the_window_keeps_the_text(client, users, login, make_document, phase, deadline_passed):
    from datetime import timedelta

    from manifesto.services import utcnow

    document = make_document(phase=phase, editor=users["admin"])
    if deadline_passed:
        documents.update_document(users["admin"], document.id, title=document.title, introduction="",
                                  phase="amendments", amendment_deadline=utcnow() - timedelta(minutes=1),
                                  min_supporters=0)
    entry = documents.current_sections(document)[0]
    login(users["participant"])
    text = "My carefully drafted replacement text."
    response = client.post("/d/doc/amendments/new", data={
        "kind": "modify", "section_id": entry.section.id, "body": text, "reason": "Reason kept too.",
        "base_version_id": entry.version.id, "action": "submit"})
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert text in page and "Reason kept too." in page
    assert ("deadline" in page) if deadline_passed else ("closed in the current phase" in page)
    with pytest.raises(ValidationError):
        services.propose_amendment(users["participant"], document.id, kind="modify", section_id=entry.section.id,
                                   heading=None, body=text, reason="r")


def test_preview_shows_the_diff_and_saves_nothing(client, users, login, entries):
    login(users["participant"])
    entry = entries[0]
    response = client.post("/d/doc/amendments/new", data={
        "kind": "modify", "section_id": entry.section.id, "heading": entry.version.heading,
        "body": entry.version.body.replace("energy", "solar energy"), "reason": "",
        "base_version_id": entry.version.id, "action": "preview"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Preview of your changes" in page
    assert '<span class="visually-hidden">inserted: </span>solar' in page
    assert db.session.scalar(select(db.func.count()).select_from(Amendment)) == 0


def test_editor_starts_from_the_current_text(client, users, login, entries):
    login(users["participant"])
    page = client.get(f"/d/doc/amendments/new?section={entries[2].section.id}").get_data(as_text=True)
    assert entries[2].version.body.split("\n")[0] in page


def test_delete_and_insert_amendments(propose, users, open_document, entries):
    deletion = propose(users["participant"], n=3, kind="delete")
    insertion = propose(users["participant"], n=1, kind="insert", heading="A new chapter", body="Brand new text.")
    assert deletion.title == "§3: delete the section"
    assert insertion.title == "New section after §1"
    decide(deletion, users["moderator"])
    decide(insertion, users["moderator"])
    headings = [e.version.heading for e in documents.current_sections(open_document)]
    assert headings == ["Section 1", "A new chapter", "Section 2"]
    new_section = documents.current_sections(open_document)[1]
    assert new_section.version.author_id == users["participant"].id
    assert new_section.version.approver_id == users["moderator"].id


# -------------------------------------------------------------------- editing

def test_author_edits_and_every_revision_is_kept(client, propose, users, login, open_document):
    amendment = propose(users["participant"])
    login(users["participant"])
    response = client.post(f"/d/doc/amendments/{amendment.id}/edit", data={
        "kind": "modify", "body": amendment.proposed_body.replace("worker", "workers'"),
        "reason": "Better wording.", "revision": amendment.revision, "action": "save"})
    assert response.status_code == 302
    revisions = services.revisions(fresh(amendment))
    assert [r.note for r in revisions] == ["edited", "submitted"]
    assert "workers'" in revisions[0].proposed_body and "worker cooperatives" in revisions[1].proposed_body
    page = client.get(f"/d/doc/amendments/{amendment.id}/revisions/1").get_data(as_text=True)
    assert "worker" in page and "revision 1" in page


def test_only_the_author_edits(client, propose, users, login):
    amendment = propose(users["participant"])
    login(users["moderator"])
    assert client.get(f"/d/doc/amendments/{amendment.id}/edit").status_code == 403
    with pytest.raises(PermissionDenied):
        services.edit_amendment(users["moderator"], amendment.document_id, amendment.id, heading=None,
                                body="x", reason="y", revision=amendment.revision)


def test_stale_edit_is_refused_with_text_kept(client, propose, users, login, open_document):
    amendment = propose(users["participant"])
    services.edit_amendment(users["participant"], open_document.id, amendment.id, heading=None,
                            body=amendment.proposed_body + " More.", reason="Other tab.", revision=1)
    login(users["participant"])
    response = client.post(f"/d/doc/amendments/{amendment.id}/edit", data={
        "kind": "modify", "body": "My slow edit from the first tab.", "reason": "Slow.", "revision": "1",
        "action": "save"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "My slow edit from the first tab." in page and "changed while you were editing" in page


def test_withdraw(client, propose, users, login):
    amendment = propose(users["participant"])
    login(users["participant"])
    response = client.post(f"/d/doc/amendments/{amendment.id}/withdraw",
                           data={"revision": amendment.revision, "reason": "Merged into a joint text."})
    assert response.status_code == 302
    assert fresh(amendment).status == "withdrawn"
    page = client.get(f"/d/doc/amendments/{amendment.id}").get_data(as_text=True)
    assert "Withdrawn" in page and "Merged into a joint text." in page


# -------------------------------------------------------------------- support

def test_support_and_withdraw_support(client, propose, users, login):
    amendment = propose(users["participant"])
    login(users["moderator"])
    client.post(f"/d/doc/amendments/{amendment.id}/support", data={"action": "support"})
    assert fresh(amendment).support_count == 1
    page = client.get(f"/d/doc/amendments/{amendment.id}").get_data(as_text=True)
    assert users["moderator"].name in page and "Withdraw my support" in page
    listing = client.get("/d/doc/amendments/?status=all&mine_supported=1").get_data(as_text=True)
    assert amendment.code in listing
    client.post(f"/d/doc/amendments/{amendment.id}/support", data={"action": "withdraw"})
    assert fresh(amendment).support_count == 0
    assert amendment.code not in client.get("/d/doc/amendments/?status=all&mine_supported=1").get_data(as_text=True)


def test_no_self_support_and_no_double_support(propose, users, open_document):
    amendment = propose(users["participant"])
    with pytest.raises(PermissionDenied, match="own amendment"):
        services.support_amendment(users["participant"], open_document.id, amendment.id)
    services.support_amendment(users["admin"], open_document.id, amendment.id)
    with pytest.raises(ValidationError, match="already support"):
        services.support_amendment(users["admin"], open_document.id, amendment.id)
    assert fresh(amendment).support_count == 1


def test_minimum_supporters_gate_acceptance(client, propose, users, open_document):
    documents.update_document(users["admin"], open_document.id, title=open_document.title, introduction="",
                              phase="amendments", amendment_deadline=None, min_supporters=2)
    amendment = propose(users["participant"])
    assert "Collecting support (0/2)" in client.get(f"/d/doc/amendments/{amendment.id}").get_data(as_text=True)
    with pytest.raises(ValidationError, match="0 of the 2 supporters"):
        decide(amendment, users["moderator"])
    decide(amendment, users["moderator"], decision="reject", reason="Not enough backing.")  # rejecting is allowed
    assert fresh(amendment).status == "rejected"


# ------------------------------------------------------------------- deciding

def test_accept_makes_a_new_version_credited_to_the_author(client, propose, users, open_document):
    amendment = propose(users["participant"])
    decide(amendment, users["moderator"], reason="Clearer.")
    section = db.session.get(Section, amendment.section_id)
    version = db.session.get(SectionVersion, section.current_version_id)
    assert version.number == 2 and "worker cooperatives" in version.body
    assert version.author_id == users["participant"].id and version.approver_id == users["moderator"].id
    assert version.kind == "amendment" and "A-001" in version.reason
    assert fresh(amendment).result_version_id == version.id
    page = client.get(f"/d/doc/amendments/{amendment.id}").get_data(as_text=True)
    assert "Accepted" in page and "Clearer." in page
    assert f"/d/doc/sections/{section.id}/versions/2" in page and "The text became" in page


def test_accept_with_modifications_shows_its_own_diff(client, propose, users):
    amendment = propose(users["participant"])
    final = fresh(amendment).proposed_body.replace("worker cooperatives", "worker and user cooperatives")
    decide(amendment, users["moderator"], decision="accept_modified", final_body=final)
    amendment = fresh(amendment)
    assert amendment.status == "accepted_modified" and amendment.final_body == final
    assert "and user" in amendment.modification_diff_html
    section = db.session.get(Section, amendment.section_id)
    assert db.session.get(SectionVersion, section.current_version_id).body == final
    page = client.get(f"/d/doc/amendments/{amendment.id}").get_data(as_text=True)
    assert "Modification by the moderators" in page


@pytest.mark.parametrize("decision", ["reject", "obsolete"])
def test_reject_and_obsolete_leave_the_text(propose, users, decision):
    amendment = propose(users["participant"])
    decide(amendment, users["moderator"], decision=decision)
    section = db.session.get(Section, amendment.section_id)
    assert section.version_count == 1 and fresh(amendment).status == services.DECISIONS[decision]


def test_merged_needs_another_amendment(propose, users):
    a = propose(users["participant"])
    b = propose(users["admin"], n=2)
    with pytest.raises(ValidationError, match="Name the amendment"):
        decide(a, users["moderator"], decision="merged")
    decide(a, users["moderator"], decision="merged", merged_into=b.code)
    assert fresh(a).merged_into_id == b.id


def test_moderator_cannot_decide_own_amendment(propose, users):
    amendment = propose(users["moderator"])
    with pytest.raises(PermissionDenied, match="own amendment"):
        decide(amendment, users["moderator"])
    decide(amendment, users["admin"])  # another moderator (an admin) can


def test_participant_cannot_decide(client, propose, users, login):
    amendment = propose(users["admin"])
    login(users["participant"])
    response = client.post(f"/d/doc/amendments/{amendment.id}/decide",
                           data={"decision": "accept", "reason": "x", "revision": "1"})
    assert response.status_code == 403
    assert fresh(amendment).status == "submitted"


def test_stale_decision_shows_what_happened_and_keeps_the_text(client, propose, users, login):
    amendment = propose(users["participant"])
    decide(amendment, users["admin"], decision="reject", reason="First decision.")
    login(users["moderator"])
    response = client.post(f"/d/doc/amendments/{amendment.id}/decide",
                           data={"decision": "accept", "reason": "My long considered reasoning.", "revision": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "was decided (rejected)" in page and "My long considered reasoning." in page
    assert fresh(amendment).status == "rejected"


def test_decision_without_reason_is_refused_next_to_the_field(client, propose, users, login):
    amendment = propose(users["participant"])
    login(users["moderator"])
    response = client.post(f"/d/doc/amendments/{amendment.id}/decide",
                           data={"decision": "accept", "reason": "", "revision": "1"})
    assert response.status_code == 400 and 'id="reason-error"' in response.get_data(as_text=True)


# --------------------------------------------------------------------- rebase

def test_clean_rebase_when_another_amendment_is_accepted(client, propose, users):
    first = propose(users["participant"], old="cooperatives", new="worker cooperatives")
    second = propose(users["admin"], old="democracy at work", new="democracy at work and in finance")
    decide(first, users["moderator"])
    second = fresh(second)
    section = db.session.get(Section, second.section_id)
    assert second.base_version_id == section.current_version_id and not second.conflicted
    assert "worker cooperatives" in second.proposed_body and "in finance" in second.proposed_body
    assert "inserted: </span>worker" not in second.diff_inline_html  # only its own change shows
    notes = [r.note for r in services.revisions(second)]
    assert notes[0] == "rebased onto version 2"
    assert "rebased onto version 2" in client.get(f"/d/doc/amendments/{second.id}").get_data(as_text=True)
    decide(second, users["moderator"])  # and it can be accepted


def test_conflicting_amendment_is_flagged_and_cannot_be_accepted(client, propose, users, open_document):
    first = propose(users["participant"], old="cooperatives and energy", new="cooperatives and solar energy")
    second = propose(users["admin"], old="cooperatives and energy", new="cooperatives and wind energy")
    decide(first, users["moderator"])
    second = fresh(second)
    assert second.conflicted and second.conflict["regions"]
    region = second.conflict["regions"][0]
    assert "wind" in region["proposal"] and "solar" in region["new"]
    page = client.get(f"/d/doc/amendments/{second.id}").get_data(as_text=True)
    assert "Conflict with the current text" in page and "wind" in page and "solar" in page
    with pytest.raises(ValidationError, match="resolve the conflict"):
        decide(second, users["moderator"])
    listing = client.get("/d/doc/amendments/?status=open&conflicted=1").get_data(as_text=True)
    assert second.code in listing
    # The author resolves it by editing on the current text.
    current = documents.current_sections(open_document)[0].version
    resolved = services.edit_amendment(users["admin"], open_document.id, second.id, heading=None,
                                       body=current.body.replace("solar energy", "solar and wind energy"),
                                       reason="Both.", revision=second.revision)
    assert not resolved.conflicted and resolved.base_version_id == current.id
    decide(resolved, users["moderator"])


def test_moderator_may_resolve_a_conflict(propose, users, open_document):
    first = propose(users["participant"], old="energy", new="solar energy")
    second = propose(users["admin"], old="energy", new="wind energy")
    decide(first, users["moderator"])
    second = fresh(second)
    current = documents.current_sections(open_document)[0].version
    services.edit_amendment(users["moderator"], open_document.id, second.id, heading=None,
                            body=current.body.replace("solar", "solar and wind"), reason="Merged wording.",
                            revision=second.revision)
    assert not fresh(second).conflicted


def test_direct_edit_and_revert_rebase_open_amendments(propose, users, open_document, entries):
    amendment = propose(users["participant"], old="democracy at work", new="democracy at work and beyond")
    section = entries[0].section
    body = entries[0].version.body.replace("Paragraph one", "First paragraph")
    documents.edit_section(users["moderator"], open_document.id, section.id, heading="Section 1", body=body,
                           reason="Style.", base_version=1)
    amendment = fresh(amendment)
    assert amendment.base_version_id == db.session.get(Section, section.id).current_version_id
    assert "First paragraph" in amendment.proposed_body and "and beyond" in amendment.proposed_body
    documents.revert_section(users["moderator"], open_document.id, section.id, to_number=1, reason="Undo.",
                             base_version=2)
    amendment = fresh(amendment)
    assert "Paragraph one" in amendment.proposed_body and "and beyond" in amendment.proposed_body
    assert not amendment.conflicted


def test_amendment_to_a_retired_section_is_conflicted(propose, users, open_document, entries):
    amendment = propose(users["participant"], n=2)
    documents.retire_section(users["moderator"], open_document.id, entries[1].section.id, reason="Merged.")
    amendment = fresh(amendment)
    assert amendment.conflicted and amendment.conflict.get("retired")
    with pytest.raises(ValidationError):
        decide(amendment, users["moderator"])
    decide(amendment, users["moderator"], decision="obsolete", reason="Section gone.")


def test_accepted_delete_makes_other_amendments_conflicted(propose, users, entries):
    change = propose(users["participant"], n=2)
    deletion = propose(users["admin"], n=2, kind="delete")
    decide(deletion, users["moderator"])
    assert fresh(change).conflicted


def test_amendment_whose_change_was_already_made_is_flagged(propose, users, open_document, entries):
    amendment = propose(users["participant"], old="energy", new="renewable energy")
    body = entries[0].version.body.replace("energy", "renewable energy", 1)
    documents.edit_section(users["moderator"], open_document.id, entries[0].section.id, heading="Section 1",
                           body=body, reason="Same idea.", base_version=1)
    amendment = fresh(amendment)
    assert amendment.conflicted and amendment.conflict.get("absorbed")
    # Its author hears of it like of any conflict: the audit trail says so.
    from manifesto.audit.services import events_for

    assert "amendment.conflicted" in [e.action for e in events_for("amendments", amendment.id)]


# ----------------------------------------------------------------- collisions

def test_overlapping_amendments_collide_on_both_pages_and_in_the_list(client, propose, users, login):
    a = propose(users["participant"], old="cooperatives and energy", new="cooperatives and solar energy")
    b = propose(users["admin"], old="cooperatives and energy", new="cooperatives and wind energy")
    c = propose(users["admin"], old="democracy at work", new="democracy at every workplace")
    assert db.session.scalar(select(db.func.count()).select_from(Collision)) == 1
    assert "Collides with" in client.get(f"/d/doc/amendments/{a.id}").get_data(as_text=True)
    assert b.code in client.get(f"/d/doc/amendments/{a.id}").get_data(as_text=True)
    assert a.code in client.get(f"/d/doc/amendments/{b.id}").get_data(as_text=True)
    assert "Collides" not in client.get(f"/d/doc/amendments/{c.id}").get_data(as_text=True)
    login(users["moderator"])
    listing = client.get("/d/doc/amendments/").get_data(as_text=True)
    assert f">{b.code}</a>" in listing and f">{a.code}</a>" in listing and "Collides with" in listing
    decide(b, users["moderator"], decision="reject")
    assert db.session.scalar(select(db.func.count()).select_from(Collision)) == 0


def test_touching_changes_that_merge_do_not_collide(propose, users, open_document, entries):
    """Deleting item 3 beside adding item 4 after it merges cleanly (#18): no warning, and both go in."""
    listed = "Our aims:\n\n- one\n- two\n- three\n- five"
    documents.edit_section(users["moderator"], open_document.id, entries[0].section.id, heading="Section 1",
                           body=listed, reason="A list.", base_version=1)
    deletion = propose(users["participant"], body=listed.replace("- three\n", ""))
    addition = propose(users["admin"], body=listed.replace("- three\n", "- three\n- four\n"))
    rival = propose(users["participant"], body=listed.replace("- three", "- three and a half"))
    pairs = {frozenset(pair) for pair in db.session.execute(select(Collision.amendment_id, Collision.other_id))}
    # The rival rewrites the deleted item: that one collides; the deletion and the new item do not.
    assert frozenset((deletion.id, addition.id)) not in pairs
    assert frozenset((deletion.id, rival.id)) in pairs
    decide(deletion, users["moderator"])
    assert not fresh(addition).conflicted
    decide(addition, users["moderator"])
    assert documents.current_sections(open_document)[0].version.body == "Our aims:\n\n- one\n- two\n- four\n- five"


# -------------------------------------------------------------------- listing

def test_list_filters_and_sorts(client, propose, users, login, entries):
    a = propose(users["participant"], n=1)
    propose(users["admin"], n=2)
    c = propose(users["participant"], n=3)
    decide(c, users["moderator"], decision="reject")
    services.support_amendment(users["admin"], a.document_id, a.id)

    def codes(query):
        page = client.get(f"/d/doc/amendments/?{query}").get_data(as_text=True)
        return [code for code in ("A-001", "A-002", "A-003") if f"<strong>{code}</strong>" in page]

    assert codes("status=open") == ["A-001", "A-002"]
    assert codes("status=rejected") == ["A-003"]
    assert codes(f"status=all&section={entries[1].section.id}") == ["A-002"]
    assert codes(f"status=all&author={users['participant'].id}") == ["A-001", "A-003"]
    page = client.get("/d/doc/amendments/?status=all&sort=support&desc=1").get_data(as_text=True)
    assert page.index("<strong>A-001</strong>") < page.index("<strong>A-002</strong>")


def test_moderators_land_on_what_needs_a_decision(client, propose, users, login):
    a = propose(users["participant"], old="energy", new="solar energy")
    propose(users["admin"], old="energy", new="wind energy")
    decide(a, users["moderator"])  # A-002 is now conflicted
    propose(users["participant"], n=2)
    login(users["moderator"])
    page = client.get("/d/doc/amendments/").get_data(as_text=True)
    assert "needing a decision" in page and "A-003" in page and "<strong>A-002</strong>" not in page


def test_reading_page_shows_open_amendments_per_section(client, propose, users, entries):
    propose(users["participant"], n=2)
    propose(users["admin"], n=2, old="democracy", new="deep democracy")
    page = client.get("/d/doc/").get_data(as_text=True)
    assert "2 open amendments" in page
    assert "to propose changes and support other people" in page  # visitors are told how to take part
    assert f"/d/doc/amendments/?section={entries[1].section.id}" in page


# ---------------------------------------------------------------------- audit

def test_every_transition_is_audited(client, propose, users, open_document):
    a = propose(users["participant"])
    services.support_amendment(users["admin"], open_document.id, a.id)
    decide(a, users["moderator"], reason="Fine.")
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "amendments",
                                                                 AuditEvent.object_id == a.id)
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["amendment.submitted", "amendment.supported", "amendment.accepted"]
    accepted = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "amendment.accepted"))
    assert (accepted.from_state, accepted.to_state, accepted.reason) == ("submitted", "accepted", "Fine.")
    page = client.get(f"/d/doc/amendments/{a.id}").get_data(as_text=True)
    assert "Audit trail" in page and "accepted" in page
    log = client.get("/d/doc/log").get_data(as_text=True)
    assert "amendment accepted" in log and "Fine." in log


def test_resolving_starts_from_the_current_text_plus_what_still_applies(client, propose, users, login,
                                                                        open_document, entries):
    first = propose(users["admin"], old="cooperatives and energy", new="cooperatives and solar energy")
    body = entries[0].version.body.replace("cooperatives and energy", "cooperatives and wind energy")
    body = body.replace("democracy at work", "democracy at work and in finance")
    second = services.propose_amendment(users["participant"], open_document.id, kind="modify",
                                        section_id=entries[0].section.id, heading=None, body=body, reason="Both.")
    decide(first, users["moderator"])
    assert fresh(second).conflicted
    login(users["participant"])
    page = client.get(f"/d/doc/amendments/{second.id}/edit").get_data(as_text=True)
    # The accepted "solar" stays, the still-valid "in finance" is carried over, "wind" waits for the author.
    editor = page[page.index('id="body"'):page.index("</textarea>", page.index('id="body"'))]
    assert "solar energy" in editor and "and in finance" in editor and "wind" not in editor
