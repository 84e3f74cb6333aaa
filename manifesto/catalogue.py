"""The translation catalogues: extract, update, compile and check them.

``flask --app manifesto translations extract|update|compile|check`` runs these
(see README, "Translations"). The workflow after changing interface text:

1. ``extract`` reads every marked string (babel.cfg) into ``messages.pot``;
2. ``update`` merges it into ``fr`` and ``es`` (new strings arrive empty,
   changed ones marked fuzzy);
3. translate in the ``.po`` files;
4. ``compile`` writes the ``.mo`` files the app reads (committed, so a fresh
   clone speaks every language without a build step);
5. ``check`` (and the test suite) refuses an out-of-date template, a missing,
   fuzzy or malformed translation, and French without its no-break spaces.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

import click
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po
from flask.cli import AppGroup

from .i18n import DEFAULT_LANGUAGE, LANGUAGES, TRANSLATIONS_DIR

PACKAGE_DIR = os.path.dirname(__file__)
ROOT = os.path.dirname(PACKAGE_DIR)
MAPPING = os.path.join(ROOT, "babel.cfg")
TEMPLATE = os.path.join(TRANSLATIONS_DIR, "messages.pot")
KEYWORDS = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2),
            "lazy_ngettext": (1, 2), "pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2),
            "npgettext": ((1, "c"), 2, 3)}
TRANSLATED = [code for code in LANGUAGES if code != DEFAULT_LANGUAGE]
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|\{(\w+)\}")


def po_path(language: str) -> str:
    """Where a language's editable catalogue lives."""
    return os.path.join(TRANSLATIONS_DIR, language, "LC_MESSAGES", "messages.po")


def mo_path(language: str) -> str:
    """Where a language's compiled catalogue lives."""
    return os.path.join(TRANSLATIONS_DIR, language, "LC_MESSAGES", "messages.mo")


def extract() -> Catalog:
    """Every message marked in the package's Python code and templates, as babel.cfg says."""
    with open(MAPPING, encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    catalog = Catalog(project="Manifesto", msgid_bugs_address="", copyright_holder="Manifesto contributors",
                      charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS, comment_tags=("Translators:",),
            strip_comment_tags=True, directory_filter=_wanted_directory):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _wanted_directory(path: str) -> bool:
    """Skip the virtual environment, node_modules and other trees that are not ours."""
    name = os.path.basename(path)
    return not name.startswith(".") and name not in {"node_modules", "tests", "build", "instance", "scripts"}


def read_catalog(path: str, locale: str | None = None) -> Catalog:
    """Read a .po or .pot file."""
    with open(path, "rb") as fh:
        return read_po(fh, locale=locale)


def write_catalog(path: str, catalog: Catalog, *, mo: bool = False) -> None:
    """Write a catalogue (.po/.pot, or .mo with ``mo``) atomically, without line numbers (so diffs stay small)."""
    buffer = io.BytesIO()
    if mo:
        write_mo(buffer, catalog)
    else:
        write_po(buffer, catalog, width=100, include_lineno=False, sort_output=True)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = path + ".tmp"
    with open(temporary, "wb") as fh:
        fh.write(buffer.getvalue())
    os.replace(temporary, path)


def message_keys(catalog: Catalog) -> set:
    """The ids of a catalogue's messages (a plural's singular and plural together)."""
    return {message.id if isinstance(message.id, str) else tuple(message.id)
            for message in catalog if message.id}


def update() -> dict[str, int]:
    """Write messages.pot from the sources and merge it into every translated language; returns new strings per language."""
    template = extract()
    write_catalog(TEMPLATE, template)
    added = {}
    for language in TRANSLATED:
        path = po_path(language)
        catalog = read_catalog(path, language) if os.path.exists(path) else Catalog(locale=language)
        before = message_keys(catalog)
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        catalog.obsolete.clear()
        added[language] = len(message_keys(catalog) - before)
        write_catalog(path, catalog)
    return added


def compile_all() -> None:
    """Write every language's .mo from its .po."""
    for language in TRANSLATED:
        write_catalog(mo_path(language), read_catalog(po_path(language), language), mo=True)


def _names(text: str) -> set[str]:
    return {m.group(1) or m.group(2) for m in _PLACEHOLDER.finditer(text)}


def french_typography(text: str) -> list[str]:
    """What a French string gets wrong about spaces before high punctuation and quotation marks."""
    plain = re.sub(r"<[^>]+>", "", text)
    plain = _PLACEHOLDER.sub("X", plain)
    plain = re.sub(r"https?://\S+", "", plain)
    problems = []
    if re.search(r"[ \t][:;!?»]", plain) or re.search(r"«[ \t]", plain):
        problems.append("an ordinary space where a no-break space belongs (before : ; ! ? », after «)")
    if re.search(r"[^\s\u00a0\u202f\d:/][;!?]", plain) or re.search(r"[^\s\u00a0\u202f\d:/]:(?!//)(?!\d)", plain):
        problems.append("no no-break space before : ; ! or ?")
    if re.search(r"[“”]", plain):
        problems.append("English quotation marks instead of « »")
    return problems


@dataclass
class Problem:
    """One thing wrong with a catalogue."""

    language: str
    message: str
    what: str

    def __str__(self) -> str:
        return f"{self.language}: {self.message!r}: {self.what}"


def problems(language: str, template: Catalog | None = None) -> Iterator[Problem]:
    """Everything wrong with one language's catalogue against the sources (or ``template``)."""
    template = template or extract()
    path = po_path(language)
    if not os.path.exists(path):
        yield Problem(language, path, "missing catalogue")
        return
    catalog = read_catalog(path, language)
    for message in template:
        if not message.id:
            continue
        key = message.id
        translated = catalog.get(key if isinstance(key, str) else key[0], context=message.context)
        shown = key if isinstance(key, str) else key[0]
        if translated is None:
            yield Problem(language, shown, "not in the catalogue (run: flask --app manifesto translations update)")
            continue
        if translated.fuzzy:
            yield Problem(language, shown, "marked fuzzy: check the translation and remove the flag")
        forms = translated.string if isinstance(translated.string, (tuple, list)) else (translated.string,)
        if isinstance(key, (tuple, list)) and len(forms) != catalog.num_plurals:
            yield Problem(language, shown, f"needs {catalog.num_plurals} plural forms")
        expected = set().union(*(_names(part) for part in (key if isinstance(key, (tuple, list)) else (key,))))
        for form in forms:
            if not form:
                yield Problem(language, shown, "not translated")
                continue
            got = _names(form)
            if got - expected or expected - got - {"num"}:
                yield Problem(language, shown, f"placeholders differ: {sorted(got)} instead of {sorted(expected)}")
            if language == "fr":
                for what in french_typography(form):
                    yield Problem(language, shown, what)


def stale_compiled(language: str) -> bool:
    """Whether the committed .mo says something else than its .po."""
    if not os.path.exists(mo_path(language)):
        return True
    with open(mo_path(language), "rb") as fh:
        compiled = read_mo(fh)
    source = read_catalog(po_path(language), language)

    def table(catalog: Catalog) -> dict:
        return {(m.id if isinstance(m.id, str) else tuple(m.id)):
                (m.string if isinstance(m.string, str) else tuple(m.string))
                for m in catalog if m.id and m.string and not m.fuzzy}

    return table(compiled) != table(source)


translations_cli = AppGroup("translations", help="Extract, update, compile and check the interface's catalogues.")


@translations_cli.command("extract")
def extract_command() -> None:
    """Write manifesto/translations/messages.pot from the marked strings."""
    template = extract()
    write_catalog(TEMPLATE, template)
    click.echo(f"{len(template)} messages in {os.path.relpath(TEMPLATE, ROOT)}")


@translations_cli.command("update")
def update_command() -> None:
    """Extract, then merge the new strings into every language's .po (empty, to translate)."""
    for language, count in update().items():
        click.echo(f"{language}: {count} new messages to translate in {os.path.relpath(po_path(language), ROOT)}")


@translations_cli.command("compile")
def compile_command() -> None:
    """Write the .mo files the app reads."""
    compile_all()
    click.echo("compiled: " + ", ".join(TRANSLATED))


@translations_cli.command("check")
def check_command() -> None:
    """Fail when a string lacks a translation, a translation is fuzzy or malformed, or a .mo is stale."""
    template = extract()
    found = [problem for language in TRANSLATED for problem in problems(language, template)]
    found += [Problem(language, mo_path(language), "stale: run translations compile")
              for language in TRANSLATED if stale_compiled(language)]
    for problem in found:
        click.echo(str(problem), err=True)
    if found:
        raise click.ClickException(f"{len(found)} problems in the catalogues")
    click.echo(f"{len(template)} messages, translated in " + ", ".join(TRANSLATED))
