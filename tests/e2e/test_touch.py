"""Touch targets on a 360 px phone in Chromium: controls at least 44 px high (issue #9, Phones)."""

from __future__ import annotations

import pytest

from e2e_helpers import DEMO_PASSWORD, Watcher, log_in

# Buttons, form controls and navigation links; links inside running text are exempt (WCAG 2.5.8's inline exception).
SMALL_TARGETS = """() => {
  const small = [];
  const controls = document.querySelectorAll(
    'button, input:not([type=hidden]), select, textarea, summary, nav a, a.button, .pager a');
  for (const element of controls) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    let target = box;
    if (element.matches('input[type=checkbox], input[type=radio]')) {  // the label counts as part of the target
      const label = element.labels && element.labels[0];
      if (label) {
        const l = label.getBoundingClientRect();
        target = {height: Math.max(box.bottom, l.bottom) - Math.min(box.top, l.top)};
      }
    }
    if (target.height < 44 - 0.5) {
      const name = (element.innerText || element.value || element.getAttribute('aria-label') || element.name || '')
        .trim().slice(0, 30);
      small.push(element.tagName.toLowerCase() + ' “' + name + '” ' + Math.round(target.height) + ' px');
    }
  }
  return small;
}"""

PAGES = ["/d/{doc}/", "/d/{doc}/sections/{section}", "/d/{doc}/amendments/", "/d/{doc}/amendments/{amendment}",
         "/d/{doc}/amendments/new?section={section}", "/d/{doc}/releases", "/d/{doc}/export", "/notifications/"]


@pytest.fixture(scope="module")
def phone(browser, live_server, demo):
    """One logged-in participant's tab at 360 px for the module, watched."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 360, "height": 780}, locale="en-US")
    watcher = Watcher()
    context.on("page", watcher.attach)
    page = context.new_page()
    log_in(page, "amina@example.org", DEMO_PASSWORD)
    yield page, watcher
    context.close()


@pytest.mark.parametrize("path", PAGES)
def test_controls_are_big_enough_to_touch(phone, demo, path):
    """Every button, field and navigation link on the page is at least 44 px high at 360 px."""
    page, watcher = phone
    watcher.problems.clear()
    page.goto(path.format(**demo))
    assert not watcher.problems, "\n".join(watcher.problems)
    small = page.evaluate(SMALL_TARGETS)
    assert not small, f"{path}: " + "; ".join(small)
