"""The fixed texts every export format writes, in the export's one language: dates, editions, kinds of change.

A file is written in one language (``ExportDocument.labels_language``),
whoever asks for it and whatever the interface speaks: :func:`in_language`
switches Flask-Babel to it for the whole file, and the labels here read
that locale or name the language they are given.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timezone

from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from babel.numbers import format_decimal
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from .document import ExportDocument

__all__ = ["change_label", "change_name", "date_label", "day_label", "edition_label", "in_language", "number",
           "unchanged_label"]


def change_name(change: str) -> str:
    """A redline entry's kind of change in words, in the current locale."""
    names = {"added": _("Added"), "removed": _("Removed"), "retitled": _("Retitled"), "moved": _("Moved"),
             "changed": _("Changed"), "unchanged": _("Unchanged")}
    return names.get(change, change.capitalize())


@contextmanager
def in_language(doc: ExportDocument) -> Iterator[str]:
    """Write the fixed texts of ``doc``'s file in its one language (``doc.labels_language``)."""
    with force_locale(doc.labels_language):
        yield doc.labels_language


def _utc(doc: ExportDocument):
    """The text's date in UTC (exports are one file for everyone, so they name no reader's zone)."""
    value = doc.date
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def day_label(doc: ExportDocument) -> str:
    """The text's day (UTC) in the export's language: "30 November 2026", "30 novembre 2026"."""
    language = doc.labels_language
    pattern = "d MMMM y" if language == "en" else "long"
    return babel_format_date(_utc(doc).date(), pattern, locale=language)


def date_label(doc: ExportDocument) -> str:
    """The text's date and time, saying UTC: "30 November 2026, 14:05 UTC", "30 novembre 2026 à 14:05 UTC"."""
    moment = _utc(doc)
    clock = babel_format_time(moment, "HH:mm", tzinfo=timezone.utc, locale=doc.labels_language)
    with force_locale(doc.labels_language):
        return _("%(date)s, %(time)s UTC", date=day_label(doc), time=clock)


def number(value: int, language: str) -> str:
    """A count as people of ``language`` write it: 1,234 / 1 234 / 1234."""
    return format_decimal(value, locale=language)


def edition_label(doc: ExportDocument) -> str:
    """What this text is and when: "Draft 2 · 30 November 2026, …" or "Live text as of 30 November 2026, …"."""
    with force_locale(doc.labels_language):
        if doc.release_name:
            return _("%(release)s · %(date)s", release=doc.release_name, date=date_label(doc))
        return _("Live text as of %(date)s", date=date_label(doc))


def unchanged_label(count: int, language: str) -> str:
    """"Unchanged: 3 sections." in the export's language."""
    with force_locale(language):
        return ngettext("Unchanged: %(num)s section.", "Unchanged: %(num)s sections.", count)


def change_label(change) -> str:
    """A redline entry's change in words (current locale), with the old number or heading when they matter."""
    label = ", ".join(change.labels) if getattr(change, "labels", None) else change_name(change.change)
    notes = []
    if change.old_number is not None and change.number is not None and change.old_number != change.number:
        notes.append(_("was §%(number)s", number=change.old_number))
    if change.old_heading and change.old_heading != change.heading:
        notes.append(_("was “%(heading)s”", heading=change.old_heading))
    if not notes:
        return label
    return _("%(change)s (%(notes)s)", change=label, notes="; ".join(notes))
