"""Entry point of the job queue's worker process, for production.

    huey_consumer manifesto.worker.huey -k thread -w 2

Importing this module builds the app once (same settings as the web
processes: environment, ``instance/config.py``), which points the queue at
its storage (``REDIS_URL``, or the instance folder's SQLite file), registers
every area's jobs and lets them run inside that app. Set
``QUEUE_MODE=worker`` for the web processes so that they leave the jobs to
this worker. It sits above everything: nothing in ``manifesto`` imports it.
"""

from __future__ import annotations

from . import create_app
from .jobs import huey

app = create_app()
if huey.immediate:  # the consumer refuses immediate mode; say why in our words
    raise RuntimeError("QUEUE_MODE is 'immediate' for this app: a worker has nothing to consume. "
                       "Unset it or set QUEUE_MODE=worker.")

__all__ = ["app", "huey"]
