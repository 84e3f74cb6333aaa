"""Regressions a real browser showed (issue #9, part 2): history numbering, revisions, lists, audit wording."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from manifesto.amendments import services
from manifesto.amendments.models import Amendment
from manifesto.documents import services as documents
from manifesto.extensions import db


@pytest.fixture
def open_document(make_document, users):
    """A document in the amendment phase, edited by the admin."""
    return make_document(phase="amendments", editor=users["admin"])


@pytest.fixture
def propose(open_document):
    """Propose a change to section ``n`` (1-based) by replacing words of its current text."""

    def do(author, n=1, old="cooperatives", new="worker cooperatives"):
        entry = documents.current_sections(open_document)[n - 1]
        body = entry.version.body.replace(old, new, 1)
        return services.propose_amendment(author, open_document.id, kind="modify", section_id=entry.section.id,
                                          heading=None, body=body, reason="Because it is better.", submit=True)

    return do


def fresh(amendment) -> Amendment:
    """The amendment as the database holds it now."""
    return db.session.get(Amendment, amendment.id)


def decide(amendment, moderator, decision="accept", reason="Agreed by the committee."):
    """Decide an amendment at its current revision."""
    amendment = fresh(amendment)
    return services.decide_amendment(moderator, amendment.document_id, amendment.id, decision=decision,
                                     reason=reason, revision=amendment.revision)


class ListItems(HTMLParser):
    """Collect the ``value`` and text of each item of the first ``<ol>`` with a given class."""

    def __init__(self, css_class: str):
        """Look for ``<ol class=css_class>``."""
        super().__init__()
        self.css_class, self.depth, self.done = css_class, 0, False
        self.items: list[dict] = []

    def handle_starttag(self, tag, attrs):
        """Track nesting, start an item on each direct ``<li>``."""
        attrs = dict(attrs)
        if tag == "ol" and not self.done and self.depth == 0 and self.css_class in (attrs.get("class") or "").split():
            self.depth = 1
            self.reversed = "reversed" in attrs
            return
        if self.depth:
            if tag == "li" and self.depth == 1:
                self.items.append({"value": attrs.get("value"), "text": ""})
            if tag in ("ol", "ul", "li"):
                self.depth += 1

    def handle_endtag(self, tag):
        """Close the list when its ``</ol>`` comes."""
        if self.depth and tag in ("ol", "ul", "li"):
            self.depth -= 1
            if self.depth == 0:
                self.done = True

    def handle_data(self, data):
        """Keep each item's text."""
        if self.depth > 1 and self.items:
            self.items[-1]["text"] += data


def list_items(page: str, css_class: str) -> list[dict]:
    """The items of the page's ``<ol class=css_class>``."""
    parser = ListItems(css_class)
    parser.feed(page)
    return parser.items


# ---------------------------------------------------- 1. section history numbering

def test_section_history_numbers_match_versions_for_a_moderator(client, document, users, login):
    section = documents.current_sections(document)[0].section
    for n in range(2, 5):
        version = documents.section_history(section)[0]
        documents.edit_section(users["admin"], document.id, section.id, heading="Section 1",
                               body=version.body + f"\n\nEdit {n}.", reason=f"Edit {n}.", base_version=version.number)
    login(users["moderator"])
    page = client.get(f"/d/doc/sections/{section.id}").get_data(as_text=True)
    assert page.count("<summary>Revert to version") == 3  # the moderator sees the revert forms
    items = list_items(page, "history")
    # A <summary> is a list item too: without explicit numbers a browser counts 7, 6, 5, 4.
    assert [item["value"] for item in items] == ["4", "3", "2", "1"]
    assert [re.search(r"Version (\d+)", item["text"]).group(1) for item in items] == ["4", "3", "2", "1"]



def _announced_numbers(fragment: str) -> list[str]:
    """The list numbers Chromium shows and announces (its accessibility tree's list markers) for ``fragment``."""
    import json
    import os
    import shutil
    import subprocess
    import sys

    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("browser checks run once, in the SQLite run")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("MANIFESTO_REQUIRE_BROWSER") == "1":
            pytest.fail("MANIFESTO_REQUIRE_BROWSER=1 but Chromium is not installed")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    # In a process of its own: the browser tests (tests/e2e) keep a Playwright session open for the
    # whole run, and a second sync session in the same process refuses to start inside its event loop.
    script = """
import json, sys
from playwright.sync_api import sync_playwright
chromium, fragment = sys.argv[1], sys.stdin.read()
with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path=chromium, args=[
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"])
    try:
        page = browser.new_page()
        page.set_content('<!doctype html><html lang="en"><body>' + fragment + '</body></html>')
        nodes = page.context.new_cdp_session(page).send("Accessibility.getFullAXTree")["nodes"]
    finally:
        browser.close()
print(json.dumps(nodes))
"""
    assert sync_api is not None
    done = subprocess.run([sys.executable, "-c", script, chromium], input=fragment, capture_output=True,
                          text=True, timeout=120, check=True)
    nodes = json.loads(done.stdout)
    return [node["name"]["value"].strip(". ") for node in nodes
            if node.get("role", {}).get("value") == "ListMarker"]


def test_chromium_announces_the_version_numbers(client, document, users, login):
    """In the browser itself: four versions are numbered 4, 3, 2, 1 with the revert summaries in the list."""
    section = documents.current_sections(document)[0].section
    for n in range(2, 5):
        version = documents.section_history(section)[0]
        documents.edit_section(users["admin"], document.id, section.id, heading="Section 1",
                               body=version.body + f"\n\nEdit {n}.", reason=f"Edit {n}.", base_version=version.number)
    login(users["moderator"])
    page = client.get(f"/d/doc/sections/{section.id}").get_data(as_text=True)
    start = page.index('<ol class="history"')
    fragment = page[start:page.index("</ol>", start) + len("</ol>")]
    assert "<summary>" in fragment
    assert _announced_numbers(fragment) == ["4", "3", "2", "1"]
    # Without the explicit numbers, Chromium counts the summaries too: this is the bug the check catches.
    assert _announced_numbers(re.sub(r'<li value="\d+">', "<li>", fragment)) == ["7", "6", "5", "4"]

# ---------------------------------------------- 2. every revision has its history row

def revision_numbers(client, amendment) -> list[int]:
    """The revision numbers the amendment's history lists, as a reader sees them."""
    page = client.get(f"/d/doc/amendments/{amendment.id}").get_data(as_text=True)
    items = list_items(page, "history")
    numbers = [int(re.search(r"Revision (\d+)", item["text"]).group(1)) for item in items]
    assert [int(item["value"]) for item in items] == numbers  # the announced numbers are the same
    return numbers


def test_a_conflict_is_a_revision_of_its_own(client, propose, users, open_document):
    first = propose(users["participant"], old="cooperatives and energy", new="cooperatives and solar energy")
    second = propose(users["admin"], old="cooperatives and energy", new="cooperatives and wind energy")
    decide(first, users["moderator"])
    second = fresh(second)
    assert second.conflicted and second.revision == 2
    assert revision_numbers(client, second) == [2, 1]  # not "Revision 2" missing, nor 3 then 1
    note = services.revisions(second)[0].note
    assert note == "conflicts with version 2, after A-001 was accepted"
    assert services.revisions(second)[0].author is None  # nobody chose it
    # Resolving it goes on from there, with no gap.
    current = documents.current_sections(open_document)[0].version
    services.edit_amendment(users["admin"], open_document.id, second.id, heading=None,
                            body=current.body.replace("solar energy", "solar and wind energy"),
                            reason="Both.", revision=second.revision)
    assert revision_numbers(client, second) == [3, 2, 1]


def test_conflicts_after_retirement_and_direct_edits_keep_consecutive_revisions(client, propose, users,
                                                                               open_document):
    a = propose(users["participant"], n=1, old="cooperatives and energy", new="cooperatives and solar energy")
    b = propose(users["participant"], n=2)
    entries = documents.current_sections(open_document)
    first = entries[0].version
    documents.edit_section(users["admin"], open_document.id, entries[0].section.id, heading=first.heading,
                           body=first.body.replace("cooperatives and energy", "cooperatives and tidal energy"),
                           reason="Tidal.", base_version=first.number)
    documents.retire_section(users["admin"], open_document.id, entries[1].section.id, reason="Not needed.")
    assert fresh(a).conflicted and fresh(b).conflicted
    assert revision_numbers(client, a) == [2, 1]
    assert revision_numbers(client, b) == [2, 1]
    assert services.revisions(fresh(b))[0].note == "the section was retired"


# ---------------------------------- 5. an automatic conflict follows from a decision

def test_the_audit_trail_says_a_conflict_followed_from_a_decision(client, propose, users, login):
    from manifesto.audit.services import events_for

    first = propose(users["participant"], old="cooperatives and energy", new="cooperatives and solar energy")
    second = propose(users["admin"], old="cooperatives and energy", new="cooperatives and wind energy")
    decide(first, users["moderator"])
    conflicted = [e for e in events_for("amendments", second.id) if e.action == "amendment.conflicted"]
    assert len(conflicted) == 1
    event = conflicted[0]
    assert event.actor_id is None  # not credited to the moderator who accepted A-001
    assert event.data["after"] == {"amendment_id": first.id, "code": "A-001", "decision": "accepted"}
    moderator = users["moderator"].name
    login(users["participant"])
    page = client.get(f"/d/doc/amendments/{second.id}").get_data(as_text=True)
    trail = page[page.index("Audit trail"):]
    assert "System: conflicted — A-002 now conflicts with the text, after A-001 was accepted" in trail
    assert f"{moderator}: conflicted" not in trail
    log = client.get("/d/doc/log").get_data(as_text=True)
    line = next(li for li in log.split("<li>") if "amendment conflicted" in li)
    assert "<strong>System</strong>" in line and moderator not in line
    assert "now conflicts with the text, after A-001 was accepted" in " ".join(line.split())


# ------------------------- 3. a moderator's queue leaves out what she may not decide

def test_a_moderators_default_queue_leaves_out_her_own_amendments(client, propose, users, login):
    moderator = users["moderator"]
    theirs = propose(users["participant"], n=1)
    mine = propose(moderator, n=2)
    login(moderator)
    page = client.get("/d/doc/amendments/").get_data(as_text=True)
    assert f"<strong>{theirs.code}</strong>" in page
    assert f"<strong>{mine.code}</strong>" not in page  # she may not decide it
    assert "1 amendment needing a decision." in page
    assert "1 needs a decision" in page  # the count in the header agrees with the list
    assert "Not listed: your own amendments waiting for a decision (1); another moderator decides them." in " ".join(page.split())
    # Ticking the filter by hand gives the same answer, and her own are one link away.
    ticked = client.get("/d/doc/amendments/?status=open&needs_decision=1").get_data(as_text=True)
    assert f"<strong>{mine.code}</strong>" not in ticked and f"<strong>{theirs.code}</strong>" in ticked
    own = client.get(f"/d/doc/amendments/?status=open&author={moderator.id}").get_data(as_text=True)
    assert f"<strong>{mine.code}</strong>" in own
    with pytest.raises(Exception, match="your own amendment"):
        decide(mine, moderator)


def test_others_still_see_every_amendment_that_needs_a_decision(client, propose, users, login):
    theirs = propose(users["participant"], n=1)
    mine = propose(users["moderator"], n=2)
    for viewer in (None, users["participant"], users["admin"]):
        if viewer is not None:
            login(viewer)
        page = client.get("/d/doc/amendments/?status=open&needs_decision=1").get_data(as_text=True)
        assert f"<strong>{theirs.code}</strong>" in page and f"<strong>{mine.code}</strong>" in page, viewer
        assert "Not listed" not in page


# -------------------------------- 4. each row says what the amendment changes, and where

def test_list_rows_show_the_section_title_and_what_changes(client, propose, users, open_document, login):
    entries = documents.current_sections(open_document)
    section = entries[0].section
    documents.edit_section(users["admin"], open_document.id, section.id, heading="Energy and ownership",
                           body=entries[0].version.body, reason="A clearer heading.",
                           base_version=entries[0].version.number)
    a = propose(users["participant"], n=1, old="cooperatives and energy", new="cooperatives and **solar** energy")
    b = propose(users["participant"], n=2, old="about democracy at work", new="about work")
    stored = fresh(a)
    assert stored.excerpt == "adds “solar”"  # stored with the text, Markdown markers gone
    assert fresh(b).excerpt == "removes “democracy at”"
    page = " ".join(client.get("/d/doc/amendments/").get_data(as_text=True).split())
    assert f"<strong>{a.code}</strong> §1, line" in page
    assert "In “Energy and ownership”: adds “solar”" in page
    assert "In “Section 2”: removes “democracy at”" in page
    # A replacement reads as one, and a long passage is cut.
    c = propose(users["admin"], n=3, old="about cooperatives and energy",
                new="about platforms bravely renewed by the members of every cooperative in the region")
    assert fresh(c).excerpt.startswith("replaces “cooperatives and energy” with “platforms bravely renewed by the")
    assert fresh(c).excerpt.endswith("…”")


def test_a_hidden_amendments_words_stay_out_of_the_list(client, propose, users, open_document):
    a = propose(users["participant"], n=1, old="energy", new="secret energy")
    services.hide_amendment(users["moderator"], open_document.id, a.id, reason="Personal data.")
    page = client.get("/d/doc/amendments/").get_data(as_text=True)
    assert f"<strong>{a.code}</strong>" in page and "secret" not in page


def test_excerpts_and_titles_cost_no_query_per_row(app, make_document, users, make_user, queries):
    """The list's query count is the same for 3 and for 30 amendments, and no diff is computed."""
    counts = []
    for slug, n in (("few", 3), ("many", 30)):
        document = make_document(n_sections=3, slug=slug, phase="amendments", editor=users["admin"])
        entries = documents.current_sections(document)
        for i in range(n):
            entry = entries[i % 3]
            author = make_user()
            services.propose_amendment(author, document.id, kind="modify", section_id=entry.section.id,
                                       heading=None, body=entry.version.body.replace("energy", f"energy {i}", 1),
                                       reason="More.", submit=True)
        client = app.test_client()
        client.post("/login", data={"email": users["moderator"].email, "password": "correct-horse-battery"})
        with queries() as counted:
            page = client.get(f"/d/{slug}/amendments/?status=all&sort=section").get_data(as_text=True)
        assert page.count("In “Section ") == n
        counts.append(counted.count)
    assert counts[0] == counts[1], counts


def test_migration_0009_fills_the_excerpt_of_existing_amendments(tmp_path, instance_path):
    """Down to 0008 and up again: every amendment gets back the excerpt its services stored."""
    import os

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from manifesto import create_app
    from manifesto.seed.demo import seed_demo

    from harness import _config

    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("runs on a SQLite file of its own; the PostgreSQL run checks the same migrations in conftest")
    app = create_app(_config(f"sqlite:///{tmp_path / 'excerpt.sqlite'}"))
    with app.app_context():
        try:
            upgrade()
            seed_demo(password="demo-password-1")
            db.session.commit()
            query = text("SELECT id, excerpt FROM amendments ORDER BY id")
            written = dict(db.session.execute(query).all())
            db.session.commit()
            assert written and all(written.values())
            downgrade(revision="0008_export_jobs")
            upgrade()
            assert dict(db.session.execute(query).all()) == written
            db.session.commit()
        finally:
            db.session.remove()
            db.engine.dispose()
