"""Visitors' answers replayed beneath Flask: one query, no routing, no template, no compression.

A visitor without a cookie gets the same page as every other such visitor
who sends the same address, host, language and encodings (``serving.py``
caches that whole page already). This middleware keeps the finished answer
itself, compressed bytes and headers, as a caching proxy would, and
revalidates it on every request: it reads the content states the page was
rendered under (one query on a pooled connection) and replays the answer
only when they are unchanged, answering ``If-None-Match`` with 304. Any
change, any doubt, and the request goes to the app as before.

**What may be kept.** Only what :func:`serving.serve` marks in the request's
environ (:data:`NOTE`): a 200 answer to a ``GET`` without a cookie, whose
response sets no cookie and is ``public``. The key holds everything such a
page may depend on: path and query, host and scheme (behind ``ProxyFix``),
``Accept-Language`` and the encodings we speak of ``Accept-Encoding``. A
request with a cookie or an ``Authorization`` header never reads an answer.

**When it expires.** When any of its content states moves; at the moment
the document's amendment deadline passes (the pages show whether amendments
are open); after ``PAGE_CACHE_TTL`` at most; when a process restarts (each
process has its own, bounded in bytes by ``VISITOR_ANSWERS_MB``, least
recently used first out). A database that fails to answer sends the request
to the app, which says what is wrong.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.http import parse_etags

from .. import metrics, observability
from ..audit import states
from ..delivery import accepted_encodings
from ..extensions import db

NOTE = "manifesto.replay"  # the environ key where serve() marks an answer that may be kept
LANGUAGE_MAX_CHARS = 200  # a longer Accept-Language is not a browser's: such requests are not replayed
# Headers of a kept answer that are made anew for each request.
_PER_REQUEST = {"content-length", "x-request-id", "date", "set-cookie"}
# What a 304 repeats of the answer (RFC 9110, 15.4.5).
_NOT_MODIFIED = {"etag", "last-modified", "cache-control", "vary", "content-location", "expires"}


@dataclass(frozen=True)
class Mark:
    """What ``serve()`` tells the middleware about a visitor's page it may keep."""

    scopes: tuple[str, ...]  # the content states the page was rendered under
    marks: tuple[str, ...]  # their values then (``State.marks``)
    etag: str  # the weak validator's value
    route: str  # the URL rule, for the log line
    valid_until: float | None  # a time (epoch seconds) when the page changes without a write: a deadline


@dataclass(frozen=True)
class Answer:
    """A kept answer: its mark, headers and body."""

    mark: Mark
    headers: tuple[tuple[str, str], ...]
    body: bytes
    expires: float  # monotonic time after which it is not replayed


class Answers:
    """Kept answers of one process, at most ``max_bytes`` of bodies, least recently used dropped first."""

    def __init__(self, max_bytes: int) -> None:
        """An empty store."""
        self.max_bytes = max_bytes
        self.size = 0
        self._answers: OrderedDict[tuple, Answer] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Answer | None:
        """The answer kept under ``key``, now the most recently used."""
        with self._lock:
            answer = self._answers.get(key)
            if answer is not None:
                self._answers.move_to_end(key)
            return answer

    def put(self, key: tuple, answer: Answer) -> None:
        """Keep ``answer``, dropping the least recently used to stay within the bound."""
        if len(answer.body) > self.max_bytes // 4:
            return
        with self._lock:
            self._drop(key)
            self._answers[key] = answer
            self.size += len(answer.body)
            while self.size > self.max_bytes:
                _, dropped = self._answers.popitem(last=False)
                self.size -= len(dropped.body)

    def forget(self, key: tuple, answer: Answer) -> None:
        """Drop ``answer`` if it is still the one kept under ``key``."""
        with self._lock:
            if self._answers.get(key) is answer:
                self._drop(key)

    def _drop(self, key: tuple) -> None:
        """Drop what ``key`` holds (the lock is held)."""
        old = self._answers.pop(key, None)
        if old is not None:
            self.size -= len(old.body)

    def __len__(self) -> int:
        """How many answers are kept."""
        return len(self._answers)


class Replay:
    """The WSGI middleware (see the module docstring)."""

    def __init__(self, app: Callable, flask_app: Flask, max_bytes: int, ttl: float) -> None:
        """Wrap ``app``, reading content states through ``flask_app``'s database."""
        self.app = app
        self.flask_app = flask_app
        self.answers = Answers(max_bytes)
        self.ttl = ttl
        self.trusted_proxies = int(flask_app.config.get("TRUSTED_PROXIES") or 0)
        self._engine: Engine | None = None

    def engine(self) -> Engine:
        """The app's database engine (looked up once: an app keeps its engine)."""
        if self._engine is None:
            with self.flask_app.app_context():
                self._engine = db.engine
        return self._engine

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """Replay a kept answer when its states are unchanged; else ask the app and keep what it marks."""
        key = self.key(environ)
        if key is None:
            return self.app(environ, start_response)
        answer = self.answers.get(key)
        if answer is not None:
            replayed = self.replay(key, answer, environ, start_response)
            if replayed is not None:
                return replayed
        if environ.get("REQUEST_METHOD") != "GET":
            return self.app(environ, start_response)
        return self.keep(key, environ, start_response)

    @staticmethod
    def key(environ: dict) -> tuple | None:
        """What a visitor's page may depend on, or None for a request that is not a cookie-less visitor's read."""
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or "HTTP_COOKIE" in environ \
                or "HTTP_AUTHORIZATION" in environ:
            return None
        language = environ.get("HTTP_ACCEPT_LANGUAGE", "")
        if len(language) > LANGUAGE_MAX_CHARS:
            return None
        return (environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""), environ.get("HTTP_HOST", ""),
                environ.get("wsgi.url_scheme", ""), environ.get("SCRIPT_NAME", ""), language,
                accepted_encodings(environ.get("HTTP_ACCEPT_ENCODING", "")))

    def replay(self, key: tuple, answer: Answer, environ: dict, start_response: Callable) -> list[bytes] | None:
        """The kept answer (or a 304) when it is still the page; None (and forgotten) when it may not be."""
        mark = answer.mark
        if time.monotonic() >= answer.expires or (mark.valid_until is not None and time.time() >= mark.valid_until):
            self.answers.forget(key, answer)
            return None
        try:
            with self.engine().connect() as connection:
                current = states.read_with(connection, mark.scopes).marks
        except SQLAlchemyError:
            return None  # the app answers, and says what is wrong
        if current != mark.marks:
            self.answers.forget(key, answer)
            return None
        done = observability.answered_beneath(environ, self.trusted_proxies)
        metrics.page_cache("replay")
        if parse_etags(environ.get("HTTP_IF_NONE_MATCH")).contains_weak(mark.etag):
            headers = [(name, value) for name, value in answer.headers if name.lower() in _NOT_MODIFIED]
            headers.append((observability.REQUEST_ID_HEADER, done(mark.route, 304, 1, "replay")))
            start_response("304 NOT MODIFIED", headers)
            return []
        headers = list(answer.headers)
        headers += [("Content-Length", str(len(answer.body))),
                    (observability.REQUEST_ID_HEADER, done(mark.route, 200, 1, "replay"))]
        start_response("200 OK", headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [answer.body]

    def keep(self, key: tuple, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """Ask the app; keep its answer when ``serve()`` marked it and it is a public 200 that sets no cookie."""
        seen: dict = {}

        def capture(status: str, headers: list, exc_info=None):
            """Note the status and headers on their way out."""
            seen["status"], seen["headers"] = status, headers
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        body = self.app(environ, capture)
        mark = environ.get(NOTE)
        headers = seen.get("headers") or []
        names = {name.lower(): value for name, value in headers}
        if (mark is None or not seen.get("status", "").startswith("200 ") or "set-cookie" in names
                or not names.get("cache-control", "").startswith("public")):
            return body
        try:
            chunks = list(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        kept = tuple((name, value) for name, value in headers if name.lower() not in _PER_REQUEST)
        self.answers.put(key, Answer(mark=mark, headers=kept, body=b"".join(chunks),
                                     expires=time.monotonic() + self.ttl))
        return chunks


def init_app(app: Flask) -> None:
    """Install the middleware beneath the metrics endpoint, unless the page cache is off or it has no memory."""
    megabytes = float(app.config.get("VISITOR_ANSWERS_MB", 32))
    if (app.config.get("PAGE_CACHE") or "auto").lower() == "off" or megabytes <= 0:
        return
    ttl = float(app.config.get("PAGE_CACHE_TTL", 6 * 3600))
    observability.install_beneath(app, lambda inner: Replay(inner, app, int(megabytes * 1024 * 1024), ttl))
