"""The document: reading, sections, versions, history, comparison, and moderators' changes."""

from __future__ import annotations

import pytest

from manifesto.documents import services
from manifesto.documents.models import Section, SectionVersion
from manifesto.extensions import db
from manifesto.services import ConflictError, ValidationError


def sections_of(document):
    return services.current_sections(document)


def test_reading_page_shows_toc_sections_and_rendered_markdown(client, document):
    page = client.get("/d/doc/").get_data(as_text=True)
    assert '<html lang="en">' in page and "<title>Test manifesto" in page
    assert page.count('href="#section-') == 3
    assert "§1" in page and "§3" in page
    assert "<em>introduction</em>" in page
    assert "<p>Paragraph one of section 2" in page


def test_line_numbers_switch_on_and_run_on_across_sections(client, document):
    plain = client.get("/d/doc/").get_data(as_text=True)
    assert 'class="ln"' not in plain
    numbered = client.get("/d/doc/?lines=1").get_data(as_text=True)
    entries = sections_of(document)
    assert entries[0].first_line == 1
    assert entries[1].first_line == entries[0].last_line + 1
    assert entries[2].first_line == entries[1].last_line + 1
    last = entries[2].last_line
    assert f'<span class="ln">{last}</span>' in numbered
    assert f'<span class="ln">{last + 1}</span>' not in numbered
    assert "Hide line numbers" in numbered


def test_edit_makes_a_new_version_with_history(client, users, login, document):
    login(users["moderator"])
    section = sections_of(document)[0].section
    response = client.post(f"/d/doc/sections/{section.id}/edit", data={
        "heading": "Section one, renamed", "body": "Paragraph one, now about solidarity finance.",
        "reason": "Tighter wording.", "base_version": "1"})
    assert response.status_code == 302
    versions = db.session.scalars(db.select(SectionVersion).where(SectionVersion.section_id == section.id)
                                  .order_by(SectionVersion.number)).all()
    assert [v.number for v in versions] == [1, 2]
    assert versions[1].parent_id == versions[0].id and versions[1].author_id == users["moderator"].id
    assert versions[1].reason == "Tighter wording."
    assert versions[0].body.startswith("Paragraph one of section 1")  # the old text is untouched
    page = client.get(f"/d/doc/sections/{section.id}").get_data(as_text=True)
    assert "Version 2 of 2" in page and "Tighter wording." in page and "Initial text." in page


def test_stale_edit_is_a_conflict_and_keeps_the_text(client, users, login, document):
    section = sections_of(document)[0].section
    services.edit_section(users["admin"], document.id, section.id, heading="Section 1",
                          body="Someone else's newer text.", reason="Faster.", base_version=1)
    login(users["moderator"])
    mine = "My twenty minutes of careful drafting."
    response = client.post(f"/d/doc/sections/{section.id}/edit", data={
        "heading": "Section 1", "body": mine, "reason": "Mine.", "base_version": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert mine in page and "Someone saved version 2" in page
    assert "<ins>" in page and "<del>" in page  # how my text differs from the current one
    assert db.session.get(Section, section.id).version_count == 2
    assert 'name="base_version" type="hidden" value="2"' in page  # saving again is deliberate


def test_unchanged_edit_is_refused(users, document):
    section = sections_of(document)[0]
    with pytest.raises(ValidationError, match="Nothing changed"):
        services.edit_section(users["moderator"], document.id, section.section.id, heading=section.version.heading,
                              body=section.version.body, reason="No-op.", base_version=1)


def test_oversized_text_is_refused_next_to_the_field(client, users, login, document):
    login(users["moderator"])
    section = sections_of(document)[0].section
    response = client.post(f"/d/doc/sections/{section.id}/edit", data={
        "heading": "Section 1", "body": "word " * 10_001, "reason": "Long.", "base_version": "1"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Field cannot be longer than 50000 characters." in page
    assert "word word word" in page  # the text is kept


def test_compare_versions_inline_and_side_by_side(client, users, document):
    section = sections_of(document)[0].section
    services.edit_section(users["moderator"], document.id, section.id, heading="Section 1",
                          body="Paragraph one of section 1, about cooperatives and solar energy.\n\n"
                               "Paragraph two of section 1, about democracy at work.",
                          reason="Precision.", base_version=1)
    inline = client.get(f"/d/doc/sections/{section.id}/compare?from=1&to=2").get_data(as_text=True)
    assert "<ins><span class=\"visually-hidden\">inserted: </span>solar </ins>" in inline or "solar" in inline
    assert "<ins>" in inline and "inserted:" in inline
    side = client.get(f"/d/doc/sections/{section.id}/compare?from=1&to=2&view=side").get_data(as_text=True)
    assert "diff-side" in side and ">Before<" in side and ">After<" in side
    assert client.get(f"/d/doc/sections/{section.id}/compare?from=1&to=9").status_code == 404


def test_compare_uses_the_diff_stored_when_the_version_was_written(client, users, document, monkeypatch):
    section = sections_of(document)[0].section
    services.edit_section(users["moderator"], document.id, section.id, heading="Section 1",
                          body="Changed.", reason="x", base_version=1)

    def boom(*args, **kwargs):
        raise AssertionError("diff recomputed on view")

    monkeypatch.setattr(services, "word_diff", boom)
    assert client.get(f"/d/doc/sections/{section.id}/compare?from=1&to=2").status_code == 200


def test_reading_pages_do_no_markdown_work(client, document, monkeypatch):
    import manifesto.text.render as render

    def boom(*args, **kwargs):
        raise AssertionError("Markdown rendered on a reading page")

    monkeypatch.setattr(render, "render_markdown", boom)
    monkeypatch.setattr(services, "render_markdown", boom)
    section = sections_of(document)[0].section
    for url in ("/d/doc/", "/d/doc/?lines=1", f"/d/doc/sections/{section.id}",
                f"/d/doc/sections/{section.id}/versions/1"):
        assert client.get(url).status_code == 200, url


def test_version_stores_html_and_layout_once(document):
    version = sections_of(document)[0].version
    assert version.body_html.startswith("<p>")
    assert version.line_count == len(version.layout.lines) > 0


def test_revert_creates_a_new_version(client, users, login, document):
    section = sections_of(document)[0].section
    services.edit_section(users["moderator"], document.id, section.id, heading="Section 1",
                          body="Replaced text.", reason="Replace.", base_version=1)
    login(users["moderator"])
    response = client.post(f"/d/doc/sections/{section.id}/revert",
                           data={"to_number": "1", "reason": "The plenary preferred the original.",
                                 "base_version": "2"})
    assert response.status_code == 302
    versions = services.section_history(db.session.get(Section, section.id))
    assert [v.number for v in versions] == [3, 2, 1]
    assert versions[0].body == versions[2].body and versions[0].kind == "revert"
    assert versions[1].body == "Replaced text."  # history is never rewritten


def test_revert_on_stale_page_is_refused(users, document):
    section = sections_of(document)[0].section
    services.edit_section(users["moderator"], document.id, section.id, heading="Section 1",
                          body="v2", reason="x", base_version=1)
    services.edit_section(users["moderator"], document.id, section.id, heading="Section 1",
                          body="v3", reason="x", base_version=2)
    with pytest.raises(ConflictError):
        services.revert_section(users["moderator"], document.id, section.id, to_number=1, reason="r", base_version=2)


def test_reorder_sections(client, users, login, document):
    login(users["moderator"])
    first, second, _ = [e.section for e in sections_of(document)]
    response = client.post(f"/d/doc/sections/{second.id}/move",
                           data={"direction": "up", "structure_version": str(document.structure_version)})
    assert response.status_code == 302
    assert [e.section.id for e in sections_of(document)][:2] == [second.id, first.id]
    # A second move made on the old page is refused, not applied blindly.
    client.post(f"/d/doc/sections/{first.id}/move",
                data={"direction": "down", "structure_version": str(document.structure_version - 1)})
    assert [e.section.id for e in sections_of(document)][:2] == [second.id, first.id]


def test_add_section_after_another(client, users, login, document):
    login(users["moderator"])
    first = sections_of(document)[0].section
    response = client.post("/d/doc/sections/new", data={
        "heading": "A new one", "body": "New text.", "reason": "Gap in the text.", "after": str(first.id),
        "structure_version": str(document.structure_version)})
    assert response.status_code == 302
    headings = [e.version.heading for e in sections_of(document)]
    assert headings == ["Section 1", "A new one", "Section 2", "Section 3"]


def test_retire_and_restore_keep_history(client, users, login, document):
    login(users["moderator"])
    section = sections_of(document)[1].section
    assert client.post(f"/d/doc/sections/{section.id}/retire", data={"reason": "Merged into §1.",
                                                                     "base_version": "1"}).status_code == 302
    page = client.get("/d/doc/").get_data(as_text=True)
    assert "Section 2" not in page and "§3" not in page
    history = client.get(f"/d/doc/sections/{section.id}").get_data(as_text=True)
    assert "Retired" in history and "Paragraph one of section 2" in history
    client.post(f"/d/doc/sections/{section.id}/retire", data={"reason": "Back by request."})
    assert [e.version.heading for e in sections_of(document)] == ["Section 1", "Section 2", "Section 3"]


def test_final_document_cannot_be_edited(users, make_document):
    document = make_document(phase="final")
    section = sections_of(document)[0].section
    with pytest.raises(ValidationError, match="final"):
        services.edit_section(users["moderator"], document.id, section.id, heading="x", body="y",
                              reason="z", base_version=1)


def test_document_settings(client, users, login, document):
    login(users["admin"])
    response = client.post("/d/doc/settings", data={
        "title": "Renamed", "introduction": "Intro", "phase": "amendments",
        "amendment_deadline": "2030-01-31T18:00", "min_supporters": "3"})
    assert response.status_code == 302
    db.session.refresh(document)
    assert document.phase == "amendments" and document.min_supporters == 3
    assert document.deadline.year == 2030 and document.amendments_open()
    page = client.get("/d/doc/").get_data(as_text=True)
    assert "Amendments open" in page and "Jan 31, 2030, 6:00\u202fPM UTC" in page


def test_settings_bad_input_is_shown_next_to_the_field(client, users, login, document):
    login(users["admin"])
    response = client.post("/d/doc/settings", data={"title": "Kept title", "phase": "amendments",
                                                    "min_supporters": "-4"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Kept title" in page and 'id="min_supporters-error"' in page


def test_activity_log_lists_changes(client, users, document):
    section = sections_of(document)[0].section
    services.edit_section(users["moderator"], document.id, section.id, heading="Section 1", body="New.",
                          reason="A reason for the log.", base_version=1)
    page = client.get("/d/doc/log").get_data(as_text=True)
    assert "A reason for the log." in page and users["moderator"].name in page and "v1 → v2" in page


@pytest.mark.parametrize("n_sections", [3, 30])
def test_document_page_runs_a_fixed_number_of_queries(app, make_document, users, queries, n_sections):
    document = make_document(n_sections=n_sections)
    for entry in sections_of(document)[:3]:
        services.edit_section(users["moderator"], document.id, entry.section.id, heading="H",
                              body="Edited body.", reason="r", base_version=1)
    client = app.test_client()
    client.get("/d/doc/")  # warm up
    with queries() as counted:
        assert client.get("/d/doc/?lines=1").status_code == 200
    # document, content states, the text's content states (kept apart from the comment counts),
    # sections with current versions, open amendment counts, comment counts, the votes on the whole text.
    assert counted.count <= 7, counted.statements
    with queries() as counted:
        assert client.get("/d/doc/?lines=1").status_code == 200
    # Rendered once: the document and its content states, whatever its size (a visitor's answer: the states).
    assert counted.count <= 2, counted.statements


def test_section_page_runs_a_fixed_number_of_queries(app, make_document, users, queries):
    document = make_document(n_sections=5)
    section = sections_of(document)[2].section
    for n in range(1, 12):
        services.edit_section(users["moderator"], document.id, section.id, heading="H", body=f"Body {n}.",
                              reason="r", base_version=n)
    client, url = app.test_client(), f"/d/doc/sections/{section.id}"
    with queries() as counted:
        assert client.get(url).status_code == 200
    # ... plus the content states, the comment threads (one query) and the passages marked in the text (one query).
    assert counted.count <= 11, counted.statements
    with queries() as counted:
        assert client.get(url).status_code == 200
    # From the cache: the document, the section and the content states only; the number, the open amendments,
    # the text, the threads and the history are not read again.
    assert counted.count <= 3, counted.statements
