"""Line numbers count the text people read: Markdown laid out over its visible blocks."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from manifesto.text.lines import Layout, layout
from manifesto.text.numbered_diff import numbered_diff
from manifesto.text.render import render_marked
from manifesto.text.visible import Mark, visible_blocks


def texts(source: str, width: int = 80) -> list[str]:
    """The visible text of each numbered line."""
    return [view.text for view in layout(source, width).views]


def test_markup_characters_do_not_count():
    """Bold, italics and code markers are not visible, so they take no room on a line."""
    assert texts("Une **économie** _sociale_ et `solidaire`.") == ["Une économie sociale et solidaire."]
    # 40 visible characters fit on a 40-character line even with 8 markup characters around them.
    visible = "a" * 10 + " " + "b" * 29
    assert texts(f"**{'a' * 10}** __{'b' * 29}__", 40) == [visible]


def test_a_link_counts_only_its_text():
    """The reader sees the link's words, not its address."""
    source = "See [the charter](https://example.org/a/very/long/address/that/nobody/reads) now."
    assert texts(source, 30) == ["See the charter now."]
    assert "https://example.org/a/very" in layout(source).views[0].html


def test_soft_breaks_join_and_hard_breaks_start_a_line():
    """A single newline in a paragraph joins words, as the browser does; two trailing spaces break."""
    assert texts("first line\nsecond line") == ["first line second line"]
    assert texts("first line  \nsecond line") == ["first line", "second line"]
    assert texts("first line\\\nsecond line") == ["first line", "second line"]


def test_list_items_start_a_line_with_their_bullet_or_number():
    """Each item is its own line, with the marker the reader sees."""
    source = "- first\n- second *point*\n  continued\n\n3. three\n4. four\n\n- outer\n  - inner"
    assert texts(source) == ["• first", "• second point continued", "3. three", "4. four", "• outer", "◦ inner"]
    views = layout(source).views
    assert [v.block for v in views] == ["li"] * 6
    assert views[-1].depth == 2


def test_headings_quotes_code_and_tables_are_blocks_of_their_own():
    """Each rendered block starts a line; a code block keeps its lines; a table row is one line."""
    source = "## Title\n\n> quoted\n> words\n\n```\nx = 1\ny = 2\n```\n\n| a | b |\n|---|---|\n| c | d |\n\n---\n\nEnd."
    views = layout(source).views
    assert [(v.block, v.text) for v in views] == [
        ("h4", "Title"), ("quote", "quoted words"), ("code", "x = 1"), ("code", "y = 2"),
        ("table", "a | b"), ("table", "c | d"), ("p", "End."),
    ]


def test_each_line_keeps_its_formatting_even_across_a_wrap():
    """Bold that spans a wrap point is closed on one line and reopened on the next."""
    result = layout("plain **bold words that run on** plain", 16)
    assert [v.text for v in result.views] == ["plain bold words", "that run on", "plain"]
    assert [v.html for v in result.views] == [
        "plain <strong>bold words</strong>", "<strong>that run on</strong>", "plain",
    ]


def test_line_html_is_escaped_and_unsafe_links_lose_their_address():
    """Text is escaped and a javascript: link keeps its words but not its address."""
    result = layout("<script>x</script> [click](javascript:alert(1)) [ok](https://ok.example)")
    html = result.views[0].html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html
    assert render_marked("click", [Mark(0, 5, "a", "java\tscript:alert(1)")]) == "<a>click</a>"
    assert '<a href="https://ok.example" rel="nofollow noopener noreferrer">ok</a>' in html
    assert render_marked("a&b", [Mark(0, 3, "a", 'x" onclick="y')]) == '<a href="x&quot; onclick=&quot;y" rel="nofollow noopener noreferrer">a&amp;b</a>'


def test_source_spans_place_a_change_on_the_visible_line():
    """A change to the Markdown is found on the visible line that shows it."""
    source = "**Intro** sentence one.\n\n- item [link](https://x.example/long/path) end\n- second"
    result = layout(source)
    at = source.index("end")
    assert result.lines_for_span(at, at + 3) == (2, 2)
    at = source.index("second")
    assert result.lines_for_span(at, at + 6) == (3, 3)


def test_stored_layout_round_trips_with_its_views():
    """What is stored when a version is written gives back the same lines and views."""
    source = "# Heading\n\nSome *text* here.\n\n1. one\n2. two"
    result = layout(source, 12, first_number=40)
    again = Layout.from_json(source, json.loads(json.dumps(result.to_json())))
    assert again.lines == result.lines and again.views == result.views


PIECES = [
    "mot", "économie", "señal", "😀", "مرحبا", "abcdefghijklmnopqrstuv", " ", "  ", "\n", "\n\n", "\u00a0",
    "**", "_", "`", "[lien](https://e.org/x)", "- ", "1. ", "> ", "# ", "\\", "&amp;", "|", "---", "  \n", "\t",
]  # fmt: skip
BREAKABLE = re.compile(r"[^\S\u00a0\u2007\u202f]+")
WORD = re.compile(r"(?:[^\s]|[\u00a0\u2007\u202f])+")
sources = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)


@given(sources, st.integers(min_value=4, max_value=40))
@settings(max_examples=300, deadline=None)
def test_joining_the_lines_of_a_block_gives_its_visible_text(source, width):
    """Property: lines are the block's words in order, none wider than the width unless a word is split."""
    result = layout(source, width)
    blocks = visible_blocks(source)
    assert len(result.lines) == len(result.views)
    by_block: list[list[str]] = []
    for view in result.views:
        if view.starts_block:
            by_block.append([])
        by_block[-1].append(view.text)
        assert len(view.text) <= width
        assert view.text == view.text.strip(" \t\n\r")  # a no-break space may start a split word
    non_empty = [block for block in blocks if block.text.strip()]
    assert len(by_block) == len(non_empty)
    for lines, block in zip(by_block, non_empty):
        assert "".join("".join(lines).split()) == "".join(block.text.split())
        if all(len(word) <= width for word in WORD.findall(block.text)):  # no word was split
            assert BREAKABLE.sub(" ", " ".join(lines)) == BREAKABLE.sub(" ", block.text).strip(" ")
    previous_end = 0
    for line in result.lines:
        assert previous_end <= line.start <= line.end <= len(source)
        previous_end = line.end


def test_numbered_diff_shows_a_change_of_formatting_alone():
    """Making a word bold changes no letter, yet the diff must show it."""
    shown = numbered_diff("We want free schools.", "We want **free** schools.")
    assert shown.first_changed == shown.last_changed == 1
    assert "<del><span class=\"visually-hidden\">deleted: </span>free</del>" in shown.html
    assert "<ins><span class=\"visually-hidden\">inserted: </span><strong>free</strong></ins>" in shown.html


def test_numbered_diff_numbers_visible_lines_and_renders_formatting():
    """The diff sits on the visible lines with their bullets and formatting, numbered from the first line."""
    old = "Intro *with* style.\n\n- first point\n- second point"
    new = "Intro *with* style.\n\n- first point, amended\n- second point"
    shown = numbered_diff(old, new, first_number=20, context=0)
    assert (shown.first_changed, shown.last_changed) == (21, 21)
    assert '<span class="ln">21</span> <span class="lt">• first point' in shown.html
    assert '<span class="ln">20</span>' not in shown.html  # context 0: unchanged lines left out
    assert "**" not in shown.html and "- first" not in shown.html
