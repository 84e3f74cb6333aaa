"""Export jobs: a long PDF built by the background queue, its progress and its file."""

from __future__ import annotations

import json
import re
from datetime import datetime
from enum import StrEnum

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..services import as_utc, utcnow
from .options import ExportOptions
from .pdf import INSTALL_HINT


class JobStatus(StrEnum):
    """Where an export job stands."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self) -> str:
        """Human name of the status (current locale)."""
        return {"queued": _("Waiting for its turn"), "running": _("Being built"), "done": _("Ready"),
                "failed": _("Failed")}[self.value]


ACTIVE = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)

# What a job row stores about its stage and failure is English (it is written by a worker that has no
# reader); these are shown in the reader's language. A stored text that is none of them is shown as it is.
WAITING = _l("Waiting for its turn")
READING = _l("Reading the text")
PREPARING = _l("Preparing the text")
WRITING = _l("Writing the PDF")
DONE = _l("Done")
READY = _l("Ready")
FAILED = _l("Failed")
STOPPED = _l("The export stopped before it was finished (its worker was interrupted). A new one has been started.")
OUT_OF_MEMORY = _l("The server ran out of memory while building this file. Please tell an administrator.")
SERVER_ERROR = _l("Building this file failed because of an error on the server. It has been logged; "
                  "please try again later or tell an administrator.")
GONE = _l("The document or release of this export no longer exists.")
ONLY_PDF = _l("Only PDF files are built in the background.")
_KNOWN = (WAITING, READING, PREPARING, WRITING, DONE, READY, FAILED, STOPPED, OUT_OF_MEMORY, SERVER_ERROR, GONE,
          ONLY_PDF)
_LAYING_OUT = re.compile(r"Laying out page (\d+)")


def english(text) -> str:
    """A (lazy) message in English, as job rows store it."""
    with force_locale("en"):
        return str(text)


def shown(stored: str | None) -> str:
    """A stage or failure message stored in English, in the reader's language (unknown texts as they are)."""
    if not stored:
        return ""
    for text in (*_KNOWN, INSTALL_HINT):
        if english(text) == stored:
            return str(text)
    page = _LAYING_OUT.fullmatch(stored)
    if page:
        return _("Laying out page %(page)s", page=page.group(1))
    return stored


class ExportJob(db.Model):
    """One export built in the background: what was asked for, how far it got, and where its file is.

    Jobs are asked for by whoever downloads a long export (anonymous readers
    too); a second request for the same text, format and options joins the
    job that is queued or running instead of starting another.
    """

    __tablename__ = "export_jobs"
    __table_args__ = (Index("ix_export_jobs_document_status", "document_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    release_id: Mapped[int | None] = mapped_column(ForeignKey("releases.id"))
    fmt: Mapped[str] = mapped_column(String(10))
    options_key: Mapped[str] = mapped_column(String(200))  # ExportOptions.cache_key()
    options_json: Mapped[str] = mapped_column(Text)  # the ExportOptions, to build the same export again
    fingerprint: Mapped[str] = mapped_column(String(64))  # what the text was when the job was asked for
    status: Mapped[str] = mapped_column(String(12), default=JobStatus.QUEUED.value)
    stage: Mapped[str] = mapped_column(String(200), default="Waiting for its turn")
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")  # why it failed, in words a reader understands
    file_name: Mapped[str | None] = mapped_column(String(400))  # the built file, relative to the export folder
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<ExportJob {self.id} {self.fmt} {self.options_key} {self.status}>"

    @property
    def status_enum(self) -> JobStatus:
        """The status as an enum."""
        return JobStatus(self.status)

    @property
    def active(self) -> bool:
        """Whether the job is still waiting or running."""
        return self.status in ACTIVE

    @property
    def stage_label(self) -> str:
        """What the job is doing, in the reader's language."""
        return shown(self.stage)

    @property
    def message_label(self) -> str:
        """Why the job failed, in the reader's language."""
        return shown(self.message)

    @property
    def options(self) -> ExportOptions:
        """The export options the job builds with."""
        return ExportOptions(**json.loads(self.options_json))

    @property
    def percent(self) -> int:
        """How far the job got, 0 to 100."""
        if self.status == JobStatus.DONE:
            return 100
        if not self.progress_total:
            return 0
        return max(0, min(99, self.progress_done * 100 // self.progress_total))

    @property
    def requested_at(self) -> datetime:
        """When the job was asked for, as aware UTC."""
        return as_utc(self.created_at)
