"""Delegates from a list: a CSV file read, checked and previewed, then imported in one transaction.

The secretariat holds the list of accredited delegates (name, email,
organisation, country, role, language). Three steps, the first without the
database:

- :func:`read_delegates` reads the file: its encoding (UTF-8 with or without
  a byte order mark, UTF-16 as Excel's "Unicode text" saves it, else
  Windows-1252), its delimiter (comma, semicolon or tab), its header (English,
  French or Spanish column names, in any order and case), quoted newlines,
  and every row's problems by column: a bad or repeated address, no name, a
  field too long, an unknown role or language, control characters. A file
  without the name and email columns, too large or too long is refused
  whole.
- :func:`preview_import` adds what each row would do: create the account and
  invite the person, update it (naming the fields), or nothing. Nothing is
  written. Accounts are looked up in a few ``IN`` queries, never one per row.
- :func:`import_delegates` does it in one transaction, or nothing at all when
  any row has a problem. An empty cell leaves an existing account's value as
  it is. Importing the same file again changes nothing and records nothing.

Events: each new account gets ``user.invited`` (the notifications area mails
the invitation with its link through the job queue, after the commit); a
changed role ``user.role_changed``, as :func:`services.set_role` records it;
other changed fields ``user.profile_changed`` (names show on public pages, so
both bump the site's pages); and the import as a whole
``user.invitations_imported`` on the admin's own account, with the counts.

A cell a spreadsheet would take for a formula (``=HYPERLINK(...)``) is kept
as it was written; the preview says so, and every CSV the app writes quotes
it (:mod:`manifesto.spreadsheets`). A quote that such an export put in front
is taken off again, so an exported list imports as it was.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale, format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..audit.models import AuditEvent
from ..audit.services import event_recorded, record_event
from ..extensions import db
from ..i18n import LANGUAGES, supported
from ..locking import lock_row, lock_rows
from ..services import NotFound, PermissionDenied, ValidationError, as_utc, utcnow, writes
from ..spreadsheets import is_formula, unescape_cell
from .models import ROLE_LABELS, Role, User
from .passwords import is_usable, unusable_hash
from .rules import require_admin
from .services import LIMITS, normalise_email

COLUMNS = ("name", "email", "organisation", "country", "role", "language")
REQUIRED = ("name", "email")
# The columns as the preview's table heads them (lazy: the reader's language).
COLUMN_LABELS = {"name": _l("Name"), "email": _l("Email"), "organisation": _l("Organisation"),
                 "country": _l("Country"), "role": _l("Role"), "language": _l("Language")}
# What a header cell may say for each column, folded (lower case, no accents): English, French, Spanish.
HEADER_NAMES = {
    "name": ("name", "full name", "display name", "nom", "nom complet", "nombre", "nombre completo"),
    "email": ("email", "e-mail", "mail", "email address", "e-mail address", "courriel", "adresse e-mail",
              "adresse electronique", "correo", "correo electronico"),
    "organisation": ("organisation", "organization", "org", "organisme", "organizacion"),
    "country": ("country", "pays", "pais"),
    "role": ("role", "rol"),
    "language": ("language", "lang", "locale", "langue", "idioma", "lengua"),
}
# The required columns as a refusal names them, in the reader's language (the header may be in any).
REQUIRED_LABELS = {"name": lazy_pgettext("CSV column", "name"), "email": lazy_pgettext("CSV column", "email")}
# Role names accepted besides the values and their labels in each language.
ROLE_SYNONYMS = {"administrator": "admin", "administrateur": "admin", "administrateur·rice": "admin",
                 "administrador": "admin", "administradora": "admin", "moderatrice": "moderator",
                 "moderadora": "moderator", "participante": "participant", "participant·e": "participant"}
DELIMITERS = ",;\t"
NEW, UPDATE, UNCHANGED = "new", "update", "unchanged"
CHUNK = 500  # emails per IN query
SHOWN_LINES = 5  # the other lines of a repeated address a row names (a file may repeat one 20,000 times)
RESEND_INTERVAL = timedelta(minutes=1)
_ATTRIBUTES = {"name": "name", "organisation": "organisation", "country": "country", "role": "role",
               "language": "locale"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode's control characters (category Cc)
# What the plan compares of an existing account (read as plain rows: an ORM object per row would cost more).
_ACCOUNT_COLUMNS = (User.id, User.email, User.name, User.organisation, User.country, User.role, User.locale,
                    User.active)


@dataclass
class DelegateRow:
    """One row of the file: what it says, its problems by column, and what importing it would do."""

    line: int  # the line of the file the row starts on (the header is line 1, usually)
    cells: dict[str, str]  # by column, as written (trimmed); only the file's columns
    name: str = ""
    email: str | None = None  # normalised, when valid
    organisation: str | None = None
    country: str | None = None
    role: str | None = None  # a Role value; None: the cell is empty
    locale: str | None = None  # a language code; None: the cell is empty
    problems: dict[str, list[str]] = field(default_factory=dict)  # what the file says wrong, by column
    conflicts: dict[str, list[str]] = field(default_factory=dict)  # what the accounts forbid (found when planned)
    formulas: list[str] = field(default_factory=list)  # columns a spreadsheet would read as a formula
    action: str | None = None  # NEW, UPDATE or UNCHANGED, once planned
    changes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)  # column -> (before, after)
    user_id: int | None = None  # the existing account
    inactive: bool = False  # the existing account is deactivated (it stays so)

    def refuse(self, column: str, message: str) -> None:
        """Note a problem by its column."""
        self.problems.setdefault(column, []).append(message)

    @property
    def has_problems(self) -> bool:
        """Whether this row keeps the file from being imported."""
        return bool(self.problems or self.conflicts)

    def problems_of(self, column: str) -> list[str]:
        """Everything wrong with one cell."""
        return self.problems.get(column, []) + self.conflicts.get(column, [])

    def value(self, column: str) -> str | None:
        """The checked value of a column, as it would be stored."""
        return getattr(self, _ATTRIBUTES.get(column, column))


@dataclass
class Preview:
    """A file read: its rows with their problems and (once planned) their actions; nothing written."""

    digest: str  # SHA-256 of the bytes, hex
    size: int
    encoding: str
    delimiter: str
    columns: list[str]  # the recognised columns, in the file's order
    ignored: list[str]  # header cells we do not know
    notes: list[str]
    rows: list[DelegateRow]

    @property
    def problem_rows(self) -> list[DelegateRow]:
        """The rows that keep the file from being imported."""
        return [row for row in self.rows if row.has_problems]

    @property
    def importable(self) -> bool:
        """Whether importing would go through (no row has a problem)."""
        return bool(self.rows) and not any(row.has_problems for row in self.rows)

    def count(self, action: str) -> int:
        """How many rows would have this action (rows with a problem count only as such)."""
        return sum(1 for row in self.rows if row.action == action and not row.has_problems)


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    created: int
    updated: int
    unchanged: int
    rows: int


def file_digest(data: bytes) -> str:
    """The digest that names one file's content (what the preview was made of)."""
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------ reading

def _fold(text: str) -> str:
    """Lower case, accents off, spaces and underscores as one space: how header cells and choices are compared."""
    decomposed = unicodedata.normalize("NFKD", text.replace("_", " ").strip().lower())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


_HEADERS = {_fold(name): column for column, names in HEADER_NAMES.items() for name in names}


def _decode(data: bytes) -> tuple[str, str, str | None]:
    """The file's text, the encoding it was read in, and a note when it was not Unicode."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "UTF-16", None
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig"), "UTF-8", None
    except UnicodeDecodeError:
        pass
    note = _("The file is not in UTF-8, so it was read as Windows-1252 (Western European). Check the accents "
             "below; if they are wrong, save the list as \"CSV UTF-8\" and upload it again.")
    try:
        return data.decode("cp1252"), "Windows-1252", note
    except UnicodeDecodeError:  # five bytes Windows-1252 leaves undefined: Latin-1 reads anything
        return data.decode("latin-1"), "ISO-8859-1", note


def _first_record(text: str, delimiter: str) -> list[str]:
    """The header: the first record of the text that is not empty."""
    try:
        for record in csv.reader(io.StringIO(text[:65536], newline=""), delimiter=delimiter):
            if any(cell.strip() for cell in record):
                return record
    except csv.Error:
        pass
    return []


def _map_header(record: list[str]) -> tuple[dict[str, int], list[str]]:
    """The recognised columns by their position, and the header cells not recognised.

    :raises ValidationError: when a column is named twice.
    """
    mapping: dict[str, int] = {}
    ignored = []
    for index, cell in enumerate(record):
        column = _HEADERS.get(_fold(cell))
        if column is None:
            if cell.strip():
                ignored.append(cell.strip())
            continue
        if column in mapping:
            raise ValidationError(_("The first line names the column \"%(name)s\" twice; keep one.", name=column),
                                  "file")
        mapping[column] = index
    return mapping, ignored


def _header(text: str) -> tuple[str, dict[str, int], list[str]]:
    """The delimiter and the header's columns: the sniffed delimiter if the header reads right with it, else another.

    :raises ValidationError: when no delimiter gives a header naming the name and email columns.
    """
    candidates = []
    sample = text[:65536]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[:sample.rindex("\n")]
    try:
        candidates.append(csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter)
    except csv.Error:
        pass
    first_line = sample.partition("\n")[0]
    candidates += sorted((d for d in DELIMITERS if d not in candidates), key=lambda d: -first_line.count(d))
    best = None
    for delimiter in candidates:
        mapping, ignored = _map_header(_first_record(text, delimiter))
        if all(column in mapping for column in REQUIRED):
            return delimiter, mapping, ignored
        if best is None or len(mapping) > len(best):
            best = mapping
    missing = [column for column in REQUIRED if column not in (best or {})]
    raise ValidationError(
        _("The first line must name the columns. Missing: %(missing)s. Expected: name and email, and if you "
          "like organisation, country, role and language, separated by commas, semicolons or tabs.",
          missing=", ".join(str(REQUIRED_LABELS[column]) for column in missing)), "file")


def _role_names() -> dict[str, str]:
    """Every way a cell may name a role: the values, their labels in each language, a few synonyms."""
    names = {_fold(value): value for value in ROLE_LABELS}
    for code in LANGUAGES:
        with force_locale(code):
            names.update({_fold(str(label)): value for value, label in ROLE_LABELS.items()})
    names.update({_fold(word): value for word, value in ROLE_SYNONYMS.items()})
    return names


def _language_names() -> dict[str, str]:
    """Every way a cell may name a language: its code or its own name."""
    names = {code: code for code in LANGUAGES}
    names.update({_fold(name): code for code, name in LANGUAGES.items()})
    return names


def _one_line(text: str) -> str:
    """A profile field on one line: runs of spaces and line breaks (a quoted newline) become one space."""
    return " ".join(text.split())


def _check_row(row: DelegateRow, roles: dict[str, str], languages: dict[str, str]) -> None:
    """Fill a row's values from its cells and note its problems."""
    cells = row.cells
    for column, text in cells.items():
        if is_formula(text):
            row.formulas.append(column)
    row.name = _one_line(cells.get("name", ""))
    if not row.name:
        row.refuse("name", _("Give the name others will see."))
    for column in ("organisation", "country"):
        setattr(row, column, _one_line(cells.get(column, "")) or None)
    for column in ("name", "organisation", "country"):
        value = row.value(column)
        if value and len(value) > LIMITS[column]:
            row.refuse(column, _("Use at most %(num)s characters.", num=LIMITS[column]))
        if value and _CONTROL.search(value):
            row.refuse(column, _("Take out the control characters (invisible characters such as tabs)."))
    email = cells.get("email", "")
    if not email:
        row.refuse("email", _("Give an email address."))
    else:
        try:
            row.email = normalise_email(email)
        except ValidationError as error:
            row.refuse("email", error.message)
    role = cells.get("role", "")
    if role:
        row.role = roles.get(_fold(role))
        if row.role is None:
            row.refuse("role", _("Unknown role \"%(value)s\": write participant, moderator or admin.",
                                 value=role[:40]))
    language = cells.get("language", "")
    if language:
        row.locale = languages.get(_fold(language)) or (supported(language) if len(language) <= 16 else None)
        if row.locale is None:
            row.refuse("language", _("Unknown language \"%(value)s\": write en, fr or es, or leave the cell "
                                     "empty to follow the person's browser.", value=language[:40]))


def _flag_duplicates(rows: list[DelegateRow]) -> None:
    """Every row whose address is on another row too gets a problem naming the other lines."""
    lines: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        if row.email:
            lines[row.email].append(row.line)
    for row in rows:
        same = lines.get(row.email or "", ())
        if len(same) < 2:
            continue
        others = [line for line in same[:SHOWN_LINES + 1] if line != row.line][:SHOWN_LINES]
        named, rest = ", ".join(map(str, others)), len(same) - 1 - len(others)
        row.refuse("email", ngettext("This address is also on lines %(lines)s and %(num)s other.",
                                     "This address is also on lines %(lines)s and %(num)s others.", rest,
                                     lines=named) if rest else
                   ngettext("This address is also on line %(lines)s.", "This address is also on lines %(lines)s.",
                            len(others), lines=named))


def read_delegates(data: bytes) -> Preview:
    """Read a delegates' CSV file and check every row; nothing is looked up or written.

    :raises ValidationError: (field ``file``) for a file that is empty, too large, has too many rows,
        cannot be read as CSV, or whose first line does not name the name and email columns.
    """
    max_bytes = int(current_app.config["IMPORT_MAX_BYTES"])
    max_rows = int(current_app.config["IMPORT_MAX_ROWS"])
    if len(data) > max_bytes:
        raise too_large()
    text, encoding, note = _decode(data)
    if not text.strip():
        raise ValidationError(_("The file is empty."), "file")
    delimiter, mapping, ignored = _header(text)
    notes = [note] if note else []
    if ignored:
        notes.append(_("These columns are not used and were left out: %(names)s.",
                       names=", ".join(f"\"{name[:40]}\"" for name in ignored[:10])))
    columns = sorted(mapping, key=mapping.get)
    roles, languages = _role_names(), _language_names()
    rows: list[DelegateRow] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header_seen, line = False, 1
    try:
        for record in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if not header_seen:
                header_seen = True
                continue
            if len(rows) >= max_rows:
                raise ValidationError(ngettext("The file has more than %(num)s row. Split it into several files.",
                                               "The file has more than %(num)s rows. Split it into several files.",
                                               max_rows), "file")
            cells = {column: unescape_cell(record[index].strip()) if index < len(record) else ""
                     for column, index in mapping.items()}
            row = DelegateRow(line=start, cells=cells)
            _check_row(row, roles, languages)
            rows.append(row)
    except csv.Error as error:
        raise ValidationError(_("Line %(line)s cannot be read as CSV (a quote left open?): %(error)s.",
                                line=line, error=str(error)[:200]), "file") from error
    if not rows:
        raise ValidationError(_("The file has a header but no delegates below it."), "file")
    _flag_duplicates(rows)
    return Preview(digest=file_digest(data), size=len(data), encoding=encoding, delimiter=delimiter,
                   columns=columns, ignored=ignored, notes=notes, rows=rows)


def too_large() -> ValidationError:
    """The refusal of a file over ``IMPORT_MAX_BYTES`` (the upload's page gives it before reading the file)."""
    size = int(current_app.config["IMPORT_MAX_BYTES"]) / (1024 * 1024)
    return ValidationError(_("The file is larger than %(size)s MB. Split the list into several files.",
                             size=format_decimal(size)), "file")


# ------------------------------------------------------------------ planning

def _existing_accounts(emails: Iterable[str]) -> dict[str, Any]:
    """The accounts that already have these addresses (what the plan compares), by address.

    One query per ``CHUNK`` addresses, never one per row.
    """
    wanted = sorted(set(emails))
    found = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start:start + CHUNK]
        for account in db.session.execute(select(*_ACCOUNT_COLUMNS).where(func.lower(User.email).in_(chunk))):
            found[account.email.lower()] = account
    return found


def _active_admin_ids() -> set[int]:
    """The ids of the active admins."""
    return set(db.session.scalars(select(User.id).where(User.role == Role.ADMIN.value, User.active.is_(True))))


def _changes(row: DelegateRow, user) -> dict[str, tuple[str | None, str | None]]:
    """What importing the row would change on its existing account (an empty cell changes nothing)."""
    changes = {}
    if row.name and row.name != user.name:
        changes["name"] = (user.name, row.name)
    for column in ("organisation", "country", "role", "language"):
        after = row.value(column)
        before = getattr(user, _ATTRIBUTES[column])
        if after is not None and after != before:
            changes[column] = (before, after)
    return changes


def _plan(rows: list[DelegateRow], existing: dict[str, Any], admin_ids: set[int]) -> None:
    """Say what each row would do to the accounts, and refuse a file that would leave no admin."""
    demoted = []
    for row in rows:
        row.action, row.changes, row.user_id, row.inactive, row.conflicts = None, {}, None, False, {}
        if row.email is None:
            continue
        user = existing.get(row.email)
        if user is None:
            row.action = NEW
            continue
        row.user_id, row.inactive = user.id, not user.active
        row.changes = _changes(row, user)
        row.action = UPDATE if row.changes else UNCHANGED
        if "role" in row.changes and user.id in admin_ids:
            demoted.append(row)
    if demoted and admin_ids <= {row.user_id for row in demoted}:
        for row in demoted:
            row.conflicts["role"] = [_("This would leave no admin. Keep at least one admin's role as it is.")]


def preview_import(actor: User, data: bytes) -> Preview:
    """Read a delegates' file and say what importing it would do, row by row; nothing is written.

    :raises PermissionDenied: unless the actor is an admin.
    :raises ValidationError: (field ``file``) for a file refused whole (see :func:`read_delegates`).
    """
    require_admin(actor, _("Only an admin can import delegates."))
    preview = read_delegates(data)
    _plan(preview.rows, _existing_accounts(row.email for row in preview.rows if row.email), _active_admin_ids())
    return preview


# ------------------------------------------------------------------ writing

def import_delegates(actor: User, data: bytes, digest: str) -> ImportResult:
    """Create and invite the new delegates of a file and update the others, in one transaction.

    ``digest`` is the :func:`file_digest` the admin saw the preview of. Nothing is written when any
    row has a problem; nothing either (not even an event) when the file changes nothing.

    :raises PermissionDenied: unless the actor is an admin.
    :raises ValidationError: (field ``file``) when the file is refused whole, is not the one previewed,
        or has rows with problems; or when an address was taken meanwhile.
    """
    require_admin(actor, _("Only an admin can import delegates."))
    if file_digest(data) != digest:
        raise ValidationError(_("This is not the file that was previewed. Upload it again."), "file")
    preview = read_delegates(data)
    _refuse_problems(preview)
    return _write_import(actor, preview)


def _refuse_problems(preview: Preview) -> None:
    """Refuse a file with rows that have problems, saying how many.

    :raises ValidationError:
    """
    problems = len(preview.problem_rows)
    if problems:
        raise ValidationError(ngettext("%(num)s row has a problem; nothing was imported. Correct the file and "
                                       "upload it again.",
                                       "%(num)s rows have a problem; nothing was imported. Correct the file and "
                                       "upload it again.", problems), "file")


@writes
def _write_import(actor: User, preview: Preview) -> ImportResult:
    """Plan on the locked accounts, then insert the new ones, update the others, and record the events."""
    rows = preview.rows
    existing = _existing_accounts(row.email for row in rows)
    admin_ids = _active_admin_ids()
    _plan(rows, existing, admin_ids)
    to_update = [row.user_id for row in rows if row.action == UPDATE]
    locked: dict[int, User] = {}
    if to_update:
        # The accounts to change and every admin, in one call: two imports demoting each other's admins wait in turn.
        locked = {user.id: user for user in lock_rows(User, [*to_update, *admin_ids, actor.id])}
        admin_ids = {uid for uid, user in locked.items() if user.role == Role.ADMIN and user.active}
        existing.update({user.email.lower(): user for user in locked.values()})
        _plan(rows, existing, admin_ids)  # again, on the locked rows' fresh values
    if actor.id not in admin_ids:
        raise PermissionDenied(_("Only an admin can import delegates."))
    _refuse_problems(preview)
    new_rows = [row for row in rows if row.action == NEW]
    updates = [row for row in rows if row.action == UPDATE]
    result = ImportResult(created=len(new_rows), updated=len(updates),
                          unchanged=len(rows) - len(new_rows) - len(updates), rows=len(rows))
    if not new_rows and not updates:
        return result
    now = utcnow()
    # Invited people prove their address by following the invitation's link (accepting sets email_verified_at).
    created = [User(email=row.email, name=row.name, password_hash=unusable_hash(),
                    role=row.role or Role.PARTICIPANT.value, organisation=row.organisation, country=row.country,
                    locale=row.locale, invited_at=now, email_verified_at=None) for row in new_rows]
    db.session.add_all(created)
    try:
        with db.session.begin_nested():  # the unique index settles an address taken since the plan
            db.session.flush()
    except IntegrityError as exc:
        raise ValidationError(_("An account with one of these addresses was created meanwhile. "
                                "Upload the file again to see the new preview."), "file") from exc
    events = [(user, "user.invited", {"to_state": user.role}) for user in created]
    for row in updates:
        user = locked[row.user_id]
        for column, (_before, after) in row.changes.items():
            setattr(user, _ATTRIBUTES[column], after)
        if "role" in row.changes:
            before, after = row.changes["role"]
            events.append((user, "user.role_changed", {"from_state": before, "to_state": after}))
        profile = {column: change for column, change in row.changes.items() if column != "role"}
        if profile:
            events.append((user, "user.profile_changed", {"data": {
                "before": {column: before for column, (before, _after) in profile.items()},
                "after": {column: after for column, (_before, after) in profile.items()}}}))
    _record_all(actor, events)
    record_event(actor, "user.invitations_imported", actor,
                 data={"created": result.created, "updated": result.updated, "unchanged": result.unchanged,
                       "rows": result.rows})
    return result


def _record_all(actor: User, events: list[tuple[User, str, dict[str, Any]]]) -> None:
    """:func:`record_event` for many accounts at once: the same events, written in one flush.

    ``record_event`` flushes each event before telling ``event_recorded``'s listeners (10,000
    invitations took 10 s that way); here all are added and flushed together, then each is sent to
    the listeners as ``record_event`` sends it, so the content states and the invitation mail see
    every one of them.
    """
    audit = []
    for user, action, fields in events:
        event = AuditEvent(actor_id=actor.id, action=action, object_type=User.__tablename__, object_id=user.id,
                           **fields)
        event.subject = user
        audit.append(event)
    db.session.add_all(audit)
    db.session.flush()
    if event_recorded.receivers:
        for event, (user, _action, _fields) in zip(audit, events):
            event_recorded.send(event, obj=user, actor=actor)


# ------------------------------------------------------------------ invitations

def invitation_pending(user: User) -> bool:
    """Whether the person was invited and has not accepted yet (no password chosen, address not confirmed)."""
    return user.invited_at is not None and user.email_verified_at is None and not is_usable(user.password_hash)


@writes
def resend_invitation(actor: User, user_id: int) -> User:
    """Send an invited person a new invitation (older links stay valid until a password is set).

    :raises PermissionDenied: unless the actor is an admin.
    :raises NotFound: for an unknown account.
    :raises ValidationError: when the invitation was accepted, the account is deactivated, or the
        last invitation went out less than a minute ago.
    """
    require_admin(actor, _("Only an admin can send invitations."))
    user = lock_row(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    if not invitation_pending(user):
        raise ValidationError(_("%(name)s has accepted the invitation already.", name=user.name), "invitation")
    if not user.active:
        raise ValidationError(_("%(name)s's account is deactivated; reactivate it first.", name=user.name),
                              "invitation")
    now = utcnow()
    if user.invited_at is not None and now - as_utc(user.invited_at) < RESEND_INTERVAL:
        raise ValidationError(_("An invitation went to %(name)s less than a minute ago. Wait a minute before "
                                "sending another.", name=user.name), "invitation")
    user.invited_at = now
    record_event(actor, "user.invited", user, to_state=user.role, data={"again": True})
    return user


# ------------------------------------------------------------------ the list as a file

EXPORT_HEADER = (*COLUMNS, "invited", "invitation", "email verified", "active")


def delegate_rows(actor: User) -> Iterator[list[str]]:
    """Every account as a row of the delegates' file (the import's columns first, then its state), by name.

    The file the admins' CSV export writes, and one this module imports back unchanged (the columns after
    the import's are ignored then).

    :raises PermissionDenied: unless the actor is an admin.
    """
    require_admin(actor, _("Only an admin can export the list of accounts."))
    return map(_delegate_row, db.session.scalars(select(User).order_by(func.lower(User.name), User.id)
                                                 .execution_options(yield_per=1000)))


def _delegate_row(user: User) -> list[str]:
    """One account as a row of the exported file."""
    invited = as_utc(user.invited_at)
    return [user.name, user.email, user.organisation or "", user.country or "", user.role, user.locale or "",
            invited.strftime("%Y-%m-%d %H:%M UTC") if invited else "",
            ("pending" if invitation_pending(user) else "accepted") if invited else "",
            "yes" if user.email_verified else "no", "yes" if user.active else "no"]
