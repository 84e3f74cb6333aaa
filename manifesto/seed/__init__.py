"""Data to start from: the demo manifesto (``seed-demo``) and a convention-sized event (``seed-scale``).

Everything is written through the services, as people would write it, so
the seeds exercise the same rules, locks and stored diffs as real use.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add the ``seed-demo`` and ``seed-scale`` commands."""
    from . import cli

    app.cli.add_command(cli.seed_demo_command)
    app.cli.add_command(cli.seed_scale_command)
