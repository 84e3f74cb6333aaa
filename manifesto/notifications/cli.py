"""Notification commands: ``flask --app manifesto send-digests`` (for cron or a systemd timer)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_babel import format_number
from flask_babel import gettext as _

from .digests import send_digests


@click.command("send-digests")
@with_appcontext
def send_digests_command():
    """Send each person one digest email with everything waiting for it (for cron or a systemd timer).

    Safe to run twice, even at the same time: every notification goes out
    in one digest only. Also takes over digests and emails that were left
    unsent for more than MAIL_RESEND_AFTER seconds.
    """
    run = send_digests()
    click.echo(_("Digests sent: %(sent)s; failed and queued for retry: %(failed)s; "
                 "taken over after an earlier failure: %(resent)s; late emails sent: %(late)s.",
                 sent=format_number(run.sent), failed=format_number(run.failed),
                 resent=format_number(run.resent), late=format_number(run.mail_resent)))
    if run.failed:
        raise SystemExit(1)
