"""Collisions: open amendments of one version whose changed spans overlap or touch, and would not merge.

Touching changes that the rebase merges in one sensible way (``text.merge.changes_collide``, the rebase's
own rule: whole lines added beside a deletion or beside words added to a line, a new line one break away,
the same change made by both) are no collision: accepting one carries the other over.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select

from ...documents.models import SectionVersion
from ...extensions import db
from ...locking import require_held
from ...text.diff import Hunk
from ...text.merge import changes_collide
from ..models import Amendment, Collision, Kind, Status


def update_collisions(section_id: int | None) -> None:
    """Recompute which open amendments of a section collide, from their stored spans.

    Two open amendments collide when they were written on the same version
    and their changed spans overlap or touch; deleting a section collides
    with every other change to it.
    """
    if section_id is None:
        return
    require_held("sections", section_id)  # collisions of a section are rewritten under its lock
    rows = db.session.execute(
        select(Amendment.id, Amendment.kind, Amendment.base_version_id, Amendment.hunks)
        .where(Amendment.section_id == section_id, Amendment.status == Status.SUBMITTED.value,
               Amendment.kind != Kind.INSERT.value, Amendment.conflicted.is_(False))
        .order_by(Amendment.id)).all()
    ids = [row.id for row in rows]
    db.session.execute(delete(Collision).where(or_(Collision.amendment_id.in_(select(Amendment.id).where(
        Amendment.section_id == section_id)), Collision.other_id.in_(select(Amendment.id).where(
            Amendment.section_id == section_id)))))
    if len(ids) < 2:
        return
    bases = {row.base_version_id for row in rows}
    texts = dict(db.session.execute(select(SectionVersion.id, SectionVersion.body)
                                    .where(SectionVersion.id.in_(bases))).all())
    pairs = []
    for i, a in enumerate(rows):
        for b in rows[i + 1:]:
            if a.base_version_id != b.base_version_id:
                continue
            if a.kind == Kind.DELETE or b.kind == Kind.DELETE or _spans_overlap(
                    a.hunks or [], b.hunks or [], texts[a.base_version_id]):
                pairs.append({"amendment_id": a.id, "other_id": b.id})
    if pairs:
        db.session.execute(Collision.__table__.insert(), pairs)


def _spans_overlap(a: list, b: list, base: str) -> bool:
    """Whether the stored spans (``[start, end, text]``) of two amendments collide, by the rebase's own rule."""
    return changes_collide([_hunk(span) for span in a], [_hunk(span) for span in b], base)


def _hunk(span: list) -> Hunk:
    """A stored span as the engine's hunk."""
    return Hunk(span[0], span[1], span[2] if len(span) > 2 else "")


def collisions_for(ids: list[int]) -> dict[int, list[tuple[str, int]]]:
    """Map each amendment id to (code, id) of the open amendments it collides with (one query)."""
    other = Amendment.__table__.alias("other")
    rows = db.session.execute(
        select(Collision.amendment_id, Collision.other_id, Amendment.number, other.c.number)
        .join(Amendment, Amendment.id == Collision.amendment_id)
        .join(other, other.c.id == Collision.other_id)
        .where(or_(Collision.amendment_id.in_(ids), Collision.other_id.in_(ids)))).all()
    result: dict[int, list[tuple[str, int]]] = {}
    for a_id, b_id, a_number, b_number in rows:
        result.setdefault(a_id, []).append((f"A-{b_number:03d}", b_id))
        result.setdefault(b_id, []).append((f"A-{a_number:03d}", a_id))
    return {key: sorted(value) for key, value in result.items()}
