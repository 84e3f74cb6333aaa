"""The locking protocol: which rows a write service locks, in which order, and how.

Every write service takes its row locks through :func:`lock_rows`, which
enforces the protocol on both engines (on SQLite the locks themselves are a
no-op, since ``BEGIN IMMEDIATE`` already serialises writers, but the order is
still checked, so a mistake shows up in the SQLite test run too):

1. **Levels.** Rows are locked level by level: documents, then sections, then
   amendments, then comments, then reports, then users, then the API's
   tokens, webhooks and webhook deliveries, then the plenary's votes, merge drafts and projections. A transaction never locks a new
   row of a lower level once it holds one of a higher level (re-taking a
   row it already holds is fine). Locks taken in one global order cannot form a cycle.
2. **Within a level** one call locks its rows in ascending id. A second call
   at the same level may add rows only while the transaction holds a lock of
   the level above (the document for sections, a section for amendments):
   that parent lock already serialises everyone who locks several of them.
   Sections are only ever locked under their document's lock, so the
   positions an insert shifts with a plain ``UPDATE`` can never be held by a
   transaction that waits for something else.
3. **No-key locks.** Rows are locked ``FOR NO KEY UPDATE``. Inserting a row
   with a foreign key takes a ``KEY SHARE`` lock on the parent row (an audit
   event on its document, a support on its amendment), which plain
   ``FOR UPDATE`` blocks, so a transaction holding the amendment and
   inserting an audit event would wait for whoever holds the document, and
   vice versa. ``FOR NO KEY UPDATE`` does not conflict with ``KEY SHARE``;
   we never change a locked row's key, so it is all we need.
4. **Fresh values.** A locking ``SELECT`` does not refresh an object already
   in the session, so :func:`lock_rows` loads with ``populate_existing``:
   checks made after the lock read the locked row, never a copy peeked at
   before it.

What each service locks is listed in ``docs/ARCHITECTURE.md``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable
from typing import TypeVar

from sqlalchemy import select

from .extensions import db

T = TypeVar("T")

LEVELS = {"documents": 1, "sections": 2, "amendments": 3, "comments": 4, "reports": 5, "users": 6,
          # The API's own rows (#17): a person's tokens, then webhooks and their deliveries.
          "api_tokens": 7, "webhooks": 8, "webhook_deliveries": 9,
          # The plenary's consultative votes (#18): a cast and a close lock the vote row alone.
          "votes": 10,
          # The merge workspace's drafts (#18): last, so a merge locks its draft after the section's amendments
          # and whatever their rebase locks; an autosave locks the draft alone.
          "merge_drafts": 11,
          # The projector (#18): one row per document, locked after whatever a console's decision locks.
          "projections": 12}
_PARENT = {level: level - 1 for level in LEVELS.values()}

# Rows locked by the running write transaction, by table; None outside one.
_held: contextvars.ContextVar[dict[str, set[int]] | None] = contextvars.ContextVar("held_locks", default=None)


class LockOrderError(RuntimeError):
    """A service asked for locks against the protocol: a bug to fix, never a user's error."""


def begin() -> contextvars.Token:
    """Start tracking the locks of a new write transaction (the ``writes`` wrapper calls it)."""
    return _held.set({})


def end(token: contextvars.Token) -> None:
    """Forget the locks of a finished transaction."""
    _held.reset(token)


def held(table: str) -> frozenset[int]:
    """The ids of ``table`` locked by the running transaction."""
    return frozenset((_held.get() or {}).get(table, ()))


def require_held(table: str, row_id: int) -> None:
    """Check that the running transaction holds the lock on one row.

    :raises LockOrderError: when it does not (a service forgot to lock first).
    """
    if row_id not in held(table):
        raise LockOrderError(f"{table} {row_id} must be locked before this step")


def _check_order(table: str, wanted: list[int], locks: dict[str, set[int]]) -> None:
    """Refuse a lock request that breaks the protocol's order.

    :raises LockOrderError:
    """
    level = LEVELS[table]
    higher = [name for name, rows in locks.items() if rows and LEVELS[name] > level]
    if higher:
        raise LockOrderError(f"cannot lock {table} {wanted} after {', '.join(sorted(higher))}")
    if table == "sections" and not locks.get("documents"):
        raise LockOrderError("sections are locked only under their document's lock")
    if locks.get(table):
        parent = [name for name, rows in locks.items() if rows and LEVELS[name] == _PARENT[level]]
        if not parent:
            raise LockOrderError(f"a second lock on {table} needs its parent's lock first")


def lock_rows(model: type[T], ids: Iterable[int]) -> list[T]:
    """Lock rows of ``model`` by id, in protocol order, and return them freshly loaded, by ascending id.

    Missing ids are simply absent from the result.

    :raises LockOrderError: outside a write service, or against the order.
    """
    locks = _held.get()
    if locks is None:
        raise LockOrderError("rows are locked only inside a write service (@writes)")
    table = model.__tablename__
    ids = sorted({int(i) for i in ids if i is not None})
    taken = locks.get(table, set())
    wanted = [i for i in ids if i not in taken]
    fresh: dict[int, T] = {}
    if wanted:
        _check_order(table, wanted, locks)
        # The rows the lock returns are the ones handed back: the session keeps only objects someone
        # refers to, so reading them again by id would query each one anew.
        fresh = {row.id: row for row in db.session.scalars(
            select(model).where(model.id.in_(wanted)).order_by(model.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True))}
    rows = [row for row in (fresh[i] if i in fresh else db.session.get(model, i) for i in ids) if row is not None]
    locks.setdefault(table, set()).update(row.id for row in rows)
    return rows


def lock_row(model: type[T], row_id: int) -> T | None:
    """Lock one row (see :func:`lock_rows`); None when it does not exist."""
    rows = lock_rows(model, [row_id])
    return rows[0] if rows else None
