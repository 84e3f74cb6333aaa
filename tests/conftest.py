"""Fixtures: an app on a clean database for each test, users, logins, a document.

The schema is built once per run by the real migrations, on SQLite or on the
PostgreSQL database named by TEST_DATABASE_URL; each test then starts from
empty tables.
"""

from __future__ import annotations

import contextvars
import os

import pytest
from flask import has_app_context
from hypothesis import settings
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from manifesto import create_app
from manifesto.extensions import db

# Shared with test modules, which import them from harness: a module named
# conftest is ambiguous once a subfolder (tests/e2e) has its own conftest.py.
from harness import PASSWORD, _config, bearer, count_queries, empty_tables, live_markup  # noqa: E402,F401


# The suite asserts English wherever it does not ask for another language; a
# terminal set to French must not turn the CLI tests' output French.
os.environ["LANGUAGE"] = "en"

# CI must judge the code, not the luck of the draw: property tests run the
# same examples every time there, and explore new ones on developers' machines.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """The database the run uses: TEST_DATABASE_URL, or a fresh SQLite file."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")


@pytest.fixture(scope="session")
def instance_path(tmp_path_factory) -> str:
    """An instance folder of the run's own, so tests never touch ./instance."""
    path = str(tmp_path_factory.mktemp("instance"))
    os.environ["MANIFESTO_INSTANCE_PATH"] = path
    return path


class FreshClient(FlaskClient):
    """A test client whose every request runs as in production: in its own app context.

    The test's app context (and its session, g and logged-in user) stays
    outside; after the request, the test's session is expired so it reads
    what the request wrote.
    """

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            db.session.commit()  # ends the test's read transaction and expires what it holds
        return response


def _reset_schema(url: str) -> None:
    """Drop every table so the migrations build the schema from nothing."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        return
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def _schema(database_url, instance_path):
    """Build the schema once per run with the real migrations."""
    from flask_migrate import upgrade

    _reset_schema(database_url)
    app = create_app(_config(database_url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


@pytest.fixture
def make_app(_schema):
    """Build an app on the test database with extra settings; tables are emptied afterwards."""
    apps = []

    def factory(**extra):
        app = create_app(_config(_schema, **extra))
        app.test_client_class = FreshClient
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if apps:
        cleaner = create_app(_config(_schema))
        with cleaner.app_context():
            empty_tables()
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def stream_app(make_app):
    """An app whose live streams last two seconds and beat four times a second, inside an app context."""
    app = make_app(LIVE_STREAM_LIFETIME=2.0, LIVE_HEARTBEAT=0.25)
    with app.app_context():
        yield app


@pytest.fixture
def app(make_app):
    """The application, inside an app context."""
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """Create users through the service: ``make_user("moderator")``."""
    from manifesto.accounts.services import register_user

    counter = iter(range(1, 100000))

    def factory(role: str = "participant", email: str | None = None, name: str | None = None,
                password: str = PASSWORD, organisation: str | None = None):
        n = next(counter)
        user = register_user(email or f"{role}{n}@example.org", name or f"{role.capitalize()} {n}",
                             password, organisation, None, role=role)
        return user

    return factory


@pytest.fixture
def login(client):
    """Log a user in on the test client: ``login(user)``; returns the response."""

    def do_login(user, password: str = PASSWORD, next_url: str | None = None, test_client=None):
        c = test_client or client
        data = {"email": user.email, "password": password}
        if next_url is not None:
            data["next"] = next_url
        return c.post("/login", data=data)

    return do_login


@pytest.fixture
def users(make_user) -> dict:
    """One user of each role, keyed by role name."""
    return {role: make_user(role) for role in ("participant", "moderator", "admin")}


@pytest.fixture
def make_document(app, make_user):
    """Create a document with ``n`` sections through the services."""
    from manifesto.documents import services

    def factory(n_sections: int = 3, slug: str = "doc", phase: str = "drafting", editor=None):
        editor = editor or make_user("admin")
        document = services.create_document(editor, title="Test manifesto", slug=slug,
                                            introduction="An *introduction*.")
        after = None
        for i in range(1, n_sections + 1):
            section = services.create_section(
                editor, document.id, heading=f"Section {i}",
                body=f"Paragraph one of section {i}, about cooperatives and energy.\n\n"
                     f"Paragraph two of section {i}, about democracy at work.",
                reason="Initial text.", after_section_id=after)
            after = section.id
        if phase != "drafting":
            services.update_document(editor, document.id, title=document.title, introduction=document.introduction,
                                     phase=phase, amendment_deadline=None, min_supporters=0)
        return document

    return factory


@pytest.fixture
def document(make_document):
    """A document with three sections, in the drafting phase."""
    return make_document()


@pytest.fixture
def amendment(make_document, users):
    """An open amendment on a document in the amendment phase, proposed by the participant."""
    from manifesto.amendments import services as amendments
    from manifesto.documents import services as documents

    document = make_document(phase="amendments", editor=users["admin"])
    entry = documents.current_sections(document)[0]
    return amendments.propose_amendment(
        users["participant"], document.id, kind="modify", section_id=entry.section.id, heading=None,
        body=entry.version.body.replace("cooperatives", "worker cooperatives", 1), reason="Better.")


@pytest.fixture
def make_token(app):
    """Make a personal access token through the service: ``make_token(user, scopes=("read",))`` -> its secret."""
    from manifesto.api.models import SCOPES
    from manifesto.api.tokens import create_token

    def factory(user, scopes=SCOPES, *, name: str = "Test token", expires_in_days: int | None = None) -> str:
        return create_token(user, name=name, scopes=scopes, expires_in_days=expires_in_days).secret

    return factory


@pytest.fixture
def queries():
    """The query counter as a fixture."""
    return count_queries


def pytest_terminal_summary(terminalreporter) -> None:
    """After the run, count the skipped tests by reason, so a missing Chromium or PostgreSQL shows at a glance."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    if reasons:
        terminalreporter.write_sep("-", f"{sum(reasons.values())} skipped, by reason")
        for reason, count in sorted(reasons.items(), key=lambda item: (-item[1], item[0])):
            terminalreporter.write_line(f"{count} skipped: {reason}")
