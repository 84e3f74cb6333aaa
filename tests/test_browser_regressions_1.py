"""Regressions a real browser showed (issue #9, part 1): focus ring contrast, the icon, phone labels on
side-by-side tables, deleted and inserted words running together, numbered lines that wrap, and the
"send again" page that must look like the form it replaces."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[1] / "manifesto" / "static"


# --- 2. The icon -------------------------------------------------------------------------------------------

def test_every_page_names_an_icon_that_exists(client, document):
    page = client.get("/d/doc/").get_data(as_text=True)
    href = re.search(r'<link rel="icon" href="([^"]+)"', page).group(1)
    icon = client.get(href)
    assert icon.status_code == 200
    assert icon.mimetype == "image/svg+xml"
    assert b"<svg" in icon.data


def test_favicon_ico_is_not_a_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code in (200, 301, 302, 308)
    if response.status_code != 200:
        followed = client.get(response.headers["Location"])
        assert followed.status_code == 200
        assert followed.mimetype == "image/svg+xml"
