"""The redline: how the whole document changed between two texts (two releases, or a release and the live text).

Sections are matched by identity (a section keeps its id through every
version, move and retitle), so the comparison says exactly what happened:

- **added**: in the new text only; **removed**: in the old text only;
- **changed**: its text differs (a word-level diff of the two versions' bodies);
- **retitled**: its heading differs (the heading gets its own word diff);
- **moved**: its place changed beyond the shift that additions and removals
  cause: the sections both texts share keep the longest run in the same
  order, and only the others count as moved (moving one section to the end
  moves one section, not every one after it);
- **unchanged**: the same version in both texts (nothing is diffed).

A section can be moved, retitled and changed at once: ``change`` names the
most telling of them (added, removed, changed, retitled, moved, unchanged)
and the flags say all of them.

It also lists the amendments adopted in between: those whose accepted text is
a version of the section written after the older text's version and at or
before the newer one's (for sections that exist in only one of the texts,
by the dates of the versions), and accepted deletions of removed sections.

Queries are bounded whatever the size of the document: one light query per
text (no bodies), one for the versions that need a diff, one for the
amendments. Diffs of consecutive versions are the ones stored when the text
was written; any other pair is diffed here, on request.
"""

from __future__ import annotations

import html
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..amendments.models import Amendment, Kind, Status
from ..amendments.wording import display_title
from ..documents.models import Document, Section, SectionVersion
from ..extensions import db
from ..services import as_utc, utcnow
from ..text.diff import DIFF_DELETE, DIFF_INSERT, word_diff
from ..text.numbered_diff import visible_diff
from .models import Release, ReleaseSection
from .services import versions_by_id

__all__ = ["AdoptedAmendment", "CHANGE_LABELS", "SectionChange", "compare_texts", "heading_diff", "summary"]

ADDED, REMOVED, CHANGED, RETITLED, MOVED, UNCHANGED = "added", "removed", "changed", "retitled", "moved", "unchanged"
# Lazy: shown in the reader's language (str() them where a plain string is needed).
CHANGE_LABELS = {ADDED: _l("Added"), REMOVED: _l("Removed"), CHANGED: _l("Text changed"), RETITLED: _l("Retitled"),
                 MOVED: _l("Moved"), UNCHANGED: _l("Unchanged")}
ADOPTED = (Status.ACCEPTED.value, Status.ACCEPTED_MODIFIED.value)


@dataclass(frozen=True)
class AdoptedAmendment:
    """An amendment adopted between the two texts: enough to name it and link to it."""

    id: int
    code: str
    title: str  # "§3, lines 41–43", computed by the amendments area (no author's words)
    status: str  # accepted, accepted_modified
    kind: str  # modify, delete, insert

    @property
    def status_label(self) -> str:
        """Human name of the decision."""
        return Status(self.status).label


@dataclass
class SectionChange:
    """How one section changed from the old text to the new (fields of ``exports.document.RedlineSection``, and more).

    ``heading`` is the section's heading now (its last heading when removed);
    ``old_heading`` is the heading before, only when it was different
    (retitled), else None. ``diff_html`` is the word diff of the body with
    ``<ins>``/``<del>`` (all inserted for an added section, all deleted for a
    removed one, "" when the text is the same); it is safe HTML.
    """

    change: str
    number: int | None  # its number in the new text (None when removed)
    old_number: int | None  # its number in the old text (None when added)
    heading: str
    old_heading: str | None
    diff_html: str
    amendments: list[str] = field(default_factory=list)  # codes of the amendments adopted in between
    section_id: int = 0
    moved: bool = False
    retitled: bool = False
    text_changed: bool = False
    heading_diff_html: str = ""
    adopted: list[AdoptedAmendment] = field(default_factory=list)
    version_number: int | None = None  # the section's version in the new text
    old_version_number: int | None = None  # and in the old one

    @property
    def labels(self) -> list[str]:
        """Every kind of change this section went through, in words (current locale)."""
        if self.change in (ADDED, REMOVED, UNCHANGED):
            return [str(CHANGE_LABELS[self.change])]
        return [str(CHANGE_LABELS[kind]) for kind, flag in ((MOVED, self.moved), (RETITLED, self.retitled),
                                                       (CHANGED, self.text_changed)) if flag]


@dataclass(frozen=True)
class _Row:
    """One section of a text, without its body: enough to match and compare."""

    section_id: int
    version_id: int
    number: int  # 1..n in that text
    heading: str
    version_number: int


def _rows(document: Document, release: Release | None) -> list[_Row]:
    """A text's sections in order, light (no bodies): a release's frozen versions, or the live ones (one query)."""
    if release is None:
        result = db.session.execute(
            select(Section.id, SectionVersion.id, SectionVersion.heading, SectionVersion.number)
            .join(SectionVersion, SectionVersion.id == Section.current_version_id)
            .where(Section.document_id == document.id, Section.retired_at.is_(None))
            .order_by(Section.position)).all()
        return [_Row(section_id, version_id, n, heading, number)
                for n, (section_id, version_id, heading, number) in enumerate(result, start=1)]
    result = db.session.execute(
        select(ReleaseSection.section_id, ReleaseSection.version_id, ReleaseSection.position,
               SectionVersion.heading, SectionVersion.number)
        .join(SectionVersion, SectionVersion.id == ReleaseSection.version_id)
        .where(ReleaseSection.release_id == release.id)
        .order_by(ReleaseSection.position)).all()
    return [_Row(*row) for row in result]


def _moved(common_old_order: list[int], new_index: dict[int, int]) -> set[int]:
    """The shared sections that moved: all but a longest run that kept its order (longest increasing subsequence)."""
    sequence = [new_index[section_id] for section_id in common_old_order]
    tails: list[int] = []  # tails[k]: index in ``sequence`` of the smallest tail of a run of length k + 1
    tail_values: list[int] = []  # sequence[tails[k]], kept sorted for the binary search
    previous = [-1] * len(sequence)
    for i, value in enumerate(sequence):
        k = bisect_left(tail_values, value)
        if k:
            previous[i] = tails[k - 1]
        if k == len(tails):
            tails.append(i)
            tail_values.append(value)
        else:
            tails[k], tail_values[k] = i, value
    kept: set[int] = set()
    i = tails[-1] if tails else -1
    while i >= 0:
        kept.add(common_old_order[i])
        i = previous[i]
    return set(common_old_order) - kept


def heading_diff(old: str, new: str) -> str:
    """A one-line word diff of two headings, as phrasing content (it goes inside a heading element); safe HTML."""
    from ..templating import diff_labels

    labels = diff_labels()  # "inserted: ", "deleted: " for screen readers, in the reader's language
    inserted, deleted = html.escape(labels.inserted, quote=True), html.escape(labels.deleted, quote=True)
    parts = []
    for op, text in word_diff(old, new):
        escaped = html.escape(text, quote=True)
        if op == DIFF_INSERT:
            parts.append(f'<ins><span class="visually-hidden">{inserted}</span>{escaped}</ins>')
        elif op == DIFF_DELETE:
            parts.append(f'<del><span class="visually-hidden">{deleted}</span>{escaped}</del>')
        else:
            parts.append(escaped)
    return "".join(parts)


def _body_diff(old: SectionVersion, new: SectionVersion) -> str:
    """The word diff of two versions' bodies as they read (formatting shown, no Markdown), or "" when equal."""
    if old.body == new.body:
        return ""
    from ..templating import diff_labels

    return visible_diff(old.body, new.body, labels=diff_labels())


def _when(release: Release | None) -> datetime:
    """The moment a text stands for: a release's publication, or now for the live text."""
    return as_utc(release.created_at) if release is not None else utcnow()


def _adopted(document: Document, old_rows: dict[int, _Row], new_rows: dict[int, _Row],
             old: Release | None, new: Release | None) -> dict[int, list[AdoptedAmendment]]:
    """The amendments adopted between the two texts, by section (one query).

    Works whichever of the two texts is older: what lies between them is the same.
    """
    early, late = sorted([(_when(old), old_rows), (_when(new), new_rows)], key=lambda pair: pair[0])
    (start, early_rows), (end, late_rows) = early, late
    result = db.session.execute(
        select(Amendment.id, Amendment.number, Amendment.title, Amendment.summary, Amendment.status, Amendment.kind,
               Amendment.section_id, Amendment.decided_at,
               SectionVersion.section_id, SectionVersion.number, SectionVersion.created_at)
        .outerjoin(SectionVersion, SectionVersion.id == Amendment.result_version_id)
        .where(Amendment.document_id == document.id, Amendment.status.in_(ADOPTED),
               Amendment.number.is_not(None))
        .order_by(Amendment.number)).all()
    found: dict[int, list[AdoptedAmendment]] = {}
    for (amendment_id, number, title, summary, status, kind, target_id, decided_at,
         section_id, version_number, version_created) in result:
        item = AdoptedAmendment(amendment_id, f"A-{number:03d}", display_title(summary, title), status, kind)
        if section_id is None:  # an accepted deletion: the section left the text when it was decided
            decided = as_utc(decided_at)
            if (kind == Kind.DELETE and target_id is not None and decided is not None
                    and start < decided <= end and target_id in early_rows and target_id not in late_rows):
                found.setdefault(target_id, []).append(item)
            continue
        before, after = early_rows.get(section_id), late_rows.get(section_id)
        created = as_utc(version_created)
        above_start = version_number > before.version_number if before else created > start
        below_end = version_number <= after.version_number if after else created <= end
        if above_start and below_end:
            found.setdefault(section_id, []).append(item)
    return found


def compare_texts(document: Document, old: Release | None, new: Release | None) -> list[SectionChange]:
    """Compare two texts of ``document`` (None stands for the live text) section by section.

    Returns every section of either text once, in the new text's order, with
    each removed section after the one that preceded it in the old text.
    A bounded number of queries, whatever the number of sections.
    """
    old_list, new_list = _rows(document, old), _rows(document, new)
    old_rows = {row.section_id: row for row in old_list}
    new_rows = {row.section_id: row for row in new_list}
    common_old_order = [row.section_id for row in old_list if row.section_id in new_rows]
    moved = _moved(common_old_order, {row.section_id: row.number for row in new_list})

    needed = [row.version_id for row in new_list if old_rows.get(row.section_id, None) is None
              or old_rows[row.section_id].version_id != row.version_id]
    needed += [row.version_id for row in old_list if row.section_id not in new_rows
               or new_rows[row.section_id].version_id != row.version_id]
    versions = versions_by_id(needed)
    adopted = _adopted(document, old_rows, new_rows, old, new)

    # Removed sections go after the section that preceded them in the old text (or first).
    removed_after: dict[int | None, list[_Row]] = {}
    anchor: int | None = None
    for row in old_list:
        if row.section_id in new_rows:
            anchor = row.section_id
        else:
            removed_after.setdefault(anchor, []).append(row)

    changes: list[SectionChange] = [_removed(row, versions, adopted) for row in removed_after.get(None, [])]
    for row in new_list:
        before = old_rows.get(row.section_id)
        if before is None:
            changes.append(_added(row, versions, adopted))
        else:
            changes.append(_kept(before, row, row.section_id in moved, versions, adopted))
            changes.extend(_removed(gone, versions, adopted) for gone in removed_after.get(row.section_id, []))
    return changes


def _added(row: _Row, versions: dict[int, SectionVersion], adopted) -> SectionChange:
    """A section only the new text has: all of its text inserted."""
    body = versions[row.version_id].body
    items = adopted.get(row.section_id, [])
    return SectionChange(ADDED, row.number, None, row.heading, None,
                         visible_diff("", body) if body else "",
                         [item.code for item in items], row.section_id, text_changed=True, adopted=items,
                         version_number=row.version_number)


def _removed(row: _Row, versions: dict[int, SectionVersion], adopted) -> SectionChange:
    """A section only the old text has: all of its text deleted."""
    body = versions[row.version_id].body
    items = adopted.get(row.section_id, [])
    return SectionChange(REMOVED, None, row.number, row.heading, None,
                         visible_diff(body, "") if body else "",
                         [item.code for item in items], row.section_id, text_changed=True, adopted=items,
                         old_version_number=row.version_number)


def _kept(before: _Row, after: _Row, moved: bool, versions: dict[int, SectionVersion], adopted) -> SectionChange:
    """A section both texts have: moved, retitled, changed, or not at all."""
    items = adopted.get(after.section_id, [])
    retitled = before.heading != after.heading
    diff = ""
    if before.version_id != after.version_id:
        diff = _body_diff(versions[before.version_id], versions[after.version_id])
    change = CHANGED if diff else RETITLED if retitled else MOVED if moved else UNCHANGED
    return SectionChange(
        change, after.number, before.number, after.heading, before.heading if retitled else None, diff,
        [item.code for item in items], after.section_id, moved=moved, retitled=retitled, text_changed=bool(diff),
        heading_diff_html=heading_diff(before.heading, after.heading) if retitled else "",
        adopted=items, version_number=after.version_number, old_version_number=before.version_number)


def summary(changes: list[SectionChange]) -> dict[str, int]:
    """How many sections went through each kind of change (a section can count under several)."""
    counts = {kind: 0 for kind in CHANGE_LABELS}
    for change in changes:
        if change.change in (ADDED, REMOVED, UNCHANGED):
            counts[change.change] += 1
            continue
        counts[MOVED] += change.moved
        counts[RETITLED] += change.retitled
        counts[CHANGED] += change.text_changed
    return counts
