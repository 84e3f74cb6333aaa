"""The ``export`` command: any text, in any format, to a file, with a progress bar on long exports.

``flask --app manifesto export SLUG --format pdf|docx|md|html|txt|json
[--release NAME] [--line-numbers] [--annex] [--credits] [--against NAME] [--language en|fr|es] -o FILE``

The file's fixed texts (contents, labels, dates) are in the document's own
language unless ``--language`` names another; the command's own messages
follow the terminal's locale (``LANG``).

The command writes the file itself (it does not go through the cache or
the background queue: whoever runs it waits for it, with a progress bar
for PDF and DOCX). ``--format json`` writes the archive of the whole
database (every document, not only SLUG's), with email addresses only when
``--with-emails`` is given: whoever can run commands on the server is an
administrator.
"""

from __future__ import annotations

import os
import sys
import tempfile

import click
from flask import Flask
from flask_babel import format_number
from flask_babel import gettext as _

from ..documents.services import get_document_or_404
from ..services import NotFound
from . import formats, pdf
from .archive.writer import write_archive
from .build import build_export, resolve_release
from .document import ExportDocument
from .formats import FORMATS
from .options import EXPORT_LANGUAGES, ExportOptions


def _write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (``-`` is standard output)."""
    if path == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".export-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def register(app: Flask) -> None:
    """Attach the export command to the app."""

    @app.cli.command("export")
    @click.argument("slug")
    @click.option("--format", "fmt", type=click.Choice(list(FORMATS)), required=True, help="File format.")
    @click.option("--release", "release_name", default=None, metavar="NAME",
                  help="A release's name or address (default: the live text).")
    @click.option("--line-numbers", is_flag=True, help="Number the lines as on the screen (not in Markdown).")
    @click.option("--annex", is_flag=True, help="Add an annex listing every amendment.")
    @click.option("--credits", is_flag=True, help="Add the contributors who agreed to be named.")
    @click.option("--against", default=None, metavar="NAME", help="Add the changes since this earlier release.")
    @click.option("--language", "language", type=click.Choice(EXPORT_LANGUAGES), default=None,
                  help="Language of headings and labels (default: the document's own language).")
    @click.option("--with-emails", is_flag=True, help="json only: include email addresses in the archive.")
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True, allow_dash=True),
                  help="The file to write ('-' for standard output).")
    def export_command(slug, fmt, release_name, line_numbers, annex, credits, against, language, with_emails,
                       output):
        """Export a document's live text or a release as PDF, DOCX, Markdown, HTML, plain text, or the JSON archive."""
        try:
            document = get_document_or_404(slug)
            release = resolve_release(document, release_name) if release_name else None
            if fmt == "json":
                data = write_archive(include_emails=with_emails)
            else:
                options = ExportOptions(line_numbers=line_numbers, annex=annex, contributors=credits,
                                        redline_against=resolve_release(document, against).slug if against else None,
                                        language=language)
                doc = build_export(document, release, options)
                data = _render(fmt, doc)
        except NotFound as error:
            raise click.ClickException(str(error.message)) from error
        _write(output, data)
        if output != "-":
            click.echo(_("Wrote %(file)s (%(size)s bytes).", file=output, size=format_number(len(data))), err=True)


def _render(fmt: str, doc: ExportDocument) -> bytes:
    """Render ``doc``, with a progress bar for the formats that take a while.

    :raises click.ClickException: when the PDF cannot be made here (WeasyPrint's system libraries are missing).
    """
    if fmt not in ("pdf", "docx"):
        return formats.render(fmt, doc)
    if fmt == "pdf":
        reason = pdf.pdf_unavailable_reason()  # looked up each time: tests replace it
        if reason:
            raise click.ClickException(reason)
    label = _("Writing the %(format)s", format=fmt.upper())  # in the terminal's language, not the file's
    with click.progressbar(length=1000, label=label, file=sys.stderr) as bar:
        state = {"shown": 0}

        def progress(stage: str, done: int, total: int) -> None:
            """Move the bar to ``done`` of ``total``."""
            target = int(1000 * done / total) if total else 1000
            if target > state["shown"]:
                bar.update(target - state["shown"])
                state["shown"] = target

        data = formats.render(fmt, doc, progress=progress)
        bar.update(1000 - state["shown"])
    return data
