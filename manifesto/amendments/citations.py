"""Line citations that stay true: stored relative to the section's version, numbered at display time.

An amendment stores the lines it changes as numbered *within the version of
its section it is based on* (``Amendment.first_rel_line``/``last_rel_line``:
1 is that version's first line) and its numbered diff counted from 1 too.
Nothing stored names a document-wide line, so nothing can drift when an
earlier section grows, shrinks, moves, is inserted or retired.

Document-wide numbers are worked out where they are shown, against the
numbering being displayed (a :class:`Numbering`: where each section starts
and its number):

- the live text, :func:`live_numbering` — one light query per document,
  kept on the session until a section or one of its versions is written or
  the transaction ends, so a list of many amendments costs that one query;
- a release's frozen numbering, :meth:`Numbering.of` its entries (the
  releases area reads them; this area cannot import it).

A citation of a section missing from the numbering (retired, or not in that
release) keeps the section's own numbering (offset 0) and no section number,
as a retired section's amendments always showed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, bindparam, column, select, table

from ..documents.models import Section, SectionVersion
from ..extensions import db
from ..text.lines import Layout
from ..text.numbered_diff import amended_lines

_KEY = "amendments.live_numbering"


@dataclass(frozen=True)
class Place:
    """Where one section stands in a numbering: its number (None: not in it) and the line before its first."""

    number: int | None
    offset: int


NOWHERE = Place(None, 0)


@dataclass(frozen=True)
class Numbering:
    """One numbering of a document's lines: each section's number and first line, by section id."""

    places: dict[int, Place]

    @classmethod
    def of(cls, entries: Iterable[Any]) -> Numbering:
        """From sections as the pages list them (``.section`` or ``.section_id``, ``.number``, ``.first_line``)."""
        places = {}
        for entry in entries:
            section_id = getattr(entry, "section_id", None)
            if section_id is None and getattr(entry, "section", None) is not None:
                section_id = entry.section.id
            if section_id:
                places[section_id] = Place(entry.number, entry.first_line - 1)
        return cls(places)

    def place(self, section_id: int | None) -> Place:
        """Where a section stands; :data:`NOWHERE` for one not in this numbering."""
        return self.places.get(section_id, NOWHERE) if section_id is not None else NOWHERE

    def lines(self, section_id: int | None, first: int | None, last: int | None) -> tuple[int, int] | None:
        """Document-wide numbers of a section's relative lines ``first``–``last``; None without lines."""
        if first is None or last is None:
            return None
        offset = self.place(section_id).offset
        return first + offset, last + offset


def live_numbering(document_id: int) -> Numbering:
    """The live text's numbering (one light query: no texts), kept until a section changes or the transaction ends."""
    cache = db.session.info.setdefault(_KEY, {})
    numbering = cache.get(document_id)
    if numbering is None:
        rows = db.session.execute(
            select(Section.id, SectionVersion.line_count)
            .join(SectionVersion, SectionVersion.id == Section.current_version_id)
            .where(Section.document_id == document_id, Section.retired_at.is_(None))
            .order_by(Section.position)).all()
        places, next_line = {}, 1
        for number, (section_id, line_count) in enumerate(rows, start=1):
            places[section_id] = Place(number, next_line - 1)
            next_line += line_count or 0
        numbering = cache[document_id] = Numbering(places)
    return numbering


def forget_after_flush(session, _context) -> None:
    """A flush that wrote a section or a version renumbers the text: read the numbering again (session hook)."""
    if not session.info.get(_KEY):
        return
    if any(isinstance(obj, (Section, SectionVersion)) for obj in chain(session.new, session.dirty, session.deleted)):
        session.info.pop(_KEY, None)


def forget_after_transaction(session, _transaction) -> None:
    """Another transaction may see another text (session hook).

    Every flush runs in a subtransaction of its own, whose end fires this hook too: those are not the end
    of anything (the flush hook above judges what they wrote). A savepoint's end may undo a section
    written inside it, so it forgets; the outermost transaction's end always does.
    """
    if _transaction.parent is None or _transaction.nested:
        session.info.pop(_KEY, None)


SESSION_HOOKS = (("after_flush", forget_after_flush), ("after_transaction_end", forget_after_transaction))


def numbering_for(document_id: int, numbering: Numbering | None) -> Numbering:
    """``numbering``, or the live text's."""
    return numbering if numbering is not None else live_numbering(document_id)


# A numbered diff's line numbers (text/numbered_diff.py): stored counted from 1, shifted where shown.
_NUMBER = re.compile(r'<span class="ln">(\d+)</span>')


def shift_numbers(html: str | None, offset: int) -> str | None:
    """A numbered diff stored with the section's own numbers, numbered from ``offset + 1``."""
    if not html or not offset:
        return html
    return _NUMBER.sub(lambda m: f'<span class="ln">{int(m[1]) + offset}</span>', html)


# ------------------------------------------------------------------ titles

# Title data (wording.title_data) that names its place (``"in": [document_id, section_id]``) holds
# relative lines and is numbered where shown; data without it (older rows) shows as it was stored.

def placed_title(data: dict[str, Any], numbering: Numbering | None = None) -> dict[str, Any]:
    """Title data with the section's number and document-wide lines in ``numbering`` (the live one by default)."""
    where = data.get("in")
    if not where:
        return data
    document_id, section_id = where
    place = numbering_for(document_id, numbering).place(section_id)
    placed = {key: value for key, value in data.items() if key != "in"}
    if data.get("kind") == "insert":
        if place.number is not None:  # else (the section it follows retired since) as stored
            placed["after"] = place.number
        return placed
    placed["section"] = place.number
    if data.get("first") is not None:
        placed["first"] = data["first"] + place.offset
        placed["last"] = (data.get("last") or data["first"]) + place.offset
    return placed


# ------------------------------------------------------------------ rows written before

def relative_columns(document_id: int, kind: str, section_id: int | None, base_body: str | None,
                     base_layout: Layout | None, proposed: str | None, hunks: list | None,
                     summary: dict[str, Any] | None) -> dict[str, Any]:
    """An amendment's citation columns as ``describe`` stores them, from a row that cited document-wide lines.

    For rows written before citations were relative (an archive from before
    migration 0019): its lines and numbered diff are counted again over its
    base version, and its title's data names its place, with relative lines.
    """
    title = dict((summary or {}).get("title") or {})
    if title:
        title["in"] = [document_id, section_id]
    values: dict[str, Any] = {"summary": {**summary, "title": title} if title else summary}
    if kind == "insert" or base_body is None or base_layout is None:
        return values
    lines = amended_lines(base_body, base_layout, None if kind == "delete" else proposed, hunks or [])
    if title and kind == "modify":  # as describe words it: lines only when some changed
        title.pop("first", None), title.pop("last", None)
        if lines.line_range:
            title["first"], title["last"] = lines.first_line, lines.last_line
    values.update(first_rel_line=lines.first_line, last_rel_line=lines.last_line, diff_inline_html=lines.diff_html)
    return values


# The columns read and written (a table of its own, not the model's, which imports this module).
_AMENDMENTS = table("amendments", column("id", Integer), column("document_id", Integer), column("kind", String),
                    column("section_id", Integer), column("base_version_id", Integer), column("proposed_body", Text),
                    column("hunks", JSON), column("summary", JSON), column("first_rel_line", Integer),
                    column("last_rel_line", Integer), column("diff_inline_html", Text))


def renumber_rows(connection, amendment_ids: Iterable[int], batch: int = 200) -> None:
    """Store relative citations for the amendments ``amendment_ids``, written with document-wide ones."""
    ids = sorted(amendment_ids)
    amendments, versions = _AMENDMENTS, SectionVersion.__table__
    columns = ("first_rel_line", "last_rel_line", "diff_inline_html", "summary")
    statements = {keys: amendments.update().where(amendments.c.id == bindparam("b_id"))
                  .values({key: bindparam(f"b_{key}", type_=JSON(none_as_null=True) if key == "summary"
                                          else amendments.c[key].type) for key in keys})
                  for keys in (columns, ("summary",))}
    for start in range(0, len(ids), batch):
        a = amendments.c
        rows = connection.execute(
            select(a.id, a.document_id, a.kind, a.section_id, a.proposed_body, a.hunks, a.summary, versions.c.body,
                   versions.c.layout_json)
            .select_from(amendments.outerjoin(versions, versions.c.id == a.base_version_id))
            .where(a.id.in_(ids[start:start + batch]))).all()
        updates: dict[tuple[str, ...], list[dict[str, Any]]] = {keys: [] for keys in statements}
        for row in rows:
            base_layout = Layout.from_json(row.body, json.loads(row.layout_json)) if row.body is not None else None
            values = relative_columns(row.document_id, row.kind, row.section_id, row.body, base_layout,
                                      row.proposed_body, row.hunks, row.summary)
            keys = columns if "first_rel_line" in values else ("summary",)
            updates[keys].append({"b_id": row.id, **{f"b_{key}": values[key] for key in keys}})
        for keys, params in updates.items():
            if params:
                connection.execute(statements[keys], params)
