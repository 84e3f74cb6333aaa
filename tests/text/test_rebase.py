"""Tests for manifesto.text.merge: three-way merge of amendments."""

from __future__ import annotations

import random

from diff_match_patch import diff_match_patch
from hypothesis import given, settings
from hypothesis import strategies as st

from manifesto.text.diff import Hunk, apply_hunks, changed_ranges, hunks_overlap, word_diff
from manifesto.text.merge import Conflict, carry_over, rebase

from .test_diff import SENTENCES, WORDS, _edit, _manifesto, random_text

BASE = (
    "Nous voulons une école publique.\n\n"
    "Le travail doit être digne et bien payé.\n\n"
    "La santé pour tous."
)


def _hunks(old: str, new: str) -> list[Hunk]:
    """Changes from ``old`` to ``new``."""
    return changed_ranges(word_diff(old, new))


def _moved(hunks: list[Hunk], applied: list[Hunk]) -> list[Hunk]:
    """Shift base-coordinate hunks into the text obtained by applying ``applied``."""
    moved = []
    for hunk in hunks:
        delta = sum(len(a.text) - (a.end - a.start) for a in applied if a.end <= hunk.start)
        moved.append(Hunk(hunk.start + delta, hunk.end + delta, hunk.text))
    return moved


def assert_never_silently_wrong(base: str, proposal: str, new: str) -> None:
    """A clean rebase is exactly both change sets applied; otherwise conflicts are reported."""
    result = rebase(base, proposal, new)
    if not result.clean:
        assert result.text is None and result.conflicts
        previous_end = -1
        for conflict in result.conflicts:
            assert previous_end < conflict.base_start <= conflict.base_end
            assert conflict.base_text == base[conflict.base_start : conflict.base_end]
            previous_end = conflict.base_end
        return

    assert result.text is not None
    p_hunks, n_hunks = _hunks(base, proposal), _hunks(base, new)
    if base in (proposal, new) or proposal == new:
        assert result.text == (new if base == proposal or proposal == new else proposal)
        return
    shared = set(p_hunks) & set(n_hunks)
    p_only = [h for h in p_hunks if h not in shared]
    n_only = [h for h in n_hunks if h not in shared]
    assert not any(hunks_overlap(p, n, base) for p in p_only for n in n_only)
    assert result.text == apply_hunks(new, _moved(p_only, n_hunks))
    assert result.text == apply_hunks(proposal, _moved(n_only, p_hunks))
    for hunk in p_hunks:
        assert hunk.text in result.text


# -------------------------------------------------------------- shortcuts


@given(random_text, random_text)
@settings(max_examples=200, deadline=None)
def test_unchanged_new_returns_proposal(base: str, proposal: str) -> None:
    """If the text did not move on, the proposal stands as is."""
    result = rebase(base, proposal, base)
    assert result.clean and result.text == proposal


@given(random_text, random_text)
@settings(max_examples=200, deadline=None)
def test_empty_proposal_returns_new(base: str, new: str) -> None:
    """A proposal that changes nothing yields the new text."""
    result = rebase(base, base, new)
    assert result.clean and result.text == new


@given(random_text, random_text)
@settings(max_examples=200, deadline=None)
def test_proposal_already_adopted(base: str, proposal: str) -> None:
    """If the new text is the proposal, the rebase is trivially clean."""
    result = rebase(base, proposal, proposal)
    assert result.clean and result.text == proposal


# ---------------------------------------------------------------- merging


def test_disjoint_edits_merge() -> None:
    """Edits in different paragraphs both land; patch_apply agrees here."""
    proposal = BASE.replace("publique", "publique et gratuite")
    new = BASE.replace("santé", "santé publique")
    result = rebase(BASE, proposal, new)
    assert result.clean
    assert result.text == BASE.replace("publique", "publique et gratuite").replace(
        "santé", "santé publique"
    )
    assert result.patch_apply_agreed is True


def test_same_paragraph_distant_words_merge() -> None:
    """Edits in the same paragraph merge when a word separates them."""
    proposal = BASE.replace("digne", "juste")
    new = BASE.replace("bien payé", "mieux payé")
    result = rebase(BASE, proposal, new)
    assert result.clean
    assert "doit être juste et mieux payé." in (result.text or "")


def test_same_change_on_both_sides_is_clean() -> None:
    """Both made the identical change: applied once, no conflict."""
    both = BASE.replace("digne", "juste")
    proposal = both.replace("Nous", "Ensemble, nous")
    result = rebase(BASE, proposal, both)
    assert result.clean
    assert result.text == proposal
    assert result.text.count("juste") == 1


def test_same_word_changed_differently_conflicts() -> None:
    """Both sides change the same word: a conflict with the three versions."""
    proposal = BASE.replace("publique", "laïque")
    new = BASE.replace("publique", "gratuite")
    result = rebase(BASE, proposal, new)
    assert not result.clean and result.text is None
    start = BASE.index("publique")
    assert result.conflicts == [
        Conflict(start, start + len("publique"), "publique", "laïque", "gratuite")
    ]
    assert result.patch_apply_agreed is None


def test_adjacent_words_conflict() -> None:
    """Changing neighbouring words at once is a collision (agreement, meaning)."""
    base = "Nous voulons le grand changement."
    result = rebase(base, base.replace("le", "la"), base.replace("grand", "vrai"))
    assert not result.clean
    (conflict,) = result.conflicts
    assert conflict.base_text == "le grand"
    assert (conflict.proposal_text, conflict.new_text) == ("la grand", "le vrai")


def test_insertions_at_the_same_point() -> None:
    """Different insertions at one point conflict; identical ones merge once."""
    base = "Un deux trois."
    other = "Un deux quatre trois."
    assert not rebase(base, "Un deux cinq trois.", other).clean
    result = rebase(base, other, other.replace("Un", "Zéro"))
    assert result.clean and result.text == "Zéro deux quatre trois."


def test_conflict_regions_grow_transitively() -> None:
    """Chained overlaps form one conflict with consistent versions."""
    base = "a b c d e f"
    proposal = "a B c D e f"
    new = "a b C d e f"
    result = rebase(base, proposal, new)
    assert result.conflicts == [Conflict(2, 7, "b c d", "B c D", "b C d")]


def test_several_conflicts_are_all_reported() -> None:
    """Separate collisions are reported separately, in base order."""
    base = "Un.\n\nDeux.\n\nTrois.\n\nQuatre."
    proposal = "UN.\n\nDeux.\n\nTROIS.\n\nQuatre."
    new = "Uno.\n\nDeux.\n\nTres.\n\nQuatre!"
    result = rebase(base, proposal, new)
    assert [(c.base_text, c.proposal_text, c.new_text) for c in result.conflicts] == [
        ("Un", "UN", "Uno"),
        ("Trois", "TROIS", "Tres"),
    ]


def test_edit_inside_deleted_paragraph_conflicts() -> None:
    """Amending a paragraph the new version removed is a conflict, not a silent loss."""
    proposal = BASE.replace("digne", "juste")
    new = BASE.replace("Le travail doit être digne et bien payé.\n\n", "")
    result = rebase(BASE, proposal, new)
    assert not result.clean
    (conflict,) = result.conflicts
    assert "juste" in conflict.proposal_text and "juste" not in conflict.new_text


def test_rebase_onto_longer_text_shifts_offsets() -> None:
    """Proposal edits after new insertions land at shifted offsets."""
    proposal = BASE.replace("La santé pour tous.", "La santé pour toutes et tous.")
    new = "Préambule ajouté.\n\n" + BASE.replace("école", "école maternelle")
    result = rebase(BASE, proposal, new)
    assert result.clean
    assert result.text == new.replace("pour tous", "pour toutes et tous")


def test_patch_apply_is_not_trusted() -> None:
    """patch_apply reports success yet amends the wrong article; rebase does not."""
    base = "Article 1: les communes votent le budget.\n\nArticle 2: les communes votent le budget."
    proposal = base.replace(
        "Article 2: les communes votent le budget",
        "Article 2: les communes votent le budget annexe",
    )
    filler = " ".join(["Un long paragraphe ajouté entre les deux articles pour tout décaler."] * 10)
    new = base.replace("\n\nArticle 2", f"\n\n{filler}\n\nArticle 2")

    dmp = diff_match_patch()
    fuzzy, applied = dmp.patch_apply(dmp.patch_make(base, proposal), new)
    assert all(applied) and fuzzy.startswith("Article 1: les communes votent le budget annexe.")

    result = rebase(base, proposal, new)
    assert result.clean and result.patch_apply_agreed is False
    assert result.text == new.replace(
        "Article 2: les communes votent le budget",
        "Article 2: les communes votent le budget annexe",
    )


def test_patch_apply_cross_check_can_be_skipped() -> None:
    """The diagnostic cross-check is optional."""
    proposal = BASE.replace("digne", "juste")
    new = BASE.replace("santé", "santé publique")
    assert rebase(BASE, proposal, new, cross_check=False).patch_apply_agreed is None


# ------------------------------------------------------------- properties


def _unique_paragraphs(rng: random.Random, count: int) -> list[str]:
    """Paragraphs that each start with a unique tag, so diffs cannot confuse them."""
    return [
        f"§{index} " + " ".join(rng.sample(SENTENCES, rng.randint(1, 3))) for index in range(count)
    ]


def _edit_inside(paragraph: str, rng: random.Random) -> str:
    """Change one word strictly inside a paragraph (never its first tag word)."""
    words = paragraph.split(" ")
    index = rng.randrange(1, len(words))
    action = rng.choice(["replace", "insert", "delete"])
    if action == "replace" or len(words) <= 2:
        words[index] = rng.choice(WORDS) + "!"
    elif action == "insert":
        words.insert(index, rng.choice(WORDS) + "!")
    else:
        del words[index]
    return " ".join(words)


@given(st.randoms(use_true_random=False), st.integers(2, 7), st.data())
@settings(max_examples=200, deadline=None)
def test_edits_in_different_paragraphs_merge_cleanly(
    rng: random.Random, count: int, data: st.DataObject
) -> None:
    """Proposal edits paragraph i, new edits paragraph j != i (adjacent or not): clean merge."""
    paragraphs = _unique_paragraphs(rng, count)
    i = data.draw(st.integers(0, count - 1), label="i")
    j = data.draw(st.integers(0, count - 1).filter(lambda j: j != i), label="j")
    proposed, newer = list(paragraphs), list(paragraphs)
    proposed[i] = _edit_inside(paragraphs[i], rng)
    newer[j] = _edit_inside(paragraphs[j], rng)
    expected = list(paragraphs)
    expected[i], expected[j] = proposed[i], newer[j]

    base, proposal, new = ("\n\n".join(p) for p in (paragraphs, proposed, newer))
    result = rebase(base, proposal, new)
    assert result.clean, result.conflicts
    assert result.text == "\n\n".join(expected)
    assert_never_silently_wrong(base, proposal, new)


@given(st.randoms(use_true_random=False), st.integers(1, 5), st.integers(0, 6), st.integers(0, 6))
@settings(max_examples=300, deadline=None)
def test_rebase_never_silently_wrong_on_manifestos(
    rng: random.Random, paragraphs: int, proposal_edits: int, new_edits: int
) -> None:
    """Realistic edits on both sides: conflicts, or exactly both change sets."""
    base = _manifesto(rng, paragraphs)
    assert_never_silently_wrong(base, _edit(base, rng, proposal_edits), _edit(base, rng, new_edits))


@given(random_text, random_text, random_text)
@settings(max_examples=300, deadline=None)
def test_rebase_never_silently_wrong_on_random_text(base: str, proposal: str, new: str) -> None:
    """Unrelated random texts: conflicts, or exactly both change sets."""
    assert_never_silently_wrong(base, proposal, new)


def test_carry_over_keeps_new_changes_and_applies_the_rest_of_the_proposal():

    base = "Alpha one.\n\nBravo two.\n\nCharlie three."
    new = "Alpha ONE.\n\nBravo 2.\n\nCharlie three."
    proposal = "Alpha one.\n\nBravo deux.\n\nCharlie trois."
    # Bravo collides (left as the new version has it); Charlie still applies; Alpha's new change stays.
    assert carry_over(base, proposal, new) == "Alpha ONE.\n\nBravo 2.\n\nCharlie trois."


@given(st.lists(st.sampled_from(["un", "deux", "trois", "quatre", "cinq"]), min_size=3, max_size=12))
@settings(max_examples=100, deadline=None)
def test_carry_over_of_an_unchanged_proposal_is_the_new_text(words):

    base = " ".join(words)
    new = base.replace(words[0], "zéro", 1)
    assert carry_over(base, base, new) == new
