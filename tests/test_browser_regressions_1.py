"""Regressions a real browser showed (issue #9, part 1): focus ring contrast, the icon, phone labels on
side-by-side tables, deleted and inserted words running together, numbered lines that wrap, and the
"send again" page that must look like the form it replaces."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[1] / "manifesto" / "static"


# --- 1. A focus ring that shows on every background -------------------------------------------------------

CSS = (STATIC / "style.css").read_text()


def css_rules(css: str) -> list[tuple[list[str], dict[str, str]]]:
    """Every rule of a stylesheet (inside @media too) as (selectors, declarations)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    rules = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = {}
        for declaration in body.split(";"):
            if ":" in declaration:
                name, value = declaration.split(":", 1)
                declarations[name.strip()] = value.strip()
        rules.append(([" ".join(sel.split()) for sel in selectors.split(",")], declarations))
    return rules


RULES = css_rules(CSS)
VARIABLES = {name: value for selectors, declarations in RULES if selectors == [":root"]
             for name, value in declarations.items() if name.startswith("--")}


def colour(value: str) -> str:
    """The first colour in a declaration value, variables resolved, as #rrggbb."""
    value = re.sub(r"var\((--[\w-]+)\)", lambda m: VARIABLES[m.group(1)], value)
    found = re.search(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b", value)
    if found is None and re.search(r"\bwhite\b", value):
        return "#ffffff"
    assert found, value
    digits = found.group(1)
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return "#" + digits.lower()


def luminance(hex_colour: str) -> float:
    """WCAG relative luminance of a #rrggbb colour."""
    channels = []
    for i in (1, 3, 5):
        c = int(hex_colour[i:i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two colours, from 1 to 21."""
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def background(selector: str) -> str:
    """The background colour the stylesheet gives ``selector`` (its first rule that sets one)."""
    for selectors, declarations in RULES:
        if selector in selectors:
            for name in ("background", "background-color"):
                if name in declarations:
                    return colour(declarations[name])
    raise AssertionError(f"no background for {selector}")


def test_contrast_function_matches_known_values():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#ffbf47", "#ffffff"), 1) == 1.6  # the old ring: the bug
    assert round(contrast("#767676", "#ffffff"), 1) == 4.5


def focus_rings() -> list[tuple[str, str | None]]:
    """(outline colour, inner ring colour or None) of every :focus-visible rule."""
    rings = []
    for selectors, declarations in RULES:
        if any(":focus-visible" in selector for selector in selectors) and "outline" in declarations:
            inner = colour(declarations["box-shadow"]) if "box-shadow" in declarations else None
            rings.append((colour(declarations["outline"]), inner))
    return rings


# Where a focused element sits: the ring is drawn on these.
SURFACES = ["body", ".site-header", ".notice", ".flash", ".flash-error", ".flash-success", ".passage-hint"]
# What a focused element may be filled with: the ring (or its inner part) touches these.
FILLS = ["button", ".actions button", ".skip-link"]


def test_the_focus_ring_contrasts_3_to_1_with_every_background():
    rings = focus_rings()
    assert rings, "no :focus-visible rule with an outline"
    assert not re.search(r"(?<![-\w]):focus\s*[,{]", re.sub(r"/\*.*?\*/", "", CSS, flags=re.S)), \
        "a plain :focus rule would draw a second ring for mouse users too"
    for outline, inner in rings:
        for surface in SURFACES:  # the ring as drawn on the page, the header, a notice
            assert contrast(outline, background(surface)) >= 3, (outline, surface)
        for fill in FILLS:  # the ring's edge next to the focused element itself, dark or light
            best = max(contrast(ring, background(fill)) for ring in (outline, inner) if ring)
            assert best >= 3, (outline, inner, fill)
        if inner is not None:
            assert contrast(outline, inner) >= 3, "the two rings must stay two rings"


def test_the_focus_ring_is_thick_enough_and_set_apart():
    for selectors, declarations in RULES:
        if any(":focus-visible" in selector for selector in selectors) and "outline" in declarations:
            width = re.search(r"(\d+(?:\.\d+)?)px", declarations["outline"])
            assert width and float(width.group(1)) >= 2
            assert "solid" in declarations["outline"]


# --- 2. The icon -------------------------------------------------------------------------------------------

def test_every_page_names_an_icon_that_exists(client, document):
    page = client.get("/d/doc/").get_data(as_text=True)
    href = re.search(r'<link rel="icon" href="([^"]+)"', page).group(1)
    with client.get(href) as icon:
        assert icon.status_code == 200
        assert icon.mimetype == "image/svg+xml"
        assert b"<svg" in icon.data


def test_favicon_ico_is_not_a_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code in (200, 301, 302, 308)
    if response.status_code != 200:
        with client.get(response.headers["Location"]) as followed:
            assert followed.status_code == 200
            assert followed.mimetype == "image/svg+xml"


# --- 3. Side-by-side tables keep their column headings on a phone ---------------------------------------

class _Tables(HTMLParser):
    """Every table of class diff-side: its column headings and, per row, the data-label of each cell."""

    def __init__(self) -> None:
        """Start with no table."""
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self._in_th = False

    def handle_starttag(self, tag, attrs):
        """Collect headings and cells of diff-side tables."""
        attributes = dict(attrs)
        if tag == "table" and "diff-side" in (attributes.get("class") or "").split():
            self.tables.append({"headings": [], "rows": []})
        elif not self.tables:
            return
        elif tag == "th":
            self._in_th = True
            self.tables[-1]["headings"].append("")
        elif tag == "tr":
            self.tables[-1]["rows"].append([])
        elif tag == "td":
            self.tables[-1]["rows"][-1].append(attributes.get("data-label"))

    def handle_endtag(self, tag):
        """Close a heading."""
        if tag == "th":
            self._in_th = False

    def handle_data(self, data):
        """Heading text."""
        if self._in_th:
            self.tables[-1]["headings"][-1] += data


def diff_side_tables(page: str) -> list[dict]:
    """The side-by-side tables of a page, with rows of data cells only."""
    parser = _Tables()
    parser.feed(page)
    for table in parser.tables:
        table["headings"] = [" ".join(h.split()) for h in table["headings"]]
        table["rows"] = [row for row in table["rows"] if row]
    return parser.tables


def assert_every_cell_is_labelled_by_its_heading(tables: list[dict]) -> None:
    """Each data cell's data-label is its column's heading, so the stacked phone layout names it."""
    assert tables
    for table in tables:
        assert table["rows"]
        for row in table["rows"]:
            assert row == table["headings"]


def test_render_side_by_side_labels_every_cell():
    from manifesto.text.diff import word_diff
    from manifesto.text.diff_html import DiffLabels, render_side_by_side

    html = render_side_by_side(word_diff("One a.\n\nTwo b.\n\nThree.", "One a.\n\nNew para.\n\nTwo B.\n\nThree."))
    tables = diff_side_tables(html)
    assert tables[0]["headings"] == ["Before", "After"]
    assert len(tables[0]["rows"]) >= 3
    assert_every_cell_is_labelled_by_its_heading(tables)
    french = render_side_by_side(word_diff("un", "deux"), labels=DiffLabels(before="Avant", after="Après"))
    assert_every_cell_is_labelled_by_its_heading(diff_side_tables(french))


@pytest.fixture
def open_document(make_document, users):
    """A document in the amendment phase, edited by the admin."""
    return make_document(phase="amendments", editor=users["admin"])


def _propose(document, author, old, new, heading=None):
    """Propose a change to the first section by replacing words of its current text."""
    from manifesto.amendments import services
    from manifesto.documents import services as documents

    entry = documents.current_sections(document)[0]
    return services.propose_amendment(author, document.id, kind="modify", section_id=entry.section.id,
                                      heading=heading, body=entry.version.body.replace(old, new, 1),
                                      reason="Because it is better.", submit=True)


def test_amendment_side_by_side_view_labels_every_cell(client, open_document, users):
    amendment = _propose(open_document, users["participant"], "cooperatives", "worker cooperatives")
    page = client.get(f"/d/doc/amendments/{amendment.id}?view=side").get_data(as_text=True)
    tables = diff_side_tables(page)
    assert [table["headings"] for table in tables] == [["Before", "After"]]
    assert_every_cell_is_labelled_by_its_heading(tables)


def test_conflict_view_labels_original_theirs_and_current(client, open_document, users):
    from manifesto.amendments import services
    from manifesto.amendments.models import Amendment
    from manifesto.extensions import db

    first = _propose(open_document, users["participant"], "cooperatives and energy", "cooperatives and solar energy",
                     heading="Solar")
    second = _propose(open_document, users["admin"], "cooperatives and energy", "cooperatives and wind energy",
                      heading="Wind")
    services.decide_amendment(users["moderator"], open_document.id, first.id, decision="accept",
                              reason="Agreed.", revision=db.session.get(Amendment, first.id).revision)
    second = db.session.get(Amendment, second.id)
    assert second.conflicted
    page = client.get(f"/d/doc/amendments/{second.id}").get_data(as_text=True)
    tables = diff_side_tables(page)
    assert_every_cell_is_labelled_by_its_heading(tables)
    labels = {label for table in tables for row in table["rows"] for label in row}
    version = second.conflict["version"]
    assert {"Text both changed", "This amendment makes it", f"Version {version} made it"} <= labels
    if second.conflict.get("heading"):
        assert {"Version written on", "This amendment", f"Current version {version}"} <= labels


def test_phone_layout_shows_the_data_labels():
    css = (STATIC / "style.css").read_text()
    phone = css[css.index("@media (max-width: 40rem)"):]
    assert re.search(r"\.diff-side td::before\s*\{[^}]*content:\s*attr\(data-label\)", phone)


# --- 4. A deletion and an insertion never run together -------------------------------------------------

class _Reader(HTMLParser):
    """The visible text of a diff as the old version (insertions dropped) and as the new (deletions dropped).

    Screen-reader labels and line numbers are left out; the separator between a deletion and an insertion
    counts only in what is shown (read aloud, copied), as it belongs to neither text.
    """

    def __init__(self) -> None:
        """Start empty."""
        super().__init__(convert_charrefs=True)
        self.old: list[str] = []
        self.new: list[str] = []
        self.all: list[str] = []
        self.inside: list[str] = []
        self.hidden: list[bool] = []
        self.separators: list[bool] = []

    def handle_starttag(self, tag, attrs):
        """Track ins/del and hidden labels."""
        attributes = dict(attrs)
        if tag in ("ins", "del"):
            self.inside.append(tag)
        elif tag == "span":
            # Screen-reader labels and line numbers are not the text.
            self.hidden.append(attributes.get("class") in ("visually-hidden", "ln"))
            self.separators.append(attributes.get("class") == "diff-sep")

    def handle_endtag(self, tag):
        """Pop what was opened."""
        if tag in ("ins", "del"):
            self.inside.pop()
        elif tag == "span":
            self.hidden.pop()
            self.separators.pop()

    def handle_data(self, data):
        """Visible text on the side(s) it belongs to."""
        if any(self.hidden):
            return
        self.all.append(data)
        if any(self.separators):  # the space between a deletion and an insertion belongs to neither text
            return
        if "ins" not in self.inside:
            self.old.append(data)
        if "del" not in self.inside:
            self.new.append(data)


def read(html: str) -> tuple[str, str, str]:
    """(old text, new text, everything shown), whitespace collapsed."""
    reader = _Reader()
    reader.feed(html)
    return tuple(" ".join("".join(part).split()) for part in (reader.old, reader.new, reader.all))


CASES = [
    ("platforms", "bravely renewed"),
    ("the platforms are here.", "the bravely renewed are here."),
    ("Energy belongs to the people.", "Power belongs to everyone."),
    ("one two three", "uno two tres"),
]


def _renderers():
    """Every renderer that puts deletions and insertions in one flow."""
    from manifesto.text.diff import word_diff
    from manifesto.text.diff_html import render_inline
    from manifesto.text.numbered_diff import numbered_diff, visible_diff

    return {
        "inline": lambda old, new: render_inline(word_diff(old, new)),
        "numbered": lambda old, new: numbered_diff(old, new).html,
        "visible": visible_diff,
    }


@pytest.mark.parametrize("renderer", ["inline", "numbered", "visible"])
@pytest.mark.parametrize(("old", "new"), CASES)
def test_a_deleted_and_an_inserted_word_are_kept_apart(renderer, old, new):
    html = _renderers()[renderer](old, new)
    assert not re.search(r"</del><ins|</ins><del", html)
    old_text, new_text, shown = read(html)
    assert old_text == old and new_text == new
    if (old, new) == ("platforms", "bravely renewed"):
        # Read aloud or copied, the two changes stay apart.
        assert shown == "platforms bravely renewed"


def test_the_separator_is_outside_both_changes():
    from manifesto.text.diff import word_diff
    from manifesto.text.diff_html import render_inline

    html = render_inline(word_diff("platforms", "bravely renewed"))
    between = re.search(r"</del>(.*?)<ins", html).group(1)
    assert re.sub(r"<[^>]+>", "", between) == " "  # a plain space, in neither <del> nor <ins>


def test_a_change_of_formatting_alone_keeps_the_old_and_new_forms_apart():
    from manifesto.text.numbered_diff import visible_diff

    html = visible_diff("Keep the word here.", "Keep the **word** here.")
    old_text, new_text, shown = read(html)
    assert old_text == new_text == "Keep the word here."
    assert "word word" in shown


def test_no_separator_where_the_text_already_has_a_space():
    from manifesto.text.diff import word_diff
    from manifesto.text.diff_html import render_inline

    html = render_inline(word_diff("a b c", "a c"))  # a deletion alone
    assert "diff-sep" not in html
    html = render_inline(word_diff("alpha beta", "alpha gamma"))
    assert html.count("diff-sep") == 1


# --- 6. The "send again" page looks like the form it replaces -------------------------------------------

class _Fields(HTMLParser):
    """The visible fields of a page's POST forms: name -> (tag, type, class, label text)."""

    def __init__(self) -> None:
        """Start empty."""
        super().__init__(convert_charrefs=True)
        self.labels: dict[str, str] = {}
        self.fields: dict[str, dict] = {}
        self.values: dict[str, str] = {}
        self._label_for: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        """Record labels, inputs and text areas."""
        attributes = dict(attrs)
        if tag == "label" and attributes.get("for"):
            self._label_for = attributes["for"]
            self.labels[self._label_for] = ""
        elif tag in ("input", "textarea", "select") and attributes.get("type") not in ("hidden", "submit"):
            name = attributes.get("name")
            if name and name not in self.fields:
                self.fields[name] = {"tag": tag, "type": attributes.get("type"), "class": attributes.get("class"),
                                     "id": attributes.get("id")}
                if tag == "input":
                    self.values[name] = attributes.get("value") or ""
                if tag == "textarea":
                    self._textarea = name
                    self.values[name] = ""

    def handle_endtag(self, tag):
        """Close labels and text areas."""
        if tag == "label":
            self._label_for = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        """Label text and text area content."""
        if self._label_for:
            self.labels[self._label_for] += data
        if self._textarea:
            self.values[self._textarea] += data

    def described(self) -> dict[str, dict]:
        """Every field with its label's text."""
        return {name: {**field, "label": " ".join(self.labels.get(field["id"], "").split())}
                for name, field in self.fields.items()}


def page_fields(page: str) -> tuple[dict[str, dict], dict[str, str]]:
    """(fields with their labels, values) of a page."""
    parser = _Fields()
    parser.feed(page)
    return parser.described(), parser.values


@pytest.fixture
def csrf_app(make_app):
    """An app that checks CSRF tokens, as in production."""
    return make_app(WTF_CSRF_ENABLED=True)


def _logged_in(app, user):
    """A client of ``app`` logged in as ``user`` with a real token."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"email": user.email, "password": "correct-horse-battery",
                                       "csrf_token": token}).status_code == 302
    return client


def _assert_same_form(real_page: str, resend_page: str, typed: dict[str, str]) -> None:
    """The send-again page shows the typed fields with the real form's labels and widgets, and the text kept."""
    real, _ = page_fields(real_page)
    again, values = page_fields(resend_page)
    for name, value in typed.items():
        assert name in again, f"{name} is not shown again"
        for key in ("tag", "type", "class", "label"):
            assert again[name][key] == real[name][key], (name, key, again[name][key], real[name][key])
        shown = values[name]
        shown = shown.removeprefix("\r\n") if shown.startswith("\r\n") else shown.removeprefix("\n")
        assert shown == value  # a browser drops one newline right after <textarea>


def test_an_expired_session_on_the_amendment_form_gives_back_the_same_form(csrf_app, make_document, users):
    from manifesto.amendments.models import Amendment
    from manifesto.documents import services as documents
    from manifesto.extensions import db

    document = make_document(phase="amendments", editor=users["admin"])
    entry = documents.current_sections(document)[0]
    with csrf_app.app_context():
        client = _logged_in(csrf_app, users["participant"])
        real = client.get(f"/d/doc/amendments/new?section={entry.section.id}").get_data(as_text=True)
        typed = {"heading": "A bolder heading", "body": entry.version.body + "\n\nMy twenty-minute addition.",
                 "reason": "Long reason."}
        form = {"kind": "modify", "section_id": str(entry.section.id), **typed,
                "base_version_id": str(entry.version.id), "action": "submit", "csrf_token": "expired"}
        response = client.post("/d/doc/amendments/new", data=form)
        page = response.get_data(as_text=True)
        assert response.status_code == 400 and "Please send this again" in page
        _assert_same_form(real, page, typed)
        fields, _ = page_fields(page)
        assert fields["body"]["label"] == "Text (Markdown)" and "Body" not in {f["label"] for f in fields.values()}
        assert fields["heading"]["tag"] == "input" and fields["body"]["class"] == "editor"
        assert "Edit the text as you want it to read" in page  # the field's help, as on the real form
        # Choices and ids the user never typed travel hidden, and the page still sends.
        assert f'<input type="hidden" name="section_id" value="{entry.section.id}">' in page
        assert '<input type="hidden" name="action" value="submit">' in page
        fresh = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        assert client.post("/d/doc/amendments/new", data={**form, "csrf_token": fresh}).status_code == 302
        assert db.session.scalar(db.select(Amendment.proposed_body)) == typed["body"]
        assert db.session.scalar(db.select(Amendment.proposed_heading)) == "A bolder heading"


def test_an_expired_session_on_the_section_editor_gives_back_the_same_form(csrf_app, document, users):
    from manifesto.documents import services as documents

    entry = documents.current_sections(document)[0]
    url = f"/d/doc/sections/{entry.section.id}/edit"
    with csrf_app.app_context():
        client = _logged_in(csrf_app, users["moderator"])
        real = client.get(url).get_data(as_text=True)
        typed = {"heading": "Energy & <democracy>", "body": "New text, with *emphasis*.\n\nA second paragraph.",
                 "reason": "Clearer."}
        response = client.post(url, data={**typed, "base_version": "1", "csrf_token": "stale"})
        page = response.get_data(as_text=True)
        assert response.status_code == 400
        _assert_same_form(real, page, typed)
        fields, _ = page_fields(page)
        assert fields["heading"]["tag"] == "input" and fields["heading"]["type"] == "text"
        assert fields["body"]["tag"] == "textarea" and fields["body"]["label"] == "Text (Markdown)"
        assert fields["reason"]["label"] == "Reason for the change"
        assert '<input type="hidden" name="base_version" value="1">' in page
        assert "Energy &amp; &lt;democracy&gt;" in page and "<democracy>" not in page


def test_the_send_again_page_never_echoes_a_password_and_names_it_as_the_form_does(csrf_app, users):
    with csrf_app.app_context():
        client = _logged_in(csrf_app, users["participant"])
        response = client.post("/login?next=/d/doc/", data={"email": "someone@example.org",
                                                           "password": "hunter2-secret", "csrf_token": "old"})
        page = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "hunter2-secret" not in page and "someone@example.org" in page
        real = csrf_app.test_client().get("/login").get_data(as_text=True)
        _assert_same_form(real, page, {"email": "someone@example.org"})
        fields, values = page_fields(page)
        real_fields, _ = page_fields(real)
        assert fields["password"]["type"] == "password" and values.get("password", "") == ""
        assert fields["password"]["label"] == real_fields["password"]["label"] + " (not kept here: type it again)"


def test_fields_the_form_does_not_know_still_come_back_in_text_boxes(csrf_app, users):
    with csrf_app.app_context():
        client = _logged_in(csrf_app, users["participant"])
        # A field the form class does not have: it still comes back, in a plain text box.
        response = client.post("/d/doc/amendments/new", data={"unknown_note": "Kept anyway.", "csrf_token": "x"})
        page = response.get_data(as_text=True)
        assert response.status_code == 400
        fields, values = page_fields(page)
        assert fields["unknown_note"]["tag"] == "textarea" and values["unknown_note"].strip() == "Kept anyway."


def test_a_moderators_decision_comes_back_with_its_choice_named(csrf_app, make_document, users):
    from manifesto.amendments import services
    from manifesto.documents import services as documents

    document = make_document(phase="amendments", editor=users["admin"])
    entry = documents.current_sections(document)[0]
    amendment = services.propose_amendment(users["participant"], document.id, kind="modify",
                                           section_id=entry.section.id, heading=None,
                                           body=entry.version.body + " More.", reason="Why.", submit=True)
    url = f"/d/doc/amendments/{amendment.id}"
    with csrf_app.app_context():
        client = _logged_in(csrf_app, users["moderator"])
        real = client.get(url).get_data(as_text=True)
        typed = {"reason": "Agreed, shorter.", "final_heading": "Shorter", "final_body": "The final text."}
        page = client.post(f"{url}/decide", data={"decision": "accept_modified", **typed, "merged_into": "",
                                                   "revision": str(amendment.revision), "csrf_token": "x"}
                           ).get_data(as_text=True)
        _assert_same_form(real, page, typed)
        assert '<input type="hidden" name="decision" value="accept_modified">' in page
        assert "Decision:</span> Accept with modifications" in page
        fields, _ = page_fields(page)
        assert fields["final_body"]["class"] == "editor"


# --- 5. Numbered lines that wrap on a phone --------------------------------------------------------------

def _declarations(selector: str) -> dict[str, str]:
    """Every declaration the stylesheet gives ``selector`` exactly, later rules winning."""
    merged: dict[str, str] = {}
    for selectors, declarations in RULES:
        if selector in selectors:
            merged.update(declarations)
    return merged


@pytest.mark.parametrize("area", [".numbered-text", ".diff-numbered"])
def test_a_line_number_keeps_its_own_column_when_the_line_wraps(area):
    line, number, text = (_declarations(f"{area} {part}") for part in (".line", ".ln", ".lt"))
    assert line.get("display") == "flex"
    grow, shrink, basis = number["flex"].split()
    assert (grow, shrink) == ("0", "0") and re.fullmatch(r"\d+(\.\d+)?(em|rem|ch|px)", basis), number["flex"]
    assert text["flex"].split()[0] == "1" and text.get("min-width") == "0"  # the text wraps, the number does not
    # The cue: a wrapped line's continuation rows sit further in than its first row (a hanging indent).
    indent = re.fullmatch(r"-(\.?\d+(?:\.\d+)?)em", text["text-indent"])
    assert indent and text["margin-left"] == f"{indent.group(1)}em"


def test_numbered_lines_put_the_number_and_the_text_in_their_own_boxes(client, document):
    page = client.get("/d/doc/?lines=1").get_data(as_text=True)
    rows = re.findall(r'<div class="line [^"]*"><span class="ln">(\d+)</span> <span class="lt">', page)
    assert len(rows) >= 6 and [int(n) for n in rows] == list(range(1, len(rows) + 1))
