"""How responses leave: compressed, static files named by their content, no cookie for visitors, cache headers."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
from pathlib import Path

import brotli
import pytest
from flask import Response, g, request, url_for
from flask_compress import flask_compress
from flask_compress.compat import compression

from manifesto import delivery
from manifesto.amendments import services as amendments
from manifesto.discussion import comments
from manifesto.documents import services as documents
from manifesto.releases import services as releases

STATIC = Path(delivery.__file__).parent / "static"
DECODERS = {"br": brotli.decompress, "gzip": gzip.decompress, "zstd": compression.zstd.decompress,
            None: lambda data: data}
TEXT = ("Every delegate reads the same text; the hall's Wi-Fi carries it to eight hundred phones at once. " * 40)


def decoded(response) -> bytes:
    """The body as the client reads it, whatever coding it came in."""
    return DECODERS[response.headers.get("Content-Encoding")](response.get_data())


def fetch(client, path: str, **kwargs):
    """GET ``path``, read the whole body and close the response (a static file stays open until then)."""
    with client.get(path, **kwargs) as response:
        response.get_data()
    return response


def vary(response) -> set[str]:
    """The header names of Vary, lower case."""
    return {name.strip().lower() for name in response.headers.get("Vary", "").split(",") if name.strip()}


@pytest.fixture
def test_app(make_app):
    """An app with a few extra routes: JSON, SVG, a tiny body, streams, an encoded body, a weak ETag, a shared body."""
    app = make_app()
    rendered = {"count": 0}

    def shared():
        """A body that is the same for everyone, as the page cache marks a visitor's page."""
        rendered["count"] += 1
        g.compress_key = "W/\"state-7\":/t/shared"
        return Response(TEXT, mimetype="text/html")

    def etag():
        """A page that answers 304 itself, with a weak ETag, as the page cache does."""
        response = Response(TEXT, mimetype="text/html")
        response.set_etag("state-7", weak=True)
        return response.make_conditional(request)

    def stream():
        """A stream without a length: its chunks must leave as they come."""
        return Response((chunk for chunk in [TEXT, TEXT]), mimetype="text/html")

    def encoded():
        """A body the view encoded itself."""
        return Response(gzip.compress(TEXT.encode()), mimetype="text/plain", headers={"Content-Encoding": "gzip"})

    def own_policy():
        """A response that says how it may be kept."""
        return Response(TEXT, mimetype="text/html", headers={"Cache-Control": "private, max-age=60"})

    routes = {
        "json": lambda: Response('{"text": "%s"}' % TEXT, mimetype="application/json"),
        "svg": lambda: Response(f'<svg xmlns="http://www.w3.org/2000/svg"><desc>{TEXT}</desc></svg>',
                                mimetype="image/svg+xml"),
        "tiny": lambda: Response("<p>Short.</p>", mimetype="text/html"),
        "events": lambda: Response((f"data: {TEXT}\n\n" for _ in range(2)), mimetype="text/event-stream"),
        "stream": stream, "encoded": encoded, "etag": etag, "shared": shared, "own-policy": own_policy,
    }
    for name, view in routes.items():
        app.add_url_rule(f"/t/{name}", f"t_{name}", view)
    app.rendered = rendered
    with app.app_context():
        yield app


# ------------------------------------------------------------------ compression

@pytest.mark.parametrize("coding", ["br", "gzip"])
def test_pages_styles_scripts_json_and_svg_are_compressed(test_app, document, coding):
    client = test_app.test_client()
    for path in ["/d/doc/", "/static/style.css", "/static/enhance.js", "/t/json", "/t/svg"]:
        plain = fetch(client, path)
        response = fetch(client, path, headers={"Accept-Encoding": f"{coding}, deflate"})
        assert response.status_code == 200, path
        assert response.headers.get("Content-Encoding") == coding, path
        assert len(response.get_data()) < len(plain.get_data()) / 2, path
        assert decoded(response) == plain.get_data(), path
        assert "accept-encoding" in vary(response), path


def test_zstd_only_for_a_client_that_asks_for_it(test_app):
    client = test_app.test_client()
    chrome = client.get("/t/json", headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert chrome.headers["Content-Encoding"] == "br"
    zstd_only = client.get("/t/json", headers={"Accept-Encoding": "zstd"})
    assert zstd_only.headers["Content-Encoding"] == "zstd" and decoded(zstd_only).startswith(b'{"text"')


@pytest.mark.parametrize("path", ["/t/stream", "/t/events", "/t/tiny"])
def test_streams_and_tiny_bodies_leave_as_they_are(test_app, path):
    client = test_app.test_client()
    response = client.get(path, headers={"Accept-Encoding": "br, gzip"})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert response.get_data() == client.get(path).get_data()


def test_a_body_already_encoded_is_not_encoded_again(test_app):
    response = test_app.test_client().get("/t/encoded", headers={"Accept-Encoding": "br, gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.get_data()).decode() == TEXT


@pytest.mark.parametrize("header, coding", [
    ("gzip, deflate, br", "br"),
    ("gzip;q=0.5, br;q=0.4", "gzip"),
    ("br;q=0, gzip;q=0", None),  # refused codings are refused
    ("br;q=abc", None),  # a quality that is not a number counts for nothing
    ("gzip;q=2, br;q=-1", None),
    ("*", "br"),
    ("identity", None),
    (",,;;q=;,=,gzip;;q=0.7;;", "gzip"),
    ("\x7f\xff;q=1, " * 3, None),
    ("x-unknown-" * 20000 + ", br", None),  # 200 KB: the coding at the end is past what we read
    ("br, " + "x" * 200000, "br"),
])
def test_huge_or_garbage_accept_encoding_breaks_nothing(test_app, header, coding):
    """Whatever a client sends, the page comes back whole, in a coding it accepted or none."""
    client = test_app.test_client()
    response = client.get("/t/json", headers={"Accept-Encoding": header})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == coding
    assert decoded(response) == client.get("/t/json").get_data()


def test_accepted_encodings_keep_only_our_codings_with_a_quality():
    assert delivery.accepted_encodings("gzip, deflate, br;q=0.9, zstd;q=0") == "gzip;q=1, br;q=0.9"
    assert delivery.accepted_encodings("BR;Q=0.5 , *;q=0.1, identity") == "br;q=0.5, *;q=0.1, identity;q=1"
    assert delivery.accepted_encodings("gzip;q=0.333333333, gzip;q=1") == "gzip;q=0.333"
    assert delivery.accepted_encodings("br;q=0.0001") == "br;q=0.001"
    assert len(delivery.accepted_encodings("br, " * 100000)) < 20


def test_a_weak_etag_survives_compression_and_answers_304(test_app):
    """Pages answer 304 themselves with weak ETags: compression must neither change the ETag nor the 304."""
    client = test_app.test_client()
    first = client.get("/t/etag", headers={"Accept-Encoding": "br"})
    assert first.status_code == 200 and first.headers["Content-Encoding"] == "br"
    assert first.headers["ETag"] == 'W/"state-7"'
    again = client.get("/t/etag", headers={"Accept-Encoding": "br", "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == 'W/"state-7"' and "Content-Encoding" not in again.headers
    assert "accept-encoding" in vary(again)
    other = client.get("/t/etag", headers={"Accept-Encoding": "br", "If-None-Match": 'W/"state-6"'})
    assert other.status_code == 200 and decoded(other).decode() == TEXT


def test_a_shared_body_is_compressed_once_per_coding(test_app, monkeypatch):
    """A visitor's page is everyone's (``g.compress_key``): hundreds of reloads cost one compression per coding."""
    calls = []
    original = flask_compress._compress_data
    monkeypatch.setattr(flask_compress, "_compress_data",
                        lambda app, data, coding: calls.append(coding) or original(app, data, coding))
    client = test_app.test_client()
    bodies = [client.get("/t/shared", headers={"Accept-Encoding": "br"}) for _ in range(3)]
    assert calls == ["br"] and test_app.rendered["count"] == 3
    assert all(decoded(response).decode() == TEXT for response in bodies)
    assert decoded(client.get("/t/shared", headers={"Accept-Encoding": "gzip"})).decode() == TEXT
    assert calls == ["br", "gzip"]
    # A body that is not everyone's is compressed for each request, never kept.
    for _ in range(2):
        client.get("/t/json", headers={"Accept-Encoding": "br"})
    assert calls == ["br", "gzip", "br", "br"]


def test_the_compressed_bodies_stay_within_their_bytes():
    store = delivery.CompressedBodies(max_bytes=100)
    store.set("br;a", b"a" * 40)
    store.set("br;b", b"b" * 40)
    assert store.get("br;a") == b"a" * 40  # a is now the most recently used
    store.set("gzip;c", b"c" * 40)
    assert store.get("br;b") is None and store.get("br;a") and store.get("gzip;c")
    assert store.size == 80 and len(store) == 2
    store.set("br;a", b"A" * 10)  # replaced, not counted twice
    assert store.size == 50 and store.get("br;a") == b"A" * 10
    store.set("br;huge", b"h" * 101)
    assert store.get("br;huge") is None and store.size == 50
    store.set("br;", b"personal page")  # no key: not everyone's body
    assert store.get("br;") is None and len(store) == 2


# ------------------------------------------------------------------ static files

def _hash(path: Path) -> str:
    """The short content hash the static URLs carry."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def test_the_page_links_its_style_sheet_and_icon_by_content_hash(client, document):
    html = client.get("/d/doc/").get_data(as_text=True)
    assert f'href="/static/style.css?v={_hash(STATIC / "style.css")}"' in html
    assert f'href="/static/favicon.svg?v={_hash(STATIC / "favicon.svg")}"' in html


def test_a_static_file_is_kept_a_year_at_its_current_address_only(client):
    current = _hash(STATIC / "style.css")
    response = fetch(client, f"/static/style.css?v={current}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for stale in ["/static/style.css", "/static/style.css?v=0123456789ab"]:
        response = fetch(client, stale)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "public, no-cache", stale
        assert "Set-Cookie" not in response.headers
    assert client.get("/static/nothing.css?v=abc").headers["Cache-Control"] == "no-store"


def test_a_compressed_static_file_revalidates_to_304(client):
    """Without its hash (an old page), the browser asks again: the compressed copy's ETag still answers 304."""
    first = fetch(client, "/static/style.css", headers={"Accept-Encoding": "br"})
    assert first.headers["Content-Encoding"] == "br"
    again = fetch(client, "/static/style.css",
                  headers={"Accept-Encoding": "br", "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["Cache-Control"] == "public, no-cache"


def test_the_favicon_redirect_points_at_the_hashed_icon(client):
    response = client.get("/favicon.ico")
    assert response.headers["Location"].endswith(f"/static/favicon.svg?v={_hash(STATIC / 'favicon.svg')}")
    followed = fetch(client, response.headers["Location"])
    assert followed.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_a_changed_file_gets_a_new_address(app, tmp_path):
    shutil.copy(STATIC / "style.css", tmp_path / "style.css")
    app.static_folder = str(tmp_path)
    client = app.test_client()
    with app.test_request_context():
        before = url_for("static", filename="style.css")
    assert before == f"/static/style.css?v={_hash(tmp_path / 'style.css')}"

    (tmp_path / "style.css").write_text("body { color: black; }\n" * 40)
    stat = os.stat(tmp_path / "style.css")
    os.utime(tmp_path / "style.css", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with app.test_request_context():
        after = url_for("static", filename="style.css")
    assert after != before and after == f"/static/style.css?v={_hash(tmp_path / 'style.css')}"
    assert fetch(client, after).headers["Cache-Control"] == "public, max-age=31536000, immutable"
    old = fetch(client, before)  # an old page's address: the new file, asked again next time
    assert old.headers["Cache-Control"] == "public, no-cache" and b"color: black" in old.get_data()


# ------------------------------------------------------------------ cookies and Cache-Control

@pytest.fixture
def reading_pages(app, make_document, make_user, users):
    """Every page a visitor reads, on a document with an amendment, a comment and a release.

    CSRF is on, as in production: pages build forms (a moderator's decision
    form on an amendment page) whose token would otherwise be made for anyone.
    """
    document = make_document(phase="amendments", editor=users["admin"])
    entries = documents.current_sections(document)
    section = entries[0].section
    author = make_user()
    amendment = amendments.propose_amendment(author, document.id, kind="modify", section_id=section.id,
                                             heading=None, body=entries[0].version.body + " And more.",
                                             reason="Because.")
    comments.post_comment(author, document.id, body="Well said.", section_id=section.id)
    release = releases.publish_release(users["admin"], document.id, name="Draft 1")
    app.config["WTF_CSRF_ENABLED"] = True
    return ["/d/doc/", "/d/doc/?lines=1", f"/d/doc/sections/{section.id}", f"/d/doc/sections/{section.id}?lines=1",
            f"/d/doc/sections/{section.id}/compare?from=1&to=1", "/d/doc/amendments/",
            f"/d/doc/amendments/{amendment.id}", "/d/doc/releases", f"/d/doc/releases/{release.slug}",
            f"/d/doc/compare?from={release.slug}", "/d/doc/search?q=cooperatives", "/d/doc/activity"]


def test_a_visitor_reads_every_page_without_a_cookie(app, reading_pages):
    client = app.test_client()
    for path in reading_pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Set-Cookie" not in response.headers, path
        assert response.headers["Cache-Control"] == "public, no-cache", path
        assert {"cookie", "accept-language"} <= vary(response), path
    assert client.get_cookie("session") is None


def test_a_form_that_needs_a_token_gives_the_cookie_and_the_token_logs_in(app, reading_pages, users):
    client = app.test_client()
    page = client.get("/login")
    assert page.headers["Cache-Control"] == "private, no-cache"
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("session=") and "Expires=" in cookie  # kept 30 days, not until the browser closes
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = client.post("/login", data={"email": users["participant"].email, "password": "correct-horse-battery",
                                           "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert response.headers["Cache-Control"] == "no-store"
    assert "Log out" in client.get("/d/doc/").get_data(as_text=True)


def test_a_logged_in_reader_gets_private_pages(app, reading_pages, users, login):
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False  # the login helper posts without a token
    login(users["participant"], test_client=client)
    app.config["WTF_CSRF_ENABLED"] = True
    for path in reading_pages[:3]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"].startswith("private"), path
        assert "cookie" in vary(response), path
        assert "Expires=" in response.headers["Set-Cookie"], path  # the session stays permanent (30 days)


def test_errors_and_posts_are_never_stored(client, document):
    assert client.get("/d/nothing/").headers["Cache-Control"] == "no-store"
    response = client.post("/login", data={"email": "nobody@example.org", "password": "wrong"})
    assert response.headers["Cache-Control"] == "no-store"


def test_a_cache_control_set_by_the_view_is_kept(test_app):
    response = test_app.test_client().get("/t/own-policy")
    assert response.headers["Cache-Control"] == "private, max-age=60"
