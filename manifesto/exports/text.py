"""Plain-text export: the text people read, broken exactly at the numbered lines.

Each section's body is printed line by line as it is numbered on the
screen (the stored layout: visible text, markup gone, bullets kept), so a
delegate's "line 12" is the same words here as everywhere else. With line
numbers every line starts with its number, right-aligned::

      12  text of line 12

A blank line separates blocks (paragraphs, list items, headings); nested
list items and quotes are indented two spaces a level after the number,
which never moves a word to another line. The rest (contents, the
introduction, annex, redline) is wrapped at the document's line length.
"""

from __future__ import annotations

import textwrap

from flask_babel import gettext as _

from .document import ExportDocument, ExportSection
from .formats import register
from .fragments import clean, html_to_text, plain_paragraphs, squash
from .labels import change_label, edition_label, in_language, unchanged_label

__all__ = ["render"]


def _underline(title: str, char: str, width: int) -> list[str]:
    """A heading wrapped at ``width`` and underlined with ``char``."""
    lines = textwrap.wrap(squash(clean(title)), width=width, break_long_words=True,
                          break_on_hyphens=False) or [""]
    return lines + [char * min(width, max(len(line) for line in lines) or 1)]


def _wrap(paragraph: str, width: int, indent: str = "") -> list[str]:
    """One paragraph wrapped at ``width``."""
    return textwrap.wrap(squash(paragraph), width=width, initial_indent=indent, subsequent_indent=indent,
                         break_long_words=True, break_on_hyphens=False) or [indent.rstrip()]


def _body(section: ExportSection, numbers: bool, digits: int) -> list[str]:
    """A section's numbered lines, with or without their numbers, a blank line between blocks."""
    out: list[str] = []
    for index, line in enumerate(section.lines):
        if line.starts_block and index:
            out.append("")
        text = "  " * max(0, min(line.depth, 10)) + clean(line.text).replace("\n", " ")
        out.append(f"{line.number:>{digits}}  {text}".rstrip() if numbers else text.rstrip())
    return out


@register("txt")
def render(doc: ExportDocument) -> bytes:
    """The plain-text file of ``doc`` (UTF-8, Unix line ends), its fixed texts in ``doc.labels_language``."""
    with in_language(doc):
        return _render(doc)


def _render(doc: ExportDocument) -> bytes:
    """:func:`render`, inside the export's locale."""
    width = max(doc.line_length, 40)
    numbers = doc.options.line_numbers
    last = max((line.number for section in doc.sections for line in section.lines), default=0)
    digits = max(4, len(str(last)))
    out = _underline(doc.title, "=", width)
    out += ["", *_wrap(edition_label(doc), width)]
    if doc.is_final:
        out.append(_("Final text"))
    for paragraph in html_to_text(doc.introduction_html):
        out += ["", *_wrap(paragraph, width)]
    out += ["", _("Contents"), ""]
    out += [line for section in doc.sections
            for line in _wrap(f"{section.number}. {clean(section.heading)}", width, "  ")]
    since = (_("Changes since %(release)s", release=doc.redline_base) if doc.redline_base
             else _("Changes since the earlier release"))
    extra = [name for name, present in ((since, bool(doc.redline)),
                                        (_("Annex: amendments"), doc.options.annex),
                                        (_("Annex: votes"), doc.options.annex and bool(doc.votes)),
                                        (_("Contributors"), doc.options.contributors)) if present]
    out += [line for name in extra for line in _wrap(clean(name), width, "  ")]
    for section in doc.sections:
        out += ["", "", *_underline(f"{section.number}. {section.heading}", "-", width)]
        if numbers and section.lines:
            out.append(_("Lines %(first)s–%(last)s", first=section.lines[0].number, last=section.lines[-1].number))
        out.append("")
        out += _body(section, numbers, digits)
    if doc.redline:
        out += ["", "", *_underline(extra[0], "-", width)]
        out += ["", *_wrap(_("Inserted words are shown [+like this+], deleted words [-like this-]."), width)]
        unchanged = 0
        for change in doc.redline:
            if change.change == "unchanged":
                unchanged += 1
                continue
            number = change.number if change.number is not None else change.old_number
            out += ["", *_wrap(_("§%(number)s %(heading)s: %(change)s", number=number, heading=clean(change.heading),
                                 change=clean(change_label(change))), width)]
            for paragraph in html_to_text(change.diff_html, ("[+", "+]"), ("[-", "-]")):
                out += ["", *_wrap(paragraph, width, "    ")]
            if change.amendments:
                codes = ", ".join(map(clean, change.amendments))
                out += ["", *_wrap(_("Amendments adopted: %(codes)s", codes=codes), width, "    ")]
        if unchanged:
            out += ["", unchanged_label(unchanged, doc.labels_language)]
    if doc.options.annex:
        out += ["", "", *_underline(_("Annex: amendments"), "-", width)]
        if not doc.annex:
            out += ["", _("No amendments were submitted.")]
        for entry in doc.annex:
            out += ["", *_wrap(f"{entry.code}: {entry.kind}" if entry.kind else entry.code, width)]
            fields = [(_("Section:"), entry.section), (_("Lines:"), entry.lines), (_("Author:"), entry.author),
                      (_("Status:"), entry.status), (_("Reason:"), entry.reason)]
            for label, value in fields:
                paragraphs = plain_paragraphs(value)
                if not paragraphs:
                    continue
                out += textwrap.wrap(f"{label} {paragraphs[0]}", width=width, initial_indent="    ",
                                     subsequent_indent="      ", break_long_words=True, break_on_hyphens=False)
                for paragraph in paragraphs[1:]:
                    out += _wrap(paragraph, width, "      ")
    if doc.options.annex and doc.votes:
        out += ["", "", *_underline(_("Annex: votes"), "-", width)]
        for vote in doc.votes:
            out += ["", *_wrap(clean(vote.question), width)]
            fields = [(_("Vote on:"), vote.subject), (_("Kind of vote:"), vote.kind), (_("Counted:"), vote.rule),
                      (_("Votes:"), _("%(yes)s yes, %(no)s no, %(abstain)s abstain", yes=vote.yes, no=vote.no,
                                      abstain=vote.abstain)),
                      (_("Result:"), f"{vote.result} {vote.why}")]
            if vote.roll:
                fields.append((_("Who voted how:"), "; ".join(f"{name}: {choice}" for name, choice in vote.roll)))
            for label, value in fields:
                out += textwrap.wrap(f"{label} {clean(value)}", width=width, initial_indent="    ",
                                     subsequent_indent="      ", break_long_words=True, break_on_hyphens=False)
    if doc.options.contributors:
        out += ["", "", *_underline(_("Contributors"), "-", width), ""]
        if doc.contributors:
            out += _wrap(_("These people took part and agreed to be named:"), width) + [""]
            out += [line for person in doc.contributors for line in _wrap(clean(person), width, "  ")]
        else:
            out += _wrap(_("Nobody has asked to be named yet."), width)
    return ("\n".join(out).rstrip("\n") + "\n").encode("utf-8")
