"""Languages and time zones: which ones a page speaks, and the formats that follow them.

The interface speaks English, French and Spanish (catalogues in
``manifesto/translations``). A page's language comes, first found:

1. from the logged-in user's profile (``users.locale``);
2. from the visitor's own choice in the switcher (the ``manifesto_lang``
   cookie; a language preference only, no session, so an anonymous reader
   who never chose gets no cookie at all);
3. from the browser's ``Accept-Language``;
4. else English.

Outside a request (the CLI, the job queue), the locale is what the caller
forces with ``flask_babel.force_locale``: mail in the recipient's language,
an export in the language of its document. A CLI command follows ``LANGUAGE``,
``LC_ALL``, ``LC_MESSAGES`` or ``LANG`` (the first set) when it names one of our languages.

Times are stored in UTC and shown in the user's time zone (``users.timezone``);
visitors see UTC. Every displayed time says which zone it is in.

The document text is not translated: it stays in the language it was
written in (``documents.language``), and templates mark it with that
``lang`` so screen readers pronounce it right inside a page in another
language. See docs/ARCHITECTURE.md, "Languages", for where translated
sections would go.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import click
from babel import Locale
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_skeleton
from babel.dates import format_time as babel_format_time
from flask import has_request_context, request
from flask_babel import Babel, get_locale, get_timezone, refresh, to_user_timezone

from .services import as_utc
from .web import nav_user

# The interface languages, each named in itself so anyone can find their own.
LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français", "es": "Español"}
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "manifesto_lang"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TRANSLATIONS_DIR = os.path.join(os.path.dirname(__file__), "translations")

babel = Babel()


def supported(code: str | None) -> str | None:
    """Return ``code`` reduced to one of our languages ("fr-CH" → "fr"), else None."""
    if not code:
        return None
    base = str(code).replace("_", "-").split("-")[0].strip().lower()
    return base if base in LANGUAGES else None


def _profile_user():
    """The logged-in user, when one can be read without failing the page; else None.

    ``nav_user`` holds the one guard of reads on an error page (``web.read_unless_down``).
    """
    try:
        user = nav_user()
    except Exception:  # the page's own handling reports the database; the language falls back
        return None
    return user if user is not None and user.is_authenticated else None


def select_locale() -> str:
    """The language of this request (see the module docstring for the order)."""
    if not has_request_context():
        # A command typed in a terminal speaks the terminal's language; other
        # work outside a request (jobs, tests) says what it wants with force_locale.
        return cli_locale() if click.get_current_context(silent=True) is not None else DEFAULT_LANGUAGE
    user = _profile_user()
    if user is not None and supported(user.locale):
        return supported(user.locale)
    chosen = supported(request.cookies.get(LANGUAGE_COOKIE))
    if chosen:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT_LANGUAGE)


def cli_locale() -> str:
    """The language of a command run in a terminal: the POSIX locale variables, else English."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return supported(value.split(":")[0].split(".")[0]) or DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def valid_timezone(name: str | None) -> str | None:
    """Return ``name`` when it is an IANA time zone this machine knows, else None."""
    if not name or name not in timezone_names():
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


_ZONES: list[str] | None = None


def timezone_names() -> list[str]:
    """Every IANA zone, sorted, without the legacy aliases (``US/…``, ``Etc/…`` except UTC)."""
    global _ZONES
    if _ZONES is None:
        zones = {z for z in available_timezones()
                 if "/" in z and not z.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/"))}
        _ZONES = ["UTC", *sorted(zones)]
    return _ZONES


_forced_zone: ContextVar[str | None] = ContextVar("forced_zone", default=None)


@contextmanager
def force_timezone(zone: str | None) -> Iterator[None]:
    """Show times in ``zone`` (UTC when it is empty or unknown) inside the block, as ``force_locale`` does for language.

    Mail is written for its recipient, wherever the work runs:
    ``with force_locale(user.locale or "en"), force_timezone(user.timezone):``.
    """
    token = _forced_zone.set(valid_timezone(zone) or "UTC")
    refresh()  # Flask-Babel caches the zone per context: read it again (a forced locale survives)
    try:
        yield
    finally:
        _forced_zone.reset(token)
        refresh()


def select_timezone() -> str:
    """The time zone of this request: a forced one, else the user's profile, else UTC."""
    forced = _forced_zone.get()
    if forced:
        return forced
    if has_request_context():
        user = _profile_user()
        if user is not None and valid_timezone(user.timezone):
            return user.timezone
    return "UTC"


def current_language() -> str:
    """The language code of the current request or forced locale ("en", "fr", "es")."""
    locale = get_locale()
    return supported(str(locale)) if locale is not None else DEFAULT_LANGUAGE


def current_zone() -> str:
    """The reader's time zone as people read it: "UTC", "Europe/Zurich", "America/Buenos Aires"."""
    tz = get_timezone()
    return str(tz).replace("_", " ") if tz is not None else "UTC"


def format_datetime(value: datetime | None, *, zone: bool = True) -> str:
    """A stored time in the reader's language and time zone, saying which zone.

    "Nov 30, 2026, 2:05 PM UTC", "30 nov. 2026, 15:05 CET", "30 nov 2026, 9:05 GMT-05:00".
    """
    if value is None:
        return ""
    locale = get_locale() or Locale.parse(DEFAULT_LANGUAGE)
    local = to_user_timezone(as_utc(value))
    day = format_skeleton("yMMMd", local, locale=locale)
    clock = babel_format_time(local, "short", tzinfo=local.tzinfo, locale=locale)
    text = locale.datetime_formats["medium"].format(clock, day)
    if zone:
        text += " " + zone_label(local)
    return text


def format_date(value: datetime | None) -> str:
    """A stored day in the reader's language ("Nov 30, 2026", "30 nov. 2026")."""
    if value is None:
        return ""
    locale = get_locale() or Locale.parse(DEFAULT_LANGUAGE)
    if isinstance(value, datetime):
        value = to_user_timezone(as_utc(value))
    return format_skeleton("yMMMd", value, locale=locale)


def zone_label(local: datetime) -> str:
    """The short name of the reader's zone at that moment: "UTC", "CET", "GMT+1"."""
    tz = get_timezone()
    if tz is None or str(tz) == "UTC":
        return "UTC"
    name = local.tzname() or ""
    # Abbreviations such as "CET" are clear; zoneinfo gives "+03" where a zone has none.
    if not name or name[0] in "+-":
        return babel_format_datetime(local, "ZZZZ", tzinfo=local.tzinfo, locale=get_locale() or DEFAULT_LANGUAGE)
    return name


def init_app(app) -> None:
    """Install Flask-Babel with our selectors, and the Jinja helpers."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", TRANSLATIONS_DIR)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    # Every {% trans %} block is trimmed, as the extraction (babel.cfg) reads it.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["current_zone"] = current_zone
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
