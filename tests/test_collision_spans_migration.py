"""Migration 0022 gives text-less collision spans their text and computes the warnings again by today's rule."""

from __future__ import annotations

import json

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from manifesto.accounts.models import User
from manifesto.amendments import services as amendments
from manifesto.amendments.models import Amendment, Collision
from manifesto.documents import services as documents
from manifesto.documents.models import Document
from manifesto.extensions import db

from harness import migrated_demo_app

LISTED = "Our aims:\n\n- one\n- two\n- three\n- five"


@pytest.fixture
def migrated_app(tmp_path, instance_path):
    """The demo, built by the migrations, and a list section with three open amendments touching one item."""
    def list_section():
        people = {u.email.partition("@")[0]: u for u in db.session.scalars(select(User))}
        document = documents.create_document(people["admin"], title="Aims", slug="aims", introduction="Aims.")
        section = documents.create_section(people["admin"], document.id, heading="Aims", body=LISTED,
                                           reason="Start.", after_section_id=None)
        documents.update_document(people["admin"], document.id, title="Aims", introduction="Aims.",
                                  phase="amendments", amendment_deadline=None, min_supporters=0)

        def propose(who, body):
            return amendments.propose_amendment(people[who], document.id, kind="modify", section_id=section.id,
                                                heading=None, body=body, reason="Better.")

        propose("amina", LISTED.replace("- three\n", ""))  # deletes item 3
        propose("lucas", LISTED.replace("- three\n", "- three\n- four\n"))  # adds item 4 after it
        propose("sofia", LISTED.replace("- three", "- three and a half"))  # rewrites item 3

    with migrated_demo_app(tmp_path / "spans.sqlite", also=list_section) as app:
        yield app


def _state(session):
    """Every modifying amendment's spans, and the colliding pairs."""
    spans = {a.id: a.hunks for a in session.scalars(select(Amendment).where(Amendment.kind == "modify"))}
    pairs = {frozenset(pair) for pair in session.execute(select(Collision.amendment_id, Collision.other_id))}
    return spans, pairs


def test_old_spans_get_their_text_and_touching_changes_that_merge_stop_colliding(migrated_app):
    spans, pairs = _state(db.session)
    deletion, addition, rival = db.session.scalars(
        select(Amendment.id).join(Document, Document.id == Amendment.document_id).where(Document.slug == "aims")
        .order_by(Amendment.id)).all()
    assert frozenset((deletion, addition)) not in pairs and frozenset((deletion, rival)) in pairs
    db.session.commit()

    # As a database written before #18 has them: spans without their text, and the touching pair colliding.
    downgrade(revision="0021_projector_vote")
    for amendment_id, hunks in spans.items():
        db.session.execute(text("UPDATE amendments SET hunks = :hunks WHERE id = :id"),
                           {"hunks": json.dumps([span[:2] for span in hunks]), "id": amendment_id})
    db.session.execute(text("INSERT INTO collisions (amendment_id, other_id) VALUES (:a, :b)"),
                       {"a": deletion, "b": addition})
    db.session.commit()

    upgrade()
    assert _state(db.session) == (spans, pairs)  # what the service stores and computes today
