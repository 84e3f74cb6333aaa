"""A few plain words saying what an amendment changes, stored with it for the rows of the lists.

Pure text work (no database, no app): the amendment services call it
whenever an amendment's text or base changes, and migration 0009 calls it
to fill the rows written before. It reads the word diff of the Markdown
source (which ``describe`` computes anyway) and shows each quoted passage
as a reader sees it, Markdown markers gone, so a row never shows ``**`` or
a link's address. Only the quoted snippets are rendered, never the whole
text: describing an amendment costs a fraction of a millisecond more.
"""

from __future__ import annotations

import re

from ..text.diff import word_diff
from ..text.visible import visible_blocks

MAX_WORDS = 8  # of each quoted passage
MAX_LENGTH = 200  # the column's size


_LINK_TAIL = re.compile(r"\]\([^)\s]*\)?")  # the "](address)" left of a link cut by the diff
_MARKERS = re.compile(r"[*_`~\[\]]+|^\s*(?:#+|>|[-+]|\d+[.)])\s+", re.M)


def visible_text(markdown: str | None) -> str:
    """The words a reader sees in a piece of Markdown (a passage or a whole body), markers gone."""
    shown = "\n".join(block.text for block in visible_blocks(markdown or ""))
    return _MARKERS.sub("", _LINK_TAIL.sub("", shown)).replace("\u2022", "").strip()


def _opening(body: str | None) -> str:
    """The visible words of a body's first paragraph (enough for a quote, cheap on a long text)."""
    return visible_text((body or "").strip().split("\n\n", 1)[0])


def quote(text: str | None) -> str:
    """The first words of ``text`` in quotation marks, cut with an ellipsis when longer."""
    words = (text or "").split()
    cut = " ".join(words[:MAX_WORDS])
    if len(cut) > 70:
        cut = cut[:70].rsplit(" ", 1)[0] if " " in cut[:70] else cut[:70]
    return f"“{cut}{'…' if cut != ' '.join(words) else ''}”"


def _groups(ops) -> list[tuple[str, str]]:
    """The changes of a word diff: (deleted, inserted) text of each run of changed pieces."""
    groups, deleted, inserted = [], [], []
    for op, text in list(ops) + [(0, "")]:
        if op == 0:
            if deleted or inserted:
                groups.append(("".join(deleted), "".join(inserted)))
                deleted, inserted = [], []
        elif op < 0:
            deleted.append(text)
        else:
            inserted.append(text)
    return groups


def change_excerpt(kind: str, base_body: str | None, proposed_body: str | None,
                   base_heading: str | None = None, proposed_heading: str | None = None, ops=None) -> str:
    """Say in a few words what an amendment changes, e.g. ‘replaces “platforms” with “bravely renewed”’.

    ``ops`` is the word diff of the two bodies when the caller has it already.
    """
    if kind == "insert":
        text = f"new section {quote(proposed_heading)}: {quote(_opening(proposed_body))}"
    elif kind == "delete":
        text = f"removes the section, from {quote(_opening(base_body))}"
    else:
        if ops is None:
            ops = word_diff(base_body or "", proposed_body or "")
        groups = [(visible_text(deleted), visible_text(inserted)) for deleted, inserted in _groups(ops)]
        groups = [group for group in groups if group[0] or group[1]]  # spacing and markers alone say nothing
        heading = proposed_heading and proposed_heading != base_heading
        if not groups:
            text = f"new heading {quote(proposed_heading)}" if heading else "changes the layout only"
        else:
            deleted, inserted = groups[0]
            if deleted and inserted:
                text = f"replaces {quote(deleted)} with {quote(inserted)}"
            elif inserted:
                text = f"adds {quote(inserted)}"
            else:
                text = f"removes {quote(deleted)}"
            more = len(groups) - 1 + (1 if heading else 0)
            if more:
                text += f" (and {more} more change{'' if more == 1 else 's'})"
    return text if len(text) <= MAX_LENGTH else text[:MAX_LENGTH - 1] + "…"
