"""The page cache and its validators: rendered once per state, 304 when unchanged, never another reader's page.

The engine (``manifesto/pagecache.py``) is tested on its own for memory
bounds, stampedes, Redis failures and old entries; the reading page, a
release and the redline for what readers notice: a 304 that costs only the
state, a new page after every kind of write, and no page of one role or
person served to another.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest
from harness import REDIS_URL, redis_client

from manifesto import pagecache
from manifesto.amendments import services as amendments
from manifesto.audit import states
from manifesto.discussion import comments as discussion
from manifesto.discussion import moderation
from manifesto.documents import services as documents
from manifesto.extensions import db
from manifesto.releases import services as releases


def _etag(response) -> str:
    """The response's ETag header, which every cached page carries."""
    tag = response.headers.get("ETag")
    assert tag and tag.startswith('W/"'), response.headers
    return tag


def _section_ids(document) -> list[int]:
    """The current sections' ids, in order."""
    return [entry.section.id for entry in documents.current_sections(document)]


# ---------------------------------------------------------------- conditional requests

@pytest.mark.parametrize("path", ["/d/doc/", "/d/doc/?lines=1"])
def test_the_reading_page_answers_304_with_its_etag_and_costs_only_the_state(client, document, queries, path):
    first = client.get(path)
    assert first.status_code == 200
    tag = _etag(first)
    assert first.headers["Last-Modified"]
    assert first.headers["Cache-Control"] == "public, no-cache"
    with queries() as counted:
        again = client.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.get_data() == b""
    assert _etag(again) == tag
    # The document and its content states: nothing is rendered, nothing else is read.
    assert counted.count <= 2, counted.statements


def test_with_lines_and_without_are_different_pages(client, document):
    plain, numbered = client.get("/d/doc/"), client.get("/d/doc/?lines=1")
    assert _etag(plain) != _etag(numbered)
    assert client.get("/d/doc/?lines=1", headers={"If-None-Match": _etag(plain)}).status_code == 200


@pytest.mark.parametrize("header", ['"garbage"', "garbage, , ,W/", 'W/"' + "x" * 5000 + '"', "\u00e9t\u00e9"])
def test_a_garbage_if_none_match_gets_the_whole_page(client, document, header):
    response = client.get("/d/doc/", headers={"If-None-Match": header})
    assert response.status_code == 200 and b"Section 1" in response.get_data()


def test_if_none_match_star_means_any_version_the_reader_has(client, document):
    # RFC 9110: for a GET, "*" matches any current representation.
    assert client.get("/d/doc/", headers={"If-None-Match": "*"}).status_code == 304


def _write_kinds():
    """Every kind of write the reading page shows, each as fn(users, document, make_user)."""

    def edit(users, document, make_user):
        section_id = _section_ids(document)[0]
        documents.edit_section(users["moderator"], document.id, section_id, heading="Section 1",
                               body="A wholly new first paragraph.", reason="Clearer.", base_version=1)
        return "A wholly new first paragraph."

    def propose(users, document, make_user):
        amendments.propose_amendment(make_user(), document.id, kind="modify", section_id=_section_ids(document)[1],
                                     heading=None, body="Paragraph one of section 2, about new things.",
                                     reason="Because.")
        return "1 open amendment"

    def decide(users, document, make_user):
        amendment = amendments.propose_amendment(make_user(), document.id, kind="modify",
                                                 section_id=_section_ids(document)[1], heading=None,
                                                 body="Paragraph one of section 2, decided upon.", reason="Why.")
        amendments.decide_amendment(users["moderator"], document.id, amendment.id, decision="accept",
                                    reason="Agreed.", revision=amendment.revision)
        return "decided upon"

    def comment(users, document, make_user):
        discussion.post_comment(make_user(), document.id, body="A first thought.", section_id=_section_ids(document)[2])
        return "1 comment"

    def hide(users, document, make_user):
        posted = discussion.post_comment(make_user(), document.id, body="Spam.", section_id=_section_ids(document)[2])
        db.session.commit()
        moderation.hide_item(users["moderator"], document.id, "comment", posted.id, reason="Off topic.")
        return "0 comments"

    def settings(users, document, make_user):
        documents.update_document(users["admin"], document.id, title="A renamed manifesto",
                                  introduction=document.introduction, phase="drafting", amendment_deadline=None,
                                  min_supporters=0)
        return "A renamed manifesto"

    return {"edit": edit, "propose": propose, "decide": decide, "comment": comment, "hide": hide,
            "settings": settings}


@pytest.mark.parametrize("kind", sorted(_write_kinds()))
def test_every_kind_of_write_changes_the_validator_and_the_page(client, make_document, users, make_user, kind):
    document = make_document(phase="amendments")
    before = client.get("/d/doc/")
    tag = _etag(before)
    shows = _write_kinds()[kind](users, document, make_user)
    db.session.commit()
    after = client.get("/d/doc/", headers={"If-None-Match": tag})
    assert after.status_code == 200
    assert _etag(after) != tag
    assert shows in after.get_data(as_text=True)


def test_a_support_bumps_the_documents_state(app, make_document, users, make_user):
    document = make_document(phase="amendments")
    amendment = amendments.propose_amendment(make_user(), document.id, kind="modify",
                                             section_id=_section_ids(document)[0], heading=None,
                                             body="Paragraph one of section 1, supported.", reason="Why.")
    db.session.commit()
    scope = states.document_scope(document.id)
    before = states.read(scope).values
    amendments.support_amendment(make_user(), document.id, amendment.id)
    db.session.commit()
    assert states.read(scope).values[0] == before[0] + 1


def test_personal_writes_leave_every_readers_page_cached(app, document, users):
    from manifesto.notifications import services as notifications

    scope = states.document_scope(document.id)
    before = states.read(states.SITE, scope).values
    notifications.follow(users["participant"], "section", _section_ids(document)[0])
    db.session.commit()
    assert states.read(states.SITE, scope).values == before
    assert states.read(states.user_scope(users["participant"].id)).values[0] >= 1


def test_a_rolled_back_write_bumps_nothing(app, document, users):
    from manifesto.audit.services import record_event

    scope = states.document_scope(document.id)
    before = states.read(scope).values
    record_event(users["moderator"], "document.updated", document, document_id=document.id)
    db.session.flush()
    db.session.rollback()
    db.session.commit()
    assert states.read(scope).values == before


# ---------------------------------------------------------------- readers and roles

def test_a_visitors_validator_never_answers_a_logged_in_reader(app, document, users, login):
    visitor = app.test_client()
    tag = _etag(visitor.get("/d/doc/"))
    for role in ("participant", "moderator", "admin"):
        reader = app.test_client()
        login(users[role], test_client=reader)
        reader.get("/d/doc/")  # shows (and so clears) the "logged in" message
        response = reader.get("/d/doc/", headers={"If-None-Match": tag})
        assert response.status_code == 200, role
        assert response.headers["Cache-Control"] == "private, no-cache"
        assert _etag(response) != tag


def test_each_role_gets_its_own_page_from_a_warm_cache(app, make_document, users, login):
    make_document(phase="amendments")
    visitor = app.test_client()
    assert "Propose an amendment" not in visitor.get("/d/doc/").get_data(as_text=True)
    member = app.test_client()
    login(users["participant"], test_client=member)
    page = member.get("/d/doc/").get_data(as_text=True)
    assert "Propose an amendment" in page and "Log in</a> or" not in page
    # And back: the member's warm entry is not the visitor's.
    assert "Propose an amendment" not in app.test_client().get("/d/doc/").get_data(as_text=True)


def test_the_personal_header_is_composed_per_reader(app, document, make_user, login):
    first, second = make_user(name="Ada Lovelace"), make_user(name="Grace Hopper")
    for user in (first, second):
        c = app.test_client()
        login(user, test_client=c)
        page = c.get("/d/doc/").get_data(as_text=True)
        assert user.name in page
        assert (second if user is first else first).name not in page


def test_a_new_notification_changes_the_logged_in_validator(app, make_document, users, make_user, login):
    from manifesto.notifications import services as notifications

    document = make_document(phase="amendments")
    reader = app.test_client()
    login(users["participant"], test_client=reader)
    section_id = _section_ids(document)[0]
    notifications.follow(users["participant"], "section", section_id)
    db.session.commit()
    reader.get("/d/doc/")  # shows (and so clears) the "logged in" message
    tag = _etag(reader.get("/d/doc/"))
    assert reader.get("/d/doc/", headers={"If-None-Match": tag}).status_code == 304
    discussion.post_comment(make_user(), document.id, body="Something to notice.", section_id=section_id)
    db.session.commit()
    response = reader.get("/d/doc/", headers={"If-None-Match": tag})
    assert response.status_code == 200 and "unread" in response.get_data(as_text=True)


def test_a_page_with_a_flash_gets_no_validator(app, document, users, login):
    reader = app.test_client()
    login(users["participant"], test_client=reader)
    with reader.session_transaction() as session:
        session["_flashes"] = [("success", "Saved it.")]
    response = reader.get("/d/doc/")
    assert "Saved it." in response.get_data(as_text=True)
    assert "ETag" not in response.headers and "no-store" in response.headers["Cache-Control"]


def test_release_and_redline_pages_answer_304(client, make_document, users):
    document = make_document()
    releases.publish_release(users["moderator"], document.id, name="First")
    documents.edit_section(users["moderator"], document.id, _section_ids(document)[0], heading="Section 1",
                           body="Changed after the release.", reason="r", base_version=1)
    db.session.commit()
    for path in ("/d/doc/releases/first", "/d/doc/compare?from=first&to=live",
                 f"/d/doc/sections/{_section_ids(document)[0]}/compare?from=1&to=2"):
        tag = _etag(client.get(path))
        assert client.get(path, headers={"If-None-Match": tag}).status_code == 304, path


# ---------------------------------------------------------------- the engine

def test_memory_store_stays_within_its_budget():
    store = pagecache.MemoryStore(max_bytes=200_000)
    for n in range(100):
        store.set(f"k{n}", "x" * 10_000)
    assert store.bytes <= 200_000
    assert store.get("k99") is not None and store.get("k0") is None
    store.set("huge", "x" * 100_000)  # more than a quarter of the budget: not kept
    assert store.get("huge") is None


def _slow_render(counter: list, delay: float = 0.2):
    """A render that takes a while and counts its calls."""

    def render() -> str:
        counter.append(1)
        time.sleep(delay)
        return "<p>rendered</p>"

    return render


def _hammer(caches: list[pagecache.PageCache], key: str, render, threads: int) -> list[tuple[str, str]]:
    """Ask every cache for ``key`` from ``threads`` threads released at once."""
    results: list[tuple[str, str]] = []
    barrier = threading.Barrier(threads)

    def ask(cache):
        barrier.wait()
        results.append(cache.get_or_render(key, render))

    workers = [threading.Thread(target=ask, args=(caches[n % len(caches)],)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


def test_many_concurrent_misses_render_once_in_one_process():
    cache = pagecache.PageCache(pagecache.MemoryStore(10_000_000), None, wait=5.0, code="t")
    rendered: list = []
    results = _hammer([cache], "read:1", _slow_render(rendered), threads=40)
    assert len(rendered) == 1
    assert {value for value, _ in results} == {"<p>rendered</p>"}
    assert sorted(outcome for _, outcome in results).count("miss") == 1


@pytest.fixture
def redis_url():
    """A Redis database of the tests' own, emptied of the page cache's keys before and after."""
    client = redis_client()
    prefix = f"manifesto:test:{time.monotonic_ns()}:"
    yield REDIS_URL, prefix
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)


def _shared_cache(redis_url, prefix, wait=5.0) -> pagecache.PageCache:
    """One process's cache: its own memory, the shared Redis."""
    return pagecache.PageCache(pagecache.MemoryStore(10_000_000),
                               pagecache.SharedStore(redis_url, ttl=60, lock_ttl=10, prefix=prefix),
                               wait=wait, code="t")


def test_concurrent_misses_in_several_processes_render_once(redis_url):
    url, prefix = redis_url
    processes = [_shared_cache(url, prefix) for _ in range(4)]  # four workers, each its own memory
    rendered: list = []
    results = _hammer(processes, "read:1", _slow_render(rendered), threads=40)
    assert len(rendered) == 1
    assert {value for value, _ in results} == {"<p>rendered</p>"}
    # A fifth process finds it in Redis without rendering.
    assert _shared_cache(url, prefix).get_or_render("read:1", _slow_render(rendered)) == ("<p>rendered</p>", "hit")


def test_a_stuck_renderer_holds_the_others_only_for_the_wait(redis_url):
    url, prefix = redis_url
    holder, waiter = _shared_cache(url, prefix, wait=0.3), _shared_cache(url, prefix, wait=0.3)
    token = holder.shared.lock("t:read:2")  # a renderer somewhere that never finishes
    assert token
    started = time.monotonic()
    value, outcome = waiter.get_or_render("read:2", lambda: "<p>mine</p>")
    assert value == "<p>mine</p>" and outcome == "miss"
    assert time.monotonic() - started < 3


def test_an_entry_of_another_format_is_a_miss(redis_url):
    url, prefix = redis_url
    cache = _shared_cache(url, prefix)
    cache.shared.client.set(prefix + "t:read:3", b"old pickled bytes from an earlier release")
    assert cache.get_or_render("read:3", lambda: "<p>new</p>") == ("<p>new</p>", "miss")
    assert _shared_cache(url, prefix).get_or_render("read:3", lambda: "never") == ("<p>new</p>", "hit")


def test_the_fingerprint_changes_with_the_code(tmp_path):
    (tmp_path / "page.html").write_text("<p>{{ one }}</p>")
    first = pagecache.fingerprint(tmp_path)
    (tmp_path / "page.html").write_text("<p>{{ two }}</p>")
    assert pagecache.fingerprint(tmp_path) != first


def test_with_redis_down_pages_are_served_and_the_log_says_why(make_app, caplog):
    from manifesto.accounts.services import register_user

    app = make_app(REDIS_URL="redis://127.0.0.1:9/0", PAGE_CACHE="redis", QUEUE_MODE="immediate")
    with app.app_context():
        editor = register_user("admin@example.org", "Admin", "a long enough password", None, None, role="admin")
        document = documents.create_document(editor, title="Outage", slug="outage", introduction="")
        documents.create_section(editor, document.id, heading="Still here", body="Served from the database.",
                                 reason="r", after_section_id=None)
        db.session.commit()
        client = app.test_client()
        with caplog.at_level(logging.WARNING, logger="manifesto.pagecache"):
            for _ in range(3):
                response = client.get("/d/outage/")
                assert response.status_code == 200 and b"Served from the database." in response.get_data()
        assert any("Redis unavailable" in record.getMessage() for record in caplog.records)
        assert len([r for r in caplog.records if "Redis unavailable" in r.getMessage()]) == 1  # once per pause


def test_a_write_outside_the_audit_trail_can_invalidate_every_page(client, document):
    tag = _etag(client.get("/d/doc/"))
    states.bump_all()  # as the archive import does: its rows carry no audit events
    db.session.commit()
    assert client.get("/d/doc/", headers={"If-None-Match": tag}).status_code == 200


@pytest.mark.parametrize("fmt", ["md", "txt", "html"])
def test_an_export_answers_304_until_the_text_changes(client, document, users, fmt):
    path = f"/d/doc/export/{fmt}?lines=1"
    first = client.get(path)
    assert first.status_code == 200 and first.headers["Last-Modified"]
    tag = _etag(first)
    assert client.get(path, headers={"If-None-Match": tag}).status_code == 304
    assert client.get(f"/d/doc/export/{fmt}", headers={"If-None-Match": tag}).status_code == 200  # other options
    documents.edit_section(users["moderator"], document.id, _section_ids(document)[0], heading="Section 1",
                           body="Exported anew.", reason="r", base_version=1)
    db.session.commit()
    again = client.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 200 and b"Exported anew." in again.get_data()
