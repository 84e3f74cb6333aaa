"""On a phone in Chromium: stacked diff tables keep their headings, wrapped numbered lines show they go on."""

from __future__ import annotations

import pytest

from e2e_helpers import expect

# For every visible data cell of every table in the main content: is it labelled on screen, either by a
# visible column heading above it in the same column or by a label the CSS writes before it?
UNLABELLED_CELLS = """() => {
  const missing = [];
  for (const table of document.querySelectorAll('main table')) {
    const headers = [...table.querySelectorAll('thead th')];
    for (const row of table.querySelectorAll('tbody tr')) {
      [...row.children].forEach((cell, index) => {
        const box = cell.getBoundingClientRect();
        if (cell.tagName !== 'TD' || box.width === 0) return;
        const before = getComputedStyle(cell, '::before').content;
        const labelled = before && before !== 'none' && before !== 'normal' && before !== '""';
        const header = headers[index];
        const hbox = header && header.getBoundingClientRect();
        const headed = hbox && hbox.width > 0 && hbox.height > 0 && hbox.bottom <= box.top + 1
          && hbox.left < box.right && hbox.right > box.left;
        if (!labelled && !headed) {
          const caption = table.caption ? table.caption.textContent.trim() : '(no caption)';
          missing.push(caption + ': column ' + (index + 1) + ' “' + cell.textContent.trim().slice(0, 30) + '”');
        }
      });
    }
  }
  return missing;
}"""

# Numbered lines that wrap: every piece of the line's text must start right of its number.
WRAPPED_LINES = """() => {
  const report = {wrapped: 0, bad: []};
  for (const line of document.querySelectorAll('main .numbered-text .line, main .diff-numbered .line')) {
    const number = line.querySelector('.ln'), text = line.querySelector('.lt');
    if (!number || !text) continue;
    const range = document.createRange();
    range.selectNodeContents(text);
    const rects = [...range.getClientRects()].filter(r => r.width > 0);
    const rows = new Set(rects.map(r => Math.round(r.top)));
    if (rows.size < 2) continue;
    report.wrapped += 1;
    const edge = number.getBoundingClientRect().right;
    const stray = rects.filter(r => r.left < edge - 0.5);
    if (stray.length) report.bad.push(number.textContent.trim() + ': text starts at ' + Math.round(stray[0].left)
                                      + ' px, under its number (ends at ' + Math.round(edge) + ' px)');
    // The cue that a line goes on: its continuation rows sit further in than its first row.
    const firstTop = Math.min(...rects.map(r => r.top));
    const firstLeft = Math.min(...rects.filter(r => Math.abs(r.top - firstTop) < 2).map(r => r.left));
    const flush = rects.filter(r => r.top > firstTop + 2 && r.left <= firstLeft + 0.5);
    if (flush.length) report.bad.push(number.textContent.trim() + ': a continuation row starts at '
                                      + Math.round(flush[0].left) + ' px, flush with the first row: no cue');
  }
  return report;
}"""


@pytest.fixture
def phone(new_page, demo):
    """A watched tab at 360 px, logged out."""
    return new_page(width=360, height=780)


@pytest.mark.parametrize("path", ["/d/{doc}/amendments/{conflicted}", "/d/{doc}/amendments/{amendment}?view=side",
                                  "/d/{doc}/sections/{section}/compare?view=side"],
                         ids=["conflict", "amendment-side-by-side", "section-compare-side-by-side"])
def test_stacked_tables_keep_their_headings(phone, demo, path):
    """Side-by-side tables stack on a phone, and each block still says whether it is original, theirs or current."""
    phone.goto(path.format(**demo))
    expect(phone.get_by_role("main")).to_be_visible()
    assert phone.locator("main table").count() > 0
    assert phone.evaluate(UNLABELLED_CELLS) == []


@pytest.mark.parametrize("path", ["/d/{doc}/?lines=1", "/d/{doc}/amendments/{amendment}"],
                         ids=["read", "amendment-diff"])
def test_wrapped_numbered_lines_hang_clear_of_their_number(new_page, demo, path):
    """At 390 px numbered lines wrap; each continuation row starts in the text column, indented past the first row."""
    page = new_page(width=390, height=844)
    page.goto(path.format(**demo))
    report = page.evaluate(WRAPPED_LINES)
    assert report["wrapped"] > 0, "no numbered line wraps at 390 px: the check checked nothing"
    assert report["bad"] == [], "\n".join(report["bad"][:10])


def test_the_checks_catch_what_they_look_for(phone, demo):
    """Without data-label the conflict's blocks count as unlabelled; without the flex layout numbers get text below."""
    phone.goto("/d/{doc}/amendments/{conflicted}".format(**demo))
    phone.evaluate("() => document.querySelectorAll('main td[data-label]').forEach(c => c.removeAttribute('data-label'))")
    assert phone.evaluate(UNLABELLED_CELLS) != []
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto("/d/{doc}/?lines=1".format(**demo))
    phone.evaluate("() => document.querySelectorAll('main .numbered-text .line')"
                   ".forEach(l => l.style.setProperty('display', 'block'))")
    assert phone.evaluate(WRAPPED_LINES)["bad"] != []
