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
