"""What an operator sees of a running app: request ids, one log line per request, and the metrics endpoint.

**Request ids.** Every request gets an id, sent back as ``X-Request-ID``,
written into every log record made while it runs (``record.request_id``)
and shown on the error pages, so a delegate can quote it and the operator
finds the lines. The id comes from the incoming ``X-Request-ID`` only when
the app sits behind trusted proxies (``TRUSTED_PROXIES``, how many: the proxy
sets it and nobody else can), and only when it looks like an id (at most 128
safe characters); otherwise it is made here.

**Behind proxies.** ``TRUSTED_PROXIES = N`` wraps the app in Werkzeug's
``ProxyFix`` for N hops of ``X-Forwarded-For``, ``-Proto`` and ``-Host``, so
``request.remote_addr`` is the client's address as the nearest proxies saw
it, never a header any client can write. With 0 (the default) the headers are
ignored.

**One line per request** on the ``manifesto.requests`` logger: method, route
(the URL rule, ``/d/<slug>``: never the address with its ids, tokens or query
string), status, duration, the number of SQL statements, the page cache's
outcome (``g.page_cache``). ``LOG_FORMAT``: ``text`` (default) or ``json``,
one object per line, for every record of the ``manifesto`` loggers. The app
writes them to stderr unless the ``manifesto`` logger was given handlers of
its own (a logging configuration you wrote wins).

**Metrics.** ``GET /metrics`` serves :func:`manifesto.metrics.exposition` to
a request that carries ``Authorization: Bearer <METRICS_TOKEN>`` or comes
from an address in ``METRICS_ALLOW`` (IPs and networks, comma-separated).
Anyone else gets the very 404 of an unknown address: the endpoint is not
advertised. It is answered before the app proper (:class:`MetricsEndpoint`),
so a scrape opens no session, sets no cookie, reads no database and needs no
CSRF token, and scrapes do not count as requests.
"""

from __future__ import annotations

import gzip
import hmac
import ipaddress
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import RequestRedirect

from . import metrics

REQUEST_ID_HEADER = "X-Request-ID"
# Ids a proxy may hand us: letters, digits and the punctuation of UUIDs, ULIDs, Heroku's and AWS's ids.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@+=/-]{1,128}")
_STARTED = "manifesto.request_started"  # the environ key where MetricsEndpoint notes when a request came in
# Transaction control is not a query (the same rule as the tests' counter, tests/harness.py).
_TRANSACTION_CONTROL = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)
LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s [%(process)d] %(levelname)s %(name)s [%(request_id)s] %(message)s"
UNMATCHED = "(unmatched)"  # the route of an address no rule matches (a 404): never the address itself
REDIRECTED = "(redirect)"  # the router's own redirect, to the address with its trailing slash

log = logging.getLogger(__name__)
requests_log = logging.getLogger("manifesto.requests")
app_log = logging.getLogger("manifesto")
# The id of a request answered beneath Flask (``answered_beneath``), for its log records.
_beneath_id: ContextVar[str | None] = ContextVar("manifesto_request_id", default=None)

# The attributes every LogRecord has; anything else on a record came from ``extra`` and goes into its JSON.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime",
                                                                                        "request_id"}


# ----------------------------------------------------------------- request ids

def request_id() -> str | None:
    """The current request's id (made on first use), or None outside a request."""
    if not has_request_context():
        return None
    found = g.get("request_id")
    if found is None:
        found = g.request_id = _new_request_id()
    return found


def _new_request_id() -> str:
    """A fresh id: 32 hexadecimal characters (128 random bits), unique enough to find one request in years of logs."""
    return os.urandom(16).hex()


def incoming_request_id(value: str | None) -> str | None:
    """The proxy's id when it is one we can write into logs and pages as it is, else None."""
    if value and _SAFE_REQUEST_ID.fullmatch(value):
        return value
    return None


def _install_record_factory() -> None:
    """Give every log record of the process its request's id (``-`` outside a request), once per process."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "manifesto_request_id", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        """Make the record as before, then add the id (so any handler's format may name it)."""
        record = previous(*args, **kwargs)
        record.request_id = (g.get("request_id") if has_request_context() else _beneath_id.get()) or "-"
        return record

    factory.manifesto_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


# ----------------------------------------------------------------- log formats

class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, and the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON (a traceback is a field, never extra lines)."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "pid": record.process,
        }
        entry.update((key, value) for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class _AppLogHandler(logging.StreamHandler):
    """The handler this module gives the ``manifesto`` logger (marked, so that it is installed only once)."""


def formatter_for(log_format: str) -> logging.Formatter:
    """The formatter of a ``LOG_FORMAT`` value.

    :raises ValueError: for an unknown format, so a typo fails at start-up.
    """
    if log_format == "json":
        return JsonFormatter()
    if log_format == "text":
        # The default covers a record made without our factory (logging.makeLogRecord).
        return logging.Formatter(TEXT_FORMAT, defaults={"request_id": "-"})
    raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")


def _install_log_handler(log_format: str) -> None:
    """Write the app's records to stderr in ``log_format``, unless someone configured the app's logger already."""
    formatter = formatter_for(log_format)
    ours = [handler for handler in app_log.handlers if isinstance(handler, _AppLogHandler)]
    if app_log.handlers and not ours:
        return  # a logging configuration of the operator's own
    handler = ours[0] if ours else _AppLogHandler(sys.stderr)
    handler.setFormatter(formatter)
    if not ours:
        app_log.addHandler(handler)
    if app_log.level == logging.NOTSET:
        # One line per request is INFO; without this, the root's WARNING would hide them.
        app_log.setLevel(logging.INFO)


# ----------------------------------------------------------------- per request

def route() -> str:
    """The request's route for logs and metrics: its URL rule, never its address."""
    rule = request.url_rule
    if rule is not None:
        return rule.rule
    return REDIRECTED if isinstance(request.routing_exception, RequestRedirect) else UNMATCHED


def _count_query(_conn, _cursor, statement: str, *_args: Any) -> None:
    """Count one SQL statement of this request (transaction control is not a query)."""
    if has_request_context() and not _TRANSACTION_CONTROL.match(statement):
        g.query_count = g.get("query_count", 0) + 1


def _template_helpers() -> dict[str, Callable[[], str | None]]:
    """Let templates call ``request_id()``: the error pages show it, for the reader to quote."""
    return {"request_id": request_id}


def _start_request() -> None:
    """Give the request its id, and start its clock and query count."""
    given = incoming_request_id(request.headers.get(REQUEST_ID_HEADER)) \
        if current_app.config.get("TRUSTED_PROXIES") else None
    g.request_id = given or _new_request_id()
    g.setdefault("query_count", 0)
    g.request_started = request.environ.get(_STARTED) or time.perf_counter()


def _finish_request(response: Response) -> Response:
    """Send the id back, count the request, and write its line."""
    response.headers[REQUEST_ID_HEADER] = request_id() or ""
    _record(response.status_code)
    return response


def _after_failure(error: BaseException | None) -> None:
    """A request that ended without a response (an exception let through: under test, or a broken handler)."""
    if error is not None and not g.get("request_recorded"):
        _record(500)


def _record(status: int) -> None:
    """Count the request and write its one line (once, whichever of the two ends it reached)."""
    if g.get("request_recorded"):
        return
    g.request_recorded = True
    seconds = time.perf_counter() - g.get("request_started", time.perf_counter())
    _log_request(request.method, route(), status, seconds, g.get("query_count", 0), g.get("page_cache"))


def answered_beneath(environ: dict, trusted_proxies: int) -> Callable[[str, int, int, str], str]:
    """For a middleware beneath Flask that answers a request itself: the request's id, and how to record it.

    Returns ``done(route, status, queries, cache) -> request id``: it counts the request and writes its
    one line, as for any other request, with the id (the trusted proxy's, else a new one).
    """
    given = incoming_request_id(environ.get("HTTP_X_REQUEST_ID")) if trusted_proxies else None
    rid = given or _new_request_id()
    started = environ.get(_STARTED) or time.perf_counter()

    def done(path: str, status: int, queries: int, cache: str) -> str:
        """Count and log the request; its id."""
        token = _beneath_id.set(rid)
        try:
            _log_request(environ.get("REQUEST_METHOD", "GET"), path, status, time.perf_counter() - started,
                         queries, cache)
        finally:
            _beneath_id.reset(token)
        return rid

    return done


def _log_request(method: str, path: str, status: int, seconds: float, queries: int, cache: str | None) -> None:
    """Count a request in the metrics and write its one line."""
    metrics.request_done(path, method, status, seconds)
    duration_ms = round(seconds * 1000, 1)
    requests_log.info("%s %s %s %.1f ms, %d queries, cache %s", method, path, status, duration_ms, queries,
                      cache or "-", extra={"method": method, "route": path, "status": status,
                                           "duration_ms": duration_ms, "queries": queries, "cache": cache})


# ----------------------------------------------------------------- the metrics endpoint

def allowed_networks(value: str | None, setting: str = "METRICS_ALLOW",
                     ) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The networks of a setting listing addresses (``10.0.0.5, 192.168.0.0/24, ::1``): ``METRICS_ALLOW``,
    ``RATELIMIT_EXEMPT_ADDRESSES``.

    :raises ValueError: naming ``setting``, for anything that is not an address or network, so a typo
        fails at start-up.
    """
    networks = []
    for item in (value or "").split(","):
        if item.strip():
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError as error:
                raise ValueError(f"{setting}: {item.strip()!r} is not an address or network") from error
    return tuple(networks)


class MetricsEndpoint:
    """WSGI middleware: answers ``GET /metrics`` for a scraper it knows; any other request goes to the app.

    Placed under ``ProxyFix``, so ``REMOTE_ADDR`` is already the client's. It
    also notes when each request came in, so the duration in logs and metrics
    includes everything the app does before the view.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], token: str | None, networks: tuple) -> None:
        """Wrap ``app``; without a token and networks nobody is let in, and every request goes to ``app``."""
        self.app = app
        self.token = token.encode("utf-8") if token else None
        self.networks = networks

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """Serve the metrics to whom may read them; let everything else through, refusals included (a plain 404)."""
        environ[_STARTED] = time.perf_counter()
        if (environ.get("PATH_INFO") == "/metrics" and environ.get("REQUEST_METHOD") in ("GET", "HEAD")
                and self.allows(environ)):
            return self.serve(environ, start_response)
        return self.app(environ, start_response)

    def allows(self, environ: dict) -> bool:
        """Whether the request carries the token or comes from an allowed address."""
        if self.token is not None:
            scheme, _, sent = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
            # compare_digest: how long the comparison takes says nothing about the token.
            if scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode("utf-8"), self.token):
                return True
        if self.networks:
            try:
                address = ipaddress.ip_address(environ.get("REMOTE_ADDR") or "")
            except ValueError:
                return False
            if getattr(address, "ipv4_mapped", None):
                address = address.ipv4_mapped
            return any(address in network for network in self.networks)
        return False

    def serve(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """The Prometheus text, compressed when the scraper asks (the default scraper does)."""
        body = metrics.exposition()
        headers = [("Content-Type", "text/plain; version=0.0.4; charset=utf-8"), ("Cache-Control", "no-store"),
                   ("X-Content-Type-Options", "nosniff")]
        if "gzip" in environ.get("HTTP_ACCEPT_ENCODING", "").lower():
            body = gzip.compress(body, compresslevel=5)
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        start_response("200 OK", headers)
        return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


# ----------------------------------------------------------------- wiring

_OUTERMOST = "manifesto.metrics_endpoint"


def install_beneath(app: Flask, middleware: Callable[[Callable], Callable]) -> None:
    """Wrap the Flask app itself in ``middleware``, beneath the metrics endpoint and ``ProxyFix``.

    So the middleware sees the client's address, host and scheme as the app does, and its
    requests are timed from when they came in.
    """
    endpoint = app.extensions[_OUTERMOST]
    endpoint.app = middleware(endpoint.app)


def init_app(app: Flask) -> None:
    """Install request ids, request logging and the metrics endpoint.

    Called right after the configuration, before the extensions: its
    ``before_request`` runs first and its ``after_request`` last (after
    compression), and the queries are counted by a listener on every engine.

    :raises ValueError: for a wrong ``LOG_FORMAT``, ``TRUSTED_PROXIES`` or ``METRICS_ALLOW``.
    """
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies < 0:
        raise ValueError(f"TRUSTED_PROXIES is a number of proxies, at least 0, not {proxies}")
    _install_record_factory()
    _install_log_handler(str(app.config.get("LOG_FORMAT") or "text").strip().lower())
    if not event.contains(Engine, "before_cursor_execute", _count_query):
        event.listen(Engine, "before_cursor_execute", _count_query)
    metrics.init_app(app)
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.teardown_request(_after_failure)
    app.context_processor(_template_helpers)
    networks = allowed_networks(app.config.get("METRICS_ALLOW"))
    if not proxies and any(network.is_loopback for network in networks):
        log.warning("METRICS_ALLOW lets in this machine's own address while TRUSTED_PROXIES is 0: a proxy on "
                    "this machine would let everyone it serves read /metrics. Set TRUSTED_PROXIES, or refuse "
                    "/metrics at the proxy.")
    app.wsgi_app = MetricsEndpoint(app.wsgi_app, app.config.get("METRICS_TOKEN") or None, networks)
    app.extensions[_OUTERMOST] = app.wsgi_app
    if proxies:
        # Outermost, so the metrics endpoint and the app both see the client's address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
