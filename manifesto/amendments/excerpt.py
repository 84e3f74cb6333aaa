"""A few plain words saying what an amendment changes, stored with it for the rows of the lists.

Pure text work (no database, no app): the amendment services call it
whenever an amendment's text or base changes, and migration 0009 calls it
to fill the rows written before. It reads the word diff of the Markdown
source (which ``describe`` computes anyway) and shows each quoted passage
as a reader sees it, Markdown markers gone, so a row never shows ``**`` or
a link's address. Only the quoted snippets are rendered, never the whole
text: describing an amendment costs a fraction of a millisecond more.

``change_summary`` gives the excerpt as language-neutral data (stored in
``Amendment.summary`` and put into words in the reader's language by
``wording.render_excerpt``); ``change_excerpt`` gives the English words kept
in the ``excerpt`` column.
"""

from __future__ import annotations

import re

from typing import Any

from ..text.diff import word_diff
from ..text.visible import visible_blocks
from .wording import ENGLISH, render_excerpt

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


def cut(text: str | None) -> str:
    """The first words of ``text``, cut with an ellipsis when longer (quoted when shown)."""
    words = (text or "").split()
    shown = " ".join(words[:MAX_WORDS])
    if len(shown) > 70:
        shown = shown[:70].rsplit(" ", 1)[0] if " " in shown[:70] else shown[:70]
    return f"{shown}{'…' if shown != ' '.join(words) else ''}"


def quote(text: str | None) -> str:
    """The first words of ``text`` in (English) quotation marks, cut with an ellipsis when longer."""
    return f"“{cut(text)}”"


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


def change_summary(kind: str, base_body: str | None, proposed_body: str | None,
                   base_heading: str | None = None, proposed_heading: str | None = None, ops=None) -> dict[str, Any]:
    """What an amendment changes, as data: {"change": "replace", "old": "platforms", "new": "bravely renewed"}.

    ``change`` is one of new_section, remove_section, heading, layout,
    replace, add, remove; the passages are cut already (quoted when shown);
    ``more`` counts the other changes. ``ops`` is the word diff of the two
    bodies when the caller has it already.
    """
    if kind == "insert":
        return {"change": "new_section", "heading": cut(proposed_heading), "opening": cut(_opening(proposed_body))}
    if kind == "delete":
        return {"change": "remove_section", "opening": cut(_opening(base_body))}
    if ops is None:
        ops = word_diff(base_body or "", proposed_body or "")
    groups = [(visible_text(deleted), visible_text(inserted)) for deleted, inserted in _groups(ops)]
    groups = [group for group in groups if group[0] or group[1]]  # spacing and markers alone say nothing
    heading = bool(proposed_heading and proposed_heading != base_heading)
    if not groups:
        return {"change": "heading", "heading": cut(proposed_heading)} if heading else {"change": "layout"}
    deleted, inserted = groups[0]
    more = len(groups) - 1 + (1 if heading else 0)
    if deleted and inserted:
        data = {"change": "replace", "old": cut(deleted), "new": cut(inserted)}
    elif inserted:
        data = {"change": "add", "new": cut(inserted)}
    else:
        data = {"change": "remove", "old": cut(deleted)}
    if more:
        data["more"] = more
    return data


def change_excerpt(kind: str, base_body: str | None, proposed_body: str | None,
                   base_heading: str | None = None, proposed_heading: str | None = None, ops=None) -> str:
    """Say in a few English words what an amendment changes, e.g. ‘replaces “platforms” with “bravely renewed”’.

    ``ops`` is the word diff of the two bodies when the caller has it already.
    """
    return render_excerpt(change_summary(kind, base_body, proposed_body, base_heading, proposed_heading, ops=ops),
                          ENGLISH)
