"""Search commands: ``flask --app manifesto reindex``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_babel import format_number
from flask_babel import gettext as _

from .indexing import reindex


@click.command("reindex")
@with_appcontext
def reindex_command():
    """Rebuild the search index (after loading old data, or changing a document's language)."""
    counts = reindex()
    click.echo(_("Search index rebuilt: %(sections)s sections, %(amendments)s amendments, %(comments)s comments.",
                 sections=format_number(counts["section"]), amendments=format_number(counts["amendment"]),
                 comments=format_number(counts["comment"])))
