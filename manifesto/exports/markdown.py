"""Markdown export: the text as its authors wrote it, for websites and for the record.

The title is ``#``, each section ``## n. Heading``, and each body is the
stored Markdown, unchanged, so the file rebuilds the text exactly (a body's
own headings keep the ``#`` their authors typed; the site shows them one
level under the section heading). Markdown has no line numbers: numbering
would add line breaks the text does not have, so ``line_numbers`` is
ignored here; PDF, DOCX, HTML and plain text carry them.

Everything that is not a body (headings, names, reasons) is plain text and
is escaped, so a heading such as ``*Not* emphasis`` stays literal.

Two changes are made to a body, both so that the file means what the site
shows: raw HTML (``<script>``, ``<div>``), which the site shows as text, is
escaped (``\\<script>``), because many website renderers would run it; and
a code fence the body leaves open is closed, because in one file it would
swallow every section after it. A body without either is exported as is.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from markdown_it import MarkdownIt

from .document import ExportDocument
from .formats import register
from .fragments import clean, html_segments, plain_paragraphs, squash
from .labels import change_label, edition_label, in_language, unchanged_label

__all__ = ["close_fences", "escape_markdown", "escape_raw_html", "render"]

# Characters that start inline markup anywhere; what is special only at the start of a line is handled there.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")
_LINE_START = re.compile(r"^(?:([#+\-=])|(\d+)([.)]))")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_AUTOLINK = re.compile(r"<(?:[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*|[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+"
                       r"(?:\.[A-Za-z0-9-]+)*)>")
_CODE_SPAN = re.compile(r"(`+)(?:.+?)(?<!`)\1(?!`)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def escape_markdown(text: str) -> str:
    """Escape a plain string so any Markdown renderer shows it literally, on one line."""
    escaped = _SPECIAL.sub(r"\\\1", squash(clean(text)))
    return _LINE_START.sub(lambda match: "\\" + match.group(1) if match.group(1)
                           else match.group(2) + "\\" + match.group(3), escaped)


def close_fences(body: str) -> str:
    """Close a code fence the body leaves open, so it cannot swallow the sections after it.

    On the site each body is rendered alone and an open fence ends with it; in
    one file it would run to the end of the document.
    """
    tokens = MarkdownIt("commonmark").parse(body)
    lines = body.split("\n")
    for token in tokens:
        if token.type == "fence" and token.map and token.map[1] >= len(lines):
            last = lines[token.map[1] - 1] if token.map[1] - 1 > token.map[0] else ""
            closing = re.match(r"^ {0,3}(`{3,}|~{3,})\s*$", last)
            if not (closing and closing.group(1)[0] == token.markup[0] and len(closing.group(1)) >= len(token.markup)):
                return body.rstrip("\n") + "\n" + token.markup
    return body


def _escape_tags(text: str) -> str:
    """Escape every ``<`` that starts an HTML tag in a stretch of Markdown outside code (autolinks stay links)."""
    out, last = [], 0
    for match in _TAG_START.finditer(text):
        start = match.start()
        backslashes = len(text[:start]) - len(text[:start].rstrip("\\"))
        if backslashes % 2 or _AUTOLINK.match(text, start):
            continue
        out.append(text[last:start] + "\\")
        last = start
    out.append(text[last:])
    return "".join(out)


def escape_raw_html(body: str) -> str:
    """Make raw HTML in a body literal text, as the site shows it (code blocks and code spans untouched)."""
    if "<" not in body:
        return body
    tokens = MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough").parse(body)
    has_html = any(token.type == "html_block" or any(child.type == "html_inline" for child in token.children or [])
                   for token in tokens)
    if not has_html:
        return body
    code = {number for token in tokens if token.type in ("fence", "code_block") and token.map
            for number in range(*token.map)}
    lines = body.split("\n")
    for number, line in enumerate(lines):
        if number in code or "<" not in line:
            continue
        parts, last = [], 0
        for span in _CODE_SPAN.finditer(line):
            parts.append(_escape_tags(line[last:span.start()]) + span.group(0))
            last = span.end()
        parts.append(_escape_tags(line[last:]))
        lines[number] = "".join(parts)
    return "\n".join(lines)


def _field(label: str, value: str) -> list[str]:
    """One ``- **Label:** value`` item (``label`` ends with its colon); a multi-paragraph value continues indented."""
    paragraphs = [escape_markdown(part) for part in plain_paragraphs(value)] or [""]
    out = [f"- **{label}** {paragraphs[0]}".rstrip()]
    for paragraph in paragraphs[1:]:
        out += ["", f"  {paragraph}"]
    return out


def _diff_markdown(diff_html: str) -> list[str]:
    """A word diff as Markdown paragraphs: insertions in ``<ins>``, deletions in ``<del>`` (inline HTML)."""
    out = []
    for paragraph in html_segments(diff_html):
        parts = []
        for mark, text in paragraph:
            escaped = _SPECIAL.sub(r"\\\1", text.replace("\n", " "))
            parts.append(f"<{mark}>{escaped}</{mark}>" if mark else escaped)
        out.append("".join(parts))
    return out


@register("md")
def render(doc: ExportDocument) -> bytes:
    """The Markdown file of ``doc`` (UTF-8), its fixed texts in ``doc.labels_language``."""
    with in_language(doc):
        return _render(doc)


def _render(doc: ExportDocument) -> bytes:
    """:func:`render`, inside the export's locale."""
    out = [f"# {escape_markdown(doc.title)}", "", f"*{escape_markdown(edition_label(doc))}*"]
    if doc.is_final:
        out += ["", "**" + escape_markdown(_("Final text")) + "**"]
    if doc.introduction.strip():
        out += ["", close_fences(escape_raw_html(clean(doc.introduction).strip("\n")))]
    for section in doc.sections:
        out += ["", f"## {section.number}. {escape_markdown(section.heading)}"]
        body = clean(section.body).strip("\n")
        if body:
            out += ["", close_fences(escape_raw_html(body))]
    if doc.redline:
        since = (_("Changes since %(release)s", release=doc.redline_base) if doc.redline_base
                 else _("Changes since the earlier release"))
        out += ["", f"## {escape_markdown(since)}"]
        for change in doc.redline:
            if change.change == "unchanged":
                continue
            number = change.number if change.number is not None else change.old_number
            out += ["", f"### §{number} {escape_markdown(change.heading)} — {escape_markdown(change_label(change))}"]
            if change.diff_html:
                for paragraph in _diff_markdown(change.diff_html):
                    out += ["", paragraph]
            if change.amendments:
                codes = ", ".join(escape_markdown(code) for code in change.amendments)
                out += ["", _("Amendments adopted: %(codes)s", codes=codes)]
        unchanged = sum(1 for change in doc.redline if change.change == "unchanged")
        if unchanged:
            out += ["", unchanged_label(unchanged, doc.labels_language)]
    if doc.options.annex:
        out += ["", "## " + escape_markdown(_("Annex: amendments"))]
        if not doc.annex:
            out += ["", escape_markdown(_("No amendments were submitted."))]
        for entry in doc.annex:
            heading = f"### {escape_markdown(entry.code)}"
            if entry.kind:
                heading += f": {escape_markdown(entry.kind)}"
            out += ["", heading, ""]
            out += _field(_("Section:"), entry.section)
            if entry.lines:
                out += _field(_("Lines:"), entry.lines)
            out += _field(_("Author:"), entry.author)
            out += _field(_("Status:"), entry.status)
            if entry.reason:
                out += _field(_("Reason:"), entry.reason)
    if doc.options.annex and doc.votes:
        out += ["", "## " + escape_markdown(_("Annex: votes"))]
        for vote in doc.votes:
            out += ["", f"### {escape_markdown(vote.question)}", ""]
            out += _field(_("Vote on:"), vote.subject)
            out += _field(_("Kind of vote:"), vote.kind)
            out += _field(_("Counted:"), vote.rule)
            out += _field(_("Votes:"), _("%(yes)s yes, %(no)s no, %(abstain)s abstain", yes=vote.yes, no=vote.no,
                                         abstain=vote.abstain))
            out += _field(_("Result:"), f"{vote.result} {vote.why}")
            if vote.roll:
                out += _field(_("Who voted how:"), "; ".join(f"{name}: {choice}" for name, choice in vote.roll))
    if doc.options.contributors:
        out += ["", "## " + escape_markdown(_("Contributors")), ""]
        if doc.contributors:
            out += [escape_markdown(_("These people took part and agreed to be named:")), ""]
            out += [f"- {escape_markdown(person)}" for person in doc.contributors]
        else:
            out += [escape_markdown(_("Nobody has asked to be named yet."))]
    return ("\n".join(out).rstrip("\n") + "\n").encode("utf-8")
