"""What accepting an amendment costs in SQL as the section's open amendments grow (#15).

Accepting writes a new version, and every other open amendment of the
section follows it: rebased (or marked conflicted), with a revision, an
audit event and a notification of its own. Only the audit events are
written one statement per amendment (each has an id its listeners need), and
the content state of each amendment's page is bumped at the commit; the
rest is one statement for them all: their UPDATEs, their revisions, who is
told (one query) and the notifications (one insert), the search index. No
read of amendments or versions one by one.
"""

from __future__ import annotations

import re
from collections import Counter

from sqlalchemy import select

from manifesto.accounts.models import User
from manifesto.amendments import services
from manifesto.amendments.models import Amendment, Collision
from manifesto.documents import services as documents
from manifesto.extensions import db

WORDS = 100  # the section's third paragraph: word0 ... word99, for amendments that do not overlap


def _section_with_open_amendments(make_document, admin_id: int, make_user, others: int, slug: str):
    """A section with the amendment to accept, ``others`` open ones elsewhere in it, a rival and a colliding pair.

    Returns the ids of the document, of the amendment to accept and {name: id} of the others.
    """
    admin = db.session.get(User, admin_id)
    document = make_document(n_sections=2, slug=slug, editor=admin)
    entry = documents.current_sections(document)[0]
    words = " ".join(f"word{i}" for i in range(WORDS))
    documents.edit_section(admin, document.id, entry.section.id, heading=entry.version.heading,
                           body=f"{entry.version.body}\n\n{words}.", reason="A longer text.",
                           base_version=entry.section.version_count)
    documents.update_document(admin, document.id, title=document.title, introduction=document.introduction,
                              phase="amendments", amendment_deadline=None, min_supporters=0)
    body = documents.current_sections(document)[0].version.body
    authors = [make_user("participant") for _ in range(3)]

    def propose(n: int, old: str, new: str) -> Amendment:
        """Propose replacing ``old`` with ``new`` in the section, as one of the authors."""
        return services.propose_amendment(authors[n % len(authors)], document.id, kind="modify",
                                          section_id=entry.section.id, heading=None,
                                          body=body.replace(old, new, 1), reason="Because.")

    accepted = propose(0, "cooperatives", "worker cooperatives")
    made = {"rival": propose(1, "cooperatives", "mutual societies")}  # the same words: conflicts on accepting
    for i in range(others):
        made[f"other{i}"] = propose(i, f"word{5 * i + 3} ", f"WORD{i} ")
    made["twin"] = propose(2, "word3 ", "term3 ")  # collides with other0, before and after
    return document.id, accepted.id, {name: amendment.id for name, amendment in made.items()}


def _accept(document_id: int, amendment_id: int, moderator_id: int, queries) -> Counter:
    """Accept an amendment and count each statement the service runs (normalised, lists of values as one).

    The session starts empty, as a request's does: nothing loaded before spares a query.
    """
    db.session.expunge_all()
    moderator = db.session.get(User, moderator_id)
    revision = db.session.scalar(select(Amendment.revision).where(Amendment.id == amendment_id))
    with queries() as counted:
        services.decide_amendment(moderator, document_id, amendment_id, decision="accept", reason="Agreed.",
                                  revision=revision)
    normal = Counter()
    for statement in counted.statements:
        statement = re.sub(r"%\(\w+\)s(?:::\w+)?|__\[POSTCOMPILE_\w+\]", "?", " ".join(statement.split()))
        statement = re.sub(r"\(\?(?:, \?)*\)", "(?)", statement)
        normal[re.sub(r"VALUES \(\?\)(?:, \(\?\))*", "VALUES (?)", statement)] += 1
    return normal


def _written_per_amendment(statement: str) -> bool:
    """Whether a statement is one an amendment that follows the new text may run once for itself.

    Its audit event (``record_event`` flushes each one: its listeners need
    its id) and, at the commit, the bump of its page's content state.
    """
    return statement.startswith(("INSERT INTO audit_events", "INSERT INTO content_states"))


def test_accepting_runs_no_statement_per_open_amendment_but_its_own_writes(app, make_document, users, make_user,
                                                                           queries):
    few, many = 3, 15
    counts = {}
    admin_id, moderator_id = users["admin"].id, users["moderator"].id
    for others in (few, many):
        document_id, accepted_id, made = _section_with_open_amendments(make_document, admin_id, make_user, others,
                                                                       f"doc{others}")
        counts[others] = _accept(document_id, accepted_id, moderator_id, queries)
        # Everything followed the new text: rebased, the rival conflicted, the colliding pair still colliding.
        version = db.session.get(Amendment, accepted_id).result_version_id
        fresh = {name: db.session.get(Amendment, amendment_id) for name, amendment_id in made.items()}
        assert fresh["rival"].conflicted
        assert all(a.base_version_id == version and not a.conflicted
                   for name, a in fresh.items() if name != "rival")
        pairs = set(db.session.execute(select(Collision.amendment_id, Collision.other_id)).all())
        in_section = {*made.values(), accepted_id}
        assert {pair for pair in pairs if set(pair) <= in_section} == {(made["other0"], made["twin"])}
    small, big = counts[few], counts[many]
    grown = {statement: big[statement] - small[statement] for statement in big.keys() | small.keys()
             if big[statement] != small[statement]}
    for statement, growth in grown.items():
        assert _written_per_amendment(statement), ("runs per open amendment", statement, small[statement],
                                                   big[statement])
        assert growth <= many - few, ("more than once per open amendment", statement, small[statement],
                                      big[statement])
    # No read grows: not of amendments, versions or sections, not of who is told.
    assert not [s for s in grown if s.startswith("SELECT")]
    # Their UPDATEs, revisions and notifications are written together, whatever their number.
    for written in ("UPDATE amendments SET", "INSERT INTO amendment_revisions", "INSERT INTO notifications"):
        assert (sum(n for s, n in small.items() if s.startswith(written))
                == sum(n for s, n in big.items() if s.startswith(written))), written
