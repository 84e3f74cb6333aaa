"""The job queue at the root (``manifesto.jobs``) and the worker's entry point (``manifesto.worker``).

Jobs run inside the app the queue belongs to, even in a thread or process
with no app context of its own; a process that built no app says how to
start the worker instead of guessing; ``huey_consumer manifesto.worker.huey``
finds every area's jobs on the configured storage, under their names and
under the keys an earlier release queued them with.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone

import pytest
from flask import current_app

from manifesto import jobs

# Every job of the app: its name, and the module that prefixed its key before the queue moved to the root.
JOBS = {"manifesto.notification-mail": "manifesto.notifications.queue",
        "manifesto.digest-mail": "manifesto.notifications.queue",
        "manifesto.export-job": "manifesto.exports.jobs"}

ran: list[str] = []


@jobs.task("manifesto.test-job")
def _test_job(word: str) -> None:
    """Note the word and the app's queue file: proof the job ran, and inside which app."""
    ran.append(f"{word} in {current_app.config['QUEUE_FILE']}")


def _in_a_thread(func) -> BaseException | None:
    """Run ``func`` in a fresh thread, with no app context; return what it raised."""
    raised: list[BaseException] = []

    def run() -> None:
        """Call func, keeping its exception."""
        try:
            func()
        except BaseException as error:  # noqa: BLE001  (handed back to the test)
            raised.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    return raised[0] if raised else None


@pytest.fixture
def queue_file(app, tmp_path):
    """Jobs wait in a queue file for a worker; the test plays the worker."""
    app.config.update(QUEUE_MODE="worker", QUEUE_FILE=str(tmp_path / "queue.sqlite3"))
    jobs.init_app(app)
    yield app.config["QUEUE_FILE"]
    jobs.huey.flush()
    app.config.update(QUEUE_MODE="immediate", QUEUE_FILE=None)
    jobs.init_app(app)


def test_a_job_waits_and_then_runs_inside_the_app_of_the_queue(queue_file):
    ran.clear()
    jobs.enqueue(_test_job, "hello")
    assert ran == [] and jobs.pending_jobs() == 1
    task = jobs.huey.dequeue()
    assert _in_a_thread(lambda: jobs.huey.execute(task)) is None  # a worker thread: no app context of its own
    assert ran == [f"hello in {queue_file}"]


def test_a_delayed_job_waits_for_its_time(app):
    ran.clear()
    jobs.enqueue(_test_job, "later", delay=60)
    assert ran == [] and jobs.huey.scheduled_count() == 1
    assert jobs.run_scheduled_jobs() == 0
    assert jobs.run_scheduled_jobs(datetime.now(timezone.utc) + timedelta(seconds=61)) == 1
    assert len(ran) == 1 and ran[0].startswith("later in ")


def test_a_process_that_built_no_app_says_how_to_start_the_worker(app, monkeypatch):
    monkeypatch.setitem(jobs._state, "app", None)
    error = _in_a_thread(lambda: _test_job.call_local("lost"))
    assert isinstance(error, RuntimeError) and "huey_consumer manifesto.worker.huey" in str(error)


def test_jobs_queued_by_the_previous_release_still_find_their_function(app):
    keys = set(jobs.huey._registry._registry)
    for name, formerly in JOBS.items():
        assert f"manifesto.jobs.{name}" in keys and f"{formerly}.{name}" in keys
    # An export job queued under its old key, for a job that no longer exists: it runs and does nothing.
    old = jobs.huey._registry.string_to_task("manifesto.exports.jobs.manifesto.export-job")
    jobs.huey.execute(old((10**9,), {}))


def _worker(app, tmp_path, **env) -> subprocess.CompletedProcess:
    """Import ``manifesto.worker`` as huey_consumer does, in a fresh process; it prints its storage and jobs."""
    code = ("import manifesto.worker as w; s = w.huey.storage; "
            "print(type(s).__name__, getattr(s, 'filename', '')); "
            "print(' '.join(sorted(w.huey._registry._registry)))")
    environment = {key: value for key, value in os.environ.items() if key not in ("QUEUE_FILE", "REDIS_URL")}
    environment.update(DATABASE_URL=app.config["DATABASE_URL"], SECRET_KEY="x",
                       MANIFESTO_INSTANCE_PATH=str(tmp_path / "instance"), **env)
    return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("queue_file", [None, "elsewhere.sqlite3"])
def test_the_worker_entry_point_finds_the_configured_queue_and_every_job(app, tmp_path, queue_file):
    expected = str(tmp_path / queue_file) if queue_file else str(tmp_path / "instance" / "queue.sqlite3")
    result = _worker(app, tmp_path, QUEUE_MODE="worker", **({"QUEUE_FILE": expected} if queue_file else {}))
    assert result.returncode == 0, result.stderr
    storage, registered = result.stdout.strip().splitlines()[-2:]
    assert storage == f"SqliteStorage {expected}"
    for name, formerly in JOBS.items():
        assert f"manifesto.jobs.{name}" in registered.split() and f"{formerly}.{name}" in registered.split()


def test_the_worker_entry_point_refuses_the_immediate_mode_in_our_words(app, tmp_path):
    result = _worker(app, tmp_path, QUEUE_MODE="immediate")
    assert result.returncode != 0
    assert "QUEUE_MODE is 'immediate' for this app: a worker has nothing to consume." in result.stderr
