"""A few plain words saying what an amendment changes, stored with it for the rows of the lists.

Pure text work (no database, no app): the amendment services call it
whenever an amendment's text or base changes, and migration 0009 calls it
to fill the rows written before. It compares the visible text (what a
reader sees, Markdown markers gone), so a row never shows ``**`` or a
link's address.
"""

from __future__ import annotations

from ..text.diff import word_diff
from ..text.visible import visible_blocks

MAX_WORDS = 8  # of each quoted passage
MAX_LENGTH = 200  # the column's size


def visible_text(body: str | None) -> str:
    """The words a reader sees in a Markdown body, one block per line."""
    return "\n".join(block.text for block in visible_blocks(body or ""))


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
                   base_heading: str | None = None, proposed_heading: str | None = None) -> str:
    """Say in a few words what an amendment changes, e.g. ‘replaces “platforms” with “bravely renewed”’."""
    if kind == "insert":
        text = f"new section {quote(proposed_heading)}: {quote(visible_text(proposed_body))}"
    elif kind == "delete":
        text = f"removes the section, from {quote(visible_text(base_body))}"
    else:
        groups = [g for g in _groups(word_diff(visible_text(base_body), visible_text(proposed_body)))
                  if g[0].strip() or g[1].strip()]
        heading = proposed_heading and proposed_heading != base_heading
        if not groups:
            text = f"new heading {quote(proposed_heading)}" if heading else "changes the layout only"
        else:
            deleted, inserted = groups[0]
            if deleted.strip() and inserted.strip():
                text = f"replaces {quote(deleted)} with {quote(inserted)}"
            elif inserted.strip():
                text = f"adds {quote(inserted)}"
            else:
                text = f"removes {quote(deleted)}"
            more = len(groups) - 1 + (1 if heading else 0)
            if more:
                text += f" (and {more} more change{'' if more == 1 else 's'})"
    return text if len(text) <= MAX_LENGTH else text[:MAX_LENGTH - 1] + "…"
