"""Areas wire themselves in one visible place: each area's ``init_app``, called by the factory in layer order.

Importing a module connects nothing: no listener, no provider for another
area's pages, no session hook. Building an app connects each exactly once,
however many apps a process builds; and the command line keeps every command
and option it had when one function registered them all.
"""

from __future__ import annotations

import json
import subprocess
import sys

from sqlalchemy import event

from manifesto import AREAS
from manifesto.amendments import citations
from manifesto.audit.services import event_recorded
from manifesto.documents import contributions
from manifesto.documents.signals import section_retired, version_written
from manifesto.extensions import db
from manifesto.search import indexing

# Who follows what. Connected in layer order, but blinker (1.9) keeps a signal's receivers in a set of ids
# (their addresses in memory), so they run in no promised order: no listener may rely on another having run.
RECEIVERS = {
    "event-recorded": ["manifesto.notifications.fanout.fan_out", "manifesto.notifications.account_mail.on_event_recorded",
                       "manifesto.search.indexing.note_event", "manifesto.api.webhooks.services.on_event_recorded",
                       "manifesto.plenary.projector.services.follow_shown"],
    "section-version-written": ["manifesto.amendments.services.following.follow_new_version",
                                "manifesto.discussion.comments.follow_new_version"],
    "section-retired": ["manifesto.amendments.services.following.follow_retirement"],
}
PROVIDERS = ["amendments", "discussion", "notifications", "plenary"]
SESSION_HOOKS = [("before_commit", indexing.refresh_pending), ("after_transaction_end", indexing.forget_pending),
                 *citations.SESSION_HOOKS]

# Every command and its options, as they were before the commands moved to their areas.
COMMANDS = {
    "backup": ["--force", "destination"],
    "create-user": ["--country", "--name", "--organisation", "--password", "--role", "email"],
    "db": None,
    "export": ["--against", "--annex", "--credits", "--format", "--language", "--line-numbers", "--output",
               "--release", "--with-emails", "-o", "slug"],
    "import-archive": ["archive"],
    "reindex": [],
    "restore": ["source"],
    "seed-demo": ["--password"],
    "seed-scale": ["--amendments", "--chars", "--comments", "--participants", "--sections", "--seed", "--slug",
                   "--versioned-sections", "--versions"],
    "send-digests": [],
    "set-password": ["--new-email", "--password", "email"],
    "translations": {"check": [], "compile": [], "extract": [], "update": []},
}

# Imports every module of the package in a fresh interpreter, builds no app, and says what got connected.
# manifesto.worker builds the app when imported (that is its job: the consumer's entry point), and the
# migration scripts run only inside Alembic: both are left out.
IMPORT_EVERYTHING = """
import importlib, json, pkgutil, sys
import manifesto
from sqlalchemy import event
skipped = ("manifesto.worker", "manifesto.migrations")
names = [m.name for m in pkgutil.walk_packages(manifesto.__path__, "manifesto.")
         if not m.name.startswith(skipped)]
for name in names:
    importlib.import_module(name)
from manifesto.audit.services import event_recorded
from manifesto.documents import contributions
from manifesto.documents.signals import section_retired, version_written
from manifesto.extensions import db
from manifesto.search import indexing
print(json.dumps({
    "modules": len(names),
    "receivers": {s.name: len(s.receivers) for s in (event_recorded, version_written, section_retired)},
    "providers": sorted(contributions.providers()),
    "session_hooks": [event.contains(db.session, "before_commit", indexing.refresh_pending),
                      event.contains(db.session, "after_transaction_end", indexing.forget_pending)],
}))
"""


def _receivers(signal) -> list[str]:
    """The qualified names of a signal's receivers, sorted (see RECEIVERS: they run in no promised order)."""
    return sorted(f"{r.__module__}.{r.__qualname__}" for r in signal.receivers_for(object()))


def test_each_signal_has_exactly_its_listeners(app):
    for signal in (event_recorded, version_written, section_retired):
        assert _receivers(signal) == sorted(RECEIVERS[signal.name]), signal.name


def test_building_more_apps_connects_nothing_twice(app, make_app):
    make_app()
    make_app()
    for signal in (event_recorded, version_written, section_retired):
        assert _receivers(signal) == sorted(RECEIVERS[signal.name]), signal.name
    assert list(contributions.providers()) == PROVIDERS
    for name, listener in SESSION_HOOKS:
        assert event.contains(db.session, name, listener)


def test_each_area_provides_its_parts_of_the_documents_pages(app):
    assert list(contributions.providers()) == PROVIDERS


def test_search_follows_each_commit(app):
    for name, listener in SESSION_HOOKS:
        assert event.contains(db.session, name, listener), name


def test_every_area_has_an_init_app_called_in_layer_order():
    names = [area.__name__.rsplit(".", 1)[1] for area in AREAS]
    assert names == ["audit", "accounts", "documents", "amendments", "discussion", "notifications", "search",
                     "releases", "exports", "live", "plenary", "api"]
    assert all(callable(area.init_app) for area in AREAS)


def test_importing_every_module_connects_nothing():
    result = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["modules"] > 100, "the walk found the package's modules"
    assert found["receivers"] == {"event-recorded": 0, "section-version-written": 0, "section-retired": 0}
    assert found["providers"] == []
    assert found["session_hooks"] == [False, False]


def test_the_command_line_keeps_every_command_and_option(app):
    commands = {}
    for name in app.cli.list_commands(None):
        command = app.cli.get_command(None, name)
        if name == "db":  # Flask-Migrate's own group
            commands[name] = None
        elif hasattr(command, "list_commands"):
            commands[name] = {sub: sorted(o for p in command.get_command(None, sub).params for o in p.opts)
                              for sub in command.list_commands(None)}
        else:
            commands[name] = sorted(o for p in command.params for o in p.opts)
    assert commands == COMMANDS


def test_area_commands_run_inside_the_app(runner):
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert "Search index rebuilt: 0 sections" in result.output
