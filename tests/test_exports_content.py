"""What an export says beyond the text: the annex (public amendments only, with the moderators' reasons), the
contributors who agreed to be named, releases (frozen text, status as of that day) and the redline."""

from __future__ import annotations

import io
import re

import docx
import pytest

from manifesto.accounts import services as accounts
from manifesto.amendments import services as amendments
from manifesto.documents import services as documents
from manifesto.exports.build import build_export
from manifesto.exports.options import ExportOptions
from manifesto.extensions import db
from manifesto.releases import services as releases
from tests.export_helpers import make_rich_document, structure_of


@pytest.fixture
def world(make_document, users, make_user):
    """A document in the amendment phase with amendments in every state that matters to an annex."""
    document = make_rich_document(make_document, users)
    entries = documents.current_sections(document)
    amina = make_user(name="Amina Sawadogo", organisation="Women's Cooperatives")
    lucas = make_user(name="Lucas Ferreira")
    sofia = make_user(name="Sofía Herrera")

    def propose(author, n, old, new, submit=True):
        entry = documents.current_sections(document)[n]
        return amendments.propose_amendment(author, document.id, kind="modify", section_id=entry.section.id,
                                            heading=None, body=entry.version.body.replace(old, new, 1),
                                            reason="My reasons.", submit=submit)

    accepted = propose(amina, 1, "together", "together, as neighbours")
    rejected = propose(lucas, 2, "local", "local and fair")
    draft = propose(sofia, 3, "lends", "lends wisely", submit=False)
    hidden = propose(lucas, 3, "banks", "the big banks")
    open_ = propose(sofia, 0, "fair taxation", "fair and progressive taxation")
    inserted = amendments.propose_amendment(amina, document.id, kind="insert", section_id=entries[1].section.id,
                                            heading="Housing", body="Housing cooperatives for all.",
                                            reason="A gap.")
    amendments.support_amendment(sofia, document.id, accepted.id)

    def decide(amendment, decision, reason):
        amendment = db.session.get(type(amendment), amendment.id)
        return amendments.decide_amendment(users["moderator"], document.id, amendment.id, decision=decision,
                                           reason=reason, revision=amendment.revision)

    decide(accepted, "accept", "The committee agrees: neighbours matter.")
    decide(rejected, "reject", "Fairness is covered in section 1.")
    amendments.hide_amendment(users["moderator"], document.id, hidden.id, reason="Offensive wording.")
    return {"document": document, "amina": amina, "lucas": lucas, "sofia": sofia, "accepted": accepted,
            "rejected": rejected, "draft": draft, "hidden": hidden, "open": open_, "inserted": inserted}


def text_of(client, fmt, **args) -> str:
    """Download an export and read its words."""
    response = client.get(f"/d/doc/export/{fmt}", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    if fmt == "docx":
        word = docx.Document(io.BytesIO(response.data))
        return "\n".join(p.text for p in word.paragraphs)
    if fmt == "html":
        return " ".join("".join(structure_of(response.get_data(as_text=True)).text).split())
    return response.get_data(as_text=True)


@pytest.mark.parametrize("fmt", ["md", "html", "txt", "docx"])
def test_annex_lists_public_amendments_with_reasons(client, world, fmt):
    text = text_of(client, fmt, annex=1)
    codes = {key: world[key].code for key in ("accepted", "rejected", "hidden", "open", "inserted")}
    for key in ("accepted", "rejected", "open", "inserted"):
        assert codes[key] in text, key
    assert codes["hidden"] not in text and "the big banks" not in text and "Offensive wording" not in text
    assert "lends wisely" not in text and "Draft" not in text
    for words in ("The committee agrees: neighbours matter.", "Fairness is covered in section 1.",
                  "Amina Sawadogo (Women's Cooperatives)", "Accepted", "Rejected", "Open",
                  "New section “Housing” after §2 Energy sovereignty", "§3 Democracy at work"):
        assert words in text.replace("\\", ""), words  # (Markdown escapes punctuation with backslashes)
    assert re.search(r"lines? \d+", text)


def test_annex_entries_in_code_order_with_lines(app, world):
    doc = build_export(world["document"], None, ExportOptions(annex=True))
    codes = [entry.code for entry in doc.annex]
    assert codes == sorted(codes) and len(codes) == 4
    accepted = next(entry for entry in doc.annex if entry.code == world["accepted"].code)
    assert accepted.section == "§2 Energy sovereignty"
    assert accepted.lines.startswith("line") and accepted.status == "Accepted"
    assert accepted.author == "Amina Sawadogo (Women's Cooperatives)"


def test_contributors_are_only_people_who_agreed(client, world, users, make_user, login):
    outsider = make_user(name="Nadia Outsider")
    for person in (world["amina"], world["sofia"], outsider):
        accounts.set_export_credit(person, True)
    accounts.set_export_credit(world["sofia"], False)  # changed her mind
    accounts.set_export_credit(world["sofia"], True)
    login(world["lucas"])
    response = client.post("/account/credit", data={"credit": ""})  # Lucas leaves it off
    assert response.status_code == 302
    for fmt in ("md", "html", "txt", "docx"):
        text = text_of(client, fmt, credits=1)
        assert "Amina Sawadogo (Women" in text and "Sofía Herrera" in text
        assert "Lucas Ferreira" not in text  # contributed, did not agree
        assert "Nadia Outsider" not in text  # agreed, never contributed
    # Without the option, nobody is named.
    assert "Amina Sawadogo (Women" not in text_of(client, "txt")


def test_a_hidden_amendment_does_not_make_its_author_a_contributor(app, world, users):
    accounts.set_export_credit(world["lucas"], True)
    people = build_export(world["document"], None, ExportOptions(contributors=True)).contributors
    assert "Lucas Ferreira" in people  # his rejected amendment counts
    amendments.hide_amendment(users["moderator"], world["document"].id, world["rejected"].id, reason="Spam.")
    people = build_export(world["document"], None, ExportOptions(contributors=True)).contributors
    assert "Lucas Ferreira" not in people


def test_credit_choice_on_the_account_page(client, users, login):
    login(users["participant"])
    page = client.get("/account/password").get_data(as_text=True)
    assert "Name me among the contributors in exported texts" in page
    assert 'type="checkbox"' in page and 'for="credit"' in page
    client.post("/account/credit", data={"credit": "y"})
    assert db.session.get(type(users["participant"]), users["participant"].id).credit_in_exports is True
    page = client.get("/account/password").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*name="credit"|<input[^>]*name="credit"[^>]*checked', page)


# ------------------------------------------------------------ releases, redline

def test_a_release_exports_its_frozen_text_and_the_annex_as_it_stood(client, world, users):
    document = world["document"]
    release = releases.publish_release(users["moderator"], document.id, name="Draft 2 — regional consultations")
    entry = documents.current_sections(document)[2]
    documents.edit_section(users["moderator"], document.id, entry.section.id, heading="Democracy at work",
                           body="A later text, after the release.", reason="Later.",
                           base_version=entry.section.version_count)
    open_ = db.session.get(type(world["open"]), world["open"].id)
    amendments.decide_amendment(users["moderator"], document.id, open_.id, decision="reject",
                                reason="Decided after the release.", revision=open_.revision)
    frozen = text_of(client, "md", release=release.slug, annex=1)
    assert "Worker ownership keeps jobs local." in frozen and "A later text" not in frozen
    assert "Draft 2 — regional consultations" in frozen.replace("\\", "")
    assert "Decided after the release." not in frozen  # it was still open that day
    live = text_of(client, "md", annex=1)
    assert "A later text, after the release." in live and "Decided after the release." in live
    response = client.get(f"/d/doc/export/txt?release={release.slug}&lines=1")
    assert "doc-draft-2" in response.headers["Content-Disposition"]


def test_the_redline_against_a_release_lists_changed_sections_and_adopted_amendments(client, world, users):
    document = world["document"]
    release = releases.publish_release(users["moderator"], document.id, name="Draft 1")
    entry = documents.current_sections(document)[0]
    amendment = amendments.propose_amendment(world["amina"], document.id, kind="modify",
                                             section_id=entry.section.id, heading=None,
                                             body=entry.version.body.replace("fair taxation", "just taxation"),
                                             reason="Clearer.")
    amendment = db.session.get(type(amendment), amendment.id)
    amendments.decide_amendment(users["moderator"], document.id, amendment.id, decision="accept",
                                reason="Yes.", revision=amendment.revision)
    for fmt in ("md", "html", "txt", "docx"):
        text = text_of(client, fmt, against=release.slug)
        assert "Changes since Draft 1" in text.replace("\\", "")
        assert amendment.code in text
        assert "just" in text and "Purpose and scope" in text
    html = client.get(f"/d/doc/export/html?against={release.slug}").get_data(as_text=True)
    assert "<ins>" in html and "<del>" in html
    txt = text_of(client, "txt", against=release.slug)
    assert "[+just+]" in txt and "[-fair-]" in txt
    assert "Unchanged: 3 sections." in txt


def test_release_pages_offer_the_downloads(client, world, users):
    release = releases.publish_release(users["moderator"], world["document"].id, name="Draft 3")
    page = client.get(f"/d/doc/releases/{release.slug}").get_data(as_text=True)
    for fmt in ("docx", "html", "md", "txt"):
        assert f'href="/d/doc/export/{fmt}?release={release.slug}"' in page
