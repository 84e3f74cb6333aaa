"""The words generated about an amendment (its title, excerpt and revision notes), in the reader's language.

What ``describe`` and the services work out about an amendment is stored as
language-neutral data (``Amendment.summary``, ``AmendmentRevision.note_data``)
and turned into words here, at display time, with gettext: a French reader
sees French titles even for amendments written by someone reading Spanish.

The English text is still stored beside the data (``title``, ``excerpt``,
``note``) for search, archives and older readers; it is produced by the same
functions with ``ENGLISH`` (identity translations, no app needed). Rows
written before the data existed are read back from their English words
(``parse_title``, ``parse_note``), so old amendments translate too.
"""

from __future__ import annotations

import re
from typing import Any, Callable, NamedTuple

from flask_babel import gettext, ngettext

from ..templating import diff_labels  # noqa: F401  (re-exported for the amendment views)
from .citations import Numbering, placed_title


class Words(NamedTuple):
    """A pair of gettext functions: the reader's (flask_babel) or plain English."""

    gettext: Callable[..., str]
    ngettext: Callable[..., str]


def _en_gettext(string: str, **variables: Any) -> str:
    """English, as flask_babel's gettext formats it (``%`` only with variables)."""
    return string % variables if variables else string


def _en_ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """English plural, as flask_babel's ngettext formats it."""
    variables.setdefault("num", num)
    return (singular if num == 1 else plural) % variables


ENGLISH = Words(_en_gettext, _en_ngettext)
READER = Words(gettext, ngettext)

MAX_EXCERPT = 200  # the column's size, and what a list row shows


# ------------------------------------------------------------------ titles

def title_data(kind: str, *, section: int | None = None, after: int | None = None,
               first: int | None = None, last: int | None = None,
               place: tuple[int, int | None] | None = None) -> dict[str, Any]:
    """The parts of a title: kind, section number (None: retired), the section followed, the lines.

    With ``place`` (document id, section id) the number and lines are the section's own (its version's
    lines from 1) and are numbered where shown (``citations.placed_title``); without, as given.
    """
    data: dict[str, Any] = {"kind": kind}
    if place is not None:
        data["in"] = list(place)
    if kind == "insert":
        if after is not None:
            data["after"] = after
        return data
    data["section"] = section
    if kind == "modify" and first is not None:
        data["first"], data["last"] = first, last if last is not None else first
    return data


def render_title(data: dict[str, Any], words: Words = READER) -> str:
    """A title such as "§3, lines 12–14", "§3: delete the section", "New section after §2"."""
    _ = words.gettext
    kind = data.get("kind")
    if kind == "insert":
        if data.get("after") is not None:
            return _("New section after §%(number)s", number=data["after"])
        return _("New section at the start")
    number = data.get("section")
    if kind == "delete":
        if number is None:
            return _("Retired section: delete the section")
        return _("§%(number)s: delete the section", number=number)
    first, last = data.get("first"), data.get("last")
    if first is None:
        if number is None:
            return _("Retired section, heading")
        return _("§%(number)s, heading", number=number)
    if number is None:
        if first == last:
            return _("Retired section, line %(first)s", first=first)
        return _("Retired section, lines %(first)s–%(last)s", first=first, last=last)
    if first == last:
        return _("§%(number)s, line %(first)s", number=number, first=first)
    return _("§%(number)s, lines %(first)s–%(last)s", number=number, first=first, last=last)


_TITLE_PATTERNS = [
    (re.compile(r"^New section after §(\d+)$"), lambda m: title_data("insert", after=int(m[1]))),
    (re.compile(r"^New section at the start$"), lambda m: title_data("insert")),
    (re.compile(r"^§(\d+): delete the section$"), lambda m: title_data("delete", section=int(m[1]))),
    (re.compile(r"^Retired section: delete the section$"), lambda m: title_data("delete")),
    (re.compile(r"^(?:§(\d+)|Retired section), heading$"),
     lambda m: title_data("modify", section=int(m[1]) if m[1] else None)),
    (re.compile(r"^(?:§(\d+)|Retired section), lines? (\d+)(?:\u2013(\d+))?$"),
     lambda m: title_data("modify", section=int(m[1]) if m[1] else None, first=int(m[2]),
                          last=int(m[3] or m[2]))),
]


def parse_title(title: str | None) -> dict[str, Any] | None:
    """The parts of a title stored in English before titles kept their data; None when it is not one."""
    for pattern, build in _TITLE_PATTERNS:
        match = pattern.match(title or "")
        if match:
            return build(match)
    return None


def display_title(summary: dict[str, Any] | None, title: str | None, words: Words = READER,
                  numbering: Numbering | None = None) -> str:
    """An amendment's title from its stored columns (``summary``, ``title``), in the reader's language.

    For queries that select columns rather than amendments (search, notifications, exports);
    ``Amendment.display_title`` says the same for a loaded amendment. Its section number and lines
    are those of ``numbering`` (the live text's by default: see ``citations``).
    """
    data = (summary or {}).get("title") or parse_title(title)
    return render_title(placed_title(data, numbering), words) if data else (title or "")


# ---------------------------------------------------------------- excerpts

def quote(text: str, words: Words = READER) -> str:
    """A quoted passage, with the quotation marks of the reader's language."""
    return words.gettext("“%(text)s”", text=text)


def render_excerpt(data: dict[str, Any], words: Words = READER) -> str:
    """What an amendment changes in a few words: ‘replaces “x” with “y” (and 2 more changes)’."""
    _ = words.gettext
    change = data.get("change")
    q = lambda key: quote(data.get(key) or "", words)  # noqa: E731
    if change == "new_section":
        text = _("new section %(heading)s: %(opening)s", heading=q("heading"), opening=q("opening"))
    elif change == "remove_section":
        text = _("removes the section, from %(opening)s", opening=q("opening"))
    elif change == "heading":
        text = _("new heading %(heading)s", heading=q("heading"))
    elif change == "layout":
        text = _("changes the layout only")
    else:
        if change == "replace":
            text = _("replaces %(old)s with %(new)s", old=q("old"), new=q("new"))
        elif change == "add":
            text = _("adds %(new)s", new=q("new"))
        else:
            text = _("removes %(old)s", old=q("old"))
        more = int(data.get("more") or 0)
        if more:
            text = words.ngettext("%(change)s (and %(num)s more change)", "%(change)s (and %(num)s more changes)",
                                  more, change=text)
    return text if len(text) <= MAX_EXCERPT else text[:MAX_EXCERPT - 1] + "…"


# ---------------------------------------------------------- revision notes

# How each revision came about; the audit code of the event that made it is the same word.
NOTES = ("draft_saved", "submitted", "edited", "conflict_resolved", "withdrawn", "decided", "conflicted",
         "absorbed", "retired", "rebased")


def note_data(code: str, **params: Any) -> dict[str, Any]:
    """A revision note as data: its code, its parameters (version, status) and what it followed from."""
    if code not in NOTES:
        raise ValueError(f"unknown revision note {code!r}")
    return {"code": code, **{key: value for key, value in params.items() if value is not None}}


def _decided_status(status: str | None, words: Words) -> str:
    """A decision's status in lower case, as a note says it ("accepted with modifications")."""
    _ = words.gettext
    return {
        "accepted": _("accepted"), "accepted_modified": _("accepted with modifications"), "rejected": _("rejected"),
        "obsolete": _("obsolete"), "merged": _("merged"), "withdrawn": _("withdrawn"),
    }.get(status or "", status or "")


def render_note(data: dict[str, Any], words: Words = READER) -> str:
    """A revision note ("rebased onto version 3", "conflicts with version 4, after A-002 was accepted")."""
    _ = words.gettext
    code, version = data.get("code"), data.get("version")
    after = data.get("after") or {}
    if code == "conflicted":
        if after:
            return _("conflicts with version %(version)s, after %(code)s was %(status)s", version=version,
                     code=after.get("code"), status=_decided_status(after.get("decision"), words))
        return _("conflicts with version %(version)s", version=version)
    if code == "absorbed":
        if after:
            return _("nothing left to change after version %(version)s, after %(code)s was %(status)s",
                     version=version, code=after.get("code"), status=_decided_status(after.get("decision"), words))
        return _("nothing left to change after version %(version)s", version=version)
    if code == "retired":
        if after:
            return _("the section was retired, after %(code)s was %(status)s", code=after.get("code"),
                     status=_decided_status(after.get("decision"), words))
        return _("the section was retired")
    if code == "rebased":
        return _("rebased onto version %(version)s", version=version)
    if code == "decided":
        return _decided_status(data.get("status"), words)
    return {
        "draft_saved": _("draft saved"), "submitted": _("submitted"), "edited": _("edited"),
        "conflict_resolved": _("conflict resolved"), "withdrawn": _("withdrawn"),
    }.get(code or "", code or "")


_STATUS_WORDS = {"accepted": "accepted", "accepted with modifications": "accepted_modified", "rejected": "rejected",
                 "obsolete": "obsolete", "merged": "merged"}
_AFTER = r"(?:, after (A-\d+) was (accepted with modifications|accepted|rejected|obsolete|merged))?$"
_NOTE_PATTERNS = [
    (re.compile(r"^conflicts with version (\d+)" + _AFTER), "conflicted"),
    (re.compile(r"^nothing left to change after version (\d+)" + _AFTER), "absorbed"),
    (re.compile(r"^the section was retired()" + _AFTER), "retired"),
    (re.compile(r"^rebased onto version (\d+)()()$"), "rebased"),
]
_PLAIN_NOTES = {"draft saved": "draft_saved", "submitted": "submitted", "edited": "edited",
                "conflict resolved": "conflict_resolved", "withdrawn": "withdrawn"}


def parse_note(note: str | None) -> dict[str, Any] | None:
    """The data of a note stored in English before notes kept their data; None when it is not one."""
    note = note or ""
    if note in _PLAIN_NOTES:
        return note_data(_PLAIN_NOTES[note])
    if note in _STATUS_WORDS:
        return note_data("decided", status=_STATUS_WORDS[note])
    for pattern, code in _NOTE_PATTERNS:
        match = pattern.match(note)
        if match:
            version = int(match[1]) if match[1] else None
            after = {"code": match[2], "decision": _STATUS_WORDS[match[3]]} if match[2] else None
            return note_data(code, version=version, after=after)
    return None


# ------------------------------------------------------- labels of the pages

def event_action_label(action: str) -> str:
    """What an audit event on an amendment did, in the reader's language ("amendment.supported" → "supported")."""
    _ = gettext
    labels = {
        "amendment.drafted": _("draft saved"),
        "amendment.submitted": _("submitted"),
        "amendment.edited": _("edited"),
        "amendment.conflict_resolved": _("conflict resolved"),
        "amendment.withdrawn": _("withdrawn"),
        "amendment.supported": _("supported"),
        "amendment.support_withdrawn": _("support withdrawn"),
        "amendment.accepted": _("accepted"),
        "amendment.accepted_modified": _("accepted with modifications"),
        "amendment.rejected": _("rejected"),
        "amendment.obsolete": _("marked obsolete"),
        "amendment.merged": _("merged"),
        "amendment.conflicted": _("conflicted"),
        "amendment.rebased": _("rebased"),
        "amendment.hidden": _("hidden by the moderators"),
        "amendment.restored": _("shown again by the moderators"),
        "amendment.reported": _("reported to the moderators"),
    }
    return labels.get(action) or action.removeprefix("amendment.").replace("_", " ")
