"""Operators' metrics: what the app counts, and the Prometheus text a scrape reads.

**What is counted.** Requests (a counter and a latency histogram by route,
method and status class), page-cache outcomes, database retries and errors
that reached a user, connections the SQLAlchemy pools have checked out, the
job queue's length and failed job runs, and each worker's memory. Routes are
URL rules (``/d/<slug>``), never raw paths: the label set stays small, and no
token from an address reaches the metrics.

**Several workers.** With ``PROMETHEUS_MULTIPROC_DIR`` set in the environment
before this module is first imported (``gunicorn.conf.py`` does it),
prometheus-client writes every value to a file in that directory and a scrape
of any worker adds up all of them; the gauges say how (``multiprocess_mode``).
Without it, a scrape reads this process only: right for ``flask run`` and
one worker, wrong for several.

The endpoint that serves :func:`exposition` (and who may read it) is in
:mod:`manifesto.observability`. This module imports nothing of the app but the
job queue, so every layer may count.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
import weakref
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from huey.signals import SIGNAL_ERROR
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from . import jobs

# The process's own registry (not prometheus-client's global one), so nothing else imported
# into the process adds to what the app publishes.
registry = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=registry)
PlatformCollector(registry=registry)
GCCollector(registry=registry)

# From a quick page (a 304, a cached page) to the 30 s a worker may take; 0.25 is the load test's target.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# A label value from code (a cache outcome, a retry kind): anything else would be a bug, counted as "other".
_LABEL = re.compile(r"[a-z][a-z_-]{0,23}")
MEMORY_EVERY = 10.0  # seconds between two readings of a worker's memory

REQUESTS = Counter("manifesto_http_requests", "Requests answered, by route (URL rule), method and status class.",
                   ("route", "method", "status"), registry=registry)
LATENCY = Histogram("manifesto_http_request_duration_seconds",
                    "Time from the start of a request to its response, by route, method and status class.",
                    ("route", "method", "status"), buckets=LATENCY_BUCKETS, registry=registry)
PAGE_CACHE = Counter("manifesto_page_cache_lookups",
                     "Page-cache lookups by outcome: hit, miss, wait (another renderer's result), error (shared tier "
                     "unreachable).", ("outcome",), registry=registry)
DATABASE_RETRIES = Counter("manifesto_db_retries",
                           "Transactions run again: contention (deadlock, serialization failure, SQLite busy), "
                           "disconnect (connection lost before the commit), read (a GET whose connection died).",
                           ("kind",), registry=registry)
DATABASE_ERRORS = Counter("manifesto_db_errors",
                          "Database failures that reached a user as the 503 page: busy, timeout, unreachable.",
                          ("kind",), registry=registry)
POOL_CHECKED_OUT = Gauge("manifesto_db_pool_checked_out",
                         "Database connections in use, per worker (compare with manifesto_db_pool_size).",
                         registry=registry, multiprocess_mode="liveall")
POOL_SIZE = Gauge("manifesto_db_pool_size",
                  "Connections each worker's pool keeps open (more may overflow, up to max_overflow).",
                  registry=registry, multiprocess_mode="liveall")
FAILED_JOBS = Counter("manifesto_job_failures", "Job runs that raised (each attempt; a retried job may succeed later).",
                      ("job",), registry=registry)
PAGE_CACHE_BYTES = Gauge("manifesto_page_cache_memory_bytes",
                         "Bytes of cached pages each worker holds in memory (bounded by PAGE_CACHE_MEMORY_MB).",
                         registry=registry, multiprocess_mode="liveall")
MEMORY = Gauge("manifesto_worker_resident_memory_bytes", "Resident memory of each worker (read every 10 s at most).",
               registry=registry, multiprocess_mode="liveall")
# Live updates (#18, manifesto/live/): each open stream holds a thread of its worker.
LIVE_STREAMS = Gauge("manifesto_live_streams", "Live-update streams (Server-Sent Events) each worker holds open.",
                     registry=registry, multiprocess_mode="liveall")
LIVE_BUSY = Counter("manifesto_live_busy", "Streams refused for want of room (LIVE_STREAMS_PER_PROCESS): those pages "
                    "poll instead.", registry=registry)

# Every expected series exists from the start, at 0: a rate over a series that appears with its first event is wrong.
for _outcome in ("hit", "miss", "wait", "error"):
    PAGE_CACHE.labels(_outcome)
for _kind in ("contention", "disconnect", "read"):
    DATABASE_RETRIES.labels(_kind)
for _kind in ("busy", "timeout", "unreachable"):
    DATABASE_ERRORS.labels(_kind)

_engines: weakref.WeakSet[Engine] = weakref.WeakSet()
_request_children: dict[tuple[str, str, str], tuple] = {}
_memory_read = {"at": 0.0}
_memory_lock = threading.Lock()


def page_cache(outcome: str) -> None:
    """Count one page-cache lookup: ``hit``, ``miss``, ``wait`` (another worker rendered it) or ``error``."""
    PAGE_CACHE.labels(_label(outcome)).inc()


def page_cache_memory(size: int) -> None:
    """Note how many bytes of pages this worker's memory tier holds now."""
    PAGE_CACHE_BYTES.set(size)


def live_streams(count: int, busy: bool = False) -> None:
    """Note how many live-update streams this worker holds now; ``busy``: one was refused for want of room."""
    LIVE_STREAMS.set(count)
    if busy:
        LIVE_BUSY.inc()


def database_retry(kind: str) -> None:
    """Count one transaction run again after a deadlock, serialization failure or busy database."""
    DATABASE_RETRIES.labels(_label(kind)).inc()


def database_error(kind: str) -> None:
    """Count one database failure that reached the user as an error page."""
    DATABASE_ERRORS.labels(_label(kind)).inc()


def request_done(route: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request and its duration (the route is a URL rule, so the label set stays small)."""
    labels = (route, method if method in METHODS else "other", f"{status // 100}xx")
    children = _request_children.get(labels)
    if children is None:  # once per route, method and status class: labels() checks and locks every time
        children = _request_children[labels] = (REQUESTS.labels(*labels), LATENCY.labels(*labels))
    children[0].inc()
    children[1].observe(seconds)
    _note_memory()


def job_failed(_signal: str, task, *_args, **_kwargs) -> None:
    """Huey's error signal: count a job run that raised, by the job's declared name."""
    FAILED_JOBS.labels(getattr(task, "name", None) or "unknown").inc()


def init_app(_app) -> None:
    """Count failed jobs and pool use (once per process, however many apps it builds)."""
    # Disconnect first: Huey's signals keep every receiver connected, twice if connected twice
    # (and raise KeyError when the signal never had one).
    with contextlib.suppress(KeyError):
        jobs.huey.disconnect_signal(job_failed, SIGNAL_ERROR)
    jobs.huey.signal(SIGNAL_ERROR)(job_failed)
    for target, name, listener in ((Pool, "checkout", _checked_out), (Pool, "checkin", _checked_in),
                                   (Engine, "engine_connect", _engine_seen)):
        if not event.contains(target, name, listener):
            event.listen(target, name, listener)


def _checked_out(*_args) -> None:
    """A pool handed out a connection (class-level listener: every pool of the process)."""
    POOL_CHECKED_OUT.inc()


def _checked_in(*_args) -> None:
    """A connection went back to its pool (also after an invalidation or a garbage-collected leak)."""
    POOL_CHECKED_OUT.dec()


def _engine_seen(connection) -> None:
    """Remember the engines this process uses, for their pool sizes (a new engine is rare: once per app)."""
    engine = connection.engine
    if engine not in _engines:
        _engines.add(engine)
        _note_pool_size()


def _note_pool_size() -> None:
    """The steady size of this process's pools (the one app's pool, in production)."""
    POOL_SIZE.set(sum(engine.pool.size() for engine in list(_engines) if hasattr(engine.pool, "size")))


def _note_memory(force: bool = False) -> None:
    """Read this worker's resident memory now and then: per worker, as multiprocess mode has no process metrics."""
    now = time.monotonic()
    if not force and now - _memory_read["at"] < MEMORY_EVERY:
        return
    with _memory_lock:
        if not force and now - _memory_read["at"] < MEMORY_EVERY:
            return
        _memory_read["at"] = now
    try:
        with open("/proc/self/statm", "rb") as statm:  # Linux; elsewhere the gauge stays unset
            MEMORY.set(int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, IndexError):
        pass


def _label(value: str) -> str:
    """A label value from code, or ``other`` for anything unexpected (a label set must stay small)."""
    return value if isinstance(value, str) and _LABEL.fullmatch(value) else "other"


class _QueueCollector(Collector):
    """The job queue's length, read from its storage at scrape time (shared by every worker and machine)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield the queue's length and whether its storage answered; a failing storage never fails the scrape."""
        try:
            pending = jobs.pending_jobs()
        except Exception:  # Redis down, a locked SQLite file: say so as a metric, not as a failed scrape
            pending = None
        yield GaugeMetricFamily("manifesto_job_queue_reachable", "1 when the job queue's storage answered the scrape.",
                                value=0 if pending is None else 1)
        if pending is not None:
            yield GaugeMetricFamily("manifesto_jobs_pending", "Jobs waiting in the queue or its schedule (retries, "
                                    "delayed jobs).", value=pending)


_queue_collector = _QueueCollector()
registry.register(_queue_collector)


def multiprocess_dir() -> str | None:
    """The directory where workers share their metrics, or None when this process counts alone."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir") or None


def exposition() -> bytes:
    """The Prometheus text of every metric: this process's, or every worker's in multiprocess mode."""
    _note_memory(force=True)
    _note_pool_size()
    if multiprocess_dir() is None:
        return generate_latest(registry)
    # The files hold what the workers counted; the queue is read from its storage, once.
    merged = CollectorRegistry()
    multiprocess.MultiProcessCollector(merged)
    merged.register(_queue_collector)
    return generate_latest(merged)
