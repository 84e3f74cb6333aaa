"""Releases: publishing a frozen, named text, reading it, and making one final."""

from __future__ import annotations

import itertools
import logging
import re
import threading

import pytest
from sqlalchemy import func, select

from manifesto.accounts.models import User
from manifesto.amendments import services as amendments
from manifesto.audit.models import AuditEvent
from manifesto.documents import services as documents
from manifesto.documents.models import Document, Phase, Section, SectionVersion
from manifesto.extensions import db
from manifesto.releases import services
from manifesto.releases.models import Release, ReleaseSection
from manifesto.services import NotFound, PermissionDenied, ValidationError, as_utc

from harness import PASSWORD, live_markup

DRAFT_2 = "Draft 2 — for the regional consultations"


def release_count() -> int:
    """How many releases exist, in any document."""
    return db.session.scalar(select(func.count()).select_from(Release))


def edit(user, document, entry, body, heading=None):
    """Write a new version of a live section."""
    return documents.edit_section(user, document.id, entry.section.id, heading=heading or entry.version.heading,
                                  body=body, reason="Edit.", base_version=entry.section.version_count)


# ------------------------------------------------------------------ publishing

def test_moderator_publishes_from_the_form_and_the_release_is_listed(client, login, users, document):
    login(users["moderator"])
    form = client.get("/d/doc/releases/new")
    assert form.status_code == 200
    page = form.get_data(as_text=True)
    assert '<label for="name">Name</label>' in page and 'name="csrf_token"' in page
    assert 'name="final"' not in page  # only admins may publish a final text
    response = client.post("/d/doc/releases/new", data={"name": DRAFT_2, "description": "For the *regions*."})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/d/doc/releases/draft-2-for-the-regional-consultations")
    listing = client.get("/d/doc/releases").get_data(as_text=True)
    assert DRAFT_2 in listing and users["moderator"].name in listing and "3 sections" in listing
    release = db.session.scalar(select(Release))
    assert release.is_final is False and release.created_by_id == users["moderator"].id
    assert release.description_html.strip() == "<p>For the <em>regions</em>.</p>"
    assert db.session.get(Document, document.id).phase == Phase.DRAFTING  # a plain release changes no phase
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "release.published"))
    assert event.actor_id == users["moderator"].id and event.document_id == document.id


def test_release_page_keeps_each_sections_exact_text_after_later_edits(client, users, document):
    entries = documents.current_sections(document)
    release = services.publish_release(users["moderator"], document.id, name="Draft 1")
    edit(users["moderator"], document, entries[1], "Entirely new wording of the second section.")
    documents.retire_section(users["moderator"], document.id, entries[2].section.id, reason="Gone.")

    page = client.get("/d/doc/releases/draft-1").get_data(as_text=True)
    assert "Paragraph one of section 2, about cooperatives and energy." in page
    assert "Entirely new wording" not in page
    assert "Section 3" in page and page.count('href="#section-') == 3  # the table of contents
    live = client.get("/d/doc/").get_data(as_text=True)
    assert "Entirely new wording" in live and "Paragraph one of section 2," not in live

    frozen = services.release_entries(release)
    assert [e.number for e in frozen] == [1, 2, 3]
    assert [e.version.number for e in frozen] == [1, 1, 1]
    assert frozen[0].first_line == 1 and frozen[1].first_line == frozen[0].last_line + 1
    assert frozen[2].last_line == release.line_count


def test_release_page_numbers_lines_across_the_document(client, users, make_document):
    document = make_document(n_sections=4)
    release = services.publish_release(users["moderator"], document.id, name="Numbered")
    entries = services.release_entries(release)
    page = client.get("/d/doc/releases/numbered").get_data(as_text=True)
    numbers = [int(n) for n in re.findall(r'<span class="ln">(\d+)</span>', page)]
    assert numbers == list(range(1, entries[-1].last_line + 1))
    assert f"lines {entries[1].first_line}" in page.lower()
    hidden = client.get("/d/doc/releases/numbered?lines=0").get_data(as_text=True)
    assert 'class="ln"' not in hidden and "<p>Paragraph one of section 2" in hidden


def test_release_keeps_the_title_and_introduction_it_was_published_with(client, users, document):
    services.publish_release(users["moderator"], document.id, name="Before the rename")
    documents.update_document(users["admin"], document.id, title="A new title", introduction="New intro.",
                              phase="drafting", amendment_deadline=None, min_supporters=0)
    page = client.get("/d/doc/releases/before-the-rename").get_data(as_text=True)
    assert "Test manifesto" in page and "<em>introduction</em>" in page and "New intro." not in page


@pytest.mark.parametrize("role", ["participant", "anonymous"])
def test_participants_and_visitors_cannot_publish(client, login, users, document, role):
    if role != "anonymous":
        login(users[role])
    response = client.post("/d/doc/releases/new", data={"name": "Mine"})
    assert response.status_code == (403 if role == "participant" else 302)
    if role == "participant":
        assert client.get("/d/doc/releases/new").status_code == 403
    else:
        assert "/login" in response.headers["Location"]
    assert release_count() == 0
    with pytest.raises(PermissionDenied):
        services.publish_release(users["participant"] if role == "participant" else None, document.id, name="Mine")
    listing = client.get("/d/doc/releases").get_data(as_text=True)
    assert "Publish a release" not in listing and "No release has been published yet" in listing


def test_duplicate_name_is_an_error_next_to_the_field_and_the_text_is_kept(client, login, users, document):
    services.publish_release(users["moderator"], document.id, name=DRAFT_2)
    login(users["moderator"])
    response = client.post("/d/doc/releases/new", data={"name": DRAFT_2.upper(), "description": "My careful notes."})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    error = re.search(r'<p class="error" id="name-error">(.*?)</p>', page, re.S)
    assert error and "already has a release with this name" in error.group(1)
    assert f'value="{DRAFT_2.upper()}"' in page and "My careful notes." in page
    assert 'aria-invalid="true"' in page
    assert release_count() == 1


@pytest.mark.parametrize("name, message", [("", "Give the release a name"), ("   ", "Give the release a name"),
                                           ("x" * 201, "the limit is 200"), ("a\x00b", "cannot be stored")])
def test_bad_names_are_refused(users, document, name, message):
    with pytest.raises(ValidationError, match=message) as raised:
        services.publish_release(users["moderator"], document.id, name=name)
    assert raised.value.field == "name"
    assert release_count() == 0


def test_empty_name_from_the_form_shows_the_error_next_to_the_field(client, login, users, document):
    login(users["moderator"])
    response = client.post("/d/doc/releases/new", data={"name": "", "description": "Kept words."})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="name-error"' in page and "Kept words." in page


def test_a_document_without_sections_has_nothing_to_release(users, make_document):
    document = make_document(n_sections=0)
    with pytest.raises(ValidationError, match="nothing to release"):
        services.publish_release(users["moderator"], document.id, name="Empty")


@pytest.mark.parametrize("name, slug", [
    (DRAFT_2, "draft-2-for-the-regional-consultations"),
    ("Écoute élargie : «version finale» ", "ecoute-elargie-version-finale"),
    ("new", "new-release"),
    ("Live", "live-release"),
    ("🌍🌱", "release-1"),
    ("word " * 39 + "x", None),
])
def test_slugs_are_ascii_and_never_clash_with_other_addresses(users, document, name, slug):
    release = services.publish_release(users["moderator"], document.id, name=name)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", release.slug) and len(release.slug) <= 80
    if slug:
        assert release.slug == slug


def test_names_that_make_the_same_slug_get_distinct_addresses(client, users, document):
    first = services.publish_release(users["moderator"], document.id, name="Draft 3")
    second = services.publish_release(users["moderator"], document.id, name="Draft 3!")
    assert (first.slug, second.slug) == ("draft-3", "draft-3-2")
    assert "Draft 3!" in client.get("/d/doc/releases/draft-3-2").get_data(as_text=True)


def test_description_is_sanitised(client, users, document):
    services.publish_release(users["moderator"], document.id, name="Hostile",
                             description="<script>alert(1)</script> [x](javascript:alert(1)) **ok**")
    page = client.get("/d/doc/releases/hostile").get_data(as_text=True)
    assert live_markup(page) == [] and "<strong>ok</strong>" in page


def test_unknown_release_or_document_is_a_readable_404(client, users, document):
    services.publish_release(users["moderator"], document.id, name="Real")
    response = client.get("/d/doc/releases/imaginary")
    assert response.status_code == 404
    assert "no release at this address" in response.get_data(as_text=True)
    assert client.get("/d/nowhere/releases").status_code == 404
    assert client.get("/d/nowhere/releases/real").status_code == 404
    with pytest.raises(NotFound):
        services.get_release_or_404(document, "x" * 500)


def test_releases_of_another_document_are_not_found(client, users, make_document):
    services.publish_release(users["moderator"], make_document(slug="one").id, name="Only here")
    make_document(slug="two")
    assert client.get("/d/one/releases/only-here").status_code == 200
    assert client.get("/d/two/releases/only-here").status_code == 404


def test_csrf_protects_the_publish_form(make_app, make_document, make_user, login):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        moderator = make_user("moderator")
        make_document()
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        client.post("/login", data={"email": moderator.email, "password": PASSWORD,
                                    "csrf_token": token})
        response = client.post("/d/doc/releases/new", data={"name": "No token"})
        assert response.status_code == 400
        assert release_count() == 0


# ------------------------------------------------------------------ final

def test_final_release_moves_the_document_to_the_final_phase(client, login, users, make_document):
    document = make_document(phase="amendments")
    login(users["admin"])
    assert 'name="final"' in client.get("/d/doc/releases/new").get_data(as_text=True)
    response = client.post("/d/doc/releases/new", data={"name": "The manifesto", "final": "y"})
    assert response.status_code == 302
    release = db.session.scalar(select(Release))
    document = db.session.get(Document, document.id)
    assert release.is_final and document.phase == Phase.FINAL and not document.amendments_open()
    page = client.get("/d/doc/releases/the-manifesto").get_data(as_text=True)
    assert "Final text" in page
    entry = documents.current_sections(document)[0]
    with pytest.raises(ValidationError, match="final"):
        edit(users["moderator"], document, entry, "Too late.")
    with pytest.raises(ValidationError):
        amendments.propose_amendment(users["participant"], document.id, kind="modify", section_id=entry.section.id,
                                     heading=None, body="Too late.", reason="Late.")
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["release.published", "document.updated"]
    phase_event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "document.updated")
                                    .order_by(AuditEvent.id.desc()))
    assert (phase_event.from_state, phase_event.to_state) == ("amendments", "final")


def test_only_admins_publish_a_final_release(client, login, users, document):
    with pytest.raises(PermissionDenied):
        services.publish_release(users["moderator"], document.id, name="Final?", final=True)
    login(users["moderator"])
    assert client.post("/d/doc/releases/new", data={"name": "Final?", "final": "y"}).status_code == 403
    assert release_count() == 0 and db.session.get(Document, document.id).phase == Phase.DRAFTING


def test_admin_marks_the_current_release_final(client, login, users, document):
    release = services.publish_release(users["moderator"], document.id, name="Candidate")
    login(users["moderator"])
    assert "Mark this release final" not in client.get("/d/doc/releases/candidate").get_data(as_text=True)
    assert client.post("/d/doc/releases/candidate/final").status_code == 403
    login(users["admin"])
    assert "Mark this release final" in client.get("/d/doc/releases/candidate").get_data(as_text=True)
    response = client.post("/d/doc/releases/candidate/final", follow_redirects=True)
    assert "is the final text" in response.get_data(as_text=True)
    assert db.session.get(Release, release.id).is_final
    assert db.session.get(Document, document.id).phase == Phase.FINAL
    with pytest.raises(ValidationError, match="final already"):
        services.mark_release_final(users["admin"], document.id, release.id)


def test_an_outdated_release_cannot_become_final(users, document):
    release = services.publish_release(users["moderator"], document.id, name="Old")
    edit(users["moderator"], document, documents.current_sections(document)[0], "Changed since.")
    with pytest.raises(ValidationError, match="changed since"):
        services.mark_release_final(users["admin"], document.id, release.id)
    assert not db.session.get(Release, release.id).is_final
    assert db.session.get(Document, document.id).phase == Phase.DRAFTING
    with pytest.raises(NotFound):
        services.mark_release_final(users["admin"], document.id, release.id + 1000)


# ------------------------------------------------------------------ speed

@pytest.mark.parametrize("n_sections", [3, 40])
def test_release_page_runs_a_fixed_number_of_queries(app, make_document, users, queries, n_sections):
    document = make_document(n_sections=n_sections)
    for entry in documents.current_sections(document)[:3]:
        edit(users["moderator"], document, entry, "Edited body.")
    services.publish_release(users["moderator"], document.id, name="Counted")
    client = app.test_client()
    client.get("/d/doc/releases/counted")  # warm up
    with queries() as counted:
        assert client.get("/d/doc/releases/counted").status_code == 200
    # document, release (with its publisher), its sections with versions.
    assert counted.count <= 3, counted.statements
    with queries() as counted:
        assert client.get("/d/doc/releases").status_code == 200
    assert counted.count <= 3, counted.statements  # document, the page of releases, their count


def test_release_snapshot_is_written_in_a_bounded_number_of_statements(app, make_document, users, queries):
    document = make_document(n_sections=40)
    with queries() as counted:
        release = services.publish_release(users["moderator"], document.id, name="Bulk")
    assert db.session.scalar(select(func.count()).select_from(ReleaseSection)
                             .where(ReleaseSection.release_id == release.id)) == 40
    assert counted.count <= 12, counted.statements


# ------------------------------------------------------------------ concurrency

class _Retries(logging.Handler):
    """Collects the write wrapper's messages about transactions run again."""

    def __init__(self):
        """Listen to warnings only: a retry is logged as one."""
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        """Keep the message."""
        self.messages.append(record.getMessage())


def test_releases_published_during_edits_are_consistent_snapshots(app, make_document, users):
    document = make_document(n_sections=4)
    doc_id, moderator_id = document.id, users["moderator"].id
    section_ids = [e.section.id for e in documents.current_sections(document)]
    db.session.commit()  # the threads write; the test holds nothing meanwhile
    errors: list[str] = []
    start = threading.Barrier(len(section_ids))

    def worker(i):
        """Edit section ``i`` and publish a release, four times over."""
        with app.app_context():
            try:
                start.wait()
                for k in range(4):
                    actor = db.session.get(User, moderator_id)
                    section = db.session.get(Section, section_ids[i])
                    documents.edit_section(actor, doc_id, section.id, heading=f"Section {i + 1}",
                                           body=f"Text {k} of section {i + 1}.\n\n" + "More words. " * (k * 9),
                                           reason="Race.", base_version=section.version_count)
                    services.publish_release(db.session.get(User, moderator_id), doc_id, name=f"Release {i}-{k}")
            except Exception as error:  # reported below, with the others
                errors.append(repr(error))
            finally:
                db.session.remove()

    retries = _Retries()
    logger = logging.getLogger("manifesto.services")
    logger.addHandler(retries)
    try:
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(section_ids))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        logger.removeHandler(retries)
    assert errors == []
    if db.engine.dialect.name == "postgresql":
        assert not [m for m in retries.messages if "deadlock" in m], retries.messages

    db.session.commit()  # end the test's own read transaction: SQLite keeps its first snapshot
    all_releases = db.session.scalars(select(Release).order_by(Release.id)).all()
    assert len(all_releases) == 16
    versions = db.session.scalars(select(SectionVersion)).all()
    for release in all_releases:
        entries = services.release_entries(release)
        # Each section is at the version that was current when the release was published...
        for entry in entries:
            earlier = [v for v in versions if v.section_id == entry.section.id
                       and as_utc(v.created_at) <= release.published_at]
            assert entry.version.id == max(earlier, key=lambda v: v.number).id, release
        # ... and the line numbers run on across exactly those versions.
        assert [e.first_line for e in entries] == list(
            itertools.accumulate([1] + [e.version.line_count for e in entries[:-1]]))
        assert release.line_count == sum(e.version.line_count for e in entries)
