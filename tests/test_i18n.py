"""The interface speaks English, French and Spanish: catalogues complete, nothing left unmarked.

The catalogue tests read the sources the way ``flask translations extract``
does, so a string added to a template or a service without a French and a
Spanish translation fails here, as does a visible string nobody marked.
"""

from __future__ import annotations

import ast
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from manifesto import catalogue

PACKAGE = Path(catalogue.PACKAGE_DIR)
TEMPLATES = PACKAGE / "templates"


@pytest.fixture(scope="module")
def template_catalog():
    """Every marked message in the sources, extracted once for the module."""
    return catalogue.extract()


@pytest.mark.parametrize("language", catalogue.TRANSLATED)
def test_every_message_is_translated(template_catalog, language):
    """A string without a translation, fuzzy, with other placeholders or French without no-break spaces fails."""
    found = [str(problem) for problem in catalogue.problems(language, template_catalog)]
    assert not found, f"{len(found)} problems in {language}:\n" + "\n".join(found[:60])


def test_the_committed_template_lists_what_the_sources_mark(template_catalog):
    """messages.pot is what translators start from: it must not lag behind the code."""
    committed = catalogue.message_keys(catalogue.read_catalog(catalogue.TEMPLATE))
    current = catalogue.message_keys(template_catalog)
    assert current - committed == set(), "run: flask --app manifesto translations update"
    assert committed - current == set(), "run: flask --app manifesto translations update"


@pytest.mark.parametrize("language", catalogue.TRANSLATED)
def test_compiled_catalogues_match_their_sources(language):
    """The app reads the .mo files: one older than its .po would show stale text."""
    assert not catalogue.stale_compiled(language), "run: flask --app manifesto translations compile"


def test_french_typography_check_catches_ordinary_spaces():
    """The check itself: an ordinary space or none before a colon is wrong, a no-break space right."""
    assert catalogue.french_typography("Problème :")
    assert catalogue.french_typography("Problème:")
    assert catalogue.french_typography("« citation »")
    assert catalogue.french_typography("“citation”")
    assert not catalogue.french_typography("Problème\u00a0:")
    assert not catalogue.french_typography("Pourquoi\u202f? À 14:05, voir https://example.org/a?b=1")


# --- nothing visible left unmarked ------------------------------------------------------------

_TRANS_BLOCK = re.compile(r"{%-?\s*trans\b.*?%}.*?{%-?\s*endtrans\s*-?%}", re.S)
_JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.S)
_WORDS = re.compile(r"[A-Za-zÀ-ÿ]{2,}")
# Names and signs that read the same in every language.
_SAME_EVERYWHERE = {"Manifesto", "PDF", "DOCX", "HTML", "JSON", "Markdown", "Word", "UTC", "OK", "ID"}
_VISIBLE_ATTRIBUTES = {"title", "alt", "aria-label", "placeholder", "aria-description", "aria-roledescription"}
# Not read as words: scripts and styles, and what a computer reads (code, a command, a header) the same in every language.
_NOT_WORDS = ("script", "style", "code", "pre", "kbd", "samp")


class _VisibleText(HTMLParser):
    """Collects text a person sees or hears from an HTML skeleton (Jinja removed)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in _NOT_WORDS:
            self._hidden += 1
        attributes = dict(attrs)
        for name, value in attrs:
            if name in _VISIBLE_ATTRIBUTES and value:
                self.found.append(f'{tag}[{name}]="{value}"')
        if tag == "input" and attributes.get("type") in ("submit", "button", "reset") and attributes.get("value"):
            self.found.append(f'input[value]="{attributes["value"]}"')

    def handle_endtag(self, tag):
        if tag in _NOT_WORDS and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.found.append(data.strip())


def _unmarked(text: str) -> bool:
    words = [w for w in _WORDS.findall(text) if w not in _SAME_EVERYWHERE]
    return bool(words)


def unmarked_strings(source: str, *, html: bool = True) -> list[str]:
    """The visible strings of a template outside ``_()``, ``ngettext()`` and ``{% trans %}``."""
    skeleton = _JINJA.sub(" ", _TRANS_BLOCK.sub(" ", source))
    if not html:
        return [line.strip() for line in skeleton.splitlines() if _unmarked(line)]
    parser = _VisibleText()
    parser.feed(skeleton)
    parser.close()
    return [text for text in parser.found if _unmarked(re.sub(r'^\w+\[[\w-]+\]="|"$', "", text))]


def test_the_unmarked_string_check_finds_what_it_should():
    """The check itself: plain text, an attribute and a submit value are found; marked text is not."""
    found = unmarked_strings('<p>Hello {{ name }}</p><a title="Open it" href="{{ u }}">{{ _("Go") }}</a>'
                             '<input type="submit" value="Send"><script>var x = "y";</script>'
                             '{% trans %}A long paragraph{% endtrans %}<span>Manifesto · §</span>'
                             '<pre><code>curl -H "Authorization: Bearer x"</code></pre>')
    assert found == ["Hello", 'a[title]="Open it"', 'input[value]="Send"']


@pytest.mark.parametrize("path", sorted(p for p in TEMPLATES.rglob("*") if p.suffix in (".html", ".txt")),
                         ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_mark_every_visible_string(path):
    """Every word a template shows goes through the catalogue, so no page is half French."""
    found = unmarked_strings(path.read_text(encoding="utf-8"), html=path.suffix == ".html")
    assert not found, f"unmarked in {path.relative_to(TEMPLATES)}: {found}"


# Calls whose first argument people read: flashes, the services' errors, the CLI's output.
_MESSAGE_CALLS = {"flash", "ServiceError", "ValidationError", "PermissionDenied", "NotFound", "ConflictError",
                  "ClickException", "UsageError", "BadParameter", "echo", "secho"}
_VALIDATORS = {"DataRequired", "InputRequired", "Length", "EqualTo", "NumberRange", "Regexp", "Email", "AnyOf",
               "NoneOf", "URL", "Optional"}
# Modules whose text is not interface text: migrations, the demo's document, the developers' catalogue tool.
_EXEMPT = ("migrations/", "seed/demo_content.py", "catalogue.py")


def _is_plain_text(node: ast.AST | None) -> bool:
    """A literal sentence, an f-string, or a literal being formatted: text that skips the catalogue."""
    if node is None:
        return False
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(_WORDS.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and _WORDS.search(str(v.value)) for v in node.values)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _is_plain_text(node.func.value)
    if isinstance(node, ast.BinOp):
        return _is_plain_text(node.left) or _is_plain_text(node.right)
    return False


def _name(func: ast.AST) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def unmarked_calls(source: str) -> list[str]:
    """Lines where interface text reaches people without ``_()`` or ``_l()``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        keywords = {k.arg: k.value for k in node.keywords}
        suspects = []
        if name in _MESSAGE_CALLS:
            if name in ("echo", "secho") and not (isinstance(node.func, ast.Attribute)
                                                  and _name(node.func.value) == "click"):
                continue
            suspects += [node.args[0] if node.args else keywords.get("message")]
        elif name == "abort":
            suspects += [keywords.get("description")]
        elif name.endswith("Field") and name != "Field":  # pydantic's Field describes the API, in English
            suspects += [node.args[0] if node.args else keywords.get("label"), keywords.get("description")]
        elif name in _VALIDATORS:
            suspects += [keywords.get("message")]
            if name == "EqualTo" and len(node.args) > 1:
                suspects.append(node.args[1])
        if any(_is_plain_text(s) for s in suspects):
            found.append(f"line {node.lineno}: {ast.unparse(node)[:100]}")
    return found


def test_the_unmarked_call_check_finds_what_it_should():
    """The check itself: literal and f-string messages are found, translated ones are not."""
    source = ('flash("Saved.")\nflash(_("Saved."))\nraise ValidationError(f"Use {n} characters.", "x")\n'
              'StringField("Name", description=_l("Shown"))\nabort(403, description="No.")\n'
              'click.echo(_("Done"))\nclick.echo(f"{n} rows")\nlog.info("Saved.")\nflash(error.message)\n')
    assert [line.split(":")[0] for line in unmarked_calls(source)] == ["line 1", "line 3", "line 4", "line 5", "line 7"]


@pytest.mark.parametrize("path", sorted(p for p in PACKAGE.rglob("*.py")
                                        if not str(p.relative_to(PACKAGE)).startswith(_EXEMPT)),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_python_marks_what_people_read(path):
    """Flashes, service errors, error pages, form labels and CLI messages all go through gettext."""
    found = unmarked_calls(path.read_text(encoding="utf-8"))
    assert not found, f"unmarked in {path.relative_to(PACKAGE)}:\n" + "\n".join(found)


def test_extraction_skips_what_is_not_ours(template_catalog):
    """Extraction reads the package only: never the virtual environment or node_modules."""
    files = {location[0] for message in template_catalog for location in message.locations}
    assert files and all(f.startswith("manifesto" + os.sep) for f in files)
