"""A visitor's page replayed beneath Flask: the same bytes, one query, and never once it may have changed.

What a reader notices: a visitor without a cookie gets the page exactly as the
app made it (compressed, with its validator), answered 304 when they have it;
any write the page shows, the deadline passing, another language or another
encoding give the page the app makes now; someone with a cookie (a login, a
form's token) never gets a visitor's answer.
"""

from __future__ import annotations

import gzip
import logging
from datetime import timedelta

import pytest
from flask import request_started

from manifesto.amendments import services as amendments
from manifesto.discussion import comments
from manifesto.documents import replay, services as documents
from manifesto.services import utcnow

READING = "/d/doc/"


@pytest.fixture
def flask_requests(app):
    """The paths of the requests Flask itself handled (a replayed answer never reaches it)."""
    seen: list[str] = []

    def note(sender, **extra):
        from flask import request

        seen.append(request.path)

    request_started.connect(note, app)
    yield seen
    request_started.disconnect(note, app)


@pytest.fixture
def open_document(make_document, users):
    """A document open for amendments, with one amendment to its first section."""
    document = make_document(phase="amendments", editor=users["admin"])
    entry = documents.current_sections(document)[0]
    amendment = amendments.propose_amendment(users["participant"], document.id, kind="modify",
                                             section_id=entry.section.id, heading=None,
                                             body=entry.version.body + " More solar panels.", reason="Sun.")
    return document, entry.section, amendment


def _visitor(app, path: str, **headers):
    """A request of a visitor with no cookie at all."""
    return app.test_client().get(path, headers=headers)


def test_a_visitors_page_is_replayed_as_the_app_made_it_without_reaching_flask(app, open_document, flask_requests):
    _, section, amendment = open_document
    for path in (READING, f"/d/doc/sections/{section.id}", "/d/doc/amendments/", f"/d/doc/amendments/{amendment.id}"):
        first = _visitor(app, path, **{"Accept-Encoding": "gzip"})
        assert flask_requests[-1] == path
        handled = len(flask_requests)
        again = _visitor(app, path, **{"Accept-Encoding": "gzip"})
        assert len(flask_requests) == handled, path  # Flask never saw it
        assert again.status_code == 200 and again.get_data() == first.get_data()
        assert again.headers["Content-Encoding"] == "gzip" and gzip.decompress(again.get_data())
        for name in ("ETag", "Cache-Control", "Vary", "Content-Type", "Last-Modified", "Content-Security-Policy"):
            assert again.headers.get(name) == first.headers.get(name), name
        assert again.headers["X-Request-ID"] != first.headers["X-Request-ID"]
        assert "Set-Cookie" not in again.headers


def test_a_replayed_page_is_answered_304_when_the_visitor_has_it(app, open_document, flask_requests):
    first = _visitor(app, READING)
    handled = len(flask_requests)
    for tag in (first.headers["ETag"], "*", f'W/"other", {first.headers["ETag"]}'):
        again = _visitor(app, READING, **{"If-None-Match": tag})
        assert again.status_code == 304 and again.get_data() == b""
        assert again.headers["ETag"] == first.headers["ETag"] and "X-Request-ID" in again.headers
    assert _visitor(app, READING, **{"If-None-Match": 'W/"garbage"'}).status_code == 200
    head = app.test_client().head(READING)
    assert head.status_code == 200 and head.get_data() == b"" and head.headers["ETag"] == first.headers["ETag"]
    assert len(flask_requests) == handled


@pytest.mark.parametrize("path", [READING, "/d/doc/sections/{s}", "/d/doc/amendments/", "/d/doc/amendments/{a}"])
def test_a_write_the_page_shows_is_shown_at_once(app, open_document, users, flask_requests, path):
    document, section, amendment = open_document
    path = path.format(s=section.id, a=amendment.id)
    before = _visitor(app, path).get_data(as_text=True)
    _visitor(app, path)  # now replayed
    assert "Not this year" not in before
    amendments.decide_amendment(users["moderator"], document.id, amendment.id, decision="reject",
                                reason="Not this year, sorry.", revision=amendment.revision)
    after = _visitor(app, path)
    assert flask_requests[-1] == path and after.headers["ETag"] not in before
    text = after.get_data(as_text=True)
    assert text != before and ("0 open amendments" in text or "Not this year" in text or "rejected" in text)


def test_a_write_on_another_part_keeps_the_answer(app, open_document, users, flask_requests):
    document, section, amendment = open_document
    path = f"/d/doc/amendments/{amendment.id}"
    _visitor(app, path)
    comments.post_comment(users["participant"], document.id, section_id=section.id, body="About storage?")
    handled = len(flask_requests)
    _visitor(app, path)
    assert len(flask_requests) == handled  # a comment on the section is not on the amendment's page


def test_someone_with_a_cookie_never_gets_a_visitors_answer(app, open_document, users, login, flask_requests):
    _visitor(app, READING)
    _visitor(app, READING)
    member = app.test_client()
    assert login(users["participant"], test_client=member).status_code == 302
    page = member.get(READING)
    assert flask_requests[-1] == READING and "Log out" in page.get_data(as_text=True)
    handled = len(flask_requests)
    app.test_client(use_cookies=False).get(READING, headers={"Cookie": "theme=dark"})  # sent as it is
    app.test_client().get(READING, headers={"Authorization": "Bearer something"})
    assert len(flask_requests) == handled + 2


def test_each_language_and_encoding_has_its_own_answer(app, open_document):
    english = _visitor(app, READING, **{"Accept-Language": "en"})
    french = _visitor(app, READING, **{"Accept-Language": "fr"})
    assert _visitor(app, READING, **{"Accept-Language": "fr"}).get_data() == french.get_data() != english.get_data()
    assert 'lang="fr"' in french.get_data(as_text=True)
    plain = _visitor(app, READING)
    brotli = _visitor(app, READING, **{"Accept-Encoding": "br"})
    assert "Content-Encoding" not in plain.headers and brotli.headers["Content-Encoding"] == "br"
    assert _visitor(app, READING, **{"Accept-Encoding": "br"}).get_data() == brotli.get_data()
    assert "Content-Encoding" not in _visitor(app, READING).headers


def test_the_deadline_passing_ends_the_answer(app, make_document, users, flask_requests, monkeypatch):
    document = make_document(phase="amendments", editor=users["admin"])
    deadline = utcnow() + timedelta(minutes=5)
    documents.update_document(users["admin"], document.id, title=document.title,
                              introduction=document.introduction, phase="amendments",
                              amendment_deadline=deadline, min_supporters=0)
    assert "Amendments are open" in _visitor(app, READING).get_data(as_text=True)
    handled = len(flask_requests)
    _visitor(app, READING)
    assert len(flask_requests) == handled
    later = deadline + timedelta(seconds=1)
    monkeypatch.setattr(replay.time, "time", lambda: later.timestamp())
    monkeypatch.setattr("manifesto.documents.models.utcnow", lambda: later)
    assert "Amendments are open" not in _visitor(app, READING).get_data(as_text=True)
    assert len(flask_requests) == handled + 1


def test_a_page_that_gives_its_visitor_a_session_is_never_kept(app, document, flask_requests):
    from flask_wtf.csrf import generate_csrf

    from manifesto.documents import serving

    def page():
        return serving.serve(document, "probe", body=lambda: "<p>body</p>",
                             shell=lambda body: f"<html>{body}<input value='{generate_csrf()}'></html>")

    app.add_url_rule("/probe-replay", "probe_replay", page)
    one, two = _visitor(app, "/probe-replay"), _visitor(app, "/probe-replay")
    assert one.get_data() != two.get_data() and flask_requests.count("/probe-replay") == 2


def test_a_replayed_request_has_its_line_in_the_log(app, open_document, caplog):
    _visitor(app, READING)
    with caplog.at_level(logging.INFO, logger="manifesto.requests"):
        again = _visitor(app, READING)
    line = [record for record in caplog.records if record.name == "manifesto.requests"][-1]
    assert line.getMessage().startswith("GET /d/<slug>/ 200") and "cache replay" in line.getMessage()
    assert line.request_id == again.headers["X-Request-ID"]


def test_a_proxys_request_id_is_kept_only_behind_trusted_proxies(make_app, make_document):
    for proxies, kept in ((0, False), (1, True)):
        app = make_app(TRUSTED_PROXIES=proxies)
        with app.app_context():
            make_document(slug=f"doc{proxies}")
        path = f"/d/doc{proxies}/"
        app.test_client().get(path)
        again = app.test_client().get(path, headers={"X-Request-ID": "proxy-id-42"})
        assert (again.headers["X-Request-ID"] == "proxy-id-42") is kept


def test_a_huge_accept_language_is_not_replayed(app, open_document, flask_requests):
    huge = "fr;q=0.9, " * 100
    _visitor(app, READING, **{"Accept-Language": huge})
    _visitor(app, READING, **{"Accept-Language": huge})
    assert flask_requests.count(READING) == 2


def test_the_answers_stay_within_their_bytes():
    store = replay.Answers(max_bytes=1000)
    mark = replay.Mark(scopes=("site",), marks=("1@1",), etag="t", route="/", valid_until=None)
    for n in range(10):
        store.put(("k", n), replay.Answer(mark=mark, headers=(), body=b"x" * 200, expires=0.0))
    assert store.size <= 1000 and len(store) == 5 and store.get(("k", 9)) is not None and store.get(("k", 0)) is None
    store.put(("big",), replay.Answer(mark=mark, headers=(), body=b"x" * 300, expires=0.0))  # over a quarter
    assert store.get(("big",)) is None


def test_no_answers_are_kept_with_the_page_cache_off(make_app, make_document):
    app = make_app(PAGE_CACHE="off")
    with app.app_context():
        make_document()
    seen = []
    request_started.connect(lambda sender, **extra: seen.append(1), app, weak=False)
    app.test_client().get(READING)
    app.test_client().get(READING)
    assert len(seen) == 2
