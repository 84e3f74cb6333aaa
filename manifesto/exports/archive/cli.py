"""The ``import-archive`` command (archives are written by ``export SLUG --format json``, in ``exports.cli``)."""

from __future__ import annotations

import click
from flask import Flask
from flask_babel import gettext as _

from ...services import DatabaseUnavailable, ServiceError
from .reader import import_archive


def register(app: Flask) -> None:
    """Attach the archive commands to the app."""

    @app.cli.command("import-archive")
    @click.argument("archive", type=click.File("rb"))
    def import_archive_command(archive):
        """Restore a JSON archive (plain or gzipped; "-" reads standard input) into an EMPTY database.

        Make the schema first with `flask --app manifesto db upgrade`. The whole
        archive goes in one transaction, ids kept, or nothing does. Accounts come
        back with no usable password, and without email addresses when the
        archive has none (placeholders under archive.invalid that receive no
        mail): make yourself an admin account with `create-user`.
        """
        data = archive.read()
        try:
            summary = import_archive(data)
        except ServiceError as error:
            raise click.ClickException(str(error.message)) from error
        except DatabaseUnavailable as error:
            raise click.ClickException(_("The database is unavailable (%(reason)s); nothing was imported. "
                                         "Try again when it answers.", reason=error.reason)) from error
        click.echo(summary.describe())
