"""Seed commands: ``flask --app manifesto seed-demo|seed-scale``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from ..services import ServiceError
from .demo import DEFAULT_PASSWORD, seed_demo
from .scale import seed_scale


@click.command("seed-demo")
@click.option("--password", default=None, help="Password of every demo account (default: manifesto-demo).")
@with_appcontext
def seed_demo_command(password):
    """Load the demo manifesto, its people and amendments (safe to run twice)."""
    document = seed_demo(password or DEFAULT_PASSWORD)
    click.echo(_("Demo document ready: %(path)s (accounts: %(accounts)s)", path="/d/" + document.slug + "/",
                 accounts="admin@example.org, moderator@example.org, amina@, lucas@, sofia@example.org"))


@click.command("seed-scale")
@click.option("--sections", default=300, show_default=True, help="Number of sections.")
@click.option("--chars", default=450_000, show_default=True, help="Approximate characters of text in all.")
@click.option("--participants", default=800, show_default=True, help="Participant accounts.")
@click.option("--amendments", default=3600, show_default=True, help="Amendments to propose.")
@click.option("--versioned-sections", default=30, show_default=True, help="Sections edited many times.")
@click.option("--versions", default=10, show_default=True, help="Versions of each of those sections.")
@click.option("--seed", default=1, show_default=True, help="Random seed (same seed, same event).")
@click.option("--slug", default="convention", show_default=True, help="Address of the generated document.")
@click.option("--comments", default=20_000, show_default=True, help="Comments, replies and passage comments.")
@with_appcontext
def seed_scale_command(sections, chars, participants, amendments, versioned_sections, versions, seed, slug,
                       comments):
    """Generate a convention-sized event for load tests (cheap password hashes: never in production)."""
    try:
        seed_scale(sections=sections, chars=chars, participants=participants, amendments=amendments,
                   versioned_sections=versioned_sections, versions=versions, seed=seed, slug=slug,
                   comments=comments, echo=click.echo)
    except ServiceError as error:
        raise click.ClickException(error.message) from error
