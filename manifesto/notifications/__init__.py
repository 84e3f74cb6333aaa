"""Notifications: who hears about what, in the app and by email (now or in a daily digest)."""

from __future__ import annotations

from flask import Flask

from ..audit.services import event_recorded
from ..documents.contributions import register_provider
from ..documents.serving import register_personal


def init_app(app: Flask) -> None:
    """Wire notifications into the app: its pages, the follow button, the fan-out of every event, send-digests."""
    # mail and digests declare their queue jobs: a worker process built by create_app knows them all.
    from . import account_mail, cli, digests, fanout, figures, mail, views  # noqa: F401

    app.register_blueprint(views.bp)
    register_provider("notifications", figures.follow_button)
    register_personal("notifications", views.unread_this_request)  # the header's unread count
    event_recorded.connect(fanout.fan_out)
    # Mail about one's own account (links to get in, security notices): transactional, never suppressed.
    event_recorded.connect(account_mail.on_event_recorded)
    app.cli.add_command(cli.send_digests_command)
