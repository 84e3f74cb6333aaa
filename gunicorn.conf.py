"""Gunicorn settings for Manifesto: ``gunicorn -c gunicorn.conf.py`` (the app is ``wsgi:app``).

Every value can be changed from the environment (below, by name) or on the
command line, which wins over this file. Read with docs/DEPLOYMENT.md.

- ``GUNICORN_BIND``: where to listen; default 127.0.0.1:8000 (a proxy on the
  same machine in front), or 0.0.0.0:$PORT when ``PORT`` is set.
- ``WEB_CONCURRENCY``: worker processes; default two per CPU core.
- ``GUNICORN_THREADS``: threads per worker (gthread); default 4.
- ``GUNICORN_TIMEOUT`` (60), ``GUNICORN_GRACEFUL_TIMEOUT`` (30),
  ``GUNICORN_KEEPALIVE`` (75): seconds, see below.
- ``GUNICORN_MAX_REQUESTS`` (50000) and ``GUNICORN_MAX_REQUESTS_JITTER``
  (a tenth of it): a worker is replaced after that many requests; 0: never.
- ``PROMETHEUS_MULTIPROC_DIR``: where the workers share their metrics;
  default a fresh directory removed when gunicorn stops.
- ``LOG_FORMAT=json``: gunicorn's own lines in JSON too, like the app's.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import shutil
import tempfile
from datetime import datetime, timezone


def _number(name: str, default: int) -> int:
    """An integer setting from the environment (empty counts as unset)."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Shared memory when the machine has it: the workers' heartbeat files and the metrics files are written
# all the time, and a disk-backed /tmp (Docker's overlay, for one) can stall a worker long enough to be killed.
_SHM = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None

# ---------------------------------------------------------------- metrics across workers
# Set before any worker imports prometheus-client (it picks its mode at import): every worker writes its
# counts to files here and a scrape of any one of them adds them all up (manifesto/metrics.py). Always on
# under gunicorn, even with one worker, so the counts of a worker replaced by max_requests are not lost.
# A reload (HUP) reads this file again: the directory made the first time is still ours (to remove at exit).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.environ["MANIFESTO_MADE_METRICS_DIR"] = tempfile.mkdtemp(
        prefix="manifesto-metrics-", dir=_SHM)
METRICS_DIR = os.environ["PROMETHEUS_MULTIPROC_DIR"]
_OWN_METRICS_DIR = os.environ.get("MANIFESTO_MADE_METRICS_DIR") == METRICS_DIR
os.makedirs(METRICS_DIR, exist_ok=True)

# ---------------------------------------------------------------- server
wsgi_app = "wsgi:app"
bind = [os.environ.get("GUNICORN_BIND") or
        (f"0.0.0.0:{os.environ['PORT']}" if os.environ.get("PORT") else "127.0.0.1:8000")]

# Two processes per core: a worker waits on the database and on Redis part of the time, and the reading
# page's rendering holds the GIL, so threads alone would not use a second core.
workers = _number("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1))
# gthread: a few threads per worker overlap database waits, and a keep-alive connection waits in the
# worker's poller without holding a thread (slow phones on conference Wi-Fi hold no worker). Each thread
# may hold one database connection: keep threads (plus the job-queue thread) within the pool's size (5 by
# default), and workers * machines * (pool size + overflow) within PostgreSQL's max_connections.
worker_class = "gthread"
threads = _number("GUNICORN_THREADS", 4)
# The last guard when a worker stops answering its master (the database has its own timeouts, 5 to 10 s,
# and a long PDF goes to the job queue). With gthread the heartbeat comes from the worker's main loop.
timeout = _number("GUNICORN_TIMEOUT", 60)
# On a restart or deploy (HUP, TERM), requests under way get this long to finish.
graceful_timeout = _number("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Longer than the proxy keeps an idle upstream connection (nginx: 60 s), so the proxy never sends a
# request on a connection gunicorn is closing at that moment (a 502 for a POST).
keepalive = _number("GUNICORN_KEEPALIVE", 75)
# A worker is replaced after this many requests, against slow leaks; the jitter keeps the workers from
# restarting together. Not too often: each restart empties that worker's in-memory page cache.
max_requests = _number("GUNICORN_MAX_REQUESTS", 50_000)
max_requests_jitter = _number("GUNICORN_MAX_REQUESTS_JITTER", max_requests // 10)
# Each worker builds its own app after the fork: database pools, the Redis client and the job-queue
# thread must not be shared between processes.
preload_app = False
# The app alone decides what X-Forwarded-* headers to believe (TRUSTED_PROXIES, werkzeug's ProxyFix):
# gunicorn believes none, so there is one place to get it right.
forwarded_allow_ips = ""
worker_tmp_dir = _SHM

# ---------------------------------------------------------------- logs
# The app writes one line per request, with its route, query count, cache outcome and request id
# (manifesto/observability.py); gunicorn's access log would say less, twice.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


class JsonLines(logging.Formatter):
    """Gunicorn's own records as JSON lines, with the fields of the app's (manifesto.observability.JsonFormatter).

    Defined here so that the master never imports the app.
    """

    def format(self, record: logging.LogRecord) -> str:
        """One record, one line of JSON."""
        entry = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage(),
                 "request_id": "-", "pid": record.process}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


if os.environ.get("LOG_FORMAT", "").strip().lower() == "json":
    logconfig_dict = {
        "version": 1,
        # The app's loggers may already exist (preload_app): leave them as they are.
        "disable_existing_loggers": False,
        # Gunicorn merges this into its defaults, whose root logger writes to stdout: the app's records
        # would then come out twice. The root gets no handler; the app has its own (LOG_FORMAT).
        "root": {"level": "WARNING", "handlers": []},
        "loggers": {
            "gunicorn.error": {"level": loglevel.upper(), "handlers": ["json"], "propagate": False,
                               "qualname": "gunicorn.error"},
            # A logging configuration turns gunicorn's access log on; the app's request lines say more.
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False,
                                "qualname": "gunicorn.access"},
        },
        "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "formatters": {"json": {"()": JsonLines}},
    }


# ---------------------------------------------------------------- hooks

def on_starting(server) -> None:
    """Empty the metrics directory of an earlier run: its files would add old counts to new ones.

    Only the metrics files, never anything else that may be in a directory the operator named.
    """
    for path in glob.glob(os.path.join(METRICS_DIR, "*.db")):
        os.remove(path)
    server.log.info("Metrics of all workers are shared in %s", METRICS_DIR)


def child_exit(server, worker) -> None:
    """A worker ended: its live gauges (connections in use, memory) no longer count; its counters still do."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, METRICS_DIR)


def on_exit(server) -> None:
    """Remove the metrics directory this file made (one the operator named is left in place)."""
    if _OWN_METRICS_DIR:
        shutil.rmtree(METRICS_DIR, ignore_errors=True)
