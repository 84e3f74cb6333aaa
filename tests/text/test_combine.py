"""Tests for manifesto.text.combine: many amendments of one base, taken change by change."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from manifesto.text.combine import (CombineError, clean_choices, compose, composed_diff, needs_check, outcomes,
                                    take_all, workspace)
from manifesto.text.diff import Hunk, order_insertions
from manifesto.text.merge import rebase

from .test_diff import _edit, _manifesto, random_text

BASE = (
    "Nous voulons une école publique.\n\n"
    "Le travail doit être digne et bien payé.\n\n"
    "La santé pour tous."
)


def _choices_taking(work, taken: set[str]) -> dict[str, list[str]]:
    """Choices taking exactly the change ids in ``taken`` at non-colliding places."""
    return {place.id: [c.id for c in place.changes if c.id in taken]
            for place in work.places if not place.colliding and any(c.id in taken for c in place.changes)}


def test_nothing_taken_is_the_base_and_one_amendment_whole_is_its_text():
    text = BASE.replace("publique", "publique et gratuite").replace("tous", "toutes et tous")
    work = workspace(BASE, [("a", text)])
    assert [c.id for c in work.places[0].changes] == ["a.1"]
    assert compose(work, {}) == BASE
    assert compose(work, take_all(work)) == text
    assert outcomes(work, take_all(work))["a"].whole
    assert outcomes(work, {})["a"].none


def test_three_amendments_every_combination_of_taken_and_left_changes():
    a = BASE.replace("une école", "une grande école").replace("santé", "santé publique")
    b = BASE.replace("digne", "décent")
    c = BASE.replace("bien payé", "bien rémunéré").replace("Nous voulons", "Nous exigeons")
    work = workspace(BASE, [("a", a), ("b", b), ("c", c)])
    assert not any(place.colliding for place in work.places)
    ids = [i for key in work.keys for i in work.changes_of[key]]
    assert len(ids) == 5
    for flags in itertools.product([False, True], repeat=len(ids)):
        taken = {i for i, flag in zip(ids, flags, strict=True) if flag}
        choices = _choices_taking(work, taken)
        result = compose(work, choices)
        expected = BASE
        for change_id in sorted(taken, key=lambda i: -work.changes[i].start):
            change = work.changes[change_id]
            expected = expected[:change.start] + change.text + expected[change.end:]
        assert result == expected
        for key, outcome in outcomes(work, choices).items():
            assert set(outcome.taken) == {i for i in taken if i.startswith(f"{key}.")}
            assert outcome.whole == (set(work.changes_of[key]) <= taken)
        # Whatever is taken rebases onto the result without changing it: every taken amendment is "in".
        for key in work.keys:
            if outcomes(work, choices)[key].whole:
                assert rebase(BASE, work.texts[key], result).text == result


def test_colliding_changes_are_alternatives_one_both_in_either_order_or_none():
    a = BASE.replace("bien payé", "bien rémunéré")
    b = BASE.replace("bien payé", "justement payé")
    work = workspace(BASE, [("a", a), ("b", b)])
    [place] = work.places
    assert place.colliding and place.keys == ("a", "b") and place.base_text == "bien payé"
    assert [alt.text for alt in place.alternatives] == ["bien rémunéré", "justement payé"]
    assert compose(work, {}) == BASE
    assert compose(work, {place.id: ["a"]}) == a
    assert compose(work, {place.id: ["b"]}) == b
    assert compose(work, {place.id: ["a", "b"]}) == BASE.replace("bien payé", "bien rémunéré justement payé")
    assert compose(work, {place.id: ["b", "a"]}) == BASE.replace("bien payé", "justement payé bien rémunéré")
    assert needs_check(work, {place.id: ["b", "a"]}) == [place.id]
    assert needs_check(work, {place.id: ["b"]}) == []
    assert outcomes(work, {place.id: ["b"]})["a"].none and outcomes(work, {place.id: ["b"]})["b"].whole


def test_same_point_insertions_from_two_amendments_are_kept_in_amendment_order_not_colliding():
    a = BASE.replace("La santé pour tous.", "La santé pour tous.\n\nLe logement aussi.")
    b = BASE.replace("La santé pour tous.", "La santé pour tous.\n\nLa culture aussi.")
    work = workspace(BASE, [("a", a), ("b", b)])
    [place] = work.places
    assert not place.colliding and place.start == place.end == len(BASE)
    both = "La santé pour tous.\n\nLe logement aussi.\n\nLa culture aussi."
    assert compose(work, take_all(work)) == BASE.replace("La santé pour tous.", both)
    # The list's order does not matter at a non-colliding place: amendment order does.
    assert compose(work, {place.id: ["b.1", "a.1"]}) == BASE.replace("La santé pour tous.", both)
    assert compose(work, {place.id: ["b.1"]}) == b


def test_what_the_rebase_merges_is_no_alternative_deleted_item_beside_a_new_item():
    base = "- List item 1\n- List item 2\n- List item 3\n- List item 5\n\nFin."
    deleted = base.replace("- List item 3\n", "")
    inserted = base.replace("- List item 3\n", "- List item 3\n- List item 4\n")
    for first, second in [(deleted, inserted), (inserted, deleted)]:
        work = workspace(base, [("a", first), ("b", second)])
        assert not any(place.colliding for place in work.places)
        both = compose(work, take_all(work))
        assert both == "- List item 1\n- List item 2\n- List item 4\n- List item 5\n\nFin."
        assert both == rebase(base, first, second).text


def test_a_line_s_extension_and_a_new_line_at_one_point_go_in_their_one_sensible_order():
    base = "Alpha\nBravo"
    extended, inserted = "Alpha beta\nBravo", "Alpha\nAlpha bis\nBravo"
    for pair in ([("a", extended), ("b", inserted)], [("a", inserted), ("b", extended)]):
        work = workspace(base, pair)
        [place] = work.places
        assert not place.colliding
        assert compose(work, take_all(work)) == "Alpha beta\nAlpha bis\nBravo"


def test_the_same_change_by_two_amendments_goes_in_once_and_counts_for_both():
    a = BASE.replace("digne", "décent")
    work = workspace(BASE, [("a", a), ("b", a)])
    [place] = work.places
    assert not place.colliding
    assert compose(work, take_all(work)) == a
    assert compose(work, {place.id: ["a.1"]}) == a
    assert outcomes(work, {place.id: ["a.1"]})["b"].whole


def test_choices_naming_nothing_are_refused_and_a_stale_draft_is_cleaned():
    work = workspace(BASE, [("a", BASE.replace("digne", "décent"))])
    with pytest.raises(CombineError):
        compose(work, {"zz.1": ["zz.1"]})
    with pytest.raises(CombineError):
        compose(work, {"a.1": ["a.2"]})
    with pytest.raises(CombineError):
        compose(work, {"a.1": ["a.1", "a.1"]})
    assert clean_choices(work, {"zz.1": ["zz.1"], "a.1": ["a.1", "a.2", "a.1"]}) == {"a.1": ["a.1"]}


def test_an_amendment_that_changes_nothing_has_no_changes():
    work = workspace(BASE, [("a", BASE)])
    assert work.places == () and compose(work, {}) == BASE
    assert not outcomes(work, {})["a"].whole


def test_segments_give_back_the_base():
    a = BASE.replace("école", "école laïque").replace("tous", "toutes")
    work = workspace(BASE, [("a", a), ("b", BASE.replace("travail", "emploi"))])
    assert "".join(text for text, _ in work.segments()) == BASE
    assert [place.id for _, place in work.segments() if place] == [p.id for p in work.places]


def _amendments(rng: random.Random, base: str, count: int) -> list[tuple[str, str]]:
    return [(str(n), _edit(base, rng, rng.randint(0, 4))) for n in range(1, count + 1)]


def _check_everything(base: str, amendments: list[tuple[str, str]], rng: random.Random) -> None:
    """The engine's promises on one input (compose verifies itself and raises rather than being wrong)."""
    work = workspace(base, amendments)
    assert compose(work, {}) == base
    assert "".join(text for text, _ in work.segments()) == base
    for key, text in amendments:
        assert compose(work, take_all(work, [key])) == text
    everything = take_all(work)
    compose(work, everything)
    assert all(outcome.whole or outcome.total == 0 for outcome in outcomes(work, everything).values())
    # Any random choice composes (verified), and the base is unchanged outside the places.
    choices = {}
    for place in work.places:
        pool = list(place.keys) if place.colliding else [c.id for c in place.changes]
        picked = rng.sample(pool, rng.randint(0, len(pool)))
        if picked:
            choices[place.id] = picked
    result = compose(work, choices)
    ops = composed_diff(work, choices)  # the preview's diff, built place by place, says the same
    assert "".join(text for op, text in ops if op <= 0) == base
    assert "".join(text for op, text in ops if op >= 0) == result
    position = 0
    pieces = []
    for place in work.places:
        pieces.append(base[position:place.start])
        position = place.end
    pieces.append(base[position:])
    remaining = result
    for piece in pieces:
        found = remaining.find(piece)
        assert found >= 0
        remaining = remaining[found + len(piece):]
    # Two amendments that do not collide anywhere take together exactly as the rebase merges them.
    if len(amendments) >= 2 and not any(p.colliding for p in work.places):
        (ka, ta), (kb, tb) = amendments[:2]
        merged = rebase(base, ta, tb)
        if merged.clean:
            assert compose(work, take_all(work, [ka, kb])) == merged.text


@given(st.randoms(use_true_random=False), st.integers(1, 4), st.integers(1, 5))
@settings(max_examples=150, deadline=None)
def test_combine_never_silently_wrong_on_manifestos(rng: random.Random, paragraphs: int, count: int) -> None:
    """Realistic edits by up to five amendments: every promise of the engine holds."""
    base = _manifesto(rng, paragraphs)
    _check_everything(base, _amendments(rng, base, count), rng)


@given(random_text, st.lists(random_text, min_size=1, max_size=4), st.randoms(use_true_random=False))
@settings(max_examples=150, deadline=None)
def test_combine_never_silently_wrong_on_random_text(base: str, texts: list[str], rng: random.Random) -> None:
    """Unrelated random texts as amendments: every promise of the engine holds."""
    _check_everything(base, [(str(n), text) for n, text in enumerate(texts, 1)], rng)


def test_three_insertions_at_one_point_each_go_where_they_belong():
    """Two extensions of a line and a new line after it, from three amendments: both extensions stay on the line."""
    base = "Alpha\nBravo"
    first, inserted, second = "Alpha beta\nBravo", "Alpha\nAlpha bis\nBravo", "Alpha gamma\nBravo"
    for order in ([first, inserted, second], [inserted, first, second], [first, second, inserted]):
        work = workspace(base, [(key, text) for key, text in zip("abc", order)])
        [place] = work.places
        assert not place.colliding
        composed = compose(work, take_all(work))
        extensions = [text.split("\n")[0].removeprefix("Alpha") for text in order if "bis" not in text]
        assert composed == "Alpha" + "".join(extensions) + "\nAlpha bis\nBravo"  # the extensions in amendment order
    # At a line's start, new lines that end with a break go before the extensions; the order is kept otherwise.
    base = "Alpha\nBravo"
    new_line, one, two = Hunk(6, 6, "Inserted\n"), Hunk(6, 6, "New "), Hunk(6, 6, "Very ")
    assert order_insertions([one, new_line, two], base) == [new_line, one, two]
    assert order_insertions([one, two], base) == [one, two]
    lines_only = [Hunk(5, 5, "\nOne"), Hunk(5, 5, "\nTwo")]
    assert order_insertions(lines_only, base) == lines_only  # no extension among them: amendment order


def test_a_new_line_the_rebase_places_one_break_earlier_is_no_alternative():
    """Deleting the last item beside a new item written before it: the rebase puts the new item at the end of the
    line before, where it merges; the workspace places it there too instead of offering alternatives."""
    base = "- one\n- two\n- three"
    deleted, added = "- one\n- two", "- one\n- two\n- added\n- three"
    for first, second in [(deleted, added), (added, deleted)]:
        work = workspace(base, [("a", first), ("b", second)])
        assert not any(place.colliding for place in work.places)
        assert compose(work, take_all(work)) == rebase(base, first, second).text == "- one\n- two\n- added"
        assert compose(work, take_all(work, ["a"])) == first and compose(work, take_all(work, ["b"])) == second
