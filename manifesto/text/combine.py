"""Combine many amendments of one text at once: the merge workspace's engine.

Every amendment is written on the same base. Its *changes* are its hunks
(``changed_ranges(word_diff(base, text))``), each with a stable id
``"<key>.<n>"`` (n from 1, in text order). Changes whose base reaches
overlap or touch, by the rebase's own criterion (``hunks_overlap``, which
``merge.rebase`` asks through ``overlapping_pairs``), are grouped
transitively into *places*, so whatever two amendments would rebase onto
each other cleanly is never offered as an alternative.

A place is *colliding* when two different amendments' changes in it collide.
What does not collide: the very same change made by two amendments (it goes
in once); two touching changes that the rebase merges (``diff.may_touch``:
whole new lines beside a deletion or a line's extension); and two pure
insertions at one point, kept in amendment order as the issue asks, unless
one extends a line and the other adds whole lines (then in their one
sensible order, ``diff.insertion_order``, as the rebase does). At a
colliding place each amendment offers an *alternative*: what it makes of
the whole place's base region.

*Choices* map a place's id (its first change's id) to an ordered list:
the chosen change ids at a non-colliding place (any subset; applied in
amendment order whatever the list's order), or the chosen amendments' keys
at a colliding place (none: the base text stays; one: its alternative;
several: their region texts in the moderator's order, which needs checking
by hand).

:func:`compose` verifies what it builds from a second side, as
``merge.rebase`` does: an amendment taken whole at places nobody else's
change was taken must come out exactly as its own text plus the other taken
changes moved onto it. A mismatch raises :class:`CombineError`; text is
never silently wrong. Pure: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .diff import (DIFF_EQUAL, DiffOp, Hunk, apply_hunks, changed_ranges, hunks_overlap, may_touch, order_insertions,
                   word_diff)
from .merge import place_new_lines

__all__ = [
    "Alternative",
    "Change",
    "CombineError",
    "Outcome",
    "Place",
    "Workspace",
    "clean_choices",
    "compose",
    "composed_diff",
    "needs_check",
    "outcomes",
    "take_all",
    "workspace",
]

Choices = Mapping[str, Sequence[str]]


class CombineError(ValueError):
    """Choices that name nothing in the workspace, or a result that failed verification."""


@dataclass(frozen=True)
class Change:
    """One change of one amendment: replace ``base[start:end]`` with ``text``."""

    id: str
    key: str
    number: int
    hunk: Hunk

    @property
    def start(self) -> int:
        """Where the change starts in the base."""
        return self.hunk.start

    @property
    def end(self) -> int:
        """Where the change ends in the base."""
        return self.hunk.end

    @property
    def text(self) -> str:
        """What the change puts there."""
        return self.hunk.text

    @property
    def is_insertion(self) -> bool:
        """True when the change removes nothing."""
        return self.hunk.start == self.hunk.end


@dataclass(frozen=True)
class Alternative:
    """What one amendment makes of a colliding place's whole region."""

    key: str
    change_ids: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Place:
    """Changes that touch, transitively; ``base[start:end]`` is the region they change."""

    id: str
    start: int
    end: int
    base_text: str
    changes: tuple[Change, ...]
    colliding: bool
    alternatives: tuple[Alternative, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        """The amendments with a change here, in amendment order (as the changes are sorted)."""
        return tuple(dict.fromkeys(change.key for change in self.changes))

    def alternative(self, key: str) -> Alternative:
        """The alternative of amendment ``key`` (a colliding place only)."""
        for alternative in self.alternatives:
            if alternative.key == key:
                return alternative
        raise CombineError(f"no alternative of {key!r} at place {self.id}")


@dataclass(frozen=True)
class Outcome:
    """What the choices take of one amendment: its taken change ids of all its changes."""

    key: str
    taken: tuple[str, ...]
    total: int

    @property
    def whole(self) -> bool:
        """Every change taken (an amendment without changes is never whole)."""
        return self.total > 0 and len(self.taken) == self.total

    @property
    def none(self) -> bool:
        """No change taken."""
        return not self.taken


@dataclass(frozen=True)
class Workspace:
    """The places of every amendment's changes on one base."""

    base: str
    keys: tuple[str, ...]
    texts: Mapping[str, str]
    places: tuple[Place, ...]
    changes: Mapping[str, Change] = field(repr=False)
    changes_of: Mapping[str, tuple[str, ...]] = field(repr=False)

    def place(self, place_id: str) -> Place:
        """A place by id.

        :raises CombineError:
        """
        for place in self.places:
            if place.id == place_id:
                return place
        raise CombineError(f"no place {place_id!r}")

    def segments(self) -> Iterable[tuple[str, Place | None]]:
        """The base as (unchanged text, None) and (region text, place) pieces, in order, for display."""
        position = 0
        for place in self.places:
            if place.start > position:
                yield self.base[position:place.start], None
            yield place.base_text, place
            position = place.end
        if position < len(self.base):
            yield self.base[position:], None


def _collide(a: Change, b: Change, base: str) -> bool:
    """Whether two touching changes of different amendments compete (the caller knows they touch)."""
    if a.hunk == b.hunk:
        return False  # the same change, made twice: it goes in once
    if a.is_insertion and b.is_insertion and a.start == b.start:
        return False  # kept in amendment order (or their one sensible order)
    return not may_touch(a.hunk, b.hunk, base)  # the rebase's own exception: they merge in one way


def workspace(base: str, amendments: Sequence[tuple[str, str]]) -> Workspace:
    """Find every amendment's changes on ``base`` and group them into places.

    ``amendments`` are ordered (key, text) pairs, each written on ``base``;
    their order is the amendment order that same-point insertions keep.

    :raises CombineError: on a repeated key.
    """
    keys = tuple(key for key, _ in amendments)
    if len(set(keys)) != len(keys):
        raise CombineError("amendment keys must be unique")
    order = {key: index for index, key in enumerate(keys)}
    hunks = {key: changed_ranges(word_diff(base, text)) for key, text in amendments}
    for key in keys if len(keys) > 1 else ():
        # A new line one break earlier or later where only there it merges with the others, as the rebase
        # places it (merge.place_new_lines): each amendment alone still makes the same text.
        others = sorted(hunk for other in keys if other != key for hunk in hunks[other])
        hunks[key] = place_new_lines(hunks[key], others, base)
    changes = {key: [Change(f"{key}.{n}", key, n, hunk) for n, hunk in enumerate(hunks[key], 1)]
               for key in keys}
    every = [change for key in keys for change in changes[key]]
    parent = {change.id: change.id for change in every}

    def find(change_id: str) -> str:
        while parent[change_id] != change_id:
            parent[change_id] = parent[parent[change_id]]
            change_id = parent[change_id]
        return change_id

    def union(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    colliding_pairs: list[tuple[Change, Change]] = []
    for a, b in _touching(base, every):  # the rebase's criterion (hunks_overlap), on the pairs that may touch
        union(a.id, b.id)  # one amendment's own neighbouring changes may touch too: one place
        if a.key != b.key and _collide(a, b, base):
            colliding_pairs.append((a, b))
    groups: dict[str, list[Change]] = {}
    for change in every:
        groups.setdefault(find(change.id), []).append(change)
    colliding_roots = {find(a.id) for a, _ in colliding_pairs}
    places = []
    for root, members in groups.items():
        members.sort(key=lambda c: (order[c.key], c.start))
        start, end = min(c.start for c in members), max(c.end for c in members)
        colliding = root in colliding_roots
        alternatives: tuple[Alternative, ...] = ()
        if colliding:
            alternatives = tuple(
                Alternative(key, tuple(c.id for c in members if c.key == key),
                            _within(base, start, end, [c.hunk for c in members if c.key == key]))
                for key in dict.fromkeys(c.key for c in members))
        places.append(Place(members[0].id, start, end, base[start:end], tuple(members), colliding, alternatives))
    places.sort(key=lambda p: (p.start, p.end))
    return Workspace(base, keys, dict(amendments), tuple(places), {c.id: c for c in every},
                     {key: tuple(c.id for c in changes[key]) for key in keys})


def _touching(base: str, changes: Sequence[Change]) -> Iterable[tuple[Change, Change]]:
    """Every pair of changes that overlap or touch (``diff.hunks_overlap``), each pair once.

    Changes only touch across whitespace, so once sorted by where they start
    each is compared with those starting before the end of the blank run
    after it, not with all the others (40 amendments make 780 pairs of them).
    """
    ordered = sorted(changes, key=lambda c: (c.start, c.end))
    for index, a in enumerate(ordered):
        limit = a.end
        while limit < len(base) and base[limit].isspace():
            limit += 1
        for b in ordered[index + 1:]:
            if b.start > limit:
                break
            if hunks_overlap(a.hunk, b.hunk, base):
                yield a, b


def _within(base: str, start: int, end: int, hunks: Iterable[Hunk]) -> str:
    """What some hunks (all inside ``base[start:end]``) make of that region."""
    return apply_hunks(base[start:end], sorted(Hunk(h.start - start, h.end - start, h.text) for h in hunks))


def clean_choices(work: Workspace, choices: Mapping[str, Iterable[str]] | None) -> dict[str, list[str]]:
    """Keep only what names something in ``work``: known places, their own change ids or keys, once each.

    A draft's stored choices are cleaned this way when its amendments changed since it was saved.
    """
    cleaned: dict[str, list[str]] = {}
    for place in work.places:
        wanted = (choices or {}).get(place.id) or ()
        allowed = place.keys if place.colliding else tuple(c.id for c in place.changes)
        kept = list(dict.fromkeys(item for item in wanted if item in allowed))
        if kept:
            cleaned[place.id] = kept
    return cleaned


def take_all(work: Workspace, keys: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Choices taking every change of ``keys`` (all amendments by default), colliding ones in amendment order."""
    wanted = set(work.keys if keys is None else keys)
    choices: dict[str, list[str]] = {}
    for place in work.places:
        if place.colliding:
            chosen = [key for key in place.keys if key in wanted]
        else:
            chosen = [c.id for c in place.changes if c.key in wanted]
        if chosen:
            choices[place.id] = chosen
    return choices


def _checked(work: Workspace, choices: Choices) -> dict[str, list[str]]:
    """The choices, refusing anything they name that the workspace does not have.

    :raises CombineError:
    """
    known = {place.id for place in work.places}
    unknown = set(choices) - known
    if unknown:
        raise CombineError(f"unknown places {sorted(unknown)}")
    cleaned = clean_choices(work, choices)
    for place_id, items in choices.items():
        if len(cleaned.get(place_id, [])) != len(list(items)):
            raise CombineError(f"place {place_id}: choices {list(items)} name something else or twice")
    return cleaned


def _place_text(work: Workspace, place: Place, chosen: Sequence[str]) -> str:
    """What the chosen changes (or alternatives, in order) make of one place's region."""
    if not chosen:
        return place.base_text
    if place.colliding:
        texts = [place.alternative(key).text for key in chosen]
        joined = texts[0]
        for text in texts[1:]:
            if place.start != place.end and joined and text and not (joined[-1].isspace() or text[0].isspace()):
                joined += " "  # two versions of the same words side by side: never glued into one word
            joined += text
        return joined
    order = {key: index for index, key in enumerate(work.keys)}
    taken = sorted((work.changes[i] for i in chosen), key=lambda c: (c.start, c.end, order[c.key]))
    hunks: list[Hunk] = []
    at_point: list[Hunk] = []  # insertions at one point, in amendment order, until the point is passed

    def settle() -> None:
        """Join the insertions gathered at one point, each in its sensible place (else amendment order)."""
        if at_point:
            ordered = order_insertions(at_point, work.base)  # as the rebase orders two of them (H-text)
            hunks.append(Hunk(at_point[0].start, at_point[0].end, "".join(h.text for h in ordered)))
            at_point.clear()

    for change in taken:
        hunk = change.hunk
        if hunk in at_point or (hunks and hunks[-1] == hunk):
            continue  # the same change by two amendments
        if hunk.start == hunk.end:
            if at_point and at_point[0].start != hunk.start:
                settle()
            at_point.append(hunk)
            continue
        settle()
        hunks.append(hunk)
    settle()
    return _within(work.base, place.start, place.end, hunks)


def _effective_hunks(work: Workspace, choices: Choices) -> list[Hunk]:
    """One hunk per place with a choice: its region and what the choice makes of it."""
    return [Hunk(place.start, place.end, _place_text(work, place, choices[place.id]))
            for place in work.places if choices.get(place.id)]


def compose(work: Workspace, choices: Choices) -> str:
    """The text the choices make of the base.

    :raises CombineError: on choices naming something not in ``work``, or a failed verification.
    """
    cleaned = _checked(work, choices)
    effective = _effective_hunks(work, cleaned)
    try:
        result = apply_hunks(work.base, effective)
    except ValueError as exc:  # places never overlap; this would be a bug
        raise CombineError(str(exc)) from exc
    _verify(work, cleaned, result)
    return result


def _verify(work: Workspace, choices: dict[str, list[str]], result: str) -> None:
    """Check ``result`` from each wholly and solely taken amendment's own text.

    An amendment whose every change is taken, at places where nothing of
    another amendment was taken, must come out as its own text with the
    other taken changes moved onto it (their base offsets shifted by its
    own changes before them, and the base under them unchanged in its text).

    :raises CombineError:
    """
    taken_by: dict[str, set[str]] = {}  # place id -> the keys with something taken there
    for place in work.places:
        chosen = choices.get(place.id) or []
        taken_by[place.id] = set(chosen) if place.colliding else {work.changes[i].key for i in chosen}
    place_of = {change.id: place for place in work.places for change in place.changes}
    effective = _effective_hunks(work, choices)
    for key in work.keys:
        ids = work.changes_of[key]
        mine = {place_of[i].id: place_of[i] for i in ids}
        if not ids or any(taken_by[pid] != {key} for pid in mine):
            continue
        if any(i not in (choices.get(place_of[i].id) or []) for i in ids if not place_of[i].colliding):
            continue
        own = [work.changes[i].hunk for i in ids]
        regions = {(place.start, place.end) for place in mine.values()}
        others = [h for h in effective if (h.start, h.end) not in regions]
        text = work.texts[key]
        moved = []
        for hunk in others:
            delta = sum(len(o.text) - (o.end - o.start) for o in own if o.end <= hunk.start)
            shifted = Hunk(hunk.start + delta, hunk.end + delta, hunk.text)
            if text[shifted.start:shifted.end] != work.base[hunk.start:hunk.end]:
                raise CombineError(f"verification failed: {key} does not keep the base under another change")
            moved.append(shifted)
        try:
            again = apply_hunks(text, moved)
        except ValueError as exc:
            raise CombineError(f"verification failed for {key}: {exc}") from exc
        if again != result:
            raise CombineError(f"verification failed: the text from {key}'s side differs")


def composed_diff(work: Workspace, choices: Choices) -> list[DiffOp]:
    """The diff from the base to :func:`compose`'s text, built place by place (no diff of the whole text).

    The text outside the places is the base's, so only each place's region
    is diffed against what the choices make of it: scattered changes in a
    long section cost a few small diffs, not one long one.
    """
    cleaned = _checked(work, choices)
    ops: list[DiffOp] = []
    position = 0
    for hunk in _effective_hunks(work, cleaned):
        if hunk.start > position:
            ops.append((DIFF_EQUAL, work.base[position:hunk.start]))
        ops.extend(word_diff(work.base[hunk.start:hunk.end], hunk.text))
        position = hunk.end
    if position < len(work.base):
        ops.append((DIFF_EQUAL, work.base[position:]))
    return [op for op in ops if op[1]]


def needs_check(work: Workspace, choices: Choices) -> list[str]:
    """Ids of the places where several alternatives were chosen over a region that is not a pure insertion."""
    return [place.id for place in work.places
            if place.colliding and len(choices.get(place.id) or []) > 1 and place.start != place.end]


def outcomes(work: Workspace, choices: Choices) -> dict[str, Outcome]:
    """Per amendment, the changes the choices take of it.

    At a colliding place an amendment's chosen alternative takes all its
    changes there; at a non-colliding one a change is taken when it, or the
    very same change by another amendment, is chosen.
    """
    cleaned = _checked(work, choices)
    taken: set[str] = set()
    for place in work.places:
        chosen = cleaned.get(place.id) or []
        if place.colliding:
            taken.update(i for key in chosen for i in place.alternative(key).change_ids)
        else:
            hunks = {work.changes[i].hunk for i in chosen}
            taken.update(c.id for c in place.changes if c.hunk in hunks)
    return {key: Outcome(key, tuple(i for i in work.changes_of[key] if i in taken), len(work.changes_of[key]))
            for key in work.keys}
