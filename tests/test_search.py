"""Full-text search on both engines: what is found, how it ranks and is highlighted, what never is.

Comments are written here the way the discussion area does, by the audit-event
contract of issue #7 (``comment.created``, ``comment.edited``,
``comment.deleted``, ``comment.hidden``, ``comment.restored``; the same for
amendments), since the index follows those events and nothing else.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, text

from manifesto.amendments import services as amendments
from manifesto.amendments.models import Amendment
from manifesto.audit.services import record_event
from manifesto.discussion.models import Comment
from manifesto.documents import services as documents
from manifesto.documents.models import Document
from manifesto.extensions import db
from manifesto.search import indexing, services
from manifesto.search.models import SearchEntry
from manifesto.search.schema import TSVECTOR_SQL, VECTOR_COLUMN, VECTOR_SQL
from manifesto.services import utcnow, writes
from manifesto.text.render import render_markdown

from harness import live_markup


def _skip_unless(engine: str):
    """Skip a test unless the run's database is ``engine``."""
    if db.engine.dialect.name != engine:
        pytest.skip({"postgresql": "needs PostgreSQL (TEST_DATABASE_URL)"}.get(engine, f"needs {engine}"))


# ------------------------------------------------------------------ helpers

@writes
def add_comment(author, document, *, body: str, section_id: int | None = None, amendment_id: int | None = None,
                parent: Comment | None = None) -> Comment:
    """Write a comment and record ``comment.created``, as the discussion area does."""
    comment = Comment(document_id=document.id, target="amendment" if amendment_id else "section",
                      section_id=section_id, amendment_id=amendment_id, parent_id=parent.id if parent else None,
                      depth=parent.depth + 1 if parent else 0, author_id=author.id, body=body,
                      body_html=render_markdown(body))
    db.session.add(comment)
    db.session.flush()
    comment.thread_id = parent.thread_id if parent else comment.id
    record_event(author, "comment.created", comment, document_id=document.id,
                 data={"target": comment.target, "target_id": section_id or amendment_id,
                       "parent_id": comment.parent_id})
    return comment


@writes
def change_comment(actor, comment_id: int, action: str, *, body: str | None = None, reason: str | None = None):
    """Edit, delete, hide or restore a comment and record the contract's event."""
    comment = db.session.get(Comment, comment_id)
    if action == "comment.edited":
        comment.body, comment.body_html, comment.edited_at = body, render_markdown(body), utcnow()
    elif action == "comment.deleted":
        comment.deleted_at = utcnow()
    elif action == "comment.hidden":
        comment.hidden_at, comment.hidden_by_id, comment.hidden_reason = utcnow(), actor.id, reason
    elif action == "comment.restored":
        comment.hidden_at = comment.hidden_by_id = comment.hidden_reason = None
    record_event(actor, action, comment, document_id=comment.document_id, reason=reason)
    return comment


@writes
def hide_amendment(actor, amendment_id: int, *, hidden: bool, reason: str = "Off topic."):
    """Hide or restore an amendment and record ``amendment.hidden`` / ``amendment.restored``."""
    amendment = db.session.get(Amendment, amendment_id)
    amendment.hidden_at = utcnow() if hidden else None
    amendment.hidden_by_id = actor.id if hidden else None
    amendment.hidden_reason = reason if hidden else None
    record_event(actor, "amendment.hidden" if hidden else "amendment.restored", amendment,
                 document_id=amendment.document_id, reason=reason)
    return amendment


def found(document, query: str, kind: str | None = None) -> list[tuple[str, int]]:
    """(kind, id) of every result, best first (all pages)."""
    page = services.search(document, query, kind=kind, per_page=100)
    return [(r.kind, r.object_id) for r in page.results]


def entry_count() -> int:
    """Rows in the index."""
    return db.session.scalar(select(func.count()).select_from(SearchEntry))


@pytest.fixture
def doc(make_document, users):
    """A document open for amendments, three sections."""
    return make_document(phase="amendments", editor=users["admin"])


@pytest.fixture
def sections(doc):
    """The document's live sections, in order."""
    return documents.current_sections(doc)


def edit(users, doc, entry, body: str, heading: str | None = None):
    """A moderator writes a new version of a section."""
    section = documents.get_section_or_404(doc, entry.section.id)
    return documents.edit_section(users["moderator"], doc.id, section.id, heading=heading or section.current_version.heading,
                                  body=body, reason="Edit.", base_version=section.version_count)


def propose(author, doc, entry, body: str, reason: str = "Because.", submit: bool = True):
    """Propose a change to a section."""
    return amendments.propose_amendment(author, doc.id, kind="modify", section_id=entry.section.id, heading=None,
                                        body=body, reason=reason, submit=submit)


# ---------------------------------------------------------------- the index

def test_every_section_is_indexed_when_written(doc, sections):
    assert entry_count() == 3
    assert {hit for hit in found(doc, "democracy")} == {("section", e.section.id) for e in sections}


def test_a_section_is_found_by_heading_and_text_with_matches_marked(doc, sections, users):
    edit(users, doc, sections[1], "Energy **cooperatives** own the [wind farms](https://example.org/x).",
         heading="Community energy")
    page = services.search(doc, "wind farms")
    (result,) = page.results
    assert (result.kind, result.object_id) == ("section", sections[1].section.id)
    # (ts_headline leaves out the final full stop)
    assert str(result.snippet).rstrip(".") == "Energy cooperatives own the <mark>wind</mark> <mark>farms</mark>"
    assert result.label == "§2"
    assert "example" not in str(result.snippet)  # link targets are not text
    assert found(doc, "example.org") == []
    assert found(doc, "community") == [("section", sections[1].section.id)]
    assert "<mark>" in str(services.search(doc, "community").results[0].title)


def test_markdown_is_indexed_as_plain_text():
    source = ("# Heading\n\n> quoted *emphasis* and __strong__ `code`\n\n- item one\n1. item two\n\n"
              "![alt text](http://img.example/a.png) [link](http://x.example \"t\") <https://auto.example>\n\n"
              "snake_case_word stays; \\*escaped\\*\n\n---\n\n```python\nprint(1)\n```")
    plain = indexing.plain_text(source)
    assert "Heading" in plain and "#" not in plain
    assert "quoted emphasis and strong code" in plain
    assert "item one" in plain and "item two" in plain and "- item" not in plain
    assert "alt text" in plain and "img.example" not in plain and "x.example" not in plain
    assert "https://auto.example" in plain
    assert "snake_case_word" in plain and "*escaped*" in plain
    assert "print(1)" in plain and "```" not in plain


def test_private_use_characters_never_become_control_characters(doc, sections, users):
    """U+F0000.. stands for escaped punctuation inside plain_text; a writer's own must not come back as NUL."""
    plain = indexing.plain_text("Outside the font: \U000f0000 \U000f0041 and \\* kept")
    assert "\x00" not in plain and "A" not in plain.replace("and", "") and "* kept" in plain
    # On PostgreSQL a NUL in the index made the whole edit fail.
    edit(users, doc, sections[0], "Outside the font: \U000f0000 wind.")
    assert found(doc, "wind") == [("section", sections[0].section.id)]


def test_ranking_puts_the_heading_and_the_densest_text_first(doc, sections, users):
    edit(users, doc, sections[0], "Water is mentioned once here, among many other words about rivers and lakes.")
    edit(users, doc, sections[1], "Water, water, water: public water utilities keep water clean.")
    edit(users, doc, sections[2], "Nothing about it in the text.", heading="Water")
    ranked = found(doc, "water")
    assert ranked[0] == ("section", sections[2].section.id)  # the heading weighs most
    assert ranked[1:] == [("section", sections[1].section.id), ("section", sections[0].section.id)]


def test_every_word_must_appear(doc, sections, users):
    edit(users, doc, sections[0], "Solar panels on every school.")
    edit(users, doc, sections[1], "Solar farms on wasteland.")
    assert found(doc, "solar school") == [("section", sections[0].section.id)]
    assert len(found(doc, "solar")) == 2


def test_other_documents_are_not_searched(doc, make_document, users):
    make_document(slug="other", editor=users["admin"])
    assert len(found(doc, "democracy")) == 3
    assert entry_count() == 6


def test_highlighting_cannot_inject_markup(doc, sections, users):
    hostile = ('<script>alert(1)</script> <img src=x onerror=alert(2)> cooperative '
               '\ue000forged\ue001 &lt;b&gt; "quoted" <mark>fake</mark>')
    edit(users, doc, sections[0], hostile, heading="<b>cooperative</b> heading")
    page = services.search(doc, "cooperative")
    result = next(r for r in page.results if r.object_id == sections[0].section.id)
    html = str(result.snippet) + str(result.title)
    assert live_markup(html) == []
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;b&gt;" in html  # the heading's text, escaped
    # The only marks are around the matches: none stored, none forged with the sentinels.
    assert [word.lower() for word in re.findall(r"<mark>(.*?)</mark>", html)] == ["cooperative", "cooperative"]
    assert "forged" in html


def test_highlight_html_balances_and_escapes():
    assert str(services.highlight_html("a \ue000b & c")) == "a <mark>b &amp; c</mark>"
    assert str(services.highlight_html("\ue001x\ue000\ue000y\ue001\ue001")) == "x<mark>y</mark>"
    assert str(services.highlight_html(None)) == ""


# --------------------------------------------------- hostile queries

HOSTILE_QUERIES = [
    '"', '""', '"energy', 'energy"', '*', 'energy*', '*energy', 'NEAR', 'NEAR(energy democracy)', 'energy NEAR/2 work',
    ':', 'title:energy', 'body : energy', '&', 'energy & democracy', '|', 'energy | work', '!energy', '(', ')',
    '((energy)', 'energy)', 'AND', 'OR', 'NOT', 'energy OR', 'NOT energy', '-energy', '+energy', '^energy',
    "'", "energy'", "\\", "\\\\\"", '\x00', 'energy\x00democracy', '!!!', '...', ' ', '', '   \t\n ',
    '{energy}', '[energy]', '<script>alert(1)</script>', "' OR 1=1 --", '%', '_', '__', '$$energy$$',
    'e', 'énergie', 'ÉNERGIE', '𝕳𝖊𝖑𝖑𝖔 ‮ RTL  emoji 👩🏽‍🌾', 'x' * 10_000, 'energy ' * 2_000, ':*' * 5_000,
    '\ue000energy\ue001', '!(energy:*A & work)', "energy <-> democracy", 'energy:A', "'energy':*",
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES, ids=lambda q: repr(q[:20]))
def test_hostile_queries_never_raise(doc, sections, query):
    page = services.search(doc, query)
    assert page.total >= 0
    if "energy" in query and "x" * 50 not in query:
        # Operators and symbols are dropped; the word is still searched for.
        assert {kind for kind, _ in found(doc, query)} <= {"section"}


@pytest.mark.parametrize("query", ['"energy', 'NEAR(energy work)', 'energy & work | (', ':*', '*', '"', 'x' * 10_000,
                                   'energy\x00', '\ue000energy'])
def test_hostile_queries_on_the_page(client, doc, sections, query):
    response = client.get("/d/doc/search", query_string={"q": query})
    assert response.status_code == 200
    assert live_markup(response.get_data(as_text=True)) == []


def test_operators_are_words_not_syntax(doc, sections, users):
    edit(users, doc, sections[0], "The NEAR future and the OR gate, NOT a problem.")
    assert found(doc, "NEAR") == [("section", sections[0].section.id)]
    assert found(doc, "near OR not") == [("section", sections[0].section.id)]
    assert found(doc, '"energy') and found(doc, "energy*") == found(doc, "energy")


def test_codes_and_hyphenated_words_are_found_as_written(doc, sections, users, make_user):
    edit(users, doc, sections[0], "After COVID-19, l'économie sociale and example.org.")
    sid = sections[0].section.id
    for query in ("COVID-19", "covid-19", "l'économie", "example.org"):
        assert ("section", sid) in found(doc, query), query
    amendment = propose(make_user(), doc, sections[1], sections[1].version.body + " More.")
    for query in ("A-001", "a-001", "A-001 more"):
        assert ("amendment", amendment.id) in found(doc, query), query


def test_queries_with_no_word_are_an_empty_search(doc, sections):
    for query in ("!!!", '"', "*", " ", "", "&|():"):
        page = services.search(doc, query)
        assert not page.query and page.results == [] and page.total == 0


def test_a_very_long_query_uses_its_first_words(doc, sections):
    parsed = services.parse_query(" ".join(f"word{i}" for i in range(200)))
    assert len(parsed.words) == services.MAX_WORDS and parsed.truncated
    assert services.parse_query("energy " * 2_000).words == ("energy",)  # repeats count once
    assert services.parse_query("x" * 10_000).words == ()  # one absurd "word" is no word


def test_the_page_says_when_words_were_left_out(client, doc, sections):
    page = client.get("/d/doc/search", query_string={"q": " ".join(f"w{i}" for i in range(40))})
    assert "only the first 16 words were searched for" in page.get_data(as_text=True)


# ------------------------------------------------------------ amendments

def test_amendments_are_found_by_code_text_and_reason(doc, sections, make_user):
    author = make_user()
    amendment = propose(author, doc, sections[0], sections[0].version.body + "\n\nAdd geothermal heat.",
                        reason="Heat pumps need a mention.")
    assert found(doc, "geothermal") == [("amendment", amendment.id)]
    assert found(doc, "pumps") == [("amendment", amendment.id)]
    assert found(doc, "A-001") == [("amendment", amendment.id)]
    result = services.search(doc, "geothermal").results[0]
    assert result.label == amendment.title and result.detail == "Open"
    assert (result.endpoint, result.args["amendment_id"]) == ("amendments.show", amendment.id)


def test_drafts_are_never_found_until_submitted(client, login, doc, sections, make_user):
    author = make_user()
    draft = propose(author, doc, sections[0], sections[0].version.body + " Zanzibar.", reason="Secret reason xylophone.",
                    submit=False)
    assert found(doc, "zanzibar") == [] and found(doc, "xylophone") == []
    login(author)  # not even for its author: search shows what everyone may see
    assert "Zanzibar" not in client.get("/d/doc/search?q=zanzibar").get_data(as_text=True).replace("zanzibar", "")
    amendments.edit_amendment(author, doc.id, draft.id, heading=None, body=sections[0].version.body + " Zanzibar.",
                              reason="Secret reason xylophone.", revision=draft.revision, submit=True)
    assert found(doc, "zanzibar") == [("amendment", draft.id)]


def test_withdrawn_and_decided_amendments_stay_searchable(doc, sections, make_user, users):
    one = propose(make_user(), doc, sections[0], sections[0].version.body + " Tidal power.")
    two = propose(make_user(), doc, sections[1], sections[1].version.body + " Tidal barrage.")
    author_one = db.session.get(Amendment, one.id).author_id
    amendments.withdraw_amendment(db.session.get(type(users["admin"]), author_one), doc.id, one.id, revision=one.revision)
    amendments.decide_amendment(users["moderator"], doc.id, two.id, decision="reject", reason="No.", revision=two.revision)
    assert set(found(doc, "tidal", kind="amendment")) == {("amendment", one.id), ("amendment", two.id)}
    statuses = {r.object_id: r.detail for r in services.search(doc, "tidal", kind="amendment").results}
    assert statuses == {one.id: "Withdrawn", two.id: "Rejected"}


def test_hidden_amendments_leave_the_index_and_come_back(doc, sections, make_user, users):
    amendment = propose(make_user(), doc, sections[0], sections[0].version.body + " Offensive words.")
    hide_amendment(users["moderator"], amendment.id, hidden=True)
    assert found(doc, "offensive") == []
    hide_amendment(users["moderator"], amendment.id, hidden=False)
    assert found(doc, "offensive") == [("amendment", amendment.id)]


def test_accepting_an_amendment_updates_the_section_and_keeps_the_amendment(doc, sections, make_user, users):
    amendment = propose(make_user(), doc, sections[0], sections[0].version.body.replace("energy", "hydrogen"))
    assert found(doc, "hydrogen") == [("amendment", amendment.id)]
    amendments.decide_amendment(users["moderator"], doc.id, amendment.id, decision="accept", reason="Yes.",
                                revision=amendment.revision)
    assert set(found(doc, "hydrogen")) == {("amendment", amendment.id), ("section", sections[0].section.id)}
    assert ("section", sections[0].section.id) not in found(doc, "energy")


def test_a_rebase_moves_the_amendments_entries_with_their_text(doc, sections, make_user, users, queries):
    entry = sections[0]
    body = entry.version.body
    # Every amendment changes the first paragraph; the moderator then edits the second.
    ids = [propose(make_user(), doc, entry, body.replace("Paragraph one", f"Paragraph number {i} one")).id
           for i in range(6)]
    with queries() as q:
        edit(users, doc, entry, body.replace("democracy at work", "democracy at work and geothermal heat"))
    for amendment_id in ids:
        assert db.session.get(Amendment, amendment_id).conflicted is False
    # The rebased amendments now propose the new paragraph too, and are found by it.
    assert set(found(doc, "geothermal")) == {("section", entry.section.id)} | {("amendment", i) for i in ids}
    index_writes = [s for s in q.statements if re.match(r"\s*(INSERT|UPDATE|DELETE)\b.*search_entries", s, re.S | re.I)]
    assert len(index_writes) <= 3, index_writes  # set-based: one upsert per kind, not one per amendment


def test_the_index_is_written_set_based_whatever_the_number_of_amendments(doc, sections, make_user, users, queries):
    def statements_for_edit(entry, n, word):
        body = entry.version.body
        for i in range(n):
            propose(make_user(), doc, entry, body.replace("Paragraph one", f"Paragraph {word} {i} one"))
        with queries() as q:
            edit(users, doc, entry, body.replace("democracy at work", f"democracy at work, {word}"))
        return len([s for s in q.statements if "search_entries" in s])

    assert statements_for_edit(sections[0], 2, "few") == statements_for_edit(sections[1], 9, "many")


def test_an_amendment_the_new_text_absorbed_is_reindexed_too(doc, sections, make_user, users):
    entry = sections[0]
    new_body = entry.version.body.replace("energy", "biomass energy")
    amendment = propose(make_user(), doc, entry, new_body, reason="Biomass.")
    edit(users, doc, entry, new_body)  # the moderator writes exactly what it proposed: no event for the amendment
    assert ("amendment", amendment.id) in found(doc, "biomass")


# --------------------------------------------------------------- sections

def test_the_index_follows_edits_reverts_retire_and_restore(doc, sections, users):
    entry = sections[0]
    sid = entry.section.id
    edit(users, doc, entry, "Agroecology for everyone.")
    assert found(doc, "agroecology") == [("section", sid)]
    assert ("section", sid) not in found(doc, "cooperatives")
    documents.revert_section(users["moderator"], doc.id, sid, to_number=1, reason="Back.", base_version=2)
    assert found(doc, "agroecology") == [] and ("section", sid) in found(doc, "cooperatives")
    documents.retire_section(users["moderator"], doc.id, sid, reason="Gone.")
    assert ("section", sid) not in found(doc, "cooperatives")
    documents.restore_section(users["moderator"], doc.id, sid, reason="Back.")
    assert ("section", sid) in found(doc, "cooperatives")


def test_a_new_section_and_a_deleted_one_by_amendment(doc, sections, make_user, users):
    insert = amendments.propose_amendment(make_user(), doc.id, kind="insert", section_id=sections[2].section.id,
                                          heading="Oceans", body="Protect the deep sea.", reason="Missing.")
    delete = amendments.propose_amendment(make_user(), doc.id, kind="delete", section_id=sections[1].section.id,
                                          heading=None, body=None, reason="Redundant paragraph.")
    amendments.decide_amendment(users["moderator"], doc.id, insert.id, decision="accept", reason="Yes.",
                                revision=insert.revision)
    amendments.decide_amendment(users["moderator"], doc.id, delete.id, decision="accept", reason="Yes.",
                                revision=delete.revision)
    assert {kind for kind, _ in found(doc, "deep sea")} == {"section", "amendment"}
    assert ("section", sections[1].section.id) not in found(doc, "democracy")
    assert found(doc, "redundant") == [("amendment", delete.id)]


def test_a_failed_write_leaves_the_index_alone(doc, sections, users):
    from manifesto.services import ConflictError

    with pytest.raises(ConflictError):
        documents.edit_section(users["moderator"], doc.id, sections[0].section.id, heading="H",
                               body="Stale quokka text.", reason="R", base_version=99)
    assert found(doc, "quokka") == []


# --------------------------------------------------------------- comments

def test_comments_are_found_and_linked_to_their_place(client, doc, sections, make_user):
    author = make_user(name="Amina")
    comment = add_comment(author, doc, body="What about **permaculture**?", section_id=sections[1].section.id)
    page = services.search(doc, "permaculture")
    (result,) = page.results
    assert (result.kind, result.object_id) == ("comment", comment.id)
    assert result.label == "Comment by Amina on §2 Section 2"
    assert str(result.snippet).rstrip("?") == "What about <mark>permaculture</mark>"
    html = client.get("/d/doc/search?q=permaculture").get_data(as_text=True)
    link = f"/d/doc/comments/{comment.id}"
    assert f'href="{link}"' in html
    # The comment's permanent address leads to the section page, at the comment's anchor.
    assert client.get(link).location.endswith(f"/d/doc/sections/{sections[1].section.id}#comment-{comment.id}")


def test_comments_on_amendments_link_to_the_amendment(client, doc, sections, make_user):
    amendment = propose(make_user(), doc, sections[0], sections[0].version.body + " More.")
    comment = add_comment(make_user(), doc, body="Support for agroforestry.", amendment_id=amendment.id)
    html = client.get("/d/doc/search?q=agroforestry").get_data(as_text=True)
    assert f'href="/d/doc/comments/{comment.id}"' in html and "on A-001" in html
    assert client.get(f"/d/doc/comments/{comment.id}").location.endswith(
        f"/d/doc/amendments/{amendment.id}#comment-{comment.id}")


def test_comment_edits_deletions_hiding_and_restoring(doc, sections, make_user, users):
    author = make_user()
    comment = add_comment(author, doc, body="Mangroves matter.", section_id=sections[0].section.id)
    change_comment(author, comment.id, "comment.edited", body="Seagrass matters.")
    assert found(doc, "mangroves") == [] and found(doc, "seagrass") == [("comment", comment.id)]
    change_comment(users["moderator"], comment.id, "comment.hidden", reason="Spam.")
    assert found(doc, "seagrass") == []
    change_comment(users["moderator"], comment.id, "comment.restored", reason="Fine after all.")
    assert found(doc, "seagrass") == [("comment", comment.id)]
    change_comment(author, comment.id, "comment.deleted")
    assert found(doc, "seagrass") == []


def test_hidden_and_deleted_comments_are_found_by_nobody(client, login, doc, sections, make_user, users):
    author = make_user()
    hidden = add_comment(author, doc, body="Hidden walrus.", section_id=sections[0].section.id)
    change_comment(users["moderator"], hidden.id, "comment.hidden", reason="Abuse.")
    for who in (None, author, users["moderator"], users["admin"]):
        if who is not None:
            login(who)
        html = client.get("/d/doc/search?q=walrus").get_data(as_text=True)
        assert "0 results" in html and f"comment-{hidden.id}" not in html


def test_the_discussion_services_keep_the_index_in_step(doc, sections, make_user, users):
    """End to end, through the real comment and moderation services (not the contract helpers above)."""
    from manifesto.discussion import comments, moderation

    author, reporter = make_user(), make_user()
    comment = comments.post_comment(author, doc.id, body="Cork oak forests.", section_id=sections[0].section.id)
    reply = comments.reply_to_comment(reporter, doc.id, comment.id, body="And cork oak bark.")
    assert set(found(doc, "cork oak")) == {("comment", comment.id), ("comment", reply.id)}
    comments.edit_comment(author, doc.id, comment.id, body="Holm oak forests.", revision=1)
    assert set(found(doc, "cork")) == {("comment", reply.id)} and found(doc, "holm") == [("comment", comment.id)]
    moderation.report_item(reporter, doc.id, "comment", comment.id, reason="Off topic.")
    moderation.hide_item(users["moderator"], doc.id, "comment", comment.id, reason="Off topic.")
    assert found(doc, "holm") == []
    moderation.restore_item(users["moderator"], doc.id, "comment", comment.id)
    assert found(doc, "holm") == [("comment", comment.id)]
    comments.delete_comment(author, doc.id, comment.id)
    assert found(doc, "holm") == []
    amendment = propose(make_user(), doc, sections[1], sections[1].version.body + " Cork recycling.")
    moderation.hide_item(users["moderator"], doc.id, "amendment", amendment.id, reason="Spam.")
    assert ("amendment", amendment.id) not in found(doc, "cork")
    moderation.restore_item(users["moderator"], doc.id, "amendment", amendment.id)
    assert ("amendment", amendment.id) in found(doc, "cork")


# -------------------------------------------------------------- the page

def test_the_search_page_is_a_labelled_get_form_that_works_without_javascript(client, doc, sections):
    html = client.get("/d/doc/search").get_data(as_text=True)
    assert '<form method="get"' in html and 'role="search"' in html
    assert '<label for="q">Search this document</label>' in html
    assert "<script" not in html
    html = client.get("/d/doc/search?q=cooperatives").get_data(as_text=True)
    assert "3 results for" in html and "<mark>cooperatives</mark>" in html
    assert f'/d/doc/#section-{sections[0].section.id}' in html
    assert 'value="cooperatives"' in html  # the query is kept in the field


def test_the_document_navigation_has_a_search_box(client, doc):
    html = client.get("/d/doc/").get_data(as_text=True)
    assert 'action="/d/doc/search"' in html and '<label for="doc-search-q"' in html


def test_results_are_paginated_and_filtered_by_kind(client, make_document, users, make_user, queries):
    doc = make_document(n_sections=25, phase="amendments", editor=users["admin"])
    entry = documents.current_sections(doc)[0]
    propose(make_user(), doc, entry, entry.version.body + " More cooperatives.")
    page1 = services.search(doc, "cooperatives")
    assert page1.counts == {"section": 25, "amendment": 1} and page1.total == 26 and page1.pages == 2
    assert len(page1.results) == 20 and len(services.search(doc, "cooperatives", page=2).results) == 6
    only = services.search(doc, "cooperatives", kind="amendment")
    assert [r.kind for r in only.results] == ["amendment"] and only.total == 1
    html = client.get("/d/doc/search?q=cooperatives&page=2").get_data(as_text=True)
    assert "Page 2 of 2" in html and 'rel="prev"' in html
    assert client.get("/d/doc/search?q=cooperatives&kind=bogus&page=-4").status_code == 200
    past = client.get("/d/doc/search?q=cooperatives&page=999999").get_data(as_text=True)
    assert "Page 2 of 2" in past and 'rel="prev"' in past  # past the end: the last page, as every list


def test_the_search_page_runs_a_fixed_number_of_queries(client, make_document, users, make_user, queries):
    def count(n_sections, slug, kind=""):
        if not db.session.scalar(select(Document.id).where(Document.slug == slug)):
            doc = make_document(n_sections=n_sections, slug=slug, phase="amendments", editor=users["admin"])
            for entry in documents.current_sections(doc)[:n_sections // 2]:
                propose(make_user(), doc, entry, entry.version.body + " Democracy.")
                add_comment(make_user(), doc, body="Democracy first.", section_id=entry.section.id)
        with queries() as q:
            assert client.get(f"/d/{slug}/search?q=democracy&kind={kind}").status_code == 200
        return q.count

    for kind in ("section", "amendment", "comment"):
        assert count(4, "small", kind) == count(24, "large", kind) <= 6
    # Everything: one more query per kind of result on the page, at most.
    assert count(4, "small") <= 8 and count(24, "large") <= 8


# ---------------------------------------------------------------- reindex

def test_reindex_rebuilds_the_whole_index(runner, doc, sections, make_user, users):
    amendment = propose(make_user(), doc, sections[0], sections[0].version.body + " Kelp.")
    comment = add_comment(make_user(), doc, body="Kelp forests.", section_id=sections[0].section.id)
    draft = propose(make_user(), doc, sections[1], sections[1].version.body + " Kelp draft.", submit=False)
    before = set(found(doc, "kelp"))
    db.session.execute(text("DELETE FROM search_entries"))
    db.session.commit()
    assert found(doc, "kelp") == []
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert "3 sections, 1 amendments, 1 comments" in result.output
    assert set(found(doc, "kelp")) == before == {("amendment", amendment.id), ("comment", comment.id)}
    assert ("amendment", draft.id) not in before


def test_reindex_follows_a_change_of_language(runner, doc, sections):
    db.session.get(Document, doc.id).language = "fr"
    db.session.commit()
    assert set(db.session.scalars(select(SearchEntry.language))) == {"english"}
    assert runner.invoke(args=["reindex"]).exit_code == 0
    assert set(db.session.scalars(select(SearchEntry.language))) == {"french"}


# ------------------------------------------------------------ the engines

def test_accents_are_ignored_on_sqlite(doc, sections, users):
    _skip_unless("sqlite")
    edit(users, doc, sections[0], "Les mutuelles d'épargne élèvent l'économie.")
    assert found(doc, "epargne economie") == [("section", sections[0].section.id)]
    assert found(doc, "ÉPARGNE") == [("section", sections[0].section.id)]
    assert "<mark>épargne</mark>" in str(services.search(doc, "epargne").results[0].snippet)
    # No French stemmer on SQLite: a word also finds the longer words it begins.
    assert found(doc, "mutuelle") == [("section", sections[0].section.id)]


def test_french_stemming_on_postgresql(make_document, users):
    _skip_unless("postgresql")
    doc = make_document(n_sections=0, slug="fr", editor=users["admin"])
    db.session.get(Document, doc.id).language = "fr"
    db.session.commit()
    section = documents.create_section(users["admin"], doc.id, heading="Économie sociale",
                                       body="Les coopératives énergétiques appartiennent aux habitants.",
                                       reason="Texte initial.")
    assert db.session.scalar(select(SearchEntry.language).where(SearchEntry.object_id == section.id)) == "french"
    assert found(doc, "coopérative") == [("section", section.id)]
    assert found(doc, "habitant") == [("section", section.id)]
    assert "<mark>coopératives</mark>" in str(services.search(doc, "coopérative").results[0].snippet)


def test_spanish_stemming_on_postgresql(make_document, users):
    _skip_unless("postgresql")
    doc = make_document(n_sections=0, slug="es", editor=users["admin"])
    db.session.get(Document, doc.id).language = "es"
    db.session.commit()
    section = documents.create_section(users["admin"], doc.id, heading="Economía social",
                                       body="Las cooperativas de trabajadores crecen.", reason="Texto inicial.")
    assert found(doc, "cooperativa trabajador") == [("section", section.id)]


def test_postgresql_queries_use_the_gin_index(doc, sections, queries):
    _skip_unless("postgresql")
    with queries() as q:
        services.search(doc, "energy")
    assert sum(f"{VECTOR_COLUMN} @@ plainto_tsquery" in s for s in q.statements) == 2
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(db.session.execute(text(
        f"EXPLAIN SELECT id FROM search_entries WHERE {VECTOR_COLUMN} @@ "
        "plainto_tsquery(CAST(:config AS regconfig), :words)"),
        {"config": "english", "words": "energy"}).scalars())
    db.session.rollback()
    assert "ix_search_entries_vector" in plan, plan


def test_the_stored_vector_is_the_one_the_migrations_define(doc, sections):
    """The schema module and the migrations must agree, and the column must weigh the title first."""
    import importlib.util
    from pathlib import Path

    def load(name):
        path = Path(__file__).resolve().parents[1] / "manifesto/migrations/versions" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    assert load("0003_discussion").TSVECTOR_SQL == TSVECTOR_SQL
    assert load("0004_search_vector").VECTOR_SQL == VECTOR_SQL
    if db.engine.dialect.name == "postgresql":
        vector = db.session.scalar(text(f"SELECT {VECTOR_COLUMN}::text FROM search_entries WHERE kind = 'section' "
                                        "ORDER BY id LIMIT 1"))
        assert "'section':1A" in vector and "'energi':" in vector
        assert not re.search(r"'energi':\d+A", vector)  # the text's words weigh less than the heading's


def test_a_missing_object_is_left_out_of_the_results(doc, sections):
    db.session.add(SearchEntry(document_id=doc.id, kind="amendment", object_id=424242, language="english",
                               title="Ghost", body="Phantom amendment."))
    db.session.commit()
    page = services.search(doc, "phantom")
    assert page.counts == {"amendment": 1} and page.results == []
