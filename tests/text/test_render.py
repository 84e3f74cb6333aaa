"""Tests for manifesto.text.render: Markdown rendering and sanitizing."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from manifesto.text.render import (
    ALLOWED_PROTOCOLS,
    ALLOWED_TAGS,
    LINK_REL,
    render_markdown,
    render_plain,
    sanitize,
)


class _Collector(HTMLParser):
    """Collects every element and attribute the browser would build."""

    def __init__(self) -> None:
        """Start with nothing collected."""
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Record a start tag and its attributes (values entity-decoded)."""
        self.tags.append(tag)
        self.attrs.extend((tag, name, value or "") for name, value in attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Record a self-closing tag."""
        self.handle_starttag(tag, attrs)


def _parse(html: str) -> _Collector:
    """Parse HTML as a browser-like tokenizer would."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector


def _scheme(url: str) -> str | None:
    """Return the lower-cased URL scheme a browser would see, if any."""
    cleaned = "".join(ch for ch in url if ch > " " and ch not in "\x7f").lower()
    head, sep, _ = cleaned.partition(":")
    if not sep or "/" in head or "?" in head or "#" in head:
        return None
    return head


def assert_safe(html: str) -> None:
    """Assert that no executable markup or dangerous URL survives in ``html``."""
    lowered = html.lower()
    assert "<script" not in lowered
    assert "<style" not in lowered
    parsed = _parse(html)
    assert set(parsed.tags) <= ALLOWED_TAGS
    for tag, name, value in parsed.attrs:
        assert not name.startswith("on"), (tag, name)
        assert name in {"href", "title", "rel", "start"}, (tag, name)
        if name == "href":
            scheme = _scheme(value)
            assert scheme is None or scheme in ALLOWED_PROTOCOLS, value
            assert "javascript:" not in value.lower()


# ------------------------------------------------------------------ markdown


def test_basic_markdown() -> None:
    """Emphasis, lists, code and quotes render with allowlisted tags."""
    html = render_markdown(
        "Some *emphasis*, **strong** and `code`.\n\n- one\n- two\n\n> quoted\n\n---"
    )
    assert "<em>emphasis</em>" in html
    assert "<strong>strong</strong>" in html
    assert "<code>code</code>" in html
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html
    assert "<blockquote>" in html
    assert "<hr>" in html


def test_ordered_list_keeps_start() -> None:
    """An ordered list starting at 3 keeps its start attribute."""
    assert '<ol start="3">' in render_markdown("3. three\n4. four")


def test_fenced_code_drops_class() -> None:
    """Code blocks render but lose the language class (not allowlisted)."""
    html = render_markdown("```python\nprint('<hi>')\n```")
    assert html == "<pre><code>print('&lt;hi&gt;')\n</code></pre>"


def test_strikethrough() -> None:
    """GFM strikethrough is enabled."""
    assert "<s>old</s>" in render_markdown("~~old~~ new")


@pytest.mark.parametrize(
    ("source", "tag"),
    [
        ("# One", "h3"),
        ("## Two", "h4"),
        ("### Three", "h5"),
        ("#### Four", "h6"),
        ("##### Five", "h6"),
        ("###### Six", "h6"),
        ("Setext\n======", "h3"),
        ("Setext\n------", "h4"),
    ],
)
def test_heading_levels_are_shifted(source: str, tag: str) -> None:
    """Section headings never compete with page headings (h1/h2)."""
    html = render_markdown(source)
    assert html.startswith(f"<{tag}>") and html.endswith(f"</{tag}>")
    assert "<h1" not in html and "<h2" not in html


def test_table() -> None:
    """Tables render, alignment styles are dropped."""
    html = render_markdown("| a | b |\n|:--|--:|\n| 1 | 2 |")
    for tag in ("<table>", "<thead>", "<tbody>", "<tr>", "<th>a</th>", "<td>2</td>"):
        assert tag in html
    assert "style" not in html and "align" not in html


def test_links_get_rel() -> None:
    """Links keep href and title and are marked nofollow/noopener/noreferrer."""
    html = render_markdown('[site](https://example.org/a?b=1&c=2 "Title")')
    assert (
        f'<a href="https://example.org/a?b=1&amp;c=2" title="Title" rel="{LINK_REL}">site</a>'
        in html
    )
    assert f'rel="{LINK_REL}"' in render_markdown("<mailto:someone@example.org>")


def test_bare_urls_are_not_linkified() -> None:
    """Bare URLs stay text: linking is the author's explicit choice."""
    html = render_markdown("see https://example.org now")
    assert "<a" not in html and "https://example.org" in html


def test_images_become_links() -> None:
    """Images are not allowed; the reader still gets a link to them."""
    html = render_markdown("![a chart](https://example.org/chart.png)")
    assert "<img" not in html
    assert '<a href="https://example.org/chart.png"' in html and "a chart" in html


@pytest.mark.parametrize("source", ["", "   ", "\n\n\t\n"])
def test_blank_input(source: str) -> None:
    """Blank input renders to the empty string."""
    assert render_markdown(source) == ""
    assert render_plain(source) == ""


@pytest.mark.parametrize(
    "text",
    [
        "Liberté, égalité, fraternité — « ça ira » à l'œuvre.",
        "¿Señal? ¡Sí! El niño pidió más pan y café.",
        "Nous voulons 🌍♻️ et 👩🏽‍🔧 pour tous 🇫🇷🇪🇸.",
        "الحرية والعدالة للجميع",
        "שלום לכולם",
        "Ελευθερία και δημοκρατία",
    ],
)
def test_unicode_round_trips(text: str) -> None:
    """Non-ASCII text survives rendering untouched (no entity mangling)."""
    assert render_markdown(text) == f"<p>{text}</p>"
    assert render_plain(text) == f"<p>{text}</p>"


# --------------------------------------------------------------- hostility

HOSTILE_PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<iframe src="https://evil.example"></iframe>',
    "<svg onload=alert(1)><circle/></svg>",
    "<math><mtext><script>alert(1)</script></mtext></math>",
    "<style>body{display:none}</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;avascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    "[x](java\tscript:alert(1))",
    "<javascript:alert(1)>",
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    '<a href="&#106;avascript:1">entity</a>',
    '[x](https://ok.example "a\\" onmouseover=\\"alert(1)")',
    "<body onload=alert(1)>",
    "<object data=x></object><embed src=x>",
    "<form action=javascript:alert(1)><button>go</button></form>",
    "<!-- <script>alert(1)</script> -->",
    "`<script>alert(1)</script>`",
    "<<script>script>alert(1)<</script>/script>",
]


@pytest.mark.parametrize("payload", HOSTILE_PAYLOADS)
def test_hostile_markdown_is_neutralised(payload: str) -> None:
    """No executable markup or dangerous link survives Markdown rendering."""
    assert_safe(render_markdown(payload))


@pytest.mark.parametrize("payload", HOSTILE_PAYLOADS)
def test_hostile_plain_text_is_neutralised(payload: str) -> None:
    """Plain-text rendering escapes everything."""
    html = render_plain(payload)
    assert_safe(html)
    assert set(_parse(html).tags) <= {"p", "br"}


@pytest.mark.parametrize("payload", HOSTILE_PAYLOADS)
def test_hostile_html_is_sanitized(payload: str) -> None:
    """Raw HTML passed straight to sanitize() is made safe too."""
    assert_safe(sanitize(payload))


def test_raw_html_is_shown_as_text() -> None:
    """Raw HTML in Markdown is escaped, so the reader sees what was typed."""
    html = render_markdown("<img src=x onerror=alert(1)>")
    assert html == "<p>&lt;img src=x onerror=alert(1)&gt;</p>"


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "&#106;avascript:alert(1)",
        "&#106;avascript:1",
        "javascript:1",
        " javascript:1",
        "java&#x09;script:alert(1)",
        "&amp;#106;avascript:1",
        "vbscript:msgbox(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
    ],
)
def test_sanitize_drops_dangerous_hrefs(href: str) -> None:
    """Dangerous link targets are removed, the link text stays."""
    html = sanitize(f'<a href="{href}">label</a>')
    assert html == "<a>label</a>"


@pytest.mark.parametrize(
    "href",
    ["https://example.org/", "http://example.org/x", "mailto:a@example.org", "/local", "#anchor"],
)
def test_sanitize_keeps_safe_hrefs(href: str) -> None:
    """Ordinary links survive with rel added."""
    assert sanitize(f'<a href="{href}">x</a>') == f'<a href="{href}" rel="{LINK_REL}">x</a>'


def test_sanitize_replaces_user_rel() -> None:
    """A user-supplied rel cannot weaken ours."""
    html = sanitize('<a href="https://e.org" rel="opener" target="_blank">x</a>')
    assert html == f'<a href="https://e.org" rel="{LINK_REL}">x</a>'


def test_sanitize_strips_disallowed_tags_keeps_text() -> None:
    """Disallowed tags vanish; their text stays, escaped."""
    assert sanitize("<h1>Big</h1><span>a &lt;b&gt;</span>") == "Biga &lt;b&gt;"


# -------------------------------------------------------------- plain text


def test_render_plain_paragraphs_and_breaks() -> None:
    """Blank lines split paragraphs, single newlines become <br>."""
    assert (
        render_plain("First line\r\nsecond line\n\n  \n\nNew para & more")
        == "<p>First line<br>second line</p>\n<p>New para &amp; more</p>"
    )


def test_render_plain_does_not_interpret_markdown() -> None:
    """Plain text is not Markdown (yet)."""
    assert render_plain("*not emphasis* [x](https://e.org)") == (
        "<p>*not emphasis* [x](https://e.org)</p>"
    )


def test_text_after_a_list_nested_ten_deep_is_kept():
    """markdown-it drops the rest of a text past its nesting limit; a ten-deep list must not hide what follows."""
    from manifesto.text.lines import layout

    source = "\n".join("  " * depth + f"- level {depth + 1}" for depth in range(10)) + "\n\nAfter the list."
    assert "level 10" in render_markdown(source) and "After the list." in render_markdown(source)
    assert [view.text for view in layout(source).views][-2:] == ["\u2022 level 10", "After the list."]
