"""The redline: what changed in the whole document between two releases, or a release and the live text."""

from __future__ import annotations

import re
import time

import pytest

from manifesto.amendments import services as amendments
from manifesto.amendments.models import Amendment
from manifesto.documents import services as documents
from manifesto.extensions import db
from manifesto.releases import services as releases
from manifesto.releases.redline import compare_texts, heading_diff, summary

from harness import live_markup


def accept(moderator, document, author, *, kind="modify", section_id=None, heading=None, body=None):
    """Propose an amendment as ``author`` and accept it as ``moderator``; return it."""
    proposed = amendments.propose_amendment(author, document.id, kind=kind, section_id=section_id, heading=heading,
                                            body=body, reason="Because.")
    revision = db.session.get(Amendment, proposed.id).revision
    return amendments.decide_amendment(moderator, document.id, proposed.id, decision="accept", reason="Agreed.",
                                       revision=revision)


def entry_of(document, section_id):
    """The live entry of one section."""
    return next(e for e in documents.current_sections(document) if e.section.id == section_id)


@pytest.fixture
def history(make_document, users, make_user):
    """Two releases with every kind of change between them, and one more accepted amendment after the second.

    Sections s1..s6 in release A. Before A, X0 is accepted on s1. Between A and
    B: X1 changes s1, s2 is retitled, s3's text is edited, s6 moves to the
    top, X-delete removes s4, X-insert adds a section after s5. After B: X2
    changes s5.
    """
    moderator, author = users["moderator"], make_user()
    document = make_document(n_sections=6, phase="amendments", editor=users["admin"])
    s = [e.section.id for e in documents.current_sections(document)]
    body1 = entry_of(document, s[0]).version.body
    x0 = accept(moderator, document, author, section_id=s[0], body=body1.replace("energy", "renewable energy"))
    release_a = releases.publish_release(moderator, document.id, name="Draft 1")

    x1 = accept(moderator, document, author, section_id=s[0],
                body=entry_of(document, s[0]).version.body.replace("democracy", "economic democracy"))
    e2 = entry_of(document, s[1])
    documents.edit_section(moderator, document.id, s[1], heading="Work and cooperation", body=e2.version.body,
                           reason="Clearer title.", base_version=e2.section.version_count)
    e3 = entry_of(document, s[2])
    documents.edit_section(moderator, document.id, s[2], heading=e3.version.heading,
                           body=e3.version.body.replace("Paragraph two", "A rewritten second paragraph"),
                           reason="Rewrite.", base_version=e3.section.version_count)
    for _ in range(5):
        documents.move_section(moderator, document.id, s[5], direction="up", structure_version=None)
    x_delete = accept(moderator, document, author, kind="delete", section_id=s[3])
    x_insert = accept(moderator, document, author, kind="insert", section_id=s[4], heading="A new chapter",
                      body="Entirely new text about **commons**.")
    release_b = releases.publish_release(moderator, document.id, name="Draft 2")

    x2 = accept(moderator, document, author, section_id=s[4],
                body=entry_of(document, s[4]).version.body.replace("cooperatives", "worker cooperatives"))
    new_section = db.session.get(Amendment, x_insert.id).result_version_id
    return {"document": document, "s": s, "a": release_a, "b": release_b, "x0": x0.code, "x1": x1.code,
            "delete": x_delete.code, "insert": x_insert.code, "x2": x2.code, "new_version": new_section}


def by_section(changes):
    """The changes keyed by section id."""
    return {c.section_id: c for c in changes}


def test_redline_between_two_releases_names_every_kind_of_change(history):
    s = history["s"]
    changes = compare_texts(history["document"], history["a"], history["b"])
    found = by_section(changes)
    added = [c for c in changes if c.change == "added"]
    assert len(changes) == 7 and len(added) == 1

    # The order of the new text, with the removed section where it stood before.
    assert [c.section_id for c in changes] == [s[5], s[0], s[1], s[2], s[3], s[4], added[0].section_id]
    assert [c.number for c in changes] == [1, 2, 3, 4, None, 5, 6]
    assert [c.old_number for c in changes] == [6, 1, 2, 3, 4, 5, None]

    assert found[s[5]].change == "moved" and found[s[5]].moved and found[s[5]].diff_html == ""
    # Everything else only shifted because of the move, the removal and the insertion: not moved.
    assert [c.section_id for c in changes if c.moved] == [s[5]]

    assert found[s[0]].change == "changed" and found[s[0]].amendments == [history["x1"]]
    assert "<ins>" in found[s[0]].diff_html and "economic" in found[s[0]].diff_html

    retitled = found[s[1]]
    assert retitled.change == "retitled" and retitled.retitled and not retitled.text_changed
    assert (retitled.old_heading, retitled.heading) == ("Section 2", "Work and cooperation")
    assert retitled.diff_html == "" and "<del>" in retitled.heading_diff_html

    changed = found[s[2]]
    assert changed.change == "changed" and changed.old_heading is None and changed.amendments == []
    assert "<del>" in changed.diff_html and "rewritten" in changed.diff_html

    removed = found[s[3]]
    assert removed.change == "removed" and removed.amendments == [history["delete"]]
    assert "<del>" in removed.diff_html and "<ins>" not in removed.diff_html

    assert found[s[4]].change == "unchanged" and found[s[4]].diff_html == "" and found[s[4]].amendments == []

    assert added[0].heading == "A new chapter" and added[0].amendments == [history["insert"]]
    assert "<ins>" in added[0].diff_html and "<del>" not in added[0].diff_html

    counts = summary(changes)
    assert counts == {"added": 1, "removed": 1, "changed": 2, "retitled": 1, "moved": 1, "unchanged": 1}


def test_amendments_are_those_adopted_between_the_two_texts(history):
    document = history["document"]
    a_to_b = compare_texts(document, history["a"], history["b"])
    codes = sorted(code for c in a_to_b for code in c.amendments)
    assert codes == sorted([history["x1"], history["delete"], history["insert"]])
    assert history["x0"] not in codes and history["x2"] not in codes  # before A, and after B

    b_to_live = compare_texts(document, history["b"], None)
    assert [code for c in b_to_live for code in c.amendments] == [history["x2"]]
    assert [c.change for c in b_to_live if c.change != "unchanged"] == ["changed"]

    # Backwards (from the newer to the older) the same amendments lie between the texts.
    b_to_a = compare_texts(document, history["b"], history["a"])
    assert sorted(code for c in b_to_a for code in c.amendments) == codes
    assert {c.change for c in b_to_a} >= {"added", "removed"}


def test_redline_of_a_release_against_the_live_text(history, users):
    document = history["document"]
    s = history["s"]
    changes = compare_texts(document, history["b"], None)
    assert by_section(changes)[s[4]].change == "changed"
    assert all(c.change == "unchanged" for c in changes if c.section_id != s[4])
    same = compare_texts(document, history["b"], history["b"])
    assert {c.change for c in same} == {"unchanged"} and all(c.diff_html == "" for c in same)


def test_compare_page_shows_sections_diffs_and_linked_amendments(client, history):
    page = client.get("/d/doc/compare?from=draft-1&to=draft-2").get_data(as_text=True)
    assert "Changes from “Draft 1” to “Draft 2”" in page
    for code in (history["x1"], history["delete"], history["insert"]):
        assert code in page
    assert history["x2"] not in page and history["x0"] not in page
    x1 = db.session.scalar(db.select(Amendment).where(Amendment.number == int(history["x1"][2:])))
    assert f'href="/d/doc/amendments/{x1.id}"' in page
    for label in ("Added", "Removed", "Retitled", "Moved", "Text changed"):
        assert label in page
    assert "formerly “Section 2”" in page and "<ins>" in page and "<del>" in page
    assert live_markup(page) == []
    # Unchanged sections are summarised, and shown on request.
    assert page.count('class="doc-section redline-section') == 6
    everything = client.get("/d/doc/compare?from=draft-1&to=draft-2&all=1").get_data(as_text=True)
    assert everything.count('class="doc-section redline-section') == 7


def test_compare_page_defaults_to_the_latest_release_against_the_live_text(client, history):
    page = client.get("/d/doc/compare").get_data(as_text=True)
    assert "Changes from “Draft 2” to the live text" in page and history["x2"] in page
    live = client.get("/d/doc/compare?from=draft-1&to=live").get_data(as_text=True)
    assert history["x2"] in live and history["x1"] in live


def test_compare_page_without_releases_says_so(client, document):
    response = client.get("/d/doc/compare")
    assert response.status_code == 200 and "No release has been published yet" in response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["from=nope", "from=draft-1&to=nope", "from=&to=draft-1x"])
def test_unknown_release_in_a_comparison_is_a_readable_404(client, users, document, query):
    releases.publish_release(users["moderator"], document.id, name="Draft 1")
    response = client.get(f"/d/doc/compare?{query}")
    assert response.status_code == 404
    assert "no release at this address" in response.get_data(as_text=True)


def test_heading_diff_is_inline_and_escaped():
    html = heading_diff("Work <b>", "Work and <i>")
    assert "<div" not in html and "<p" not in html
    assert "<i>" not in html and "<b>" not in html and "&lt;i" in html
    assert "<ins>" in html and "<del>" in html


def test_moving_one_section_to_the_end_moves_only_that_one(make_document, users):
    document = make_document(n_sections=6)
    s = [e.section.id for e in documents.current_sections(document)]
    before = releases.publish_release(users["moderator"], document.id, name="Before")
    for _ in range(5):
        documents.move_section(users["moderator"], document.id, s[0], direction="down", structure_version=None)
    changes = compare_texts(document, before, None)
    assert [c.section_id for c in changes if c.moved] == [s[0]]
    assert [c.section_id for c in changes] == s[1:] + s[:1]


def test_a_retired_and_restored_section_lists_only_the_amendments_after_the_older_text(make_document, users,
                                                                                        make_user):
    document = make_document(n_sections=2, phase="amendments")
    s = [e.section.id for e in documents.current_sections(document)]
    author = make_user()
    early = accept(users["moderator"], document, author, section_id=s[1],
                   body=entry_of(document, s[1]).version.body + " Early.")
    documents.retire_section(users["moderator"], document.id, s[1], reason="Out for now.")
    old = releases.publish_release(users["moderator"], document.id, name="Without it")
    documents.restore_section(users["moderator"], document.id, s[1], reason="Back.")
    late = accept(users["moderator"], document, author, section_id=s[1],
                  body=entry_of(document, s[1]).version.body + " Late.")
    changes = by_section(compare_texts(document, old, None))
    assert changes[s[1]].change == "added"
    assert changes[s[1]].amendments == [late.code] and early.code not in changes[s[1]].amendments


# ------------------------------------------------------------------ speed

def _edit_many(document, moderator, entries):
    """Add a sentence to each of these sections."""
    for entry in entries:
        documents.edit_section(moderator, document.id, entry.section.id, heading=entry.version.heading,
                               body=entry.version.body + " One more sentence.", reason="r",
                               base_version=entry.section.version_count)


@pytest.mark.parametrize("n_sections", [4, 40])
def test_redline_page_runs_a_fixed_number_of_queries(app, make_document, users, make_user, queries, n_sections):
    document = make_document(n_sections=n_sections, phase="amendments")
    first = releases.publish_release(users["moderator"], document.id, name="First")
    entries = documents.current_sections(document)
    _edit_many(document, users["moderator"], entries[::2])
    accept(users["moderator"], document, make_user(), section_id=entries[1].section.id,
           body=entries[1].version.body.replace("energy", "clean energy"))
    documents.retire_section(users["moderator"], document.id, entries[-1].section.id, reason="Out.")
    releases.publish_release(users["moderator"], document.id, name="Second")
    client = app.test_client()
    client.get("/d/doc/compare?from=first&to=second")  # warm up
    for query in ("from=first&to=second", "from=first&to=live&all=1"):
        with queries() as counted:
            response = client.get(f"/d/doc/compare?{query}")
        assert response.status_code == 200
        # document, releases, content states, the two texts, their versions to diff, the amendments, and the live
        # numbering their titles cite lines in (amendments/citations.py).
        assert counted.count <= 8, counted.statements
    with queries() as counted:
        assert client.get("/d/doc/compare?from=first&to=second").status_code == 200
    # Rendered once: the document, its releases and its content states.
    assert counted.count <= 3, counted.statements
    assert first.id


def test_redline_of_two_300_section_releases_is_bounded_and_quick(app, make_document, users, queries):
    document = make_document(n_sections=300)
    first = releases.publish_release(users["moderator"], document.id, name="Long 1")
    entries = documents.current_sections(document)
    _edit_many(document, users["moderator"], entries[::10])
    documents.move_section(users["moderator"], document.id, entries[150].section.id, direction="up",
                           structure_version=None)
    second = releases.publish_release(users["moderator"], document.id, name="Long 2")
    db.session.refresh(document), db.session.refresh(first), db.session.refresh(second)  # not counted below
    with queries() as counted:
        started = time.perf_counter()
        changes = compare_texts(document, first, second)
        elapsed = time.perf_counter() - started
    assert len(changes) == 300 and sum(c.text_changed for c in changes) == 30
    assert sum(c.moved for c in changes) == 1
    assert counted.count <= 4, counted.statements
    assert elapsed < 5, elapsed
    with queries() as counted:
        page = app.test_client().get("/d/doc/compare?from=long-1&to=long-2")
    # document, releases, content states, the two texts, their versions to diff, the amendments, the live numbering.
    assert page.status_code == 200 and counted.count <= 8
    assert len(re.findall(r'class="doc-section redline-section', page.get_data(as_text=True))) == 31


def test_the_redline_shows_the_text_as_it_reads_not_its_markdown():
    """A redline is read by delegates and printed: formatting is shown, Markdown markers are not."""
    from manifesto.text.numbered_diff import visible_diff

    shown = visible_diff("A *just transition* requires.\n\n- one", "A *just transition* now requires.\n\n- one, two")
    assert "<em>just transition</em>" in shown and "*just" not in shown and "- one" not in shown
    assert '<ins><span class="visually-hidden">inserted: </span>now </ins>' in shown
    assert "\u2022 one<ins>" in shown
    added = visible_diff("", "New **text**.\n\n- item")
    assert added.count("<p ") == 2 and "<strong>text</strong>" in added and "**" not in added
