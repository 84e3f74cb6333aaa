"""The background job queue (Huey): slow or fragile work leaves the user's request and runs after the commit.

One queue for the whole app. An area declares its jobs with :func:`task` at
import time and queues them with :func:`enqueue`, usually from a function
registered with ``manifesto.services.after_commit``, so a job only ever sees
committed rows. Mail goes this way (a mail server that is down or slow never
fails or slows anybody's action, and a failed send is tried again), and so
do long exports. This module imports no area: the areas come to it.

Where jobs wait: in Redis when ``REDIS_URL`` is set, otherwise in a SQLite
file in the instance folder (``QUEUE_FILE``). Who runs them
(``QUEUE_MODE``):

- ``thread`` (the default): a worker thread inside each process that serves
  requests, started with its first request, so ``flask --app manifesto run``
  stays one command. Jobs live in the queue's storage, so a restart loses none.
- ``worker``: only a separate consumer runs them, for production:
  ``huey_consumer manifesto.worker.huey -k thread -w 2``.
- ``immediate``: right after the commit, in the same process (the tests'
  default, so they are deterministic); a retry or a delayed job waits in
  memory until :func:`run_scheduled_jobs` runs it.

A job runs inside an app context: the caller's in immediate mode, else the
app :func:`init_app` was given (the web process's, or the one
``manifesto.worker`` builds for the consumer).
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from flask import Flask, has_app_context
from huey import Huey
from huey.api import TaskWrapper
from huey.consumer import Consumer
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

log = logging.getLogger(__name__)

MODES = ("thread", "worker", "immediate")

# One instance per process, so that tasks can be declared at import time;
# init_app() points it at the app's storage.
huey = Huey("manifesto", results=False, immediate=True, storage_class=MemoryStorage, utc=True)

_state: dict[str, Any] = {"app": None, "mode": "immediate", "consumer": None, "pid": None}
_consumer_lock = threading.Lock()


def queue_mode(app: Flask) -> str:
    """The app's queue mode: ``QUEUE_MODE``, else immediate under test and a worker thread otherwise.

    :raises ValueError: for an unknown mode, so a typo fails at start-up, not when a job is due.
    """
    mode = (app.config.get("QUEUE_MODE") or ("immediate" if app.testing else "thread")).strip().lower()
    if mode not in MODES:
        raise ValueError(f"QUEUE_MODE must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


def init_app(app: Flask) -> None:
    """Point the queue at Redis or the instance folder's SQLite file, and choose who runs the jobs.

    :raises ValueError: for an unknown ``QUEUE_MODE``.
    """
    mode = queue_mode(app)
    if app.config.get("REDIS_URL"):
        import redis  # a dependency, needed only with REDIS_URL

        # Bounded, so a Redis that accepts connections but never answers cannot hold a request;
        # above the consumer's one-second blocking read.
        pool = redis.ConnectionPool.from_url(app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5)
        huey.storage_class, huey.storage_kwargs = RedisStorage, {"connection_pool": pool}
    else:
        filename = app.config.get("QUEUE_FILE") or os.path.join(app.instance_path, "queue.sqlite3")
        huey.storage_class, huey.storage_kwargs = SqliteStorage, {"filename": filename}
    huey.immediate = mode == "immediate"
    # A fresh storage also empties the in-memory queue of an earlier app (tests build many).
    huey.storage = huey.create_storage()
    _state.update(app=app, mode=mode)
    if mode == "thread":
        app.before_request(_start_worker_thread)


def _start_worker_thread() -> None:
    """Start this process's worker thread with its first request (once per process, after any fork)."""
    if _state["pid"] == os.getpid():
        return
    with _consumer_lock:
        if _state["pid"] == os.getpid() or huey.immediate:
            return
        consumer = _ThreadConsumer(huey, workers=1, worker_type="thread", periodic=False,
                                   check_worker_health=False, max_delay=5.0)
        consumer.start()
        _state.update(consumer=consumer, pid=os.getpid())
        log.info("Job queue: a worker thread runs in process %s", os.getpid())


class _ThreadConsumer(Consumer):
    """Huey's consumer, run as daemon threads inside the web process."""

    def _set_signal_handlers(self) -> None:
        """Leave the signals to the web server (Ctrl-C, gunicorn's TERM); the threads are daemons."""


def stop_worker_thread() -> None:
    """Stop this process's worker thread, if it runs (tests and orderly shutdowns)."""
    with _consumer_lock:
        consumer = _state.get("consumer")
        if consumer is not None and _state.get("pid") == os.getpid():
            consumer.stop(graceful=True)
        _state.update(consumer=None, pid=None)


def _in_app_context(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` run inside an app context: the caller's (immediate mode), else the app the queue belongs to."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        """Call the job in an app context.

        :raises RuntimeError: in a process where no app was built, which cannot know the database.
        """
        if has_app_context():
            return func(*args, **kwargs)
        app = _state.get("app")
        if app is None:
            raise RuntimeError("The job queue has no app in this process: start the consumer with "
                               "'huey_consumer manifesto.worker.huey', which builds the app, "
                               "or call manifesto.jobs.init_app(app) first.")
        with app.app_context():
            return func(*args, **kwargs)

    return run


def task(name: str, *, formerly: str | None = None, **settings: Any) -> Callable[[Callable[..., Any]], TaskWrapper]:
    """Declare a job: ``@jobs.task("manifesto.something")`` over a function that runs inside the app.

    ``name`` is the job's identity in the queue's storage, whichever module
    defines it, so moving the code never strands jobs already queued.
    ``formerly`` is the module whose name prefixed it in an earlier release
    (Huey keys a job by module and name): jobs queued before the upgrade
    still find their function. ``settings`` go to Huey (e.g. ``retries``).
    """

    def declare(func: Callable[..., Any]) -> TaskWrapper:
        """Register ``func`` with the queue under ``name`` (and its former key)."""
        job = _in_app_context(func)
        if formerly:
            former = functools.wraps(func)(lambda *args, **kwargs: job(*args, **kwargs))
            former.__module__ = formerly
            huey.task(name=name, **settings)(former)
        job.__module__ = __name__
        return huey.task(name=name, **settings)(job)

    return declare


def enqueue(job: TaskWrapper, *args: Any, delay: float | None = None, retries: int | None = None,
            retry_delay: float | None = None, retry_backoff: float | None = None) -> None:
    """Queue one run of ``job`` with ``args``: now, or ``delay`` seconds from now.

    A run that raises is tried again ``retries`` times, ``retry_delay``
    seconds later, the delay multiplied by ``retry_backoff`` each time (None:
    what the job was declared with; Huey's default is no retry). Call it
    after the commit (``services.after_commit``): in immediate mode the job
    runs here and now.
    """
    options = {"retries": retries, "retry_delay": retry_delay, "retry_backoff": retry_backoff}
    if delay:
        job.schedule(args, delay=delay, **options)
    else:
        job(*args, **options)


def run_scheduled_jobs(until: datetime | None = None) -> int:
    """Run the delayed jobs (retries) due by ``until``, here and now; return how many ran.

    For the immediate mode, where nothing else reads the schedule: tests use it
    to let time pass. Consumers read the schedule by themselves.
    """
    until = until or datetime.now(timezone.utc)
    due = huey.read_schedule(until.astimezone(timezone.utc).replace(tzinfo=None))
    for job in due:
        huey.execute(job, timestamp=until.astimezone(timezone.utc).replace(tzinfo=None))
    return len(due)


def pending_jobs() -> int:
    """Jobs waiting in the queue or its schedule (for tests and the operator)."""
    return huey.pending_count() + huey.scheduled_count()
