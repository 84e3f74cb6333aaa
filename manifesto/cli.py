"""Command-line tools: ``flask --app manifesto <command>``."""

from __future__ import annotations

import click
from flask import Flask
from flask_babel import format_number
from flask_babel import gettext as _

from .services import ServiceError


def register_cli(app: Flask) -> None:
    """Attach the commands to the app."""

    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--name", required=True, help="Display name.")
    @click.option("--role", type=click.Choice(["participant", "moderator", "admin"]), default="participant",
                  show_default=True)
    @click.option("--password", help="Password (prompted for when omitted).")
    @click.option("--organisation", default=None)
    @click.option("--country", default=None)
    def create_user(email, name, role, password, organisation, country):
        """Create an account with a role."""
        from .accounts.services import register_user

        if not password:
            password = click.prompt(_("Password"), hide_input=True,
                                    confirmation_prompt=_("Repeat for confirmation"))
        try:
            user = register_user(email, name, password, organisation, country, role=role)
        except ServiceError as error:
            raise click.ClickException(error.message) from error
        click.echo(_("Created %(email)s (%(role)s).", email=user.email, role=user.role_label))

    @app.cli.command("set-password")
    @click.argument("email")
    @click.option("--password", help="New password (prompted for when omitted).")
    @click.option("--new-email", default=None, help="Also give the account this address (e.g. after an import).")
    def set_password(email, password, new_email):
        """Give an account a new password, ending its sessions (also for accounts restored from an archive)."""
        from .accounts.services import reset_password

        if not password:
            password = click.prompt(_("New password"), hide_input=True,
                                    confirmation_prompt=_("Repeat for confirmation"))
        try:
            user = reset_password(email, password, email_address=new_email)
        except ServiceError as error:
            raise click.ClickException(error.message) from error
        click.echo(_("New password set for %(email)s; their other sessions have ended.", email=user.email))

    @app.cli.command("seed-demo")
    @click.option("--password", default=None, help="Password of every demo account (default: manifesto-demo).")
    def seed_demo_command(password):
        """Load the demo manifesto, its people and amendments (safe to run twice)."""
        from .seed.demo import DEFAULT_PASSWORD, seed_demo

        document = seed_demo(password or DEFAULT_PASSWORD)
        click.echo(_("Demo document ready: %(path)s (accounts: %(accounts)s)", path="/d/" + document.slug + "/",
                     accounts="admin@example.org, moderator@example.org, amina@, lucas@, sofia@example.org"))

    @app.cli.command("seed-scale")
    @click.option("--sections", default=300, show_default=True, help="Number of sections.")
    @click.option("--chars", default=450_000, show_default=True, help="Approximate characters of text in all.")
    @click.option("--participants", default=800, show_default=True, help="Participant accounts.")
    @click.option("--amendments", default=3600, show_default=True, help="Amendments to propose.")
    @click.option("--versioned-sections", default=30, show_default=True, help="Sections edited many times.")
    @click.option("--versions", default=10, show_default=True, help="Versions of each of those sections.")
    @click.option("--seed", default=1, show_default=True, help="Random seed (same seed, same event).")
    @click.option("--slug", default="convention", show_default=True, help="Address of the generated document.")
    @click.option("--comments", default=20_000, show_default=True, help="Comments, replies and passage comments.")
    def seed_scale_command(sections, chars, participants, amendments, versioned_sections, versions, seed, slug,
                           comments):
        """Generate a convention-sized event for load tests (cheap password hashes: never in production)."""
        from .seed.scale import seed_scale

        try:
            seed_scale(sections=sections, chars=chars, participants=participants, amendments=amendments,
                       versioned_sections=versioned_sections, versions=versions, seed=seed, slug=slug,
                       comments=comments, echo=click.echo)
        except ServiceError as error:
            raise click.ClickException(error.message) from error

    # ------------------------------------------------------------- search
    @app.cli.command("reindex")
    def reindex_command():
        """Rebuild the search index (after loading old data, or changing a document's language)."""
        from .search.indexing import reindex

        counts = reindex()
        click.echo(_("Search index rebuilt: %(sections)s sections, %(amendments)s amendments, %(comments)s comments.",
                     sections=format_number(counts["section"]), amendments=format_number(counts["amendment"]),
                     comments=format_number(counts["comment"])))

    @app.cli.command("send-digests")
    def send_digests_command():
        """Send each person one digest email with everything waiting for it (for cron or a systemd timer).

        Safe to run twice, even at the same time: every notification goes out
        in one digest only. Also takes over digests and emails that were left
        unsent for more than MAIL_RESEND_AFTER seconds.
        """
        from .notifications.digests import send_digests

        run = send_digests()
        click.echo(_("Digests sent: %(sent)s; failed and queued for retry: %(failed)s; "
                     "taken over after an earlier failure: %(resent)s; late emails sent: %(late)s.",
                     sent=format_number(run.sent), failed=format_number(run.failed),
                     resent=format_number(run.resent), late=format_number(run.mail_resent)))
        if run.failed:
            raise SystemExit(1)

    # ------------------------------------------------------------- exports
    from .exports import archive_cli, cli as export_cli

    export_cli.register(app)
    archive_cli.register(app)
