"""Generated export files, kept under ``instance/exports/`` (setting ``EXPORT_DIR``) so each is built once.

A file is named by what it contains: the document, the text (a release's
slug, or ``live``), the format, the options, and a fingerprint of
everything the file is made of. A release never changes, so its files stay
valid for good; the live text's fingerprint is read in a few light queries
and changes whenever a section gets a new version, the structure changes
(sections added, moved, retired, restored), the document's own fields
change, or, when the file has an annex or credits, whenever an amendment
or the list of credited people changes. Nothing has to remember to clear
the cache: a changed text simply asks for another file.

Writes are atomic: the bytes go to a temporary file in the same folder,
which ``os.replace`` then renames into place, so two requests building the
same file at once never serve a half-written one (the last rename wins,
with identical content). Storing a file removes the older files of the same
text, format and options, which no request will ask for again.

Compute the key *before* reading the text to build the file: if the text
changes in between, the file lands under the older key, which no later
request asks for, rather than an old text under the new key.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from ..accounts.models import User
from ..amendments.models import Amendment
from ..documents.models import Document, Section
from ..extensions import db
from .build import annex_statement, annex_votes, build_export, contributors, resolve_release
from .document import ExportDocument
from .formats import FORMATS
from .options import ExportOptions

__all__ = ["FORMAT_VERSION", "CacheKey", "cache_key", "cached_path", "export_dir", "get_or_render", "lookup",
           "store"]

# Bump when a format's renderer changes what it writes, so older files are not served again.
FORMAT_VERSION = "2"
# Seconds after which a temporary file nobody renamed is taken as left by a killed process.
ABANDONED_AFTER = 3600

_UNSAFE = re.compile(r"[^a-z0-9-]+")


@dataclass(frozen=True)
class CacheKey:
    """Where one export's file lives: document, text, format, options and fingerprint."""

    slug: str
    text: str  # the release's slug, or "live"
    fmt: str
    options_key: str
    fingerprint: str

    @property
    def stem(self) -> str:
        """The part of the file name shared by every version of this text, format and options."""
        return f"{self.text}--{self.options_key}--"

    @property
    def filename(self) -> str:
        """The file's name in the document's folder."""
        return f"{self.stem}{self.fingerprint}.{FORMATS[self.fmt][0]}"


def export_dir() -> Path:
    """The folder of cached exports: ``EXPORT_DIR``, by default ``instance/exports``."""
    return Path(current_app.config.get("EXPORT_DIR") or os.path.join(current_app.instance_path, "exports"))


def _safe(value: str, limit: int = 80) -> str:
    """A file-name-safe form of a slug or an options key."""
    return _UNSAFE.sub("_", value.lower())[:limit] or "_"


def _live_sections(document: Document) -> list[list[int]]:
    """The live text's sections and their current versions, in order (one light query: no bodies)."""
    rows = db.session.execute(
        select(Section.id, Section.current_version_id)
        .where(Section.document_id == document.id, Section.retired_at.is_(None))
        .order_by(Section.position)).all()
    return [[section_id, version_id] for section_id, version_id in rows]


def _annex_state(document: Document, release) -> list[list]:
    """What the annex is made of, without the long texts (one query).

    Every change to an amendment bumps its revision or sets its decision
    time; hiding removes it from the set; its author's name is read too.
    """
    annex = annex_statement(document, release).subquery()
    rows = db.session.execute(
        select(annex.c.id, annex.c.number, annex.c.status, annex.c.revision, annex.c.decided_at,
               annex.c.updated_at, annex.c.first_rel_line, annex.c.last_rel_line, annex.c.section_id,
               annex.c.name, annex.c.organisation, annex.c.heading)
        .order_by(annex.c.number)).all()
    return [list(row) for row in rows]


def cache_key(document: Document, release, fmt: str, options: ExportOptions) -> CacheKey:
    """The key of one export's file, from a few light queries (none reads a section's text).

    :raises KeyError: for an unknown format.
    :raises NotFound: when the release to compare against does not exist.
    """
    FORMATS[fmt]  # noqa: B018  (an unknown format fails here, before any query)
    manifest: dict = {
        "format_version": FORMAT_VERSION,
        "fmt": fmt,
        "options": asdict(options),
        # created_at: ids are unique only within one database, and a new
        # database in the same instance folder (re-seeded, or emptied by a
        # test run) must not be served the old one's files.
        "document": [document.id, document.created_at, document.slug, document.title, document.introduction,
                     document.language, document.phase, document.line_length, document.structure_version],
    }
    if release is None:
        manifest["sections"] = _live_sections(document)
    else:
        manifest["release"] = [release.id, release.slug, release.created_at]  # a release never changes
    if options.annex:
        manifest["annex"] = _annex_state(document, release)
        manifest["votes"] = [[v.vote_id, v.closed_at, v.roll] for v in annex_votes(document, release)]
    if options.contributors:
        manifest["contributors"] = contributors(document, release)
    if options.redline_against:
        against = resolve_release(document, options.redline_against)
        manifest["against"] = [against.id, against.slug]
    digest = hashlib.sha256(json.dumps(manifest, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return CacheKey(slug=document.slug, text=_safe(release.slug) if release is not None else "live", fmt=fmt,
                    options_key=_safe(options.cache_key()), fingerprint=digest)


def cached_path(key: CacheKey) -> Path:
    """The path the file of ``key`` has (or will have) in the cache."""
    return export_dir() / _safe(key.slug) / key.filename


def lookup(key: CacheKey) -> Path | None:
    """The cached file of ``key``, or None when it has not been built yet."""
    path = cached_path(key)
    return path if path.is_file() else None


def store(key: CacheKey, data: bytes) -> Path:
    """Write the file of ``key`` atomically and remove the older files it replaces; return its path."""
    path = cached_path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".building-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    for old in path.parent.glob(f"{key.stem}*{path.suffix}"):
        if old.name != path.name:
            _remove(old)
    # Temporary files of a process killed while writing (a live one is minutes old at most).
    for leftover in path.parent.glob(".building-*"):
        try:
            if time.time() - leftover.stat().st_mtime > ABANDONED_AFTER:
                _remove(leftover)
        except FileNotFoundError:
            pass
    return path


def _remove(path: Path) -> None:
    """Delete a file another request may be deleting too."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def get_or_render(document: Document, release, fmt: str, options: ExportOptions,
                  render: Callable[[ExportDocument], bytes]) -> Path:
    """The cached file of this export, built with ``render`` (and stored) when it is missing."""
    key = cache_key(document, release, fmt, options)
    path = lookup(key)
    if path is None:
        path = store(key, render(build_export(document, release, options)))
    return path
