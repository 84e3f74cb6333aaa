"""Helpers for the browser tests: logging in, seeding a world, axe-core, screenshots."""

from __future__ import annotations

from datetime import timedelta
from importlib import resources
from pathlib import Path


def _axe_script():
    """axe-core's one file, as the axe-playwright-python package ships it (the test extra pins it), or None."""
    try:
        script = resources.files("axe_playwright_python") / "axe.min.js"
    except ModuleNotFoundError:
        return None
    return script if script.is_file() else None


AXE = _axe_script()
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
PASSWORD = "correct-horse-battery"
DEMO_PASSWORD = "manifesto-demo"  # seed_demo's people

try:  # without Playwright the test modules still import; the live_server fixture then skips (or fails in CI)
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - depends on the machine
    expect = None


class Watcher:
    """What went wrong in the browser: console errors (CSP violations too), page errors, 5xx answers.

    A page answered with a 4xx status (a form sent back with its errors, the
    "send again" page) is part of a journey; Chromium still logs it as a
    console error, which is the one console error let through. A subresource
    (style sheet, script, icon) failing with any status is a problem.
    """

    def __init__(self):
        """Start with nothing seen."""
        self.problems: list[str] = []
        self.client_error_pages: set[str] = set()

    def attach(self, page) -> None:
        """Listen to one page."""
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("response", self._response)

    def _console(self, message) -> None:
        """Keep console errors."""
        if message.type != "error":
            return
        url = message.location.get("url")
        if message.text.startswith("Failed to load resource") and url in self.client_error_pages:
            return
        self.problems.append(f"console error on {url}: {message.text}")

    def _response(self, response) -> None:
        """Keep server errors; remember pages answered with a client error."""
        if 400 <= response.status < 500 and response.request.resource_type == "document":
            self.client_error_pages.add(response.url)
        if response.status >= 500:
            self.problems.append(f"HTTP {response.status} for {response.request.method} {response.url}")


def log_in(page, email: str, password: str = PASSWORD) -> None:
    """Log in through the form, as a person does."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    assert page.get_by_role("button", name="Log out").count() == 1, page.content()[:2000]


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core in the page (evaluated, since the strict CSP blocks inline script tags)."""
    source = AXE.read_text(encoding="utf-8")
    results = page.evaluate(
        "async (source) => { (0, eval)(source); return await axe.run(document, {resultTypes: ['violations']}); }",
        source)
    return [v for v in results["violations"] if v["impact"] in impacts]


def describe(violations: list[dict]) -> str:
    """axe violations as lines a person can act on: rule, impact, elements."""
    lines = []
    for v in violations:
        targets = "; ".join(" ".join(map(str, node["target"])) for node in v["nodes"][:5])
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} -> {targets}")
    return "\n".join(lines)


def make_world(live_server, *, slug: str, sections: list[tuple[str, str]], people: dict[str, str],
               min_supporters: int = 0):
    """Create people (key -> role) and a document open for amendments; return user ids by key and section ids."""
    from manifesto.accounts.services import register_user
    from manifesto.documents import services as documents
    from manifesto.documents.models import Phase
    from manifesto.services import utcnow

    with live_server.context():
        users = {}
        for key, role in people.items():
            user = register_user(f"{key}-{slug}@example.org", f"{key.capitalize()} {slug.capitalize()}", PASSWORD,
                                 None, None, role=role)
            users[key] = user
        admin = next(u for u in users.values() if u.role in ("admin",))
        document = documents.create_document(admin, title=f"The {slug} manifesto", slug=slug,
                                             introduction="A text written together.")
        section_ids = []
        after = None
        for heading, body in sections:
            section = documents.create_section(admin, document.id, heading=heading, body=body,
                                               reason="First draft.", after_section_id=after)
            section_ids.append(section.id)
            after = section.id
        documents.update_document(admin, document.id, title=document.title, introduction=document.introduction,
                                  phase=Phase.AMENDMENTS.value, amendment_deadline=utcnow() + timedelta(days=30),
                                  min_supporters=min_supporters)
        return {key: (user.id, user.email) for key, user in users.items()}, section_ids


def screenshot(page, name: str) -> None:
    """Save a full-page screenshot under tests/e2e/screenshots/ (git-ignored, kept by CI as artefacts)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def propose(live_server, author_id: int, document_slug: str, section_id: int, *, find: str, replace: str,
            reason: str = "Clearer.") -> tuple[int, str]:
    """Submit an amendment changing ``find`` to ``replace`` in a section, through the service; return its id and code."""
    from manifesto.accounts.models import User
    from manifesto.amendments import services as amendments
    from manifesto.documents.models import Document, Section, SectionVersion
    from manifesto.extensions import db

    with live_server.context():
        document = db.session.query(Document).filter_by(slug=document_slug).one()
        section = db.session.get(Section, section_id)
        body = db.session.get(SectionVersion, section.current_version_id).body
        assert find in body
        amendment = amendments.propose_amendment(db.session.get(User, author_id), document.id, kind="modify",
                                                 section_id=section_id, heading=None,
                                                 body=body.replace(find, replace, 1), reason=reason)
        return amendment.id, amendment.code


def call(live_server, function, *args, **kwargs):
    """Run a service function in the live app's context, with users given by id."""
    from manifesto.accounts.models import User
    from manifesto.extensions import db

    with live_server.context():
        args = [db.session.get(User, a.user_id) if isinstance(a, Who) else a for a in args]
        return function(*args, **kwargs)


class Who:
    """A user passed by id to ``call``."""

    def __init__(self, user_id: int):
        """Remember the id."""
        self.user_id = user_id


ROLES = {"visitor": None, "participant": "amina@example.org", "moderator": "moderator@example.org"}

# Pages by name: (path template, who sees it). Paths are filled from the demo's ids.
PAGES = {
    "read-with-line-numbers": ("/d/{doc}/?lines=1", ROLES),
    "section": ("/d/{doc}/sections/{section}", ROLES),
    "amendment-list": ("/d/{doc}/amendments/", ROLES),
    "amendment": ("/d/{doc}/amendments/{amendment}", ROLES),
    "conflicted-amendment": ("/d/{doc}/amendments/{conflicted}", ROLES),
    "new-amendment": ("/d/{doc}/amendments/new?section={section}", ("participant", "moderator")),
    "releases": ("/d/{doc}/releases", ROLES),
    "release": ("/d/{doc}/releases/{release}", ROLES),
    "compare": ("/d/{doc}/compare?from={first_release}&to=live", ROLES),
    "export": ("/d/{doc}/export", ROLES),
    "login": ("/login", ("visitor",)),
    "register": ("/register", ("visitor",)),
    "account": ("/account/password", ("participant", "moderator")),
    "api-tokens": ("/account/tokens", ("participant", "moderator")),
    "api-reference": ("/api/docs", ("visitor",)),
    "notifications": ("/notifications/", ("participant", "moderator")),
    "search": ("/d/{doc}/search?q=cooperatives", ROLES),
    "activity": ("/d/{doc}/activity", ROLES),
    "amendment-side-by-side": ("/d/{doc}/amendments/{amendment}?view=side", ROLES),
    "section-compare-side-by-side": ("/d/{doc}/sections/{section}/compare?view=side", ROLES),
    "log": ("/d/{doc}/log", ROLES),
    "moderation": ("/d/{doc}/moderation", ("moderator",)),
    "projector": ("/d/{doc}/projector", ROLES),
    "projector-console": ("/d/{doc}/console", ("moderator",)),
    "merge-workspace": ("/d/{doc}/merge/{section}", ("moderator",)),
    "merge-view": ("/d/{doc}/merge/{section}/view", ROLES),
    "votes": ("/d/{doc}/votes/", ROLES),
    "new-vote-on-the-text": ("/d/{doc}/votes/new", ("moderator",)),
    "not-found": ("/d/{doc}/sections/99999", ROLES),
}
STATUS = {"not-found": 404}

# Measures what sticks out of a phone-wide page (side-by-side diffs may scroll inside themselves).
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const culprits = [];
  for (const element of document.querySelectorAll('body *')) {
    if (element.closest('table.diff-side')) continue;  // side-by-side diffs may scroll inside themselves
    const box = element.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 1) {
      const label = element.tagName.toLowerCase() + (element.id ? '#' + element.id : '')
        + (element.className && typeof element.className === 'string' ? '.' + element.className.trim().replace(/\\s+/g, '.') : '');
      culprits.push(label + ' (right edge ' + Math.round(box.right) + ' px)');
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, clientWidth: width, culprits: culprits.slice(0, 8)};
}"""


def watched_tab(browser, base_url: str, locale: str = "en-US", width: int = 1280, height: int = 900):
    """A new context with one tab whose console errors, page errors and 5xx are collected: (context, page, watcher)."""
    context = browser.new_context(base_url=base_url, viewport={"width": width, "height": height}, locale=locale)
    context.set_default_timeout(15_000)
    watcher = Watcher()
    context.on("page", watcher.attach)
    return context, context.new_page(), watcher
