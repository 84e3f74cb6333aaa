"""What the export tests share: sample documents, and readers that take a file apart the way a person would."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from manifesto.documents import services as documents

RICH_BODIES = [
    ("Purpose and scope",
     "The **social and solidarity economy** puts people before capital.\n"
     "It is *democratic* by design, as the [ILO](https://www.ilo.org/) recalls.\n\n"
     "### What we ask\n\n"
     "- Public procurement that favours cooperatives;\n"
     "- access to patient capital;\n"
     "  - including guarantee funds;\n"
     "- fair taxation.\n\n"
     "> Nothing about us without us.\n\n"
     "1. First, recognise the sector.\n2. Second, fund it.\n\n"
     "Les coopératives d’habitants « citoyennes » comptent 10\u00a0000 membres ; ¿cómo no?"),
    ("Energy sovereignty",
     "Community energy cooperatives own wind and solar plants together. " * 6
     + "\n\nThey share the income with the municipality, and the grid stays public."),
    ("Democracy at work",
     "Worker ownership keeps jobs local.\n\n"
     "| Country | Cooperatives |\n|---|---|\n| France | 22,000 |\n| Spain | 18,000 |\n\n"
     "`code words` stay as they are."),
    ("Finance",
     "Solidarity finance lends where banks do not.\n\n"
     "6. Sixth point, numbered from six.\n7. Seventh point."),
]

HOSTILE_BODIES = [
    ("A 500-character word", "Before " + "x" * 500 + " after."),
    ("Lists nested ten deep", "\n".join("  " * i + f"- level {i}" for i in range(10)) + "\n\nAfter the list."),
    ("A huge table", "| " + " | ".join(f"head {i}" for i in range(24)) + " |\n|" + "---|" * 24 + "\n"
     + "\n".join("| " + " | ".join(f"r{r}c{i}" for i in range(24)) + " |" for r in range(120))),
    ("Scripts </style> ]]> <script>alert(1)</script>",
     "Right to left: مرحبا بالعالم and שלום עולם. Emoji 🌍👩🏽‍🌾🏳️‍🌈. Outside the font: 𓀀 𝔘𝔫𝔦 ꙮ 漢字.\n\n"
     "Control \x01\x02\x0b\x0c\x1b\x7f\x85 characters, ]]> and </style></script><script>alert(1)</script>.\n\n"
     "<div onclick=\"x()\">raw html</div>\n\n<!-- a comment -->\n\n"
     "[javascript link](javascript:alert(1)) and <https://example.org/auto> and `<b>code</b>`.\n\n"
     "```\nan unclosed fence <script>\n"),
    ("Title with \x01 control *and* #markup# | pipes", "Plain text {{ jinja }} {% raw %} &amp; &lt; done."),
]


def make_rich_document(make_document, users, bodies=RICH_BODIES, slug="doc", phase="amendments"):
    """A document whose sections are ``bodies`` (heading, Markdown), written through the services."""
    document = make_document(n_sections=len(bodies), slug=slug, phase=phase, editor=users["admin"])
    for entry, (heading, body) in zip(documents.current_sections(document), bodies):
        documents.edit_section(users["admin"], document.id, entry.section.id, heading=heading, body=body,
                               reason="The text for the tests.", base_version=entry.section.version_count)
    return document


def collapse(text: str) -> str:
    """Collapse white space as a reader sees it."""
    return " ".join(text.split())


class _Lines(HTMLParser):
    """Numbered lines of a page: ``<span class="ln">N</span> <span class="lt">text</span>``."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines: dict[int, str] = {}
        self.mode = None
        self.number = None
        self.depth = 0
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if self.mode == "lt":
            self.depth += 1
        if tag == "span" and "ln" in classes:
            self.mode = "ln"
        elif tag == "span" and "lt" in classes and self.number is not None:
            self.mode, self.depth = "lt", 0
            self.lines[self.number] = ""

    def handle_endtag(self, tag):
        if self.mode == "ln":
            self.mode = None
        elif self.mode == "lt":
            if self.depth == 0:
                self.mode = None
                self.lines[self.number] = collapse(self.lines[self.number])
                self.number = None
            else:
                self.depth -= 1

    def handle_data(self, data):
        if self.mode == "ln" and data.strip().isdigit():
            self.number = int(data.strip())
        elif self.mode == "lt":
            self.lines[self.number] += data


def numbered_lines_of(page: str) -> dict[int, str]:
    """Line number -> visible text of every numbered line on an HTML page (the screen or the HTML export)."""
    parser = _Lines()
    parser.feed(page)
    return parser.lines


def text_lines_of(text: str) -> dict[int, str]:
    """Line number -> words of every numbered line of the plain-text export ("  12  text")."""
    found = {}
    for line in text.splitlines():
        match = re.match(r"^\s*(\d+)  (.*)$", line)
        if match:
            found[int(match.group(1))] = collapse(match.group(2))
    return found


class Structure(HTMLParser):
    """Tags, attributes and heading texts of a page, as a browser would build them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.headings: list[tuple[str, str]] = []
        self._heading = None
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("h1", "h2", "h3"):
            self._heading = [tag, ""]

    def handle_endtag(self, tag):
        if self._heading and tag == self._heading[0]:
            self.headings.append((tag, collapse(self._heading[1])))
            self._heading = None

    def handle_data(self, data):
        self.text.append(data)
        if self._heading:
            self._heading[1] += data


def structure_of(page: str) -> Structure:
    """Parse an HTML page."""
    parser = Structure()
    parser.feed(page)
    parser.close()
    return parser
