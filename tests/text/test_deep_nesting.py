"""Text nested deeper than the parser's limit is flattened, never dropped: lists past 40 levels continue at the 40th."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from manifesto.text.lines import layout
from manifesto.text.render import render_markdown
from manifesto.text.visible import visible_blocks

WORD = re.compile(r"[A-Za-z]\w*")


def staircase(depth: int, marker=lambda level: "-") -> str:
    """A list ``depth`` levels deep, one item per level, then a paragraph "after"."""
    lines, indent = [], 0
    for level in range(depth):
        lines.append(" " * indent + f"{marker(level)} word{level}")
        indent += len(marker(level)) + 1
    return "\n".join(lines) + "\n\nafter"


def deepest_list(html: str) -> int:
    """How deep lists nest in ``html``."""
    depth = deepest = 0
    for tag in re.findall(r"</?(?:ul|ol)\b", html):
        depth += -1 if tag.startswith("</") else 1
        deepest = max(deepest, depth)
    return deepest


def assert_every_word_kept(source: str) -> None:
    """Every word of ``source`` is on the rendered page and in the numbered lines."""
    html = render_markdown(source)
    visible = " ".join(block.text for block in visible_blocks(source))
    words = WORD.findall(source)
    assert [word for word in words if word not in WORD.findall(html)] == []
    assert [word for word in words if word not in WORD.findall(visible)] == []


@pytest.mark.parametrize("depth", [60, 120, 500])
def test_the_paragraph_after_a_deep_list_is_kept(depth):
    source = staircase(depth)
    html = render_markdown(source)
    assert html.endswith("<p>after</p>")
    assert deepest_list(html) == 40
    assert [view.text for view in layout(source).views][-1] == "after"
    assert_every_word_kept(source)


def test_lists_up_to_forty_deep_keep_their_nesting():
    assert deepest_list(render_markdown(staircase(40))) == 40


def test_the_items_past_the_cap_are_siblings_of_the_fortieth():
    html = render_markdown(staircase(42))
    assert "<li>word39</li>\n<li>word40</li>\n<li>word41</li>\n</ul>" in html
    bullets = [view.text for view in layout(staircase(42)).views][-4:-1]
    assert bullets[0][0] == bullets[1][0] == bullets[2][0]  # one bullet style: one level
    assert [text[2:] for text in bullets] == ["word39", "word40", "word41"]


@pytest.mark.parametrize("source", [
    staircase(120, lambda level: f"{level + 1}." if level % 2 else "*"),
    staircase(80, lambda level: "1)"),
    "\n".join("\t" * level + f"- word{level}" for level in range(80)) + "\n\nafter",
    "\n".join("  " * level + f"- word{level}\n\n" + "  " * (level + 1) + f"more{level}" for level in range(80))
    + "\n\nafter",
    "\n".join("  " * level + f"- > quoted{level}" for level in range(80)) + "\n\nafter",
    "- " * 200 + "inline\n\nafter",
    "- > " * 100 + "inline\n\nafter",
    "> " * 300 + "quoted\n\nafter",
    staircase(60) + "\n\n" + "  " * 70 + "```\n" + "  " * 70 + "- fenced\n" + "  " * 70 + "```\n\nlast",
], ids=["mixed-markers", "ordered", "tabs", "loose-items", "quotes-in-items", "one-line", "one-line-quotes",
        "quotes", "fence-after"])
def test_no_word_is_lost_whatever_nests_deep(source):
    assert "after" in render_markdown(source)
    assert_every_word_kept(source)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(-1, 3), st.sampled_from(["-", "-", "-", "*", "1.", "2)", ">", ""])), min_size=1,
                max_size=200))
def test_any_deep_walk_of_indents_keeps_every_word(steps):
    lines, indent = [], 0
    for number, (move, marker) in enumerate(steps):
        indent = max(0, indent + 2 * move)
        lines.append(" " * indent + f"{marker} w{number}".strip())
    assert_every_word_kept("\n".join(lines) + "\n\nafter")
