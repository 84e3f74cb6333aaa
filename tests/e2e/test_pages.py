"""Every main page in Chromium, for a visitor, a participant and a moderator: axe-core, phone width, screenshots.

The demo manifesto (seed_demo) gives each page realistic content: long
sections, open, conflicted and decided amendments, comments, two releases.
Known problems that need template or CSS changes are marked
xfail(strict=True, raises=KnownProblem) with the axe rule id or the overflowing
element: such a test fails as soon as the problem is fixed (remove the mark
then) and fails for real on any other problem.
"""

from __future__ import annotations

import pytest

from e2e_helpers import (DEMO_PASSWORD, OVERFLOWING, PAGES, ROLES, STATUS, axe_violations, describe, expect, log_in,
                         screenshot, watched_tab)


class KnownProblem(AssertionError):
    """A problem already reported, waiting for a template or CSS fix."""


# axe rule ids found and reported, by (page, role); role None means every role.
KNOWN_AXE: dict[tuple[str, str | None], set[str]] = {}
# Pages wider than a 360 px phone, by page name: the elements reported.
KNOWN_OVERFLOW: dict[str, str] = {}


def _axe_params():
    """(page, role) pairs, with the known problems marked."""
    for name, (_, roles) in PAGES.items():
        for role in roles:
            rules = KNOWN_AXE.get((name, role), set()) | KNOWN_AXE.get((name, None), set())
            marks = [pytest.mark.xfail(strict=True, raises=KnownProblem, reason="axe: " + ", ".join(sorted(rules)))
                     ] if rules else []
            yield pytest.param(name, role, marks=marks, id=f"{name}-{role}")


def _width_params():
    """One role per page (the participant when she may see it), with known overflows marked."""
    for name, (_, roles) in PAGES.items():
        role = "participant" if "participant" in roles else next(iter(roles))
        marks = [pytest.mark.xfail(strict=True, raises=KnownProblem, reason=KNOWN_OVERFLOW[name])
                 ] if name in KNOWN_OVERFLOW else []
        yield pytest.param(name, role, marks=marks, id=name)


@pytest.fixture(scope="module")
def role_pages(browser, live_server, demo):
    """One logged-in tab per role for the module, reused from page to page (one context each)."""
    pages, contexts = {}, []
    for role, email in ROLES.items():
        context, page, watcher = watched_tab(browser, live_server.url)
        contexts.append(context)
        if email:
            log_in(page, email, DEMO_PASSWORD)
        pages[role] = (page, watcher)
    yield pages
    for context in contexts:
        context.close()


def _open(role_pages, demo, name: str, role: str, width: int = 1280):
    """Open a main page as a role at a width; fail on a console error, page error or 5xx on the way."""
    page, watcher = role_pages[role]
    watcher.problems.clear()
    page.set_viewport_size({"width": width, "height": 900})
    response = page.goto(PAGES[name][0].format(**demo))
    expected = STATUS.get(name, 200)
    assert response is not None and response.status == expected, (name, role, response and response.status)
    assert not watcher.problems, "\n".join(watcher.problems)
    expect(page.get_by_role("main")).to_be_visible()
    return page


@pytest.mark.parametrize(("name", "role"), list(_axe_params()))
def test_no_serious_accessibility_violation(role_pages, demo, name, role):
    """axe-core finds no violation of impact serious or critical."""
    page = _open(role_pages, demo, name, role)
    violations = axe_violations(page)
    known = KNOWN_AXE.get((name, role), set()) | KNOWN_AXE.get((name, None), set())
    unknown = [v for v in violations if v["id"] not in known]
    assert not unknown, f"{name} as {role}:\n" + describe(unknown)
    if any(v["id"] in known for v in violations):
        raise KnownProblem(describe(violations))


def test_axe_catches_a_violation(role_pages, demo):
    """The check itself works under the strict CSP: an image without a text alternative is reported."""
    page = _open(role_pages, demo, "releases", "visitor")
    page.evaluate("() => { const img = document.createElement('img'); img.src = '/static/favicon.svg';"
                  " document.querySelector('main').append(img); }")
    assert "image-alt" in {v["id"] for v in axe_violations(page)}
    page.reload()




@pytest.mark.parametrize(("name", "role"), list(_width_params()))
def test_fits_a_phone_without_sideways_scrolling(role_pages, demo, name, role):
    """At 360 px nothing makes the page scroll sideways; screenshots at 1280 px and 390 px for people to look at."""
    page = _open(role_pages, demo, name, role, width=1280)
    screenshot(page, f"{name}-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, f"{name}-390")
    page.set_viewport_size({"width": 360, "height": 780})
    measured = page.evaluate(OVERFLOWING)
    fits = measured["scrollWidth"] <= measured["clientWidth"]
    if not fits and name in KNOWN_OVERFLOW:
        raise KnownProblem(str(measured))
    assert fits, f"{name} at 360 px: {measured}"
    page.set_viewport_size({"width": 1280, "height": 900})
