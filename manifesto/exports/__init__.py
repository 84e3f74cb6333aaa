"""Exports: the text leaves the platform as PDF, DOCX, Markdown, HTML, plain text and a JSON archive.

Each format module registers its renderer with :mod:`.formats`, which
imports none of them; importing them here, above them all, means that
whoever uses the area (a view, a command, a background job) finds every
format registered. The PDF module loads WeasyPrint only when a PDF is made.
"""

from __future__ import annotations

from flask import Flask

from . import docx, html, markdown, pdf, text  # noqa: F401  (each registers its format with .formats)


def init_app(app: Flask) -> None:
    """Wire exports into the app: the export and job pages, and the ``export`` and ``import-archive`` commands."""
    from . import cli, jobs, views  # noqa: F401  (jobs declares the PDF job for the worker)
    from .archive import cli as archive_cli

    app.register_blueprint(views.bp)
    app.register_blueprint(views.jobs_bp)
    cli.register(app)
    archive_cli.register(app)
