"""The background job queue (Huey): email leaves after the commit, never inside the user's request.

A write service that has mail to send registers it with
``manifesto.services.after_commit``; once the transaction has committed, the
job is put on this queue and a worker sends it. A mail server that is down
or slow therefore never fails or slows anybody's action, and a failed send is
tried again (``MAIL_RETRIES`` times, ``MAIL_RETRY_DELAY`` seconds apart at
first, doubling each time).

Where jobs wait: in Redis when ``REDIS_URL`` is set, otherwise in a SQLite
file in the instance folder (``QUEUE_FILE``). Who runs them
(``QUEUE_MODE``):

- ``thread`` (the default): a worker thread inside each process that serves
  requests, started with its first request, so ``flask --app manifesto run``
  stays one command. Jobs live in the queue's storage, so a restart loses none.
- ``worker``: only a separate consumer runs them, for production:
  ``huey_consumer manifesto.notifications.worker.huey -k thread -w 2``.
- ``immediate``: right after the commit, in the same process (the tests'
  default, so they are deterministic); a retry waits in memory until
  :func:`run_scheduled_jobs` runs it.

The export work that follows reuses this queue: define a task with
``@huey.task()`` here or in the area that needs it.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import Huey
from huey.consumer import Consumer
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

log = logging.getLogger(__name__)

MODES = ("thread", "worker", "immediate")

# One instance per process, so that tasks can be declared at import time;
# init_queue() points it at the app's storage.
huey = Huey("manifesto", results=False, immediate=True, storage_class=MemoryStorage, utc=True)

_state: dict[str, Any] = {"app": None, "mode": "immediate", "consumer": None, "pid": None}
_consumer_lock = threading.Lock()


def queue_mode(app: Flask) -> str:
    """The app's queue mode: ``QUEUE_MODE``, else immediate under test and a worker thread otherwise.

    :raises ValueError: for an unknown mode, so a typo fails at start-up, not when mail is due.
    """
    mode = (app.config.get("QUEUE_MODE") or ("immediate" if app.testing else "thread")).strip().lower()
    if mode not in MODES:
        raise ValueError(f"QUEUE_MODE must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


def init_queue(app: Flask) -> None:
    """Point the queue at Redis or the instance folder's SQLite file, and choose who runs the jobs."""
    mode = queue_mode(app)
    if app.config.get("REDIS_URL"):
        huey.storage_class, huey.storage_kwargs = RedisStorage, {"url": app.config["REDIS_URL"]}
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


def with_app(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run a job inside an app context: the caller's (immediate mode), else the app the queue belongs to."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        """Call the job in an app context."""
        if has_app_context():
            return func(*args, **kwargs)
        app = _state.get("app")
        if app is None:  # a bare consumer process: build the app once
            from .. import create_app

            app = create_app()
        with app.app_context():
            return func(*args, **kwargs)

    return run


def retry_options() -> dict[str, Any]:
    """How a mail job is retried, from the config: count, first delay (s), and the doubling."""
    config = current_app.config
    return {"retries": int(config.get("MAIL_RETRIES", 5)), "retry_delay": float(config.get("MAIL_RETRY_DELAY", 60)),
            "retry_backoff": 2}


@huey.task(name="manifesto.notification-mail")
def _notification_mail_job(event_id: int) -> None:
    """Send the immediate emails of one event; raising makes Huey try again later."""
    from .mail import deliver_event_mail

    with_app(deliver_event_mail)(event_id)


@huey.task(name="manifesto.digest-mail")
def _digest_mail_job(digest_id: int) -> None:
    """Send one claimed digest (a retry after a failed send); raising makes Huey try again later."""
    from .digests import deliver_digest

    with_app(deliver_digest)(digest_id)


def enqueue_event_mail(event_id: int) -> None:
    """Queue the immediate emails of one event (call it after the commit)."""
    _notification_mail_job(event_id, **retry_options())


def enqueue_digest_retry(digest_id: int) -> None:
    """Queue another try of a digest whose send failed, after the first retry delay."""
    options = retry_options()
    _digest_mail_job.schedule((digest_id,), delay=options["retry_delay"], retries=max(0, options["retries"] - 1),
                              retry_delay=options["retry_delay"] * 2, retry_backoff=2)


def run_scheduled_jobs(until: datetime | None = None) -> int:
    """Run the delayed jobs (retries) due by ``until``, here and now; return how many ran.

    For the immediate mode, where nothing else reads the schedule: tests use it
    to let time pass. Consumers read the schedule by themselves.
    """
    until = until or datetime.now(timezone.utc)
    due = huey.read_schedule(until.astimezone(timezone.utc).replace(tzinfo=None))
    for task in due:
        huey.execute(task, timestamp=until.astimezone(timezone.utc).replace(tzinfo=None))
    return len(due)


def pending_jobs() -> int:
    """Jobs waiting in the queue or its schedule (for tests and the operator)."""
    return huey.pending_count() + huey.scheduled_count()
