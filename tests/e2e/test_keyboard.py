"""The keyboard in Chromium: a skip link first, focus always visible at 3:1 against what is behind it, no trap."""

from __future__ import annotations

import re

import pytest

from e2e_helpers import expect, log_in, make_world, propose

# Colour maths in the page: the focused element's outline colour against the first opaque background behind it.
FOCUS_STATE = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return null;
  const parse = (value) => {
    const m = value.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return {r, g, b, a};
  };
  const luminance = ({r, g, b}) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let node = element.parentElement, background = {r: 255, g: 255, b: 255, a: 1};
  while (node) {
    const colour = parse(getComputedStyle(node).backgroundColor);
    if (colour && colour.a >= 0.99) { background = colour; break; }
    node = node.parentElement;
  }
  const style = getComputedStyle(element);
  const outline = parse(style.outlineColor);
  const width = style.outlineStyle === 'none' ? 0 : parseFloat(style.outlineWidth);
  const [l1, l2] = [luminance(outline || background), luminance(background)].sort((a, b) => b - a);
  const name = (element.innerText || element.value || element.getAttribute('aria-label') || element.name || '')
    .trim().slice(0, 40);
  return {tag: element.tagName.toLowerCase(), name, outlineWidth: width,
          contrast: Math.round((l1 + 0.05) / (l2 + 0.05) * 100) / 100,
          key: element.tagName + '#' + Array.prototype.indexOf.call(document.querySelectorAll('*'), element)};
}"""


@pytest.fixture(scope="module")
def world(live_server):
    """A small document with one open amendment, for the whole module; people by key (id, email)."""
    people, sections = make_world(live_server, slug="keys",
                                  sections=[("Purpose", "We write together, in the open.\n\nEvery voice counts."),
                                            ("Means", "By many hands.")],
                                  people={"admin": "admin", "mod": "moderator", "ann": "participant"})
    amendment_id, _ = propose(live_server, people["ann"][0], "keys", sections[0], find="in the open",
                              replace="openly")
    return people, sections, amendment_id


def test_skip_link_comes_first_and_moves_to_the_content(page, world):
    """The first Tab reaches "Skip to content"; Enter takes the keyboard past the navigation."""
    page.goto("/d/keys/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    in_main = page.evaluate("() => !!document.activeElement.closest('main, #main')")
    assert in_main, "after the skip link, Tab should land inside the main content"


@pytest.mark.parametrize("who", ["visitor", "moderator"])
def test_focus_is_visible_everywhere_and_never_trapped(new_page, live_server, world, who):
    """Tab through whole pages: every stop has an outline of 2 px or more at 3:1, and focus always moves on."""
    people, sections, amendment_id = world
    page = new_page()
    if who == "moderator":
        log_in(page, people["mod"][1])
    paths = ["/d/keys/", f"/d/keys/sections/{sections[0]}", "/d/keys/amendments/",
             f"/d/keys/amendments/{amendment_id}"] + (["/login"] if who == "visitor" else [])
    problems = []
    for path in paths:
        page.goto(path)
        seen, previous = [], None
        for _ in range(250):
            page.keyboard.press("Tab")
            state = page.evaluate(FOCUS_STATE)
            if state is None or (seen and state["key"] == seen[0]):
                break  # back to the browser or to the first stop: the whole page was reachable
            assert state["key"] != previous, f"{path}: focus stuck on {state}"
            previous = state["key"]
            seen.append(state["key"])
            if state["outlineWidth"] < 2 or state["contrast"] < 3:
                problems.append(f"{path}: {state['tag']} “{state['name']}” outline {state['outlineWidth']} px, "
                                f"contrast {state['contrast']}:1")
        else:
            pytest.fail(f"{path}: 250 Tab presses never left the page or came back to the start")
        assert len(seen) > 5, f"{path}: only {len(seen)} focus stops"
    assert not problems, "\n".join(problems)


def test_an_amendment_is_proposed_with_the_keyboard_alone(new_page, world):
    """From the document to a submitted amendment with Tab, typing and Enter; no mouse."""
    people, _, _ = world
    page = new_page()
    log_in(page, people["ann"][1])
    page.goto("/d/keys/")
    target = page.get_by_role("link", name="Propose an amendment to §2")
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.trim()") == "Propose an amendment to §2":
            break
    expect(target).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/amendments/new\?section="))
    text = page.get_by_label("Text (Markdown)")
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.tagName") == "TEXTAREA":
            break
    page.keyboard.press("Control+End")
    page.keyboard.type(" And with care.")
    expect(text).to_have_value(re.compile("By many hands. And with care."))
    page.keyboard.press("Tab")
    page.keyboard.type("Care matters.")
    expect(page.get_by_label("Reason")).to_have_value("Care matters.")
    submit = page.get_by_role("button", name="Submit")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.trim()") == "Submit":
            break
    expect(submit).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("is submitted")


def test_focus_check_catches_a_faint_ring(page, world):
    """The contrast check itself works: the old yellow ring (#ffbf47) on white measures under 3:1."""
    page.goto("/login")
    page.evaluate("() => document.querySelectorAll('*').forEach(e => e.style.setProperty('outline-color', '#ffbf47'))")
    page.get_by_label("Email address").focus()
    state = page.evaluate(FOCUS_STATE)
    assert state["contrast"] < 3, state
