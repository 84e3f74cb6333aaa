"""Tests for manifesto.text.anchor: quote selectors, locating passages after edits, highlighting."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from manifesto.seed import demo_content
from manifesto.text.anchor import (
    Passage,
    PositionMap,
    ReadingText,
    Span,
    find_quote,
    highlight_passages,
    locate,
    make_selector,
    normalize_space,
    reading_text,
    reanchor,
    similarity,
)
from manifesto.text.render import render_markdown

VOCABULARY = ["cooperatives", "energy", "democracy", "workers", "the", "and", "of", "local", "food", "sovereignty",
              "finance", "women", "networks", "public", "solidarity", "economy", "rights", "land", "care", ","]
words = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=40).map(" ".join)


def _moved(old: str, new: str, span: Span) -> Span | None:
    """Locate ``old[span]`` in ``new`` the way the app does after a new version."""
    return reanchor([(make_selector(old, *span), span)], old, new)[0]


# ------------------------------------------------------------------ selectors

def test_a_selector_keeps_the_quote_its_context_and_its_position():
    text = "We call on governments to extend social protection to all workers."
    start = text.index("social")
    selector = make_selector(text, start, start + len("social protection"), context=10)
    assert selector.exact == "social protection"
    assert selector.prefix == "to extend "
    assert selector.suffix == " to all wo"
    assert (selector.start, selector.end) == (start, start + 17)


@pytest.mark.parametrize("start,end", [(0, 0), (5, 3), (-1, 2), (0, 999)])
def test_a_selector_refuses_an_impossible_span(start, end):
    with pytest.raises(ValueError):
        make_selector("short text", start, end)


# ------------------------------------------------------------------ unchanged and moved

@given(words, st.data())
@settings(max_examples=300, deadline=None)
def test_an_unchanged_text_gives_back_the_same_span(text, data):
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    selector = make_selector(text, start, end)
    assert locate(selector, text) == (start, end)
    assert reanchor([(selector, Span(start, end))], text, text) == [(start, end)]


@given(words, words, words, words, words)
@settings(max_examples=300, deadline=None)
def test_an_edit_elsewhere_moves_the_passage_exactly(before, quote, after, edit_before, edit_after):
    old = f"{before} | {quote} | {after}"
    span = Span(len(before) + 3, len(before) + 3 + len(quote))
    # Rewrite the text before and after the passage, keeping the passage and the separators.
    new = f"{edit_before} | {quote} | {edit_after}"
    assume(new.count(quote) == 1)
    assert _moved(old, new, span) == (len(edit_before) + 3, len(edit_before) + 3 + len(quote))


@given(words, words, words, st.sampled_from(VOCABULARY))
@settings(max_examples=200, deadline=None)
def test_an_edit_elsewhere_finds_the_same_words_even_among_repeats(before, quote, after, inserted):
    old = f"{before} {quote} {after}"
    start = len(before) + 1
    new = f"{inserted} {old} {inserted}"
    found = _moved(old, new, Span(start, start + len(quote)))
    assert found is not None and new[found.start:found.end] == quote


def test_a_repeated_quote_is_told_apart_by_its_prefix_and_suffix():
    text = "Energy cooperatives need land. Food cooperatives need land. Housing cooperatives need land."
    second = text.index("cooperatives need land", 20)
    selector = make_selector(text, second, second + len("cooperatives need land"), context=12)
    assert locate(selector, text) == (second, second + 22)
    # An edit before the passage moves every occurrence; the context still picks the right one.
    edited = "Today: " + text.replace("Energy", "Renewable energy")
    found = locate(selector, edited, near=None)
    assert edited[found.start - 5:found.start] == "Food "


def test_among_equal_contexts_the_occurrence_nearest_the_old_position_wins():
    text = "la la la la la la la la la la"
    selector = make_selector(text, 12, 14, context=32)  # the fifth "la"
    assert locate(selector, text) == (12, 14)


# ------------------------------------------------------------------ fuzzy

def test_a_passage_with_a_changed_word_is_found_fuzzily():
    old = "Public buyers should divide large tenders into lots accessible to small suppliers and pay on time."
    new = "Public buyers should divide large tenders into lots open to small suppliers and pay on time."
    start = old.index("divide")
    end = old.index(" and pay")
    found = _moved(old, new, Span(start, end))
    assert new[found.start:found.end] == "divide large tenders into lots open to small suppliers"


def test_a_long_passage_is_matched_by_its_start_and_end():
    """Longer than the 32 characters diff-match-patch's matcher takes at once."""
    old = ("Introduction. " * 5 + "Cooperative banks, credit unions and solidarity finance institutions are often "
           "regulated as if they were commercial banks, which raises their costs. " + "Closing words. " * 5)
    quote = ("Cooperative banks, credit unions and solidarity finance institutions are often regulated as if "
             "they were commercial banks")
    new = old.replace("credit unions and", "credit unions, community development banks and")
    start = old.index(quote)
    found = _moved(old, new, Span(start, start + len(quote)))
    assert found is not None
    assert new[found.start:found.end] == quote.replace("credit unions and", "credit unions, community development banks and")


def test_a_rewritten_passage_is_lost():
    old = "We ask governments to reserve a clear share of new renewable capacity for community ownership."
    new = "We ask governments to support solar villages everywhere, with cheap loans and training."
    start = old.index("reserve")
    assert _moved(old, new, Span(start, old.index("."))) is None


def test_a_deleted_passage_is_lost_and_comes_back_with_a_revert():
    old = "First paragraph stays. The contested sentence about land rights. Last paragraph stays."
    new = "First paragraph stays. Last paragraph stays."
    start = old.index("The contested")
    span = Span(start, old.index(" Last"))
    selector = make_selector(old, *span)
    assert reanchor([(selector, span)], old, new) == [None]
    # Lost passages are searched again in every later version, from the selector alone.
    assert reanchor([(selector, None)], new, old) == [span]


def _demo_edits():
    """The demo's accepted amendments: (key, old reading text, new reading text, the passage they change)."""
    sections = {s["key"]: s for s in demo_content.SECTIONS}
    for spec in demo_content.AMENDMENTS:
        if spec["state"] in ("accepted", "accepted_modified"):
            body = sections[spec["section"]]["versions"][-1]["body"]
            new_body = body.replace(spec["find"], spec["modified_replace"] or spec["replace"], 1)
            yield (spec["key"], reading_text(render_markdown(body)), reading_text(render_markdown(new_body)),
                   normalize_space(spec["find"]))


DEMO_EDITS = list(_demo_edits())


@pytest.mark.parametrize("key,old,new,changed", DEMO_EDITS, ids=[e[0] for e in DEMO_EDITS])
def test_passages_around_the_demo_amendments_move_exactly(key, old, new, changed):
    i = old.index(changed)
    for span in (Span(0, min(40, i)), Span(max(0, i - 70), i - 5), Span(i + len(changed) + 2, len(old))):
        if span.end - span.start < 5:
            continue
        quote = old[span.start:span.end]
        found = _moved(old, new, span)
        assert found is not None and new[found.start:found.end] == quote, (key, quote)


# (amendment, a quote from the text it changed, what the quote should become, or None when it is lost)
DEMO_CASES = [
    ("a3", "define their own food and agricultural policies.",
     "define their own food and agricultural policies,"),
    ("a5", "whatever their employment status,", "whatever their employment or migration status,"),
    ("a5", "extend social protection to all workers, whatever their employment status,",
     "extend social protection to all workers, whatever their employment or migration status,"),
    ("a11", "instead of surrendering it by default.", "instead of surrendering it by default."),
    ("a13", "meet again at the next Mont Blanc Meetings to assess what has been achieved",
     "meet again at the next Mont Blanc Meetings to assess, against the commitments above, what has been achieved"),
    ("a13", "Its signatories will meet again", None),
]


@pytest.mark.parametrize("key,quote,expected", DEMO_CASES)
def test_passages_changed_by_the_demo_amendments(key, quote, expected):
    _, old, new, _ = next(e for e in DEMO_EDITS if e[0] == key)
    start = old.index(quote)
    found = _moved(old, new, Span(start, start + len(quote)))
    if expected is None:
        assert found is None
    else:
        assert found is not None and new[found.start:found.end] == expected


def test_similarity():
    assert similarity("abc", "abc") == 1.0
    assert similarity("", "") == 1.0
    assert similarity("abcd", "abxd") == 0.75
    assert similarity("abc", "xyz") == 0.0


def test_position_map_follows_insertions_and_deletions():
    old = "The assembly adopts the text. It asks every member to act. Signed in Geneva."
    new = "Today the assembly adopts the text. Signed in Geneva, Switzerland."
    mapper = PositionMap(old, new)
    assert mapper.map(old.index("assembly adopts")) == new.index("assembly adopts")
    assert mapper.map(old.index("Signed")) == new.index("Signed")
    # A position in deleted words maps to where the change begins.
    assert mapper.map(old.index("every member")) == new.index(" Signed")
    assert mapper.map(len(old)) == len(new)


# ------------------------------------------------------------------ quotes typed or selected by readers

def test_find_quote_normalises_whitespace():
    text = "Food sovereignty means restoring the right of peoples."
    assert find_quote(text, "  restoring\nthe   right ") == [Span(text.index("restoring"), text.index(" of"))]
    assert find_quote(text, "not in the text") == []
    assert find_quote(text, "   ") == []


def test_find_quote_uses_the_browsers_context_to_pick_among_repeats():
    text = "land for women. land for youth. land for women."
    assert len(find_quote(text, "land for women")) == 2
    assert find_quote(text, "land for women", prefix="youth. ") == [Span(32, 46)]
    assert find_quote(text, "land for women", suffix=". land for youth") == [Span(0, 14)]


# ------------------------------------------------------------------ rendered HTML

def test_reading_text_is_what_readers_see():
    markup = render_markdown("A **bold** claim & <tag>.\n\n- one\n- two\n\nline  \nbreak [link](https://example.org)")
    assert reading_text(markup) == "A bold claim & <tag>. one two line break link"


class _Checker(HTMLParser):
    """Check that markup is well nested, and collect its tags."""

    VOID = {"br", "hr"}

    def __init__(self):
        super().__init__()
        self.stack, self.tags, self.errors = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "a" and "a" in self.stack:
            self.errors.append("nested link")
        if tag == "mark" and self.stack and self.stack[-1] in {"ul", "ol", "table", "thead", "tbody", "tr"}:
            self.errors.append(f"mark directly in {self.stack[-1]}")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}>")
        else:
            self.stack.pop()


def _check(markup: str) -> _Checker:
    checker = _Checker()
    checker.feed(markup)
    assert not checker.errors and not checker.stack, (checker.errors, checker.stack, markup)
    return checker


SOURCE = ("Cooperatives & mutuals **matter**: see [the report](https://example.org/r?a=1&b=2) now.\n\n"
          "- land for women\n- land for youth\n\n| who | what |\n|---|---|\n| us | *all* |\n\nThe end.")


def test_highlighting_marks_the_words_and_links_both_ways():
    markup = render_markdown(SOURCE)
    text = reading_text(markup)
    start = text.index("mutuals")
    end = text.index(" now")
    out = highlight_passages(markup, [Passage(7, start, end, "#comment-7", "1", "Comment by Amina")])
    checker = _check(out)
    assert reading_text(out) == text.replace("report now", "report[1] Comment by Amina now")
    marked = "".join(re.findall(r'<mark class="passage">(.*?)</mark>', out))
    assert "mutuals" in marked and "matter" in marked and "the report" in marked
    assert ("span", {"class": "passage-anchor", "id": "passage-7"}) in checker.tags
    refs = [attrs for tag, attrs in checker.tags if attrs.get("class") == "passage-ref"]
    assert refs == [{"class": "passage-ref", "href": "#comment-7", "title": "Comment by Amina"}]


@given(st.data())
@settings(max_examples=200, deadline=None)
def test_any_passages_keep_the_markup_well_formed(data):
    markup = render_markdown(SOURCE)
    text = reading_text(markup)
    passages = []
    for key in range(data.draw(st.integers(1, 5))):
        start = data.draw(st.integers(0, len(text) - 1))
        end = data.draw(st.integers(start + 1, len(text)))
        passages.append(Passage(key, start, end, f"#comment-{key}", str(key + 1), "x"))
    out = highlight_passages(markup, passages)
    _check(out)
    # Only marks, anchors and references were added; the reader's text is intact.
    stripped = re.sub(r'<a class="passage-ref"[^>]*>.*?</a>', "", out)
    assert reading_text(stripped) == text


def test_highlighting_escapes_what_it_adds_and_leaves_entities_alone():
    markup = render_markdown("Fish &amp; chips <script>alert(1)</script> & more")
    text = ReadingText(markup).text
    assert "<script>" in text  # the reader sees the characters...
    out = highlight_passages(markup, [Passage(1, 0, len(text), '"><script>x</script>', "<b>", '" onmouseover="x')])
    assert "<script>" not in out and "onmouseover=\"x" not in out  # ... the markup never gets them
    _check(out)


def test_nothing_to_highlight_returns_the_markup_itself():
    markup = render_markdown("Some text.")
    assert highlight_passages(markup, []) is markup
    assert highlight_passages(markup, [Passage(1, 5, 999, "#c", "1", "x")]) == markup
