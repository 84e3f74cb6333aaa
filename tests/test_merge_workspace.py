"""The merge workspace: every combination of taken and left changes, colliding alternatives, hand edits, the
statuses and audit it writes, two moderators, a section that moved on, who may merge, and the public view."""

from __future__ import annotations

import itertools
import re
import threading

import pytest
from sqlalchemy import func, select

from manifesto.accounts.models import User
from manifesto.amendments import services as amendments
from manifesto.amendments.models import Amendment
from manifesto.audit.models import AuditEvent
from manifesto.documents import services as documents
from manifesto.documents.models import Section, SectionVersion
from manifesto.extensions import db
from manifesto.plenary.merging import services as merging
from manifesto.plenary.merging.models import MergeDraft
from manifesto.services import ConflictError, NotFound, PermissionDenied, ValidationError

from harness import notices_during

BODY = ("Paragraph one of section 1, about cooperatives and energy.\n\n"
        "Paragraph two of section 1, about democracy at work.")


@pytest.fixture
def setting(make_document, users, make_user):
    """A document open for amendments, its first section, and three participants who propose."""
    document = make_document(phase="amendments", editor=users["admin"])
    section = documents.current_sections(document)[0].section
    return document, section, [make_user() for _ in range(3)]


def propose(document, section, author, body, heading=None):
    """An open amendment to the section's text."""
    return amendments.propose_amendment(author, document.id, kind="modify", section_id=section.id, heading=heading,
                                        body=body, reason="Better.")


@pytest.fixture
def three(setting):
    """Three amendments whose four changes touch nowhere: A (two changes), B and C (one each)."""
    document, section, authors = setting
    a = propose(document, section, authors[0],
                BODY.replace("cooperatives", "worker cooperatives").replace("democracy", "real democracy"))
    b = propose(document, section, authors[1], BODY.replace("and energy", "and renewable energy"))
    c = propose(document, section, authors[2], BODY.replace("at work", "at every workplace"))
    return document, section, [a, b, c]


def fresh(document_id: int, section_id: int):
    """The document and section as a new request reads them."""
    db.session.expire_all()
    document = db.session.get(documents.Document, document_id) if hasattr(documents, "Document") else None
    from manifesto.documents.models import Document
    document = db.session.get(Document, document_id)
    return document, documents.get_section_or_404(document, section_id)


def board_of(document, section):
    """The workspace's board as the moderator sees it now."""
    document, section = fresh(document.id, section.id)
    return merging.board(document, section)


def take(b, change_ids=(), alternatives=None, heading=None):
    """Choices taking these change ids (non-colliding places) and these alternatives ({place id: [keys]})."""
    places = {}
    for place in b.work.places:
        if place.colliding:
            if alternatives and alternatives.get(place.id):
                places[place.id] = alternatives[place.id]
        else:
            ids = [c.id for c in place.changes if c.id in set(change_ids)]
            if ids:
                places[place.id] = ids
    return {"places": places, "heading": heading}


def complete(moderator, document, section, choices, text=None, decisions=None, start=True):
    """Start (or resume) and complete a merge with the default decisions, changed by ``decisions``."""
    if start:
        merging.start_merge(moderator, document.id, section.id)
    b = board_of(document, section)
    comp = merging.composition(b, choices, text, actor_id=moderator.id)
    chosen = {v.amendment.id: (v.default, "Merged.") for v in comp.verdicts}
    chosen.update(decisions or {})
    draft = merging.get_draft(section.id)
    return merging.complete_merge(moderator, document.id, section.id, revision=draft.revision,
                                  base_version=b.section.version_count, choices=choices, final_text=text,
                                  decisions=chosen, seen=merging.seen_revisions(b))


def status_of(amendment) -> str:
    """An amendment's status as stored now."""
    return db.session.scalar(select(Amendment.status).where(Amendment.id == amendment.id))


def current_body(section) -> str:
    """The section's current text as stored now."""
    return db.session.scalar(select(SectionVersion.body).join(Section, Section.current_version_id == SectionVersion.id)
                             .where(Section.id == section.id))


def events(action: str) -> list[AuditEvent]:
    """The audit events of one kind, oldest first."""
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


# ------------------------------------------------------------------ every combination, through the service

REPLACEMENTS = [("cooperatives", "worker cooperatives"), ("democracy", "real democracy"),
                ("and energy", "and renewable energy"), ("at work", "at every workplace")]


@pytest.mark.parametrize("flags", list(itertools.product([False, True], repeat=4)),
                         ids=lambda flags: "".join("T" if f else "-" for f in flags))
def test_every_combination_of_taken_and_left_changes(three, users, flags):
    document, section, (a, b, c) = three
    board = board_of(document, section)
    ids = [f"{a.id}.1", f"{a.id}.2", f"{b.id}.1", f"{c.id}.1"]
    assert sorted(c.id for place in board.work.places for c in place.changes) == ids
    taken = [i for i, flag in zip(ids, flags, strict=True) if flag]
    if not taken:
        with pytest.raises(ValidationError):  # nothing taken and nothing accepted: not a merge of anything
            complete(users["moderator"], document, section, take(board, taken),
                     decisions={x.id: ("open", "") for x in (a, b, c)})
    merged = complete(users["moderator"], document, section, take(board, taken))
    expected = BODY
    for (old, new), flag in zip(REPLACEMENTS, flags, strict=True):
        if flag:
            expected = expected.replace(old, new)
    assert current_body(section) == expected
    assert (merged.version is None) == (not taken)

    def expected_status(flag_list):
        return "accepted" if all(flag_list) else "rejected" if not any(flag_list) else "accepted_modified"
    assert status_of(a) == expected_status(flags[:2])
    assert status_of(b) == expected_status(flags[2:3])
    assert status_of(c) == expected_status(flags[3:])
    if not taken:
        assert events("section.merged") == [] and len(events("amendment.rejected")) == 3
        return
    [event] = events("section.merged")
    went_in = {row["code"]: row["taken"] for row in event.data["amendments"]}
    assert went_in == {a.code: [n for n, f in zip((1, 2), flags[:2]) if f], b.code: [1] if flags[2] else [],
                       c.code: [1] if flags[3] else []}
    assert db.session.scalar(select(func.count()).select_from(MergeDraft)) == 0
    if merged.version is not None:
        assert merged.version.author_id == users["moderator"].id  # credited to the moderator who merged
        for amendment in (a, b, c):
            if status_of(amendment) != "rejected":
                assert db.session.get(Amendment, amendment.id).result_version_id == merged.version.id


# ------------------------------------------------------------------ colliding alternatives

@pytest.fixture
def colliding(setting):
    """Two amendments competing for "energy", and a third elsewhere."""
    document, section, authors = setting
    a = propose(document, section, authors[0], BODY.replace("and energy", "and renewable energy"))
    b = propose(document, section, authors[1], BODY.replace("and energy", "and clean power"))
    return document, section, a, b


@pytest.mark.parametrize(("picked", "text", "statuses"), [
    ([], "and energy.", ("rejected", "rejected")),
    (["a"], "and renewable energy.", ("accepted", "rejected")),
    (["b"], "and clean power.", ("rejected", "accepted")),
    (["a", "b"], "and renewable energy clean power.", ("accepted_modified", "accepted_modified")),
    (["b", "a"], "and clean power renewable energy.", ("accepted_modified", "accepted_modified")),
])
def test_colliding_changes_are_alternatives_one_both_in_either_order_or_none(colliding, users, picked, text,
                                                                              statuses):
    document, section, a, b = colliding
    board = board_of(document, section)
    [place] = board.work.places
    assert place.colliding
    keys = {"a": str(a.id), "b": str(b.id)}
    choices = take(board, alternatives={place.id: [keys[p] for p in picked]})
    comp = merging.composition(board, choices)
    assert (comp.needs_check == [place.id]) == (len(picked) > 1)
    complete(users["moderator"], document, section, choices)
    assert text in current_body(section)
    assert (status_of(a), status_of(b)) == statuses


# ------------------------------------------------------------------ hand edits

def test_a_hand_edit_elsewhere_keeps_an_amendment_accepted_one_that_changes_it_makes_it_modified(three, users):
    document, section, (a, b, c) = three
    board = board_of(document, section)
    choices = take(board, [f"{a.id}.1", f"{a.id}.2", f"{b.id}.1"])
    composed = merging.composition(board, choices).text
    # Elsewhere: A and B are still wholly in the text.
    edited = composed.replace("Paragraph two", "The second paragraph")
    comp = merging.composition(board, choices, edited)
    assert comp.verdict(a.id).default == "accepted" and comp.verdict(b.id).default == "accepted"
    # On B's words: B is in with modifications only, and cannot be "accepted".
    edited = edited.replace("renewable energy", "renewable and local energy")
    comp = merging.composition(board, choices, edited)
    assert comp.verdict(b.id).allowed == ("accepted_modified",)
    with pytest.raises(ValidationError, match="cannot be"):
        complete(users["moderator"], document, section, choices, text=edited, decisions={b.id: ("accepted", "Yes.")})
    assert current_body(section) == BODY  # nothing written
    complete(users["moderator"], document, section, choices, text=edited, start=False)
    assert current_body(section) == edited
    assert (status_of(a), status_of(b), status_of(c)) == ("accepted", "accepted_modified", "rejected")
    modified = db.session.get(Amendment, b.id)
    assert modified.final_body == edited and "local" in modified.modification_diff_html
    [event] = events("section.merged")
    assert event.data["hand_edited"] is True


def test_obsolete_or_left_open_for_an_untaken_amendment_and_the_left_open_one_follows_the_new_version(three, users):
    document, section, (a, b, c) = three
    board = board_of(document, section)
    complete(users["moderator"], document, section, take(board, [f"{a.id}.1", f"{a.id}.2"]),
             decisions={b.id: ("obsolete", "Said elsewhere."), c.id: ("open", "")})
    assert (status_of(a), status_of(b), status_of(c)) == ("accepted", "obsolete", "submitted")
    left = db.session.get(Amendment, c.id)
    section_now = db.session.get(Section, section.id)
    assert left.base_version_id == section_now.current_version_id and not left.conflicted
    assert "worker cooperatives" in left.proposed_body and "every workplace" in left.proposed_body
    assert db.session.get(Amendment, b.id).decision_reason == "Said elsewhere."


def test_a_reason_is_required_and_every_decision_names_the_merge_in_its_event(three, users):
    document, section, (a, b, c) = three
    board = board_of(document, section)
    choices = take(board, [f"{a.id}.1"])
    with pytest.raises(ValidationError):
        complete(users["moderator"], document, section, choices, decisions={b.id: ("rejected", "  ")})
    complete(users["moderator"], document, section, choices, start=False)
    [modified] = events("amendment.accepted_modified")
    assert modified.object_id == a.id and modified.data["merge"]["taken"] == [1]
    assert modified.data["merge"]["changes"] == 2 and modified.actor_id == users["moderator"].id
    assert {e.object_id for e in events("amendment.rejected")} == {b.id, c.id}
    assert [e.action for e in events("merge.started")] == ["merge.started"]


def test_autosaves_are_kept_but_not_audited(three, users):
    document, section, (a, b, c) = three
    started = merging.start_merge(users["moderator"], document.id, section.id).revision
    board = board_of(document, section)
    choices = take(board, [f"{a.id}.1"])
    merging.save_draft(users["moderator"], section.id, revision=started, choices=choices,
                               text="My own words.", reasons={str(b.id): {"status": "obsolete", "reason": "Mine."}})
    saved = merging.get_draft(section.id)
    assert saved.choices["places"] == choices["places"] and saved.text == "My own words."
    assert saved.reasons[str(b.id)] == {"status": "obsolete", "reason": "Mine."}
    assert saved.revision == started + 1
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action.like("merge.%"))) == 1  # the start only
    with pytest.raises(ConflictError, match="saved elsewhere"):  # an older page's save
        merging.save_draft(users["moderator"], section.id, revision=started, choices={}, text=None, reasons={})


# ------------------------------------------------------------------ two moderators, a section that moved on

def test_a_second_moderator_is_refused_by_name_and_may_take_over(three, users, make_user):
    document, section, _ = three
    first, second = users["moderator"], make_user("moderator", name="Second Moderator")
    merging.start_merge(first, document.id, section.id)
    with pytest.raises(merging.MergeInProgress, match=first.name):
        merging.start_merge(second, document.id, section.id)
    with pytest.raises(ConflictError):
        merging.save_draft(second, section.id, revision=None, choices={}, text=None, reasons={})
    merging.start_merge(second, document.id, section.id, take_over=True)
    [event] = events("merge.taken_over")
    assert event.actor_id == second.id and event.data["from_user_id"] == first.id
    with pytest.raises(ConflictError, match="Second Moderator took over"):
        merging.save_draft(first, section.id, revision=None, choices={}, text="Lost?", reasons={})
    assert merging.get_draft(section.id).moderator_id == second.id
    merging.discard_merge(second, section.id)
    assert merging.get_draft(section.id) is None and len(events("merge.discarded")) == 1
    with pytest.raises(NotFound):
        merging.discard_merge(second, section.id)


def test_a_merge_of_a_section_that_moved_on_writes_nothing_and_keeps_the_text(app, three, users, login):
    document, section, (a, b, c) = three
    client = logged_in(app, login, users["moderator"])
    assert client.post(f"/d/doc/merge/{section.id}/start").status_code == 303
    page = client.get(f"/d/doc/merge/{section.id}").get_data(as_text=True)
    form = form_fields(page)
    documents.edit_section(users["admin"], document.id, section.id, heading="Section 1", body=BODY + " Edited.",
                           reason="Meanwhile.", base_version=1)
    form.update({"take": [f"{a.id}.1"], "text": "The moderator's careful words.", "action": "merge"})
    response = client.post(f"/d/doc/merge/{section.id}", data=form)
    assert response.status_code == 409
    assert "careful words" in response.get_data(as_text=True)
    assert current_body(section) == BODY + " Edited." and status_of(a) == "submitted"
    assert len(events("section.merged")) == 0
    with pytest.raises(ConflictError, match="new version"):
        merging.save_draft(users["moderator"], section.id, revision=None, choices={}, text=None, reasons={})
    # The draft is kept; starting again on the current version is one button.
    assert "Start again on the current version" in client.get(f"/d/doc/merge/{section.id}").get_data(as_text=True)
    assert client.post(f"/d/doc/merge/{section.id}/start", data={"restart": "1"}).status_code == 303
    draft = merging.get_draft(section.id)
    assert draft.base_version_id == db.session.get(Section, section.id).current_version_id


def test_an_amendment_edited_since_the_page_was_shown_is_a_conflict(three, users):
    document, section, (a, b, c) = three
    merging.start_merge(users["moderator"], document.id, section.id)
    board = board_of(document, section)
    seen = merging.seen_revisions(board)
    amendments.edit_amendment(a.author, document.id, a.id, heading=None, body=BODY.replace("energy", "power"),
                              reason="Changed my mind.", revision=a.revision)
    with pytest.raises(ConflictError, match=a.code):
        merging.complete_merge(users["moderator"], document.id, section.id, revision=None, base_version=None,
                               choices=take(board, [f"{a.id}.1"]), final_text=None,
                               decisions={}, seen=seen)
    assert status_of(b) == "submitted" and current_body(section) == BODY


def test_ones_own_amendment_can_only_be_left_open(setting, users):
    document, section, authors = setting
    mine = propose(document, section, users["moderator"], BODY.replace("energy", "power"))
    theirs = propose(document, section, authors[0], BODY.replace("democracy", "real democracy"))
    board = board_of(document, section)
    comp = merging.composition(board, take(board, [f"{theirs.id}.1"]), actor_id=users["moderator"].id)
    assert comp.verdict(mine.id).allowed == ("open",)
    with pytest.raises(PermissionDenied):
        complete(users["moderator"], document, section, take(board, [f"{mine.id}.1"]))
    complete(users["moderator"], document, section, take(board, [f"{theirs.id}.1"]), start=False)
    assert status_of(theirs) == "accepted" and status_of(mine) == "submitted"


def test_conflicted_and_stale_amendments_are_listed_apart(three, users, setting):
    document, section, (a, b, c) = three
    a_row = db.session.get(Amendment, a.id)
    a_row.conflicted = True
    db.session.commit()
    board = board_of(document, section)
    assert [x.id for x in board.amendments] == [b.id, c.id]
    assert [(x.id, "needs its author first" in why) for x, why in board.apart] == [(a.id, True)]


# ------------------------------------------------------------------ who may merge

def test_participants_and_visitors_may_not_merge(app, client, three, users, login):
    document, section, _ = three
    with pytest.raises(PermissionDenied):
        merging.start_merge(users["participant"], document.id, section.id)
    participant = logged_in(app, login, users["participant"])
    assert participant.get(f"/d/doc/merge/{section.id}").status_code == 403
    assert participant.post(f"/d/doc/merge/{section.id}/start").status_code == 403
    assert participant.post(f"/d/doc/merge/{section.id}", data={"action": "merge"}).status_code == 403
    assert client.get(f"/d/doc/merge/{section.id}").status_code in (302, 401)
    assert merging.get_draft(section.id) is None


# ------------------------------------------------------------------ the pages, without JavaScript

def logged_in(app, login, user):
    """A client of its own, logged in as ``user``."""
    client = app.test_client()
    assert login(user, test_client=client).status_code == 302
    return client


def form_fields(page: str) -> dict:
    """The hidden fields of the workspace form and the text as shown (what a browser would send back)."""
    form = page[page.index('id="merge-form"'):]
    form = form[:form.index("</form>")]
    fields = {m[1]: m[2] for m in re.finditer(r'<input[^>]*name="([^"]+)"[^>]*type="hidden"[^>]*value="([^"]*)"',
                                                form)}
    fields.update({m[1]: m[2] for m in re.finditer(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"',
                                                    form)})
    import html
    fields = {k: html.unescape(v) for k, v in fields.items()}
    text = re.search(r'<textarea[^>]*name="text"[^>]*>(.*?)</textarea>', form, re.S)
    fields["text"] = html.unescape(text[1]).lstrip("\r\n") if text else ""
    for name, value in re.findall(r'<select[^>]*name="(status-\d+)"[^>]*>.*?<option value="([^"]+)" selected',
                                  form, re.S):
        fields[name] = value
    for name, value in re.findall(r'<textarea[^>]*name="(reason-\d+)"[^>]*>(.*?)</textarea>', form, re.S):
        fields[name] = html.unescape(value).strip()
    return fields


def test_the_whole_merge_as_forms_with_csrf(make_app, three, users):
    document, section, (a, b, c) = three
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page)[1]
    assert client.post("/login", data={"email": users["moderator"].email, "password": "correct-horse-battery",
                                       "csrf_token": token}).status_code == 302
    start_page = client.get(f"/d/doc/merge/{section.id}")
    assert start_page.headers["Cache-Control"] == "private, no-store"
    assert "Start merging" in start_page.get_data(as_text=True)
    assert client.post(f"/d/doc/merge/{section.id}/start").status_code == 400  # no token: refused
    token = re.search(r'name="csrf_token" value="([^"]+)"', start_page.get_data(as_text=True))[1]
    assert client.post(f"/d/doc/merge/{section.id}/start", data={"csrf_token": token}).status_code == 303
    page = client.get(f"/d/doc/merge/{section.id}").get_data(as_text=True)
    for change in (f"{a.id}.1", f"{a.id}.2", f"{b.id}.1", f"{c.id}.1"):
        assert f'name="take" value="{change}"' in page
    assert f"take {a.code}, change 2 ({db.session.get(User, a.author_id).name})" in page
    form = form_fields(page)
    form.update({"take": [f"{a.id}.1", f"{a.id}.2", f"{c.id}.1"], "action": "preview"})
    response = client.post(f"/d/doc/merge/{section.id}", data=form)
    assert response.status_code == 303 and response.headers["Location"].endswith("#preview")
    page = client.get(f"/d/doc/merge/{section.id}").get_data(as_text=True)
    form = form_fields(page)
    expected = BODY.replace("cooperatives", "worker cooperatives").replace("democracy", "real democracy").replace(
        "at work", "at every workplace")
    assert form["text"] == expected
    assert form[f"status-{a.id}"] == "accepted" and form[f"status-{b.id}"] == "rejected"
    assert "Not taken in the merge" in form[f"reason-{b.id}"]
    form.update({"take": [f"{a.id}.1", f"{a.id}.2", f"{c.id}.1"], "action": "merge"})
    response = client.post(f"/d/doc/merge/{section.id}", data=form)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    assert current_body(section) == expected
    assert (status_of(a), status_of(b), status_of(c)) == ("accepted", "rejected", "accepted")
    assert "The section is merged" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_ticks_changed_since_the_preview_are_previewed_before_merging(app, three, users, login):
    document, section, (a, b, c) = three
    client = logged_in(app, login, users["moderator"])
    client.post(f"/d/doc/merge/{section.id}/start")
    form = form_fields(client.get(f"/d/doc/merge/{section.id}").get_data(as_text=True))
    form.update({"take": [f"{b.id}.1"], "action": "merge"})
    response = client.post(f"/d/doc/merge/{section.id}", data=form)
    assert response.status_code == 400 and "Check the new preview" in response.get_data(as_text=True)
    assert current_body(section) == BODY


def test_a_participant_sees_no_merge_link_a_moderator_does(app, three, users, login):
    document, section, _ = three
    address = f"/d/doc/sections/{section.id}"
    assert f"/d/doc/merge/{section.id}" in logged_in(app, login, users["moderator"]).get(address).get_data(
        as_text=True)
    assert f"/d/doc/merge/{section.id}\"" not in logged_in(app, login, users["participant"]).get(address).get_data(
        as_text=True)


# ------------------------------------------------------------------ the public view

def test_the_public_view_follows_the_draft(client, three, users):
    document, section, (a, b, c) = three
    view = client.get(f"/d/doc/merge/{section.id}/view")
    assert view.status_code == 200 and "No merge of this section is in progress" in view.get_data(as_text=True)
    assert view.headers["Cache-Control"] == "private, no-cache"
    assert '<meta http-equiv="refresh" content="20">' in view.get_data(as_text=True)
    assert f'data-live-topic="merge:{section.id}"' in view.get_data(as_text=True)
    draft = merging.start_merge(users["moderator"], document.id, section.id)
    board = board_of(document, section)
    merging.save_draft(users["moderator"], section.id, revision=draft.revision,
                       choices=take(board, [f"{b.id}.1"]), text=None, reasons={})
    page = client.get(f"/d/doc/merge/{section.id}/view").get_data(as_text=True)
    assert "renewable" in page and users["moderator"].name in page
    assert f"{b.code}</a> ({db.session.get(User, b.author_id).name}): 1 of its 1 change taken" in page
    fragment = client.get(f"/d/doc/merge/{section.id}/view/fragment")
    assert fragment.headers["Cache-Control"] == "private, no-cache"
    assert "renewable" in fragment.get_data(as_text=True) and "<html" not in fragment.get_data(as_text=True)
    assert "data-live-summary" in fragment.get_data(as_text=True)


def test_phones_following_the_merge_are_handed_the_public_view_with_each_save(stream_app, three, users):
    document, section, (a, b, c) = three
    topic = merging.merge_topic(section.id)
    client = stream_app.test_client()
    view = client.get(f"/d/doc/merge/{section.id}/view").get_data(as_text=True)
    assert f'data-live-content="{topic}"' in view
    draft = merging.start_merge(users["moderator"], document.id, section.id)
    stream = client.get(f"/live/stream?topic={topic}&content={topic}", headers={"Accept-Language": "es"})
    choices = take(board_of(document, section), [f"{b.id}.1"])

    [brought] = notices_during(stream_app, [stream], lambda: merging.save_draft(
        users["moderator"], section.id, revision=draft.revision, choices=choices, text=None, reasons={}))
    assert brought[0]["event"] == "content"
    named, _, html = brought[0]["data"].partition("\n")
    fetched = client.get(f"/d/doc/merge/{section.id}/view/fragment", headers={"Accept-Language": "es"})
    assert named == topic and html.strip() == fetched.get_data(as_text=True).strip()
    assert "renewable" in html and "csrf_token" not in html


# ------------------------------------------------------------------ a race (PostgreSQL)

def test_two_moderators_completing_at_once_one_wins(make_app, database_url, three, users, make_user):
    if not database_url.startswith("postgresql"):
        pytest.skip("a race needs PostgreSQL (SQLite serialises writers with BEGIN IMMEDIATE)")
    document, section, (a, b, c) = three
    first, second = users["moderator"].id, make_user("moderator").id
    merging.start_merge(users["moderator"], document.id, section.id)
    board = board_of(document, section)
    choices = take(board, [f"{a.id}.1", f"{b.id}.1"])
    seen = merging.seen_revisions(board)
    document_id, section_id = document.id, section.id
    app = make_app()
    barrier = threading.Barrier(2)
    answers: dict[int, str] = {}

    def act(user_id: int) -> None:
        """The owner completes; the other takes over and completes, both at once."""
        with app.app_context():
            me = db.session.get(User, user_id)
            barrier.wait()
            try:
                if user_id == second:
                    merging.start_merge(me, document_id, section_id, take_over=True)
                merging.complete_merge(me, document_id, section_id, revision=None, base_version=1, choices=choices,
                                       final_text=None, decisions={a.id: ("accepted_modified", "Merged."),
                                                                   b.id: ("accepted", "Merged."),
                                                                   c.id: ("rejected", "Not taken.")}, seen=seen)
                answers[user_id] = "merged"
            except (ConflictError, NotFound) as refused:
                answers[user_id] = refused.message
            finally:
                db.session.remove()

    threads = [threading.Thread(target=act, args=(u,)) for u in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(answers) == sorted([first, second])
    assert list(answers.values()).count("merged") == 1, answers
    loser = next(message for message in answers.values() if message != "merged")
    assert "Nothing was changed" in loser or "No merge" in loser
    db.session.expire_all()
    assert db.session.get(Section, section.id).version_count == 2
    assert len(events("section.merged")) == 1
    assert len(events("amendment.accepted")) == 1 and len(events("amendment.rejected")) == 1


def test_every_draft_save_and_the_completion_reach_the_followers_of_the_merge(client, three, users):
    document, section, (a, b, c) = three
    topic = f"topic=merge:{section.id}"
    first = client.get(f"/live/poll?{topic}")
    assert first.status_code == 200 and first.get_json()["changed"] == []
    assert client.get("/live/poll?topic=merge:999999").status_code == 404  # no such section to follow
    since = first.get_json()["id"]
    started = merging.start_merge(users["moderator"], document.id, section.id).revision
    answer = client.get(f"/live/poll?{topic}&since={since}").get_json()
    assert answer["changed"] == [f"merge:{section.id}"]
    board = board_of(document, section)
    merging.save_draft(users["moderator"], section.id, revision=started, choices=take(board, [f"{b.id}.1"]),
                       text=None, reasons={})
    again = client.get(f"/live/poll?{topic}&since={answer['id']}").get_json()
    assert again["changed"] == [f"merge:{section.id}"]
    complete(users["moderator"], document, section, take(board, [f"{b.id}.1"]), start=False)
    assert client.get(f"/live/poll?{topic}&since={again['id']}").get_json()["changed"] == [f"merge:{section.id}"]
    # A refused save announces nothing.
    last = client.get(f"/live/poll?{topic}").get_json()["id"]
    with pytest.raises(NotFound):
        merging.save_draft(users["moderator"], section.id, revision=None, choices={}, text=None, reasons={})
    assert client.get(f"/live/poll?{topic}&since={last}").get_json()["changed"] == []


def test_the_script_s_autosave_keeps_the_text_and_answers_with_the_new_revision(app, three, users, login):
    document, section, (a, b, c) = three
    client = logged_in(app, login, users["moderator"])
    client.post(f"/d/doc/merge/{section.id}/start")
    form = form_fields(client.get(f"/d/doc/merge/{section.id}").get_data(as_text=True))
    form.update({"take": [f"{b.id}.1"], "text": "Typed by hand."})
    answer = client.post(f"/d/doc/merge/{section.id}/autosave", data=form)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "private, no-store"
    assert answer.get_json()["saved"] and answer.get_json()["message"].startswith("Draft saved")
    draft = merging.get_draft(section.id)
    assert answer.get_json()["revision"] == draft.revision and draft.text == "Typed by hand."
    assert draft.choices["places"] == {f"{b.id}.1": [f"{b.id}.1"]}
    # The same page saving again, on the revision it had: refused, said in words, nothing lost.
    stale = client.post(f"/d/doc/merge/{section.id}/autosave", data={**form, "text": "Older tab."})
    assert stale.status_code == 409 and not stale.get_json()["saved"]
    assert merging.get_draft(section.id).text == "Typed by hand."
    page = client.get(f"/d/doc/merge/{section.id}").get_data(as_text=True)
    assert "Typed by hand." in page and "You edited the text by hand" in page


def test_a_merge_taken_over_meanwhile_keeps_the_first_moderator_s_text_on_the_page(app, three, users, login,
                                                                                  make_user):
    document, section, (a, b, c) = three
    client = logged_in(app, login, users["moderator"])
    client.post(f"/d/doc/merge/{section.id}/start")
    form = form_fields(client.get(f"/d/doc/merge/{section.id}").get_data(as_text=True))
    merging.start_merge(make_user("moderator", name="Other Moderator"), document.id, section.id, take_over=True)
    form.update({"take": [f"{b.id}.1"], "text": "Words worth keeping.", "action": "preview"})
    response = client.post(f"/d/doc/merge/{section.id}", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Other Moderator took over this merge" in page and "Words worth keeping." in page
    assert "Take over their merge" in page
    assert merging.get_draft(section.id).text is None  # theirs, untouched


def test_a_tick_saved_by_the_script_brings_the_new_preview(app, three, users, login):
    document, section, (a, b, c) = three
    client = logged_in(app, login, users["moderator"])
    client.post(f"/d/doc/merge/{section.id}/start")
    form = form_fields(client.get(f"/d/doc/merge/{section.id}").get_data(as_text=True))
    form.update({"take": [f"{b.id}.1"], "preview": "1"})
    answer = client.post(f"/d/doc/merge/{section.id}/autosave", data=form).get_json()
    assert answer["saved"] and "renewable energy" in answer["composed"] and "worker" not in answer["composed"]
    preview = answer["preview"]
    assert re.search(r'<textarea[^>]*name="text"[^>]*>\s*' + re.escape(answer["composed"][:40]), preview)
    assert "<ins>" in preview and "renewable" in preview  # the diff against the current version
    assert f'id="status-{b.id}"' in preview and "<form" not in preview and "csrf_token" not in preview
    # How the merged text will read, rendered as the section page renders it.
    rendered = re.search(r'<div class="merge-rendered prose"[^>]*>(.*?)</div>', preview, re.S).group(1)
    assert "<p>" in rendered and "renewable energy" in rendered and "<ins>" not in rendered
    # Ticking more: the text follows the ticks; without "preview" (a timed save) nothing is rendered.
    form.update({"take": [f"{b.id}.1", f"{c.id}.1"], "revision": str(answer["revision"])})
    answer = client.post(f"/d/doc/merge/{section.id}/autosave", data=form).get_json()
    assert "renewable energy" in answer["composed"] and "every workplace" in answer["composed"]
    del form["preview"]
    form["revision"] = str(answer["revision"])
    timed = client.post(f"/d/doc/merge/{section.id}/autosave", data=form).get_json()
    assert timed["saved"] and "preview" not in timed
    # A hand edit is kept through a tick: the preview shows it, and says the ticks no longer change it.
    form.update({"text": "Typed by hand.", "take": [f"{b.id}.1"], "preview": "1", "revision": str(timed["revision"])})
    answer = client.post(f"/d/doc/merge/{section.id}/autosave", data=form).get_json()
    assert "Typed by hand." in answer["preview"] and "You edited the text by hand" in answer["preview"]
