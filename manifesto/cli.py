"""Command-line tools: ``flask --app manifesto <command>``.

Each area adds its own commands from its ``init_app`` (``create-user`` and
``set-password`` in accounts, ``send-digests`` in notifications, ``reindex``
in search, ``export`` and ``import-archive`` in exports). The commands that
belong to no area are added here: the interface's catalogues
(``translations``), the data to start from (``seed-demo``, ``seed-scale``),
and ``backup`` and ``restore`` (in ``backup.py``).
"""

from __future__ import annotations

from flask import Flask

from . import backup, seed
from .catalogue import translations_cli


def init_app(app: Flask) -> None:
    """Add the commands that belong to no area: the catalogues, the seeds, backup and restore."""
    app.cli.add_command(translations_cli)
    seed.init_app(app)
    backup.register(app)
