"""Notices from the process that commits to every open stream: Redis publish/subscribe, or this process alone.

A *notice* is a topic and an event id, nothing else: it says "this changed",
never what, so a stream can leak nothing a reader may not see (the page asks
again for its part, with the reader's own rights).

**Ids.** Every notice has an id larger than any before it: Redis ``INCR``
(one counter for every process and machine), or, without Redis, the time in
microseconds (never less than the last id plus one), so that a restarted
process still counts up from where the browser's ``Last-Event-ID`` left off.
The last id of each topic is kept (in Redis for a day; in memory for the
most recent topics), so a stream that reconnects, or a poll, learns which of
its topics changed since the id it last saw.

**Fan-out.** Each process holds ONE subscriber (a thread on the Redis
channel, started with the first stream) and hands each notice to the local
:class:`Subscription` of every stream that follows its topic. A stream waits
on its own subscription; nobody opens a Redis connection per stream.

**Redis down.** Publishing fails quietly (logged, then not tried for 5 s, so
no commit waits on a Redis that does not answer): the change is committed
all the same, and pages reloaded show it. The subscriber reconnects with
growing pauses; once it is back, every local stream is told that all its
topics may have changed, since notices sent meanwhile are lost.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)

# How many topics the memory broker remembers the last id of (the most recent ones).
REMEMBERED_TOPICS = 20_000
# Notices a slow stream may have waiting before they are folded into one per topic.
QUEUE_LIMIT = 256


@dataclass(frozen=True)
class Notice:
    """One topic changed: the event id and the topic; ``html`` only for a stream that asked for its content.

    Notices between processes never carry content: a process's content pump (``content.py``) renders it
    for its own streams, once per language, after the notice arrives.
    """

    id: int
    topic: str
    html: str | None = None


class Subscription:
    """One stream's mailbox: the notices of its topics, waiting for the stream to take them."""

    def __init__(self, topics: Iterable[str], content: Iterable[str] = (), locale: str = "") -> None:
        """A mailbox for ``topics``, empty; for the ``content`` topics it wants the fragment, in ``locale``."""
        self.topics = frozenset(topics)
        self.content = frozenset(content) & self.topics
        self.locale = locale
        self.given: dict[str, str] = {}  # by content topic: the HTML last handed to this stream (the pump's)
        self._notices: deque[Notice] = deque()
        self._ready = threading.Condition()

    def put(self, notice: Notice) -> None:
        """Leave a notice; a full mailbox keeps the newest notice of each topic only."""
        with self._ready:
            self._notices.append(notice)
            if len(self._notices) > QUEUE_LIMIT:
                newest = {n.topic: n for n in self._notices}
                self._notices = deque(sorted(newest.values(), key=lambda n: n.id))
            self._ready.notify()

    def take(self, timeout: float) -> list[Notice]:
        """Every notice waiting, after waiting at most ``timeout`` seconds for the first; [] if none came."""
        with self._ready:
            if not self._notices:
                self._ready.wait(timeout)
            taken = list(self._notices)
            self._notices.clear()
            return taken


class Hub:
    """This process's streams, by topic: hands each notice to the subscriptions that follow it.

    A subscription that wants a topic's content gets that topic's notices from the ``pump`` instead (with
    the fragment rendered once for all of them); without a pump, the plain notice.
    """

    def __init__(self, pump=None) -> None:
        """No streams yet; ``pump`` renders content (``content.Pump``), or None."""
        self._by_topic: dict[str, set[Subscription]] = {}
        self._lock = threading.Lock()
        self.count = 0
        self.pump = pump

    def subscribe(self, topics: Iterable[str], limit: int | None = None, *, content: Iterable[str] = (),
                  locale: str = "") -> Subscription | None:
        """A new subscription to ``topics`` (the ``content`` ones with their fragment, in ``locale``).

        None when ``limit`` streams are open here already.
        """
        subscription = Subscription(topics, content if self.pump is not None else (), locale)
        with self._lock:
            if limit is not None and self.count >= limit:
                return None
            self.count += 1
            for topic in subscription.topics:
                self._by_topic.setdefault(topic, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget a subscription (its stream ended); forgetting twice is harmless."""
        with self._lock:
            found = False
            for topic in subscription.topics:
                followers = self._by_topic.get(topic)
                if followers is not None and subscription in followers:
                    found = True
                    followers.discard(subscription)
                    if not followers:
                        del self._by_topic[topic]
            if found:
                self.count -= 1

    def deliver(self, notice: Notice) -> None:
        """Hand a notice to every subscription of its topic; those wanting its content wait for the pump."""
        with self._lock:
            followers = list(self._by_topic.get(notice.topic, ()))
        wanting = False
        for subscription in followers:
            if notice.html is None and notice.topic in subscription.content:
                wanting = True
            else:
                subscription.put(notice)
        if wanting:
            self.pump.request(self, notice)

    def content_followers(self, topic: str) -> list[Subscription]:
        """The subscriptions that want ``topic``'s content now."""
        with self._lock:
            return [s for s in self._by_topic.get(topic, ()) if topic in s.content]

    def deliver_all(self, notice_id: int) -> None:
        """Tell every subscription that each of its topics may have changed (after notices were lost)."""
        with self._lock:
            topics = list(self._by_topic)
        for topic in topics:
            self.deliver(Notice(notice_id, topic))

    def topics(self) -> set[str]:
        """The topics some stream of this process follows."""
        with self._lock:
            return set(self._by_topic)


class MemoryBroker:
    """Notices within one process (the embedded default: one process serves pages and streams)."""

    kind = "memory"

    def __init__(self) -> None:
        """A hub, a clock of ids and the last id of recent topics."""
        self.hub = Hub()
        self._lock = threading.Lock()
        self._id = 0
        self._last: OrderedDict[str, int] = OrderedDict()

    def _next_id(self) -> int:
        """The next id: microseconds since the epoch, and always more than the last one."""
        self._id = max(self._id + 1, time.time_ns() // 1000)
        return self._id

    def publish(self, topics: Iterable[str]) -> list[Notice]:
        """Send a notice for each topic (ascending ids, in the given order) to this process's streams."""
        notices = []
        with self._lock:
            for topic in topics:
                notice = Notice(self._next_id(), topic)
                self._last[topic] = notice.id
                self._last.move_to_end(topic)
                while len(self._last) > REMEMBERED_TOPICS:
                    self._last.popitem(last=False)
                notices.append(notice)
        for notice in notices:
            self.hub.deliver(notice)
        return notices

    def current_id(self) -> int:
        """The id of the latest notice (a new one is always larger); 0 before any."""
        with self._lock:
            return self._id

    def last_ids(self, topics: Iterable[str]) -> dict[str, int]:
        """The id of each topic's latest notice, for the topics that have had one."""
        with self._lock:
            return {topic: self._last[topic] for topic in topics if topic in self._last}

    def start(self) -> None:
        """Nothing to start: publishing delivers directly."""

    def stop(self) -> None:
        """Nothing to stop."""


# One script: the next id, each topic's last id, and the message on the channel, in one round trip.
_PUBLISH = """
local ids = {}
for i, topic in ipairs(ARGV) do
  if i > 1 then
    local id = redis.call('INCR', KEYS[1])
    redis.call('SET', KEYS[2] .. topic, id, 'EX', tonumber(ARGV[1]))
    redis.call('PUBLISH', KEYS[3], id .. ' ' .. topic)
    ids[#ids + 1] = id
  end
end
return ids
"""


class RedisBroker:
    """Notices through Redis: every process and machine publishes on one channel and listens to it once."""

    kind = "redis"
    PAUSES = (0.1, 0.5, 1.0, 2.0, 5.0)  # seconds between reconnections, the last one repeated
    PAUSE_AFTER_FAILURE = 5.0  # seconds without asking Redis after it failed (commits and pages never wait for it)

    def __init__(self, url: str, prefix: str = "manifesto:live:", remember: int = 86400) -> None:
        """A client for publishing (short timeouts) and, once started, one subscriber thread."""
        import redis  # a dependency, imported only when Redis is configured

        self._redis = redis
        self.url = url
        self.prefix = prefix
        self.channel = prefix + "notices"
        self.remember = remember
        self.client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._publish = self.client.register_script(_PUBLISH)
        self.hub = Hub()
        self._paused_until = 0.0
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._stopping = threading.Event()
        self._started = threading.Lock()
        self.subscribed = threading.Event()  # set while the subscriber listens (tests wait for it)

    # ------------------------------------------------------------ publishing

    def publish(self, topics: Iterable[str]) -> list[Notice]:
        """Send a notice for each topic to every process; [] (logged) when Redis fails."""
        topics = list(topics)
        if not topics or time.monotonic() < self._paused_until:
            return []
        try:
            ids = self._publish(keys=[self.prefix + "id", self.prefix + "last:", self.channel],
                                args=[self.remember, *topics])
        except (self._redis.RedisError, OSError) as error:
            # A Redis that black-holes would cost every commit the client's timeout: leave it alone a while.
            self._paused_until = time.monotonic() + self.PAUSE_AFTER_FAILURE
            log.warning("live: could not publish %d notice(s) through Redis (%s: %s); open pages learn of "
                        "the change on their next reload; not publishing for %.0f s", len(topics),
                        type(error).__name__, error, self.PAUSE_AFTER_FAILURE)
            return []
        return [Notice(int(i), topic) for i, topic in zip(ids, topics)]

    def current_id(self) -> int:
        """The id of the latest notice of any process (0 before any, or when Redis fails)."""
        if time.monotonic() < self._paused_until:
            return 0
        try:
            return int(self.client.get(self.prefix + "id") or 0)
        except (self._redis.RedisError, OSError):
            self._paused_until = time.monotonic() + self.PAUSE_AFTER_FAILURE
            return 0

    def last_ids(self, topics: Iterable[str]) -> dict[str, int]:
        """The id of each topic's latest notice (within the last day); {} when Redis fails."""
        topics = list(topics)
        if not topics or time.monotonic() < self._paused_until:
            return {}
        try:
            values = self.client.mget([self.prefix + "last:" + topic for topic in topics])
        except (self._redis.RedisError, OSError):
            self._paused_until = time.monotonic() + self.PAUSE_AFTER_FAILURE
            return {}
        return {topic: int(value) for topic, value in zip(topics, values) if value is not None}

    # ------------------------------------------------------------ subscribing

    def start(self) -> None:
        """Start this process's subscriber thread, once (again in a forked child: threads do not survive a fork)."""
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        with self._started:
            if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
                return
            if self._pid != os.getpid():
                self.hub = Hub(self.hub.pump) if self._pid is not None else self.hub  # a child inherits no streams
                self.subscribed.clear()
            self._pid = os.getpid()
            self._stopping.clear()
            self._thread = threading.Thread(target=self._listen, name="live-subscriber", daemon=True)
            self._thread.start()
        # The first stream of a process waits (briefly) until the channel is heard: a notice sent before
        # would reach nobody here, and the stream's own check of its topics' last ids may come too early.
        self.subscribed.wait(2.0)

    def stop(self) -> None:
        """Stop the subscriber thread (tests; a process that ends needs nothing)."""
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout=5)
        self._thread = None

    def _listen(self) -> None:
        """Listen on the channel until stopped, reconnecting after failures; hand each notice to the hub."""
        failures = 0
        while not self._stopping.is_set():
            pubsub = None
            try:
                client = self._redis.Redis.from_url(self.url, socket_connect_timeout=2.0, socket_keepalive=True,
                                                    health_check_interval=15)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                self.subscribed.set()
                if failures:
                    log.warning("live: subscribed to Redis again; open pages check their parts once")
                    self.hub.deliver_all(self.current_id())
                failures = 0
                while not self._stopping.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is None or message.get("type") != "message":
                        continue
                    notice = parse(message["data"])
                    if notice is not None:
                        self.hub.deliver(notice)
            except (self._redis.RedisError, OSError) as error:
                self.subscribed.clear()
                if failures == 0:
                    log.warning("live: lost the Redis subscription (%s: %s); reconnecting",
                                type(error).__name__, error)
                pause = self.PAUSES[min(failures, len(self.PAUSES) - 1)]
                failures += 1
                self._stopping.wait(pause)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:  # noqa: BLE001 - closing a broken connection may fail in any way
                        pass
        self.subscribed.clear()


def parse(data: bytes | str) -> Notice | None:
    """A notice from its message on the channel (``"<id> <topic>"``); None for anything else."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    number, _, topic = text.partition(" ")
    if not number.isdigit() or not topic:
        return None
    return Notice(int(number), topic)
