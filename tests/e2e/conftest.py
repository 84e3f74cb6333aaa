"""Browser fixtures: the app served by a live server, one Chromium for the run, a watched page per test.

The browser tests run once, in the SQLite run: they skip when TEST_DATABASE_URL
is set, and they skip with the reason when Playwright or Chromium is missing so
that the README's test command passes anywhere. CI sets
MANIFESTO_REQUIRE_BROWSER=1, which turns that skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import threading
from contextlib import contextmanager

import pytest

from manifesto import create_app
from manifesto.extensions import db

from e2e_helpers import AXE, DEMO_PASSWORD, Watcher

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
# Playwright must never fetch a browser of its own: it drives the system's Chromium.
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")


def chromium_path() -> str | None:
    """The system Chromium, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def unavailable_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    if chromium_path() is None:
        return "Chromium is not installed (apt-get install chromium)"
    if AXE is None:
        return "axe-core is not installed (pip install -e '.[test]' brings axe-playwright-python)"
    return None


@pytest.fixture(scope="session")
def _browser_allowed():
    """Skip (or, in CI, fail) when the browser tests cannot or should not run."""
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("browser tests run once, in the SQLite run")
    reason = unavailable_reason()
    if reason:
        if os.environ.get("MANIFESTO_REQUIRE_BROWSER") == "1":
            pytest.fail(f"MANIFESTO_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)


class LiveServer:
    """The app served over HTTP from a thread, with a way to seed its database."""

    def __init__(self, app, server):
        """Remember the app and the running werkzeug server."""
        self.app = app
        self.server = server
        self.url = f"http://127.0.0.1:{server.server_port}"

    @contextmanager
    def context(self):
        """An app context on the live app's database, for seeding and checking."""
        with self.app.app_context():
            try:
                yield
            finally:
                db.session.remove()


@pytest.fixture(scope="session")
def live_server(_browser_allowed, tmp_path_factory, instance_path):
    """The app on its own SQLite database, built by the migrations, served on a free port."""
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    folder = tmp_path_factory.mktemp("e2e")
    app = create_app({
        "SECRET_KEY": "e2e-secret",
        "DATABASE_URL": "sqlite:///" + str(folder / "e2e.sqlite"),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "QUEUE_MODE": "immediate",
        "QUEUE_FILE": str(folder / "queue.sqlite3"),
        "EXPORT_DIR": str(folder / "exports"),
        # One threaded server for every page of a test (a chair, a projector, a phone): each holds a stream, as
        # from the events process in production (a page worker alone holds two, then its pages poll). A closed
        # page's stream is noticed at its next write: beat every second, so the threads are let go quickly.
        "LIVE_STREAMS_PER_PROCESS": 32,
        "LIVE_HEARTBEAT": 1.0,
    })
    with app.app_context():
        upgrade()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    yield LiveServer(app, server)
    server.shutdown()
    thread.join(5)
    server.server_close()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser(live_server):
    """One headless Chromium for the whole run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """Open pages in fresh browser contexts (each its own cookies), all watched; fail the test on any problem."""
    watcher = Watcher()
    contexts = []

    def factory(width: int = 1280, height: int = 900, java_script: bool = True, locale: str = "en-US",
                timezone_id: str = "UTC"):
        context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": height},
                                      accept_downloads=True, java_script_enabled=java_script, locale=locale,
                                      timezone_id=timezone_id)
        context.set_default_timeout(10_000)
        contexts.append(context)
        context.on("page", watcher.attach)  # every tab, popups included
        return context.new_page()

    yield factory
    for context in contexts:
        context.close()
    assert not watcher.problems, "\n".join(watcher.problems)


@pytest.fixture
def page(new_page):
    """A watched page at desktop width, logged out."""
    return new_page()


@pytest.fixture(scope="session")
def demo(live_server):
    """Load the demo manifesto into the live server; return the values the page paths need."""
    from sqlalchemy import select

    from manifesto.amendments.models import Amendment
    from manifesto.documents.services import outline
    from manifesto.extensions import db
    from manifesto.releases.services import list_releases
    from manifesto.seed.demo import seed_demo

    with live_server.context():
        document = seed_demo(DEMO_PASSWORD)
        amendments = db.session.scalars(select(Amendment).where(Amendment.document_id == document.id,
                                                                Amendment.number.is_not(None))
                                        .order_by(Amendment.id)).all()
        conflicted = next(a for a in amendments if a.conflicted)
        with_comments = next(a for a in amendments if a.status == "submitted" and not a.conflicted)
        releases = list_releases(document)
        return {
            "doc": document.slug,
            "section": outline(document)[1].section_id,
            "amendment": with_comments.id,
            "conflicted": conflicted.id,
            "release": releases[0].slug,
            "first_release": releases[-1].slug,
        }


# The live server is werkzeug's development server in a thread of the test process. When Chromium drops a
# connection while a static file is on its way (it closes the page), that server can leave the file for the
# garbage collector, whose ResourceWarning then surfaces in whichever test runs: seen once in CI
# (favicon.svg, 2026-12-07). It is the test server's, not the app's (gunicorn closes the response), so it
# alone is let through; every other warning stays an error.
_DROPPED_STATIC_FILE = ("ignore:Exception ignored in. <_io.FileIO name='[^']*/manifesto/static/"
                        ":pytest.PytestUnraisableExceptionWarning")


def pytest_collection_modifyitems(items):
    """Let the live server's dropped static files through in the browser tests (see above)."""
    for item in items:
        if f"{os.sep}e2e{os.sep}" in str(item.path):
            item.add_marker(pytest.mark.filterwarnings(_DROPPED_STATIC_FILE))
