"""Notices that bring their part: a fragment the same for every follower, rendered once per process, not fetched 200 times.

A notice says only "this changed", and each page asks for its part again with
its reader's rights: right for a page that differs from reader to reader, but
when 200 screens and phones follow the projector, the same fragment is asked
for 200 times within the second the room waits for it. For a topic whose
fragment is **the same for everyone who may follow the topic** (the
projector's screen: whoever may follow ``projector:<document>`` may read the
document, and the screen shows them what it shows the public), the area that
owns it registers a renderer, the page's region says it takes the content
(``data-live-content``), and its stream asks for it (``content=<topic>``):

- a notice of that topic reaching a process goes to the process's
  :class:`Pump` instead of the streams that asked for content (the others get
  it at once, as before);
- the pump waits ``GATHER`` seconds (a burst of notices costs one render),
  and renders a topic at most once every ``INTERVAL`` seconds (800 delegates
  commenting on the amendment shown cost four renders a second, not 800),
  once per language those streams read; it hands each of them the notice
  with the HTML, unless that stream was handed the same HTML last time; the
  page takes it without a fetch;
- a render that fails hands them the plain notice: the page fetches, as
  before.

The render runs in the process that holds the streams (the events process),
not in the request that made the change: 800 supports in a minute cost the
writers nothing, and the pump renders a burst once. Its id is the notice's,
and it reads the database after the notice arrived, so it shows at least
that commit. Pages without JavaScript, polls and a reconnection's catch-up
are unchanged: plain notices, and the page asks.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from flask import Flask
from flask_babel import force_locale

from ..extensions import db
from .broker import Hub, Notice

log = logging.getLogger(__name__)

# seconds the pump waits after a notice before rendering: the other notices of the same burst join it
GATHER = 0.02
# seconds at least between two renders of one topic: later notices wait and join the next one
INTERVAL = 0.25

Render = Callable[[int], str]
_renderers: dict[str, Render] = {}


def register_content(kind: str, render: Render) -> None:
    """Let the area owning topics of ``kind`` render their fragment: ``render(id) -> HTML``.

    The promise a renderer makes: its HTML is what the region's fragment address answers to *every*
    reader allowed to follow the topic (``topics.register_topic``'s check), in the active language. It
    runs in an application and request context of its own, with no user logged in, and may use the
    database and templates.
    """
    _renderers[kind] = render


def renders(topic: str) -> bool:
    """Whether ``topic``'s kind has a renderer (a stream may ask for its content)."""
    return topic.partition(":")[0] in _renderers


class Pump:
    """One thread per process that renders the content of notices for the streams that asked for it."""

    def __init__(self, app: Flask) -> None:
        """A pump for ``app``'s streams; its thread starts with the first notice (again after a fork)."""
        self.app = app
        self._pid: int | None = None
        self._thread: threading.Thread | None = None
        self._wake = threading.Condition()
        self._pending: dict[str, tuple[Hub, Notice]] = {}  # by topic: the latest notice waiting for its render
        self._due: dict[str, float] = {}  # by topic: when its render may start (time.monotonic())
        self._rendered: dict[str, float] = {}  # by topic: when its last render started
        self.renders = 0  # how many fragments this process rendered (tests, the benchmark)

    def request(self, hub: Hub, notice: Notice) -> None:
        """Render ``notice``'s content soon for ``hub``'s streams that want it (a later notice of the topic wins)."""
        self._ensure_thread()
        with self._wake:
            pending = self._pending.get(notice.topic)
            if pending is None:
                self._due[notice.topic] = max(time.monotonic() + GATHER,
                                              self._rendered.get(notice.topic, float("-inf")) + INTERVAL)
            if pending is None or pending[1].id < notice.id:
                self._pending[notice.topic] = (hub, notice)
            self._wake.notify()

    def _ensure_thread(self) -> None:
        """Start the thread, once per process (a forked child has the object but not the thread)."""
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._wake:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            if self._pid != os.getpid():
                self._wake = threading.Condition()
                self._pending, self._due, self._rendered = {}, {}, {}
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="live-content", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        """Wait until a pending topic is due; render and hand out every topic due."""
        wake = self._wake
        while True:
            with wake:
                while True:
                    now = time.monotonic()
                    ready = [topic for topic, due in self._due.items() if due <= now]
                    if ready:
                        break
                    wake.wait(min(self._due.values()) - now if self._due else None)
                batch = []
                for topic in ready:
                    del self._due[topic]
                    self._rendered[topic] = now
                    batch.append(self._pending.pop(topic))
            for hub, notice in batch:
                try:
                    self.hand_out(hub, notice)
                except Exception:  # noqa: BLE001 - the thread must outlive any failure; pages fetch instead
                    log.exception("live: handing out the content of %s failed", notice.topic)

    def hand_out(self, hub: Hub, notice: Notice) -> None:
        """Render ``notice``'s fragment once per language its content streams read, and give it to each of them."""
        by_locale: dict[str, list] = {}
        for subscription in hub.content_followers(notice.topic):
            by_locale.setdefault(subscription.locale, []).append(subscription)
        for locale, subscriptions in by_locale.items():
            html = self.render(notice.topic, locale)
            given = Notice(notice.id, notice.topic, html) if html is not None else notice
            for subscription in subscriptions:
                if html is not None and subscription.given.get(notice.topic) == html:
                    continue  # the page shows this already (a comment changed nothing the screen shows)
                subscription.put(given)
                if html is not None:
                    subscription.given[notice.topic] = html

    def render(self, topic: str, locale: str) -> str | None:
        """``topic``'s fragment in ``locale`` as every follower sees it; None when it cannot be rendered."""
        kind, _, number = topic.partition(":")
        render = _renderers.get(kind)
        if render is None or not number.isdigit():
            return None
        try:
            with self.app.test_request_context("/"):
                try:
                    with force_locale(locale or self.app.config.get("BABEL_DEFAULT_LOCALE", "en")):
                        html = render(int(number))
                finally:
                    db.session.remove()
        except Exception:  # noqa: BLE001 - a failed render costs each page one fetch, never the stream
            log.exception("live: rendering %s failed; its pages fetch it", topic)
            return None
        self.renders += 1
        return html
