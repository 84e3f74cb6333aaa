"""Content states: the rule that makes cached pages and validators safe.

**The rule.** Every write that changes what a page shows bumps a counter in
the same transaction, and every cached page and every ``ETag`` is keyed by
the counters of what it shows. A cached copy or a validator therefore names
exactly one state of the content; after a write it is simply never asked
for again.

**Which counter.** Every state change records an audit event (the services'
rule), so the counters follow the audit trail, not a list of tables that a
new feature could forget:

- an event on a document (``document_id`` set) bumps ``document:<id>``:
  its text, amendments, supports, decisions, comments, releases, settings.
  It also bumps the finer scopes of the parts it changes, so the pages that
  show one part are not rendered again for a write on another:
  ``amendment:<id>`` (one amendment's page), ``section:<id>`` (one section's
  page), ``section-text:<id>`` (what its amendments' pages show of it: its
  text and versions, their collisions),
  ``reading:<id>`` (the reading page: texts and open amendments per section),
  ``reading-comments:<id>`` (its comment counts). The area that owns the
  event's object names those parts
  (:func:`register_parts`); an event no area narrows bumps ``frame:<id>``,
  what *every* page of the document shows (its title, settings, phase,
  sections and their numbering, releases). A page keyed by finer scopes
  always includes ``frame:<id>``, so forgetting to narrow an event can only
  cost a render, never serve a stale page;
- an event of one person's own (``PERSONAL``: follows, preferences, password,
  notification settings, exports, registering) bumps ``user:<actor>``: only
  that person's pages show it;
- any other event (a name or a role changed) bumps ``site``: names and roles
  show on every document's pages.

**When.** The counters are bumped by the last statement before ``COMMIT``
(an upsert, in ascending scope order). A transaction holds a counter's row
lock only while it commits and waits for nothing else then, so bumping adds
no lock cycle to the locking protocol (``locking.py``) and serialises
writers of one document only for their commit. Readers read the counters
first and the content after, so a page cached under a state never shows
less than that state.

**Outside the services.** Bulk writers that skip the audit trail (the
archive import, migrations that rewrite stored HTML) call :func:`bump_all`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..extensions import db
from ..services import as_utc, utcnow
from .models import AuditEvent, ContentState

SITE = "site"
# Actions that change only what their actor sees of their own.
PERSONAL = ("follow.", "notifications.", "export.", "user.registered", "user.password_", "user.preferences_changed",
            # Account security (#16): sessions, second factor, links mailed; no public page shows them.
            "user.signed_in", "user.session", "user.two_factor", "user.recovery", "user.reset_requested",
            "user.verif", "user.invit", "user.login_",
            # API tokens (#17): only their owner's tokens page and the admins' list show them.
            "user.api_token")
_KEY = "content_scopes"


def document_scope(document_id: int) -> str:
    """The scope of everything a document's pages show."""
    return f"document:{document_id}"


def frame_scope(document_id: int) -> str:
    """What every page of a document shows: bumped by every event no area narrows to its parts."""
    return f"frame:{document_id}"


def reading_scope(document_id: int) -> str:
    """What the reading page shows beyond the frame: texts and open amendments per section."""
    return f"reading:{document_id}"


def reading_comments_scope(document_id: int) -> str:
    """The reading page's comment counts per section (its text is kept apart: ``reading_scope``)."""
    return f"reading-comments:{document_id}"


def section_scope(section_id: int) -> str:
    """One section's page: its text, history, comments, open amendments (and its amendments' diffs)."""
    return f"section:{section_id}"


def section_text_scope(section_id: int) -> str:
    """What a section's amendments' pages show of it: its text and versions, its open amendments' collisions."""
    return f"section-text:{section_id}"


def amendment_scope(amendment_id: int) -> str:
    """One amendment's page: the amendment, its supporters, comments and history."""
    return f"amendment:{amendment_id}"


# By the events' object_type (a table name): parts(event, obj) -> the finer scopes it changes, or None.
_parts: dict[str, Callable[[AuditEvent, Any], set[str] | None]] = {}


def register_parts(object_type: str, parts: Callable[[AuditEvent, Any], set[str] | None]) -> None:
    """Let the area owning ``object_type`` name the parts of a document its events change.

    ``parts(event, obj)`` gets the event and its object (as the service passed it to ``record_event``)
    and returns the finer scopes the event changes (``section_scope``, ``amendment_scope``,
    ``reading_scope``), or None when it may change anything (the frame is bumped then).
    """
    _parts[object_type] = parts


def user_scope(user_id: int) -> str:
    """The scope of what one person sees of their own."""
    return f"user:{user_id}"


def scopes_of(audit_event: AuditEvent) -> set[str]:
    """The scopes an audit event changes (see the module docstring)."""
    if audit_event.action.startswith(PERSONAL):
        return {user_scope(audit_event.actor_id)} if audit_event.actor_id is not None else set()
    if audit_event.document_id is not None:
        document_id = audit_event.document_id
        parts = _parts.get(audit_event.object_type)
        subject = audit_event.subject
        narrowed = parts(audit_event, subject) if parts is not None and subject is not None else None
        return {document_scope(document_id), *(narrowed if narrowed is not None else {frame_scope(document_id)})}
    return {SITE}


@dataclass(frozen=True)
class State:
    """The counters a page depends on, read at once."""

    values: tuple[int, ...]  # the counters, in the order asked for
    stamps: tuple[float | None, ...]  # when each last changed (None: never written)
    changed_at: datetime | None  # the latest change among them (None: never written)

    @property
    def marks(self) -> tuple[str, ...]:
        """Each counter with the moment it was bumped: unique across databases, so across restores too."""
        return tuple(f"{value}@{stamp}" for value, stamp in zip(self.values, self.stamps))

    @property
    def token(self) -> str:
        """One string that changes whenever any of the counters does."""
        return ".".join(self.marks)


def read(*scopes: str) -> State:
    """Read the counters of ``scopes`` in one query; a scope never written counts as state 0."""
    return read_with(db.session, scopes)


def read_with(connection: Session | Connection, scopes: Sequence[str]) -> State:
    """:func:`read` on a connection of one's own (outside a request's session)."""
    rows = {row.scope: row for row in connection.execute(
        select(ContentState.scope, ContentState.state, ContentState.changed_at)
        .where(ContentState.scope.in_(scopes)))}
    values = tuple(rows[scope].state if scope in rows else 0 for scope in scopes)
    when = {scope: as_utc(row.changed_at) for scope, row in rows.items() if row.changed_at is not None}
    stamps = tuple(when[scope].timestamp() if scope in when else None for scope in scopes)
    return State(values=values, stamps=stamps, changed_at=max(when.values()) if when else None)


def bump(session: Session, scopes: Iterable[str]) -> None:
    """Add one to each scope's counter (creating it), in ascending order, in the running transaction.

    One statement for all of them (a decision that rebases fifteen amendments bumps twenty scopes);
    both engines take the rows' locks in the order of its VALUES, so writers still lock in one order.
    """
    ordered = sorted(set(scopes))
    if not ordered:
        return
    now = utcnow()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(ContentState).values([{"scope": scope, "state": 1, "changed_at": now} for scope in ordered])
    session.execute(statement.on_conflict_do_update(
        index_elements=[ContentState.scope],
        set_={"state": ContentState.state + 1, "changed_at": now}))


def bump_all(session: Session | None = None) -> None:
    """Invalidate every cached page and validator at once (after a write that skipped the audit trail)."""
    session = session or db.session
    session.execute(update(ContentState).values(state=ContentState.state + 1, changed_at=utcnow()))
    bump(session, [SITE])


# ------------------------------------------------------------ session hooks

def _note_new_events(session: Session, flush_context, instances) -> None:
    """Before a flush, remember the scopes of the audit events it writes."""
    scopes = None
    for obj in session.new:
        if isinstance(obj, AuditEvent):
            scopes = session.info.setdefault(_KEY, set()) if scopes is None else scopes
            scopes |= scopes_of(obj)


def _bump_before_commit(session: Session) -> None:
    """Bump the noted scopes as the transaction's last statements."""
    if session.in_nested_transaction():
        return
    session.flush()  # audit events still pending note their scopes now
    scopes = session.info.pop(_KEY, None)
    if scopes:
        bump(session, scopes)


def _forget(session: Session, transaction) -> None:
    """A finished transaction leaves nothing noted: a rolled-back one changed nothing (a retry notes it again)."""
    if transaction.parent is None:
        session.info.pop(_KEY, None)


def install() -> None:
    """Follow every commit of the app's session; the bump is placed after every other ``before_commit`` listener.

    Called once the areas are wired (they add their own ``before_commit`` work, such as the search
    index): whatever they write must be written before the counters' rows are locked.
    """
    for name, listener in (("before_flush", _note_new_events), ("before_commit", _bump_before_commit),
                           ("after_transaction_end", _forget)):
        if event.contains(db.session, name, listener):
            event.remove(db.session, name, listener)
        event.listen(db.session, name, listener)
