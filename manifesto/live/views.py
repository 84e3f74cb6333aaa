"""The stream (Server-Sent Events) and its polling fallback: ``/live/stream`` and ``/live/poll``.

A stream holds a thread of its worker for as long as it is open, so:

- a page worker holds at most ``LIVE_STREAMS_PER_PROCESS`` streams (beyond,
  a one-event answer, "busy": the page polls instead); production serves
  ``/live/`` from the events process (``events.py``), whose threads are for
  streams alone;
- a stream ends after ``LIVE_STREAM_LIFETIME`` seconds (the browser
  reconnects by itself, after the ``retry:`` it was given, with
  ``Last-Event-ID``), sends a comment every ``LIVE_HEARTBEAT`` seconds (so
  proxies keep it and a vanished client is noticed) and unsubscribes however
  it ends;
- it holds no database connection: the topics are checked, then the
  session is given back before the first byte.

Neither answer sets a cookie (``delivery.never_set_cookie_under``), nor is
compressed (a stream), nor cached (``no-store``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from flask import Blueprint, Response, abort, current_app, g, jsonify, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from .. import metrics
from ..extensions import db
from . import content as content_rules
from . import topics as topic_rules
from .broker import Hub, Notice, Subscription

bp = Blueprint("live", __name__, url_prefix="/live")

MAX_EVENT_ID = 2**63 - 1
BUSY_RETRY_MS = 60_000  # a client that cannot be served a stream asks again after this long (live.js polls)


def _topics() -> list[str]:
    """The topics asked for, checked: syntax (400), how many (400), and whether the reader may follow them (404)."""
    try:
        topics = topic_rules.parse(request.args.getlist("topic"))
    except ValueError:
        abort(400, _("This address names something that cannot be followed."))
    if not topics or len(topics) > int(current_app.config["LIVE_MAX_TOPICS"]):
        abort(400, _("This address names something that cannot be followed."))
    if topic_rules.refused(current_user, topics):
        abort(404)
    return topics


def _content(topics: list[str]) -> list[str]:
    """The topics whose content the stream asks for (``content=``): followed ones that have a renderer, else 400."""
    try:
        wanted = topic_rules.parse(request.args.getlist("content"))
    except ValueError:
        abort(400, _("This address names something that cannot be followed."))
    if any(topic not in topics or not content_rules.renders(topic) for topic in wanted):
        abort(400, _("This address names something that cannot be followed."))
    return wanted


def _since() -> int | None:
    """The last event id the client saw: the browser's ``Last-Event-ID`` on a reconnect, else ``since``."""
    value = request.headers.get("Last-Event-ID") or request.args.get("since") or ""
    value = value.strip()
    if not value.isdigit() or len(value) > 19 or int(value) > MAX_EVENT_ID:
        return None
    return int(value)


def _no_store(response: Response) -> Response:
    """Headers every live answer carries: never kept by a browser or proxy."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/stream")
def stream():
    """Server-Sent Events: a notice (topic and id) whenever one of the topics changes.

    For the ``content`` topics (``content.py``) the notice is a ``content`` event that brings the fragment,
    in the reader's language, so the page need not fetch it.
    """
    topics = _topics()
    wanted = _content(topics)
    config = current_app.config
    broker = current_app.extensions["live"]
    limit = config.get("LIVE_STREAMS_PER_PROCESS")
    subscription = broker.hub.subscribe(topics, limit=int(limit) if limit is not None else None,
                                        content=wanted, locale=str(get_locale()))
    metrics.live_streams(broker.hub.count, busy=subscription is None)
    if subscription is None:
        # No room: a short stream that says so (a "busy" event; live.js polls instead) rather than a 503,
        # which a browser's EventSource takes as a silent failure and logs as an error. A client that
        # knows no "busy" asks again after the long retry.
        response = _no_store(Response(f"retry: {BUSY_RETRY_MS}\nevent: busy\ndata: poll\n\n",
                                      mimetype="text/event-stream"))
        response.headers["Retry-After"] = str(BUSY_RETRY_MS // 1000)
        return response
    try:
        broker.start()
        since = _since()
        catch_up = []
        latest = broker.current_id()
        if since is not None:
            catch_up = sorted((Notice(number, topic) for topic, number in broker.last_ids(topics).items()
                               if number > since), key=lambda n: n.id)
        # The checks are done: give the database connection back before the first byte.
        db.session.remove()
    except BaseException:
        broker.hub.unsubscribe(subscription)
        metrics.live_streams(broker.hub.count)
        raise
    body = events(broker.hub, subscription, catch_up=catch_up, latest=latest,
                  lifetime=float(config["LIVE_STREAM_LIFETIME"]), heartbeat=float(config["LIVE_HEARTBEAT"]),
                  retry_ms=int(config["LIVE_RETRY_MS"]))
    response = _no_store(Response(body, mimetype="text/event-stream"))
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


def events(hub: Hub, subscription: Subscription, *, catch_up: list[Notice], latest: int, lifetime: float,
           heartbeat: float, retry_ms: int) -> Iterator[bytes]:
    """The stream's bytes: the reconnection delay, notices missed since the client's last id, then each notice.

    Ends after ``lifetime`` seconds; a comment every ``heartbeat`` seconds of quiet. However it ends (the
    client gone, the lifetime over, the server stopping), the subscription is forgotten.
    """
    try:
        deadline = time.monotonic() + lifetime
        # An id without data sets the browser's last id without an event: a reconnection asks from here.
        yield f"retry: {retry_ms}\nid: {latest}\n\n".encode()
        if catch_up:
            yield "".join(_event(notice) for notice in catch_up).encode()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            notices = subscription.take(min(heartbeat, remaining))
            if notices:
                yield "".join(_event(notice) for notice in notices).encode()
            elif deadline - time.monotonic() > 0:
                yield b": keep-alive\n\n"
    finally:
        hub.unsubscribe(subscription)
        metrics.live_streams(hub.count)


def _event(notice: Notice) -> str:
    """One notice as an event: its id, and its topic as the data.

    A notice with content is a ``content`` event: the topic on the first data line, the HTML on the next
    ones (each of its lines a ``data:`` line; the browser joins them with newlines).
    """
    if notice.html is None:
        return f"id: {notice.id}\ndata: {notice.topic}\n\n"
    lines = "".join(f"data: {line}\n" for line in notice.html.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return f"id: {notice.id}\nevent: content\ndata: {notice.topic}\n{lines}\n"


@bp.get("/poll")
def poll():
    """The fallback without a stream: which of the topics changed since the id given, and the id to ask from next."""
    topics = _topics()
    broker = current_app.extensions["live"]
    since = _since()
    latest = broker.current_id()  # read first: a notice after it is reported now or by the next poll
    changed = []
    if since is not None:
        last = broker.last_ids(topics)
        changed = [topic for topic in topics if last.get(topic, 0) > since]
    return _no_store(jsonify(id=latest, changed=changed))


def since_now() -> int:
    """The id to follow a page's regions from (a template global: ``data-live-since``), read once per request."""
    if "live_since" not in g:
        g.live_since = current_app.extensions["live"].current_id()
    return g.live_since


def only_live():
    """The events process answers ``/live/`` (and the health check) alone; every page is the app's."""
    if not request.path.startswith("/live/") and request.path != "/healthz":
        abort(404)
