"""What the merge pages show of a board, and how the workspace form is read back (one field per change)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from ...templating import diff_labels
from ...text.combine import Change, Place
from ...text.diff import word_diff
from ...text.diff_html import render_inline
from .services import STATUSES, Board, Composition, key_of


@dataclass(frozen=True)
class Owner:
    """One amendment's claim on a change shown once: its checkbox."""

    change_id: str
    amendment: Any
    number: int
    checked: bool


@dataclass(frozen=True)
class ShownChange:
    """A change at a non-colliding place: what it deletes and inserts, and whose it is (several: the same change)."""

    deleted: str
    inserted: str
    owners: list[Owner]


@dataclass(frozen=True)
class ShownAlternative:
    """One amendment's version of a colliding place, as a diff of the place's words."""

    key: str
    amendment: Any
    diff: Markup
    checked: bool
    order: int | None


def pieces(b: Board, choices: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The section's text in order: ("text", str), ("place", [str | ShownChange]), ("collision", (Place, [alts]))."""
    chosen = choices.get("places") or {}
    labels = diff_labels()
    by_key = b.by_key
    shown: list[tuple[str, Any]] = []
    for text, place in b.work.segments():
        if place is None:
            shown.append(("text", text))
        elif place.colliding:
            picked = list(chosen.get(place.id) or [])
            alternatives = [ShownAlternative(
                alt.key, by_key[alt.key],
                Markup(render_inline(word_diff(place.base_text, alt.text), labels=labels)),
                alt.key in picked, picked.index(alt.key) + 1 if alt.key in picked else None)
                for alt in place.alternatives]
            shown.append(("collision", (place, alternatives)))
        else:
            shown.append(("place", _place_pieces(b, place, set(chosen.get(place.id) or []))))
    return shown


def _place_pieces(b: Board, place: Place, picked: set[str]) -> list[str | ShownChange]:
    """A non-colliding place: the base between its changes, and each distinct change with its owners."""
    groups: dict[tuple[int, int, str], list[Change]] = {}
    for change in sorted(place.changes, key=lambda c: (c.start, c.end)):  # stable: amendment order kept
        groups.setdefault((change.start, change.end, change.text), []).append(change)
    out: list[str | ShownChange] = []
    position = place.start
    for (start, end, text), changes in groups.items():
        if start > position:
            out.append(b.work.base[position:start])
        out.append(ShownChange(b.work.base[max(start, position):end], text,
                               [Owner(c.id, b.by_key[c.key], c.number, c.id in picked) for c in changes]))
        position = max(position, end)
    if position < place.end:
        out.append(b.work.base[position:place.end])
    return out


def read_choices(b: Board, form: Mapping[str, Any]) -> dict[str, Any]:
    """The choices a workspace form sends: ticked changes, ticked alternatives in their numbered order, the heading."""
    taken = set(form.getlist("take"))
    places: dict[str, list[str]] = {}
    order = {key: index for index, key in enumerate(b.work.keys)}
    for place in b.work.places:
        if place.colliding:
            ticked = [key for key in form.getlist(f"alt-{place.id}") if key in place.keys]
            ticked = sorted(dict.fromkeys(ticked), key=lambda key: (_number(form.get(f"order-{place.id}-{key}")),
                                                                    order[key]))
            if ticked:
                places[place.id] = ticked
        else:
            ids = [c.id for c in place.changes if c.id in taken]
            if ids:
                places[place.id] = ids
    heading = form.get("heading") or None
    return {"places": places, "heading": heading if heading in b.headings else None}


def _number(value: str | None) -> int:
    """An order number as typed; a missing or unreadable one sorts last."""
    try:
        return int(value or "")
    except ValueError:
        return 1_000_000


def read_reasons(b: Board, form: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Each merged amendment's status and reason as the form sends them."""
    return {key_of(a): {"status": form.get(f"status-{a.id}") or "", "reason": form.get(f"reason-{a.id}") or ""}
            for a in b.amendments}


def read_seen(value: str | None) -> dict[str, int]:
    """The amendments' revisions the page was built on ("12:3,14:1")."""
    seen = {}
    for item in (value or "").split(","):
        key, _sep, revision = item.partition(":")
        if key.isdigit() and revision.isdigit():
            seen[key] = int(revision)
    return seen


def write_seen(seen: Mapping[str, int]) -> str:
    """The amendments' revisions, for the form's hidden field."""
    return ",".join(f"{key}:{revision}" for key, revision in seen.items())


def decisions(comp: Composition, reasons: Mapping[str, Mapping[str, str]], default_reason) -> list[dict[str, Any]]:
    """Per amendment: its verdict, the status shown (the moderator's if still allowed, else the default), the reason."""
    rows = []
    for verdict in comp.verdicts:
        mine = reasons.get(key_of(verdict.amendment)) or {}
        status = mine.get("status") if mine.get("status") in verdict.allowed else verdict.default
        reason = mine.get("reason") or ""
        if not reason.strip() or reason in {default_reason(verdict.amendment, s) for s in STATUSES}:
            reason = default_reason(verdict.amendment, status)  # a default follows the status it was made for
        rows.append({"verdict": verdict, "status": status, "reason": reason})
    return rows
