"""The load-test generator: seed-scale builds a whole event through the services."""

from __future__ import annotations

from sqlalchemy import func, select

from manifesto.accounts.models import User
from manifesto.amendments.models import Amendment, Kind, Status
from manifesto.documents.models import Document, Section
from manifesto.extensions import db

TINY = ["--sections", "6", "--chars", "6000", "--participants", "12", "--amendments", "60",
        "--versioned-sections", "2", "--versions", "10", "--comments", "200"]


def count(model, *where) -> int:
    """Count the rows of a model, optionally filtered."""
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_seed_scale_builds_an_event_in_every_state(runner, app):
    """A tiny event has the requested sizes, amendments in many states and a long history."""
    hash_method = app.config["PASSWORD_HASH_METHOD"]
    result = runner.invoke(args=["seed-scale", *TINY])
    assert result.exit_code == 0, result.output
    assert "Scale event ready: /d/convention/" in result.output
    assert app.config["PASSWORD_HASH_METHOD"] == hash_method

    document = db.session.scalar(select(Document).where(Document.slug == "convention"))
    assert document is not None and document.phase == "amendments" and document.min_supporters == 2
    accepted_inserts = count(Amendment, Amendment.kind == Kind.INSERT.value,
                             Amendment.status.in_([Status.ACCEPTED.value, Status.ACCEPTED_MODIFIED.value]))
    assert count(Section, Section.document_id == document.id) == 6 + accepted_inserts
    assert count(Amendment, Amendment.document_id == document.id) == 60
    assert count(User) == 12 + 3 + 1
    assert count(User, User.role == "participant") == 12
    assert count(User, User.role == "admin") == 1

    statuses = set(db.session.scalars(select(Amendment.status).distinct()))
    assert len(statuses) >= 5, statuses
    assert {Status.SUBMITTED.value, Status.ACCEPTED.value, Status.REJECTED.value} <= statuses
    assert db.session.scalar(select(func.max(Section.version_count))) >= 10

    # The discussion: threads several levels deep, passages (some lost), reports and hidden comments.
    from manifesto.discussion.models import Comment, Report

    assert count(Comment) >= 190
    assert count(Comment, Comment.depth >= 3) > 0
    assert count(Comment, Comment.amendment_id.is_not(None)) > 0
    assert count(Comment, Comment.quote.is_not(None)) > 0
    assert count(Comment, Comment.passage_lost.is_(True)) > 0
    assert count(Comment, Comment.hidden_at.is_not(None)) > 0
    assert count(Report) > count(Comment, Comment.hidden_at.is_not(None))
    assert "passages lost" in result.output


def test_seed_scale_refuses_an_existing_slug(runner):
    """Running it twice with the same slug fails cleanly and adds nothing."""
    first = runner.invoke(args=["seed-scale", *TINY])
    assert first.exit_code == 0, first.output
    users = count(User)
    again = runner.invoke(args=["seed-scale", *TINY])
    assert again.exit_code != 0
    assert "Error:" in again.output and "convention" in again.output and "exists already" in again.output
    assert "Traceback" not in again.output
    assert count(User) == users and count(Document) == 1
