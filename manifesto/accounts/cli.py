"""Account commands: ``flask --app manifesto create-user|set-password``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from ..services import ServiceError
from .services import register_user, reset_password


@click.command("create-user")
@click.argument("email")
@click.option("--name", required=True, help="Display name.")
@click.option("--role", type=click.Choice(["participant", "moderator", "admin"]), default="participant",
              show_default=True)
@click.option("--password", help="Password (prompted for when omitted).")
@click.option("--organisation", default=None)
@click.option("--country", default=None)
@with_appcontext
def create_user(email, name, role, password, organisation, country):
    """Create an account with a role."""
    if not password:
        password = click.prompt(_("Password"), hide_input=True,
                                confirmation_prompt=_("Repeat for confirmation"))
    try:
        user = register_user(email, name, password, organisation, country, role=role)
    except ServiceError as error:
        raise click.ClickException(error.message) from error
    click.echo(_("Created %(email)s (%(role)s).", email=user.email, role=user.role_label))


@click.command("set-password")
@click.argument("email")
@click.option("--password", help="New password (prompted for when omitted).")
@click.option("--new-email", default=None, help="Also give the account this address (e.g. after an import).")
@with_appcontext
def set_password(email, password, new_email):
    """Give an account a new password, ending its sessions (also for accounts restored from an archive)."""
    if not password:
        password = click.prompt(_("New password"), hide_input=True,
                                confirmation_prompt=_("Repeat for confirmation"))
    try:
        user = reset_password(email, password, email_address=new_email)
    except ServiceError as error:
        raise click.ClickException(error.message) from error
    click.echo(_("New password set for %(email)s; their other sessions have ended.", email=user.email))
