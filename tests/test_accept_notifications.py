"""Accepting notifies the authors and followers of the amendments that follow the new text all at once (#15).

The events of the amendments that follow a new version, and of the decision
itself, are recorded as one batch: the fan-out makes each event's plan when
it is recorded and delivers them together at the end (one query for who
hears, one insert). What each person reads must be exactly what recording
and delivering the events one by one writes: same people, kinds, words,
links, delivery, in the same order; the actor left out of their own
action, deactivated accounts out, settings and languages respected.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from manifesto.accounts import services as accounts
from manifesto.accounts.models import User
from manifesto.amendments import services as amendments
from manifesto.amendments.models import Amendment
from manifesto.amendments.services.following import events_batch, recording_together
from manifesto.audit.models import AuditEvent
from manifesto.documents import services as documents
from manifesto.documents.models import Section
from manifesto.extensions import db
from manifesto.notifications import fanout
from manifesto.notifications import services as notifications
from manifesto.notifications.models import Notification

MODELS = {"amendments": Amendment, "sections": Section}


def _propose(author, document, entry, old: str, new: str, kind: str = "modify") -> Amendment:
    """Propose replacing ``old`` with ``new`` in a section (or, ``kind="delete"``, removing it)."""
    body = entry.version.body.replace(old, new, 1) if kind == "modify" else None
    return amendments.propose_amendment(author, document.id, kind=kind, section_id=entry.section.id, heading=None,
                                        body=body, reason="Because.")


def _written(since: int) -> list[tuple]:
    """The notifications written since notification ``since``, in order, as what their readers see.

    An immediate email already sent (the queue runs at once in tests) counts as queued: the replay below
    writes the same rows, and nothing sends them.
    """
    rows = db.session.execute(select(
        Notification.user_id, Notification.kind, Notification.event_id, Notification.object_type,
        Notification.object_id, Notification.actor_id, Notification.document_id, Notification.summary,
        Notification.link, Notification.email_state).where(Notification.id > since).order_by(Notification.id))
    return [(*row[:-1], "queued" if row.email_state == "sent" else row.email_state) for row in rows]


def _one_by_one(since_event: int, since: int) -> list[tuple]:
    """Deliver the events recorded since ``since_event`` again, each on its own, and return what that writes."""
    db.session.execute(delete(Notification).where(Notification.id > since))
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.id > since_event).order_by(AuditEvent.id))
    for event in events:
        rule = fanout.RULES.get(event.action)
        if rule is None or event.object_type not in MODELS:
            continue
        actor = db.session.get(User, event.actor_id) if event.actor_id else None
        plan = rule(event, db.session.get(MODELS[event.object_type], event.object_id), actor)
        if plan is not None:
            fanout.deliver(plan, event, actor)
    return _written(since)


@pytest.fixture
def section_with_followers(make_document, users, make_user):
    """A section whose open amendments follow a decision in every way a person can hear of it."""
    document = make_document(phase="amendments", editor=users["admin"])
    entry = documents.current_sections(document)[0]
    moderator = users["moderator"]
    people = {name: make_user(name=name) for name in ("Accepted", "Rita", "Chloe", "Fatou", "Dora", "Sami",
                                                       "Lou")}
    made = {
        "accepted": _propose(people["Accepted"], document, entry, "energy", "solar energy"),
        "clean": _propose(people["Rita"], document, entry, "cooperatives", "worker cooperatives"),
        "clashing": _propose(people["Chloe"], document, entry, "energy", "wind energy"),
        "mine_clean": _propose(moderator, document, entry, "Paragraph one", "The first paragraph"),
        "mine_clashing": _propose(moderator, document, entry, "energy", "tidal energy"),
        "gone": _propose(people["Dora"], document, entry, "Paragraph two", "The second paragraph"),
        "french": _propose(people["Lou"], document, entry, "about", "concerning"),
    }
    # Fatou follows the conflicting amendment and the section; Sami the section only; Rita wants rebases at once.
    notifications.follow(people["Fatou"], "amendment", made["clashing"].id)
    notifications.follow(people["Fatou"], "section", entry.section.id)
    notifications.follow(people["Sami"], "section", entry.section.id)
    notifications.save_settings(people["Rita"], {"rebase": "immediate"})
    notifications.save_settings(people["Fatou"], {"following": "app"})
    accounts.set_preferences(people["Lou"], "fr", None)
    accounts.set_active(users["admin"], people["Dora"].id, False)
    return {"document": document, "entry": entry, "moderator": moderator, "people": people, "made": made}


def test_accepting_notifies_as_one_event_at_a_time_would(section_with_followers):
    world = section_with_followers
    document, moderator, people, made = world["document"], world["moderator"], world["people"], world["made"]
    since = db.session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1)) or 0
    since_event = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    accepted = made["accepted"]
    amendments.decide_amendment(moderator, document.id, accepted.id, decision="accept", reason="Agreed.",
                                revision=db.session.get(Amendment, accepted.id).revision)
    batched = _written(since)

    heard = {(user_id, kind, object_id) for user_id, kind, _event, _type, object_id, *_rest in batched}
    ids = {name: amendment.id for name, amendment in made.items()}
    assert heard == {
        (people["Accepted"].id, "decision", ids["accepted"]),
        (people["Rita"].id, "rebase", ids["clean"]),
        (people["Chloe"].id, "conflict", ids["clashing"]),
        (people["Fatou"].id, "following", ids["clashing"]),  # the amendment she follows conflicts
        (people["Fatou"].id, "following", ids["accepted"]),  # her section has a new version
        (people["Sami"].id, "following", ids["accepted"]),
        (people["Lou"].id, "rebase", ids["french"]),
        # The moderator hears of the conflict nobody chose, never of the rebase they caused; Dora hears nothing.
        (moderator.id, "conflict", ids["mine_clashing"]),
    }
    by_reader = {(user_id, object_id): (summary, state) for user_id, _k, _e, _t, object_id, _a, _d, summary, _l, state
                 in batched}
    assert by_reader[people["Rita"].id, ids["clean"]][1] == "queued"  # her setting, not the digest
    assert by_reader[people["Fatou"].id, ids["clashing"]][1] == "none"
    assert by_reader[people["Lou"].id, ids["french"]][0].startswith("Votre amendement")
    assert by_reader[people["Fatou"].id, ids["clashing"]][0].startswith("An amendment you follow, A-003")
    # Word for word, row for row, what delivering each event on its own writes.
    assert _one_by_one(since_event, since) == batched


def test_accepting_a_deletion_notifies_as_one_event_at_a_time_would(section_with_followers, make_user):
    world = section_with_followers
    document, moderator, people, made = world["document"], world["moderator"], world["people"], world["made"]
    deletion = _propose(make_user(), document, world["entry"], "", "", kind="delete")
    since = db.session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1)) or 0
    since_event = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    amendments.decide_amendment(moderator, document.id, deletion.id, decision="accept", reason="Merged elsewhere.",
                                revision=db.session.get(Amendment, deletion.id).revision)
    batched = _written(since)

    conflicts = {(user_id, object_id) for user_id, kind, _e, _t, object_id, *_rest in batched if kind == "conflict"}
    living = [name for name in made if name != "gone"]
    assert conflicts == {(made[name].author_id, made[name].id) for name in living}
    assert _one_by_one(since_event, since) == batched


def test_a_batch_that_fails_delivers_nothing_and_leaves_nothing_behind(section_with_followers):
    delivered = []
    with pytest.raises(RuntimeError):
        with recording_together():
            events_batch()["test"] = lambda: delivered.append(True)
            raise RuntimeError("the change fails")
    assert delivered == [] and events_batch() is None
    with recording_together():
        events_batch()["test"] = lambda: delivered.append(True)
        with recording_together():  # a nested block is part of the outer batch
            assert len(events_batch()) == 1
        assert delivered == []
    assert delivered == [True] and events_batch() is None
