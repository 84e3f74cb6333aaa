"""Live updates: notices after commit only, the brokers, the stream and poll, who may follow what, the amendment page."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid

import pytest
from flask_babel import get_locale
from sqlalchemy import event

from manifesto import metrics
from manifesto.amendments import services as amendments
from manifesto.audit.states import amendment_scope, document_scope, frame_scope, user_scope
from manifesto.documents import services as documents
from manifesto.extensions import db
from manifesto.live import announce
from manifesto.live import content as content_rules
from manifesto.live.broker import MemoryBroker, Notice, RedisBroker, Subscription
from manifesto.live.publishing import HOOKS
from manifesto.services import PermissionDenied, writes

from harness import REDIS_URL, read_events, redis_client


def hub(app):
    """The app's hub of local streams."""
    return app.extensions["live"].hub


def logged_in(app, login, user):
    """A client of its own, logged in as ``user``."""
    client = app.test_client()
    assert login(user, test_client=client).status_code == 302
    return client


def notices(events) -> list[str]:
    """The topics of the events that are notices."""
    return [event["data"] for event in events if "data" in event]


# ------------------------------------------------------------------ brokers

def test_the_memory_broker_hands_a_notice_to_the_streams_of_its_topic_only():
    broker = MemoryBroker()
    first = broker.hub.subscribe(["amendment:1", "frame:1"])
    second = broker.hub.subscribe(["amendment:2"])
    sent = broker.publish(["amendment:1", "frame:1"])
    assert [n.topic for n in first.take(0.1)] == ["amendment:1", "frame:1"]
    assert second.take(0.01) == []
    assert sent[0].id < sent[1].id < broker.publish(["amendment:2"])[0].id
    assert [n.topic for n in second.take(0.1)] == ["amendment:2"]
    broker.hub.unsubscribe(first)
    broker.hub.unsubscribe(first)
    assert broker.hub.count == 1 and broker.hub.topics() == {"amendment:2"}


def test_ids_only_grow_and_say_what_a_reconnecting_stream_missed():
    broker = MemoryBroker()
    before = broker.publish(["section:3"])[0].id
    seen = broker.current_id()
    after = broker.publish(["amendment:9"])[0].id
    assert before <= seen < after
    assert {topic for topic, number in broker.last_ids(["section:3", "amendment:9", "site"]).items()
            if number > seen} == {"amendment:9"}
    # A new process (a restart) still counts up from where the browser's Last-Event-ID left off.
    assert MemoryBroker().publish(["site"])[0].id > after


def test_a_slow_stream_keeps_the_newest_notice_of_each_topic():
    subscription = Subscription(["a:1", "b:1"])
    for number in range(1, 400):
        subscription.put(Notice(number, "a:1" if number % 2 else "b:1"))
    taken = subscription.take(0.1)
    assert len(taken) < 300 and {n.topic for n in taken} == {"a:1", "b:1"}
    assert taken[-1].id == 399


# ------------------------------------------------------------------ notices that bring their part

@pytest.fixture
def rendered(app, monkeypatch):
    """A topic kind ``room`` whose fragment is rendered by the pump: what each render was asked, and the app's hub.

    ``fail`` (a set of ids) makes those renders raise.
    """
    asked, fail = [], set()

    def render(number: int) -> str:
        asked.append((number, str(get_locale())))
        if number in fail:
            raise RuntimeError("no screen")
        return f"<p>room {number} in {get_locale()}</p>\n<p>second line</p>"

    monkeypatch.setitem(content_rules._renderers, "room", render)
    return {"asked": asked, "fail": fail, "hub": hub(app), "pump": hub(app).pump}


def test_a_notice_brings_its_fragment_rendered_once_per_language_to_the_streams_that_asked(rendered):
    hub = rendered["hub"]
    english = [hub.subscribe(["room:1"], content=["room:1"], locale="en") for _ in range(3)]
    french = hub.subscribe(["room:1"], content=["room:1"], locale="fr")
    plain = hub.subscribe(["room:1"])  # the console: it fetches its own fragment
    hub.deliver(Notice(41, "room:1"))
    assert plain.take(0.5) == [Notice(41, "room:1")]
    for subscription in english:
        assert subscription.take(2.0) == [Notice(41, "room:1", "<p>room 1 in en</p>\n<p>second line</p>")]
    assert french.take(2.0) == [Notice(41, "room:1", "<p>room 1 in fr</p>\n<p>second line</p>")]
    assert sorted(rendered["asked"]) == [(1, "en"), (1, "fr")]  # four streams, two renders


def test_a_burst_of_notices_is_rendered_once_and_a_failed_render_sends_the_plain_notice(rendered):
    hub = rendered["hub"]
    subscription = hub.subscribe(["room:1", "room:2"], content=["room:1", "room:2"], locale="en")
    for number in range(1, 6):
        hub.deliver(Notice(number, "room:1"))
    taken = subscription.take(2.0)
    time.sleep(0.2)
    taken += subscription.take(0.05)
    assert taken[-1] == Notice(5, "room:1", "<p>room 1 in en</p>\n<p>second line</p>")
    assert len(rendered["asked"]) <= 2  # the burst joins one render (two if the first went out at once)
    # The same screen again (a comment on the amendment shown changes nothing on it): not sent again.
    hub.deliver(Notice(6, "room:1"))
    assert subscription.take(0.6) == []
    assert len(rendered["asked"]) <= 3
    rendered["fail"].add(2)
    hub.deliver(Notice(7, "room:2"))
    assert subscription.take(2.0) == [Notice(7, "room:2")]  # the page fetches it, as without content


def test_a_topic_is_rendered_at_most_four_times_a_second_however_many_notices(rendered):
    hub = rendered["hub"]
    subscription = hub.subscribe(["room:3"], content=["room:3"], locale="en")
    started = time.monotonic()
    number = 100
    while time.monotonic() - started < 1.0:
        number += 1
        hub.deliver(Notice(number, "room:3"))
        time.sleep(0.005)
    time.sleep(0.4)
    assert 2 <= len(rendered["asked"]) <= 6
    taken = subscription.take(0.05)
    assert taken and taken[0].html is not None  # the first render's, the others were the same screen


def test_content_is_asked_for_topics_followed_and_rendered_only(live_app, make_document):
    document = make_document()
    client = live_app.test_client()
    follow = f"topic=projector:{document.id}&topic=document:{document.id}"
    assert client.get(f"/live/stream?{follow}&content=document:{document.id}").status_code == 400  # no renderer
    assert client.get(f"/live/stream?{follow}&content=projector:{document.id + 1}").status_code == 400
    assert client.get(f"/live/stream?{follow}&content=projector:x").status_code == 400
    response = client.get(f"/live/stream?{follow}&content=projector:{document.id}")
    assert response.status_code == 200
    response.close()


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own on the tests' Redis; its keys are deleted afterwards."""
    client = redis_client()
    prefix = f"test-live:{uuid.uuid4().hex[:8]}:"
    yield prefix
    keys = list(client.scan_iter(prefix + "*"))
    if keys:
        client.delete(*keys)


def test_redis_carries_notices_from_one_process_to_the_streams_of_another(redis_prefix):
    writer, reader = RedisBroker(REDIS_URL, prefix=redis_prefix), RedisBroker(REDIS_URL, prefix=redis_prefix)
    try:
        subscription = reader.hub.subscribe(["amendment:7"])
        reader.start()
        assert reader.subscribed.is_set()
        started = time.monotonic()
        sent = writer.publish(["amendment:7", "frame:1"])
        taken = subscription.take(1.0)
        assert time.monotonic() - started < 1.0
        assert taken == [Notice(sent[0].id, "amendment:7")]
        assert sent[1].id == sent[0].id + 1 == reader.current_id()
        assert reader.last_ids(["amendment:7", "frame:1", "site"]) == {"amendment:7": sent[0].id,
                                                                       "frame:1": sent[1].id}
    finally:
        reader.stop()


def test_redis_down_raises_nothing_and_holds_no_commit_back(redis_prefix, caplog):
    broker = RedisBroker("redis://127.0.0.1:1/0", prefix=redis_prefix)
    assert broker.publish(["site"]) == [] and broker.current_id() == 0 and broker.last_ids(["site"]) == {}
    assert "could not publish 1 notice(s) through Redis" in caplog.text
    caplog.clear()
    started = time.monotonic()
    assert broker.publish(["site"]) == []  # not tried again for a while: no commit waits on Redis
    assert broker.current_id() == 0 and broker.last_ids(["site"]) == {}  # nor a page
    assert time.monotonic() - started < 0.01 and caplog.text == ""


# ------------------------------------------------------------------ after commit, never on rollback

def test_announce_publishes_once_the_transaction_commits_and_never_on_rollback(app):
    subscription = hub(app).subscribe(["projector:1"])
    seen_inside = []

    @writes
    def show_next(fail: bool):
        announce("projector:1")
        seen_inside.append(subscription.take(0))
        if fail:
            raise PermissionDenied("no")

    with pytest.raises(PermissionDenied):
        show_next(True)
    assert subscription.take(0.05) == []
    show_next(False)
    assert seen_inside == [[], []]
    assert [n.topic for n in subscription.take(0.1)] == ["projector:1"]
    # Outside any transaction a notice leaves at once.
    db.session.commit()
    announce("projector:1")
    assert [n.topic for n in subscription.take(0.1)] == ["projector:1"]


def test_a_support_reaches_the_followers_of_its_amendment_and_a_refused_one_nothing(app, amendment, users):
    scopes = [amendment_scope(amendment.id), document_scope(amendment.document_id)]
    subscription = hub(app).subscribe(scopes + [frame_scope(amendment.document_id)])
    with pytest.raises(PermissionDenied):
        amendments.support_amendment(users["participant"], amendment.document_id, amendment.id)  # the author
    assert subscription.take(0.05) == []
    amendments.support_amendment(users["moderator"], amendment.document_id, amendment.id)
    taken = subscription.take(0.5)
    assert sorted(n.topic for n in taken) == sorted(scopes)  # a support leaves the frame alone


def test_a_decision_reaches_the_section_and_the_frame_followers(app, amendment, users):
    subscription = hub(app).subscribe([f"section:{amendment.section_id}", amendment_scope(amendment.id)])
    amendments.decide_amendment(users["moderator"], amendment.document_id, amendment.id, decision="reject",
                                reason="Not now.", revision=amendment.revision)
    assert {n.topic for n in subscription.take(0.5)} == {f"section:{amendment.section_id}",
                                                         amendment_scope(amendment.id)}


# ------------------------------------------------------------------ the stream

@pytest.fixture
def live_app(make_app):
    """An app whose streams last a second and beat four times a second, inside an app context."""
    app = make_app(LIVE_STREAM_LIFETIME=1.0, LIVE_HEARTBEAT=0.25, LIVE_STREAMS_PER_PROCESS=2)
    with app.app_context():
        yield app


def test_a_stream_sends_each_change_then_ends_and_unsubscribes(live_app, make_document, users):
    document = make_document()
    client = live_app.test_client()
    response = client.get(f"/live/stream?topic=document:{document.id}&topic=site",
                          headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert "Content-Encoding" not in response.headers and "Set-Cookie" not in response.headers
    assert hub(live_app).count == 1

    def edit_later():
        time.sleep(0.3)
        with live_app.app_context():
            documents.update_document(users["admin"], document.id, title="Renamed", introduction="Intro.",
                                      phase="drafting", amendment_deadline=None, min_supporters=0)

    writer = threading.Thread(target=edit_later)
    writer.start()
    started = time.monotonic()
    events = read_events(response, until=lambda e: False)  # the whole stream: it ends by itself
    writer.join()
    response.close()
    assert time.monotonic() - started < 2.0
    assert events[0]["retry"] == "3000" and "id" in events[0]
    assert notices(events) == [f"document:{document.id}"]
    assert any(e.get("comment") == "keep-alive" for e in events)
    assert hub(live_app).count == 0


def test_a_stream_closed_by_the_client_unsubscribes(live_app, make_document):
    document = make_document()
    started = time.monotonic()
    response = live_app.test_client().get(f"/live/stream?topic=document:{document.id}")
    assert next(iter(response.response)).startswith(b"retry: 3000")
    # Nothing beneath the app (the visitors' replay, compression) holds the stream back until it ends.
    assert time.monotonic() - started < 0.9
    assert hub(live_app).count == 1
    response.close()
    assert hub(live_app).count == 0


def test_a_reconnecting_stream_first_hears_what_it_missed(live_app, make_document):
    document = make_document()
    broker = live_app.extensions["live"]
    missed_from = broker.current_id()
    broker.publish([document_scope(document.id)])
    response = live_app.test_client().get(f"/live/stream?topic=document:{document.id}",
                                          headers={"Last-Event-ID": str(missed_from)})
    events = read_events(response, until=lambda e: len(e) >= 2)
    response.close()
    assert notices(events) == [document_scope(document.id)]
    # A page's own mark works the same way (its first connection, before any Last-Event-ID).
    response = live_app.test_client().get(f"/live/stream?topic=document:{document.id}&since={broker.current_id()}")
    events = read_events(response, until=lambda e: len(e) >= 2)
    response.close()
    assert notices(events) == []


def test_a_full_process_sends_the_page_to_polling(live_app, make_document):
    document = make_document()
    client = live_app.test_client()
    held = [client.get(f"/live/stream?topic=document:{document.id}") for _ in range(2)]
    busy_before = metrics.LIVE_BUSY._value.get()
    refused = client.get(f"/live/stream?topic=document:{document.id}")
    assert refused.status_code == 200 and refused.headers["Cache-Control"] == "no-store"
    assert metrics.LIVE_BUSY._value.get() == busy_before + 1 and metrics.LIVE_STREAMS._value.get() == 2
    assert refused.get_data(as_text=True) == "retry: 60000\nevent: busy\ndata: poll\n\n"
    for response in held:
        response.close()
    again = client.get(f"/live/stream?topic=document:{document.id}")
    assert again.status_code == 200
    again.close()


def test_the_poll_says_which_topics_changed_since_an_id(client, app, amendment, users):
    topics = f"topic={amendment_scope(amendment.id)}&topic=frame:{amendment.document_id}"
    first = client.get(f"/live/poll?{topics}")
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    assert first.get_json()["changed"] == []
    since = first.get_json()["id"]
    amendments.support_amendment(users["moderator"], amendment.document_id, amendment.id)
    answer = client.get(f"/live/poll?{topics}&since={since}").get_json()
    assert answer["changed"] == [amendment_scope(amendment.id)] and answer["id"] > since
    assert client.get(f"/live/poll?{topics}&since={answer['id']}").get_json()["changed"] == []


# ------------------------------------------------------------------ who may follow what

@pytest.mark.parametrize("query", ["", "topic=", "topic=Amendment:1", "topic=amendment:x", "topic=amendment:0",
                                   "topic=amendment:99999999999", "topic=a:1%0Aid:5", "topic=amendment:1:2",
                                   "&".join(f"topic=site:{n}" for n in range(1, 18))])
def test_malformed_or_too_many_topics_are_refused(client, query):
    assert client.get(f"/live/poll?{query}").status_code == 400
    assert client.get(f"/live/stream?{query}").status_code == 400


def test_only_what_the_pages_show_may_be_followed(app, client, login, make_document, users):
    document = make_document(phase="amendments", editor=users["admin"])
    entry = documents.current_sections(document)[0]
    draft = amendments.propose_amendment(
        users["participant"], document.id, kind="modify", section_id=entry.section.id, heading=None,
        body=entry.version.body + " More.", reason="Draft.", submit=False)
    author = logged_in(app, login, users["participant"])
    other = logged_in(app, login, users["moderator"])
    follow = lambda c, topic: c.get(f"/live/poll?topic={topic}").status_code  # noqa: E731
    assert follow(client, f"document:{document.id}") == 200
    assert follow(client, f"section:{entry.section.id}") == 200
    assert follow(client, f"projector:{document.id}") == 200
    assert follow(client, "site") == 200
    assert follow(client, f"document:{document.id + 100}") == 404
    assert follow(client, f"section:{entry.section.id + 100}") == 404
    assert follow(client, "nothing:1") == 404  # a kind nobody registered
    # Someone's draft: its author follows it; nobody else learns it exists, nor can hide it among others.
    assert follow(author, amendment_scope(draft.id)) == 200
    assert follow(other, amendment_scope(draft.id)) == 404
    assert follow(client, amendment_scope(draft.id)) == 404
    assert other.get(f"/live/stream?topic=site&topic={amendment_scope(draft.id)}").status_code == 404
    # One's own account, nobody else's.
    assert follow(author, user_scope(users["participant"].id)) == 200
    assert follow(author, user_scope(users["moderator"].id)) == 404
    assert follow(client, user_scope(users["participant"].id)) == 404


def test_a_stream_sets_no_cookie_even_for_a_logged_in_reader(live_app, login, make_document, users):
    document = make_document()
    reader = logged_in(live_app, login, users["participant"])
    response = reader.get(f"/live/poll?topic=document:{document.id}&topic=user:{users['participant'].id}")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    stream = reader.get(f"/live/stream?topic=document:{document.id}&topic=user:{users['participant'].id}")
    assert stream.status_code == 200 and "Set-Cookie" not in stream.headers
    assert notices(read_events(stream, until=lambda e: False)) == []
    stream.close()


def test_importing_connects_nothing_and_an_app_connects_the_commit_hooks(app):
    check = ("import json; from sqlalchemy import event; import manifesto.live; from manifesto.extensions import db; "
             "from manifesto.live.publishing import HOOKS; "
             "print(json.dumps([event.contains(db.session, n, f) for n, f in HOOKS]))")
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[false, false, false]"
    assert all(event.contains(db.session, name, listener) for name, listener in HOOKS)


def test_the_events_process_answers_only_live_addresses(make_app, make_document):
    app = make_app(LIVE_EVENTS_ONLY=True)
    with app.app_context():
        document = make_document()
        client = app.test_client()
        assert client.get("/").status_code == 404
        assert client.get(f"/d/{document.slug}").status_code == 404
        assert client.get("/healthz").status_code == 200
        assert client.get(f"/live/poll?topic=document:{document.id}").status_code == 200


# ------------------------------------------------------------------ the amendment page

def test_the_amendment_page_follows_its_amendment_and_its_fragment_follows_the_room(app, client, login, amendment,
                                                                                      users):
    page = client.get(f"/d/doc/amendments/{amendment.id}").get_data(as_text=True)
    topics = f'data-live-topic="{amendment_scope(amendment.id)} {frame_scope(amendment.document_id)}"'
    fragment = f"/d/doc/amendments/{amendment.id}/live"
    for part in ("status", "decision", "supporters", "votes"):
        assert f'{topics} data-live-fragment="{fragment}" data-live-part="{part}"' in page
    assert page.count("data-live-announcer") == 1 and 'aria-live="polite" data-live-announcer' in page
    assert "/static/live.js?v=" in page

    answer = client.get(fragment)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "private, no-cache"
    assert 'data-live-summary="0 supporters."' in answer.get_data(as_text=True)
    amendments.support_amendment(users["moderator"], amendment.document_id, amendment.id)
    assert 'data-live-summary="1 supporter."' in client.get(fragment).get_data(as_text=True)
    amendments.decide_amendment(users["moderator"], amendment.document_id, amendment.id, decision="reject",
                                reason="Not now.", revision=amendment.revision)
    html = client.get(fragment).get_data(as_text=True)
    assert f'data-live-summary="{amendment.code}: Rejected."' in html and "Not now." in html
    # The page shows the same decision, once, where the region is.
    page = client.get(f"/d/doc/amendments/{amendment.id}").get_data(as_text=True)
    assert page.count("Not now.") >= 1 and page.count('data-live-part="decision"') == 1


def test_a_draft_s_fragment_is_its_author_s_alone(app, client, login, make_document, users):
    document = make_document(phase="amendments", editor=users["admin"])
    entry = documents.current_sections(document)[0]
    draft = amendments.propose_amendment(
        users["participant"], document.id, kind="modify", section_id=entry.section.id, heading=None,
        body=entry.version.body + " More.", reason="Draft.", submit=False)
    fragment = f"/d/{document.slug}/amendments/{draft.id}/live"
    assert client.get(fragment).status_code == 404
    assert logged_in(app, login, users["moderator"]).get(fragment).status_code == 404
    assert logged_in(app, login, users["participant"]).get(fragment).status_code == 200
