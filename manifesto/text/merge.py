"""Three-way merge: carry an amendment written on one version onto a newer one (rebase).

Hunk by hunk, verified from both sides; diff-match-patch's ``patch_apply``
is only a cross-check, because it can land a hunk a few characters off.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from diff_match_patch import diff_match_patch

from .diff import (
    Hunk,
    apply_hunks,
    changed_ranges,
    hunks_overlap,
    insertion_order,
    may_touch,
    ordered_hunks,
    overlapping_pairs,
    word_diff,
)

__all__ = ["Conflict", "RebaseResult", "carry_over", "changes_collide", "place_new_lines", "rebase"]


@dataclass(frozen=True)
class Conflict:
    """A base region that the proposal and the new version both changed."""

    base_start: int
    base_end: int
    base_text: str
    proposal_text: str
    new_text: str


@dataclass
class RebaseResult:
    """Outcome of :func:`rebase`; ``text`` is None when there are conflicts."""

    text: str | None
    conflicts: list[Conflict] = field(default_factory=list)
    # (base, proposal, new) of a clean merge to cross-check, when asked for.
    cross_check: tuple[str, str, str] | None = field(default=None, repr=False, compare=False)

    @property
    def clean(self) -> bool:
        """True when the proposal applied without conflicts."""
        return not self.conflicts and self.text is not None

    @cached_property
    def patch_apply_agreed(self) -> bool | None:
        """Diagnostics only: whether diff-match-patch's own patch_apply produced the same text.

        None when the cross-check did not run. It runs when first read, not
        in :func:`rebase`: rebasing the open amendments of a section never
        reads it, and patch_make and patch_apply are a good part of a merge.
        """
        if self.cross_check is None or self.text is None:
            return None
        return _patch_apply_agrees(*self.cross_check, self.text)


def _shift(hunk: Hunk, others: Sequence[Hunk], base: str) -> Hunk:
    """Move a base-coordinate hunk into the text produced by applying ``others``."""
    delta = sum(len(o.text) - (o.end - o.start) for o in others if _before(o, hunk, base))
    return Hunk(hunk.start + delta, hunk.end + delta, hunk.text)


def _before(other: Hunk, hunk: Hunk, base: str) -> bool:
    """Tell whether ``other``'s change lands before ``hunk``'s in the merged text."""
    if other.end != hunk.start or other.start != hunk.end:
        return other.end <= hunk.start
    # Two insertions at one point: in their one sensible order, if they have
    # one (the rest conflicts before anything is moved).
    return insertion_order(other, hunk, base) != (hunk, other)


def _apply_moved(
    base: str, target: str, target_hunks: Sequence[Hunk], hunks: Sequence[Hunk]
) -> str | None:
    """Apply base hunks to ``target`` (= base + target_hunks); None if the mapping is unsound."""
    moved = [_shift(hunk, target_hunks, base) for hunk in hunks]
    for original, shifted in zip(hunks, moved, strict=True):
        if target[shifted.start : shifted.end] != base[original.start : original.end]:
            return None
    try:
        return apply_hunks(target, moved)
    except ValueError:
        return None


def _apply_within(base: str, start: int, end: int, hunks: Iterable[Hunk]) -> str:
    """What a side makes of ``base[start:end]``, given all its hunks."""
    inside = [
        Hunk(h.start - start, h.end - start, h.text)
        for h in hunks
        if start <= h.start and h.end <= end
    ]
    return apply_hunks(base[start:end], inside)


def _side_hunks(base: str, proposal: str, new: str) -> tuple[list[Hunk], list[Hunk]]:
    """Each side's changes to ``base``, new lines placed where they merge with the other side's.

    Inserting "item\n" at the start of a line is the same change as inserting
    "\nitem" at the end of the line before; each diff picks one of the two
    on its own. Where the other side deletes or extends a line right there,
    the place that lets both merge (:func:`diff.may_touch`) is taken. The
    text each side makes of ``base`` stays the same, and the merge is still
    verified from both sides.
    """
    p_hunks = changed_ranges(word_diff(base, proposal))
    n_hunks = changed_ranges(word_diff(base, new))
    p_hunks = place_new_lines(p_hunks, n_hunks, base)
    return p_hunks, place_new_lines(n_hunks, p_hunks, base)


def place_new_lines(mine: Sequence[Hunk], theirs: Sequence[Hunk], base: str) -> list[Hunk]:
    """``mine``, each whole-line insertion moved one line break earlier or later where only there it merges.

    The rebase's placing of one side's new lines against the other side's changes (:func:`_side_hunks`),
    also used by the collision warnings on stored spans: a new line that touches ``theirs`` in a way
    that does not merge, but would merge one break away, is taken there. What ``mine`` makes of ``base``
    is unchanged.
    """
    placed = list(mine)
    for index, hunk in enumerate(placed):
        other_place = _other_line_place(hunk, base)
        if other_place is None:
            continue
        touching = [theirs[j] for _, j in overlapping_pairs([hunk], theirs, base)]
        if touching and not all(may_touch(hunk, h, base) for h in touching) and all(
            may_touch(other_place, h, base) for h in touching
        ):
            placed[index] = other_place
    placed.sort()  # still in order (a hunk moved by one break passes no other): for the bisection
    return placed


def changes_collide(first: Sequence[Hunk], second: Sequence[Hunk], base: str) -> bool:
    """Whether two sides' changes of ``base`` touch where the rebase would not merge them.

    The rebase's own rule on changes given as hunks (the collision warnings' stored spans): new lines
    placed by :func:`place_new_lines`, the same change on both sides shared, and touching changes
    colliding unless :func:`diff.may_touch` finds their one sensible merge. The rebase still verifies
    every merge from both sides, so it may conflict where this says they do not collide; never the
    other way.
    """
    first = place_new_lines(first, second, base)
    second = place_new_lines(second, first, base)
    shared = set(first) & set(second)
    return any(hunks_overlap(a, b, base) and not may_touch(a, b, base)
               for a in first if a not in shared for b in second if b not in shared)


def _other_line_place(hunk: Hunk, base: str) -> Hunk | None:
    """The same whole-line insertion one line break earlier or later, if there is one."""
    if hunk.start != hunk.end or not hunk.text:
        return None
    at, text = hunk.start, hunk.text
    for brk in ("\r\n", "\n", "\r"):
        if text.endswith(brk) and base[max(at - len(brk), 0) : at] == brk and text != brk:
            return Hunk(at - len(brk), at - len(brk), brk + text[: -len(brk)])
        if text.startswith(brk) and base[at : at + len(brk)] == brk and text != brk:
            return Hunk(at + len(brk), at + len(brk), text[len(brk) :] + brk)
    return None


def _conflict_regions(
    base: str, proposal_hunks: list[Hunk], new_hunks: list[Hunk], shared: set[Hunk]
) -> list[tuple[int, int]]:
    """Base regions where proposal and new changes collide, merged transitively.

    Changes that touch collide, unless they still merge in one sensible way
    (:func:`diff.may_touch`: whole lines beside a deletion or a line's extension).
    """
    proposal_only = [h for h in proposal_hunks if h not in shared]
    new_only = [h for h in new_hunks if h not in shared]
    spans = [
        (min(p.start, n.start), max(p.end, n.end))
        for i, j in overlapping_pairs(proposal_only, new_only, base)
        for p, n in [(proposal_only[i], new_only[j])]
        if not may_touch(p, n, base)
    ]
    if not spans:
        return []
    everything = proposal_hunks + new_hunks
    while True:
        # Merge spans that touch, then swallow every hunk touching a span,
        # until stable: each side's hunks then lie wholly inside or outside.
        spans.sort()
        merged = [spans[0]]
        for start, end in spans[1:]:
            if start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        grown = [
            (
                min([start] + [h.start for h in everything if h.start <= end and start <= h.end]),
                max([end] + [h.end for h in everything if h.start <= end and start <= h.end]),
            )
            for start, end in merged
        ]
        if grown == merged:
            return merged
        spans = grown


def _verify(
    base: str, proposal: str, new: str, p_hunks: list[Hunk], n_hunks: list[Hunk], merged: str
) -> bool:
    """Check the merge independently from both sides."""
    shared = set(p_hunks) & set(n_hunks)
    new_only = [h for h in n_hunks if h not in shared]
    proposal_only = [h for h in p_hunks if h not in shared]
    from_proposal = _apply_moved(base, proposal, p_hunks, new_only)
    from_new = _apply_moved(base, new, n_hunks, proposal_only)
    return from_proposal == merged and from_new == merged


def _patch_apply_agrees(base: str, proposal: str, new: str, merged: str) -> bool:
    """Cross-check against diff-match-patch's fuzzy patch_apply (never trusted alone)."""
    dmp = diff_match_patch()
    result, applied = dmp.patch_apply(dmp.patch_make(base, proposal), new)
    return all(applied) and result == merged


def _whole_conflict(base: str, proposal: str, new: str, hunks: Sequence[Hunk]) -> Conflict:
    """One conflict spanning every change: the fallback when verification fails."""
    start = min(h.start for h in hunks)
    end = max(h.end for h in hunks)
    tail = len(base) - end
    return Conflict(
        start,
        end,
        base[start:end],
        proposal[start : len(proposal) - tail],
        new[start : len(new) - tail],
    )


def rebase(base: str, proposal: str, new: str, *, cross_check: bool = True) -> RebaseResult:
    """Three-way merge: re-apply the base->proposal changes onto ``new``."""
    if base == new:
        return RebaseResult(proposal)
    if base == proposal or proposal == new:
        return RebaseResult(new)

    p_hunks, n_hunks = _side_hunks(base, proposal, new)
    shared = set(p_hunks) & set(n_hunks)
    regions = _conflict_regions(base, p_hunks, n_hunks, shared)
    if regions:
        return RebaseResult(
            None,
            [
                Conflict(
                    start,
                    end,
                    base[start:end],
                    _apply_within(base, start, end, p_hunks),
                    _apply_within(base, start, end, n_hunks),
                )
                for start, end in regions
            ],
        )

    merged_hunks = ordered_hunks(set(p_hunks) | set(n_hunks), base)
    try:
        merged: str | None = apply_hunks(base, merged_hunks)
    except ValueError:
        merged = None
    if merged is None or not _verify(base, proposal, new, p_hunks, n_hunks, merged):
        return RebaseResult(None, [_whole_conflict(base, proposal, new, p_hunks + n_hunks)])
    return RebaseResult(merged, cross_check=(base, proposal, new) if cross_check else None)


def carry_over(base: str, proposal: str, new: str) -> str:
    """Start a conflict resolution: ``new`` with every proposal change that still applies.

    Changes inside a conflict region are left out (``new`` keeps its own text
    there), so an author resolving a conflict never silently undoes what the
    new version changed elsewhere.
    """
    p_hunks, n_hunks = _side_hunks(base, proposal, new)
    shared = set(p_hunks) & set(n_hunks)
    regions = _conflict_regions(base, p_hunks, n_hunks, shared)
    kept = [
        h for h in p_hunks
        if h not in shared and not any(start <= h.end and h.start <= end for start, end in regions)
    ]
    return _apply_moved(base, new, n_hunks, kept) or new
