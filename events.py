"""The events process: serves ``/live/`` (the Server-Sent Events streams and their polling) and nothing else.

A stream holds a thread for as long as a page is open, so streams are kept
away from the page workers: the proxy sends ``/live/`` here, and everything
else to ``wsgi:app``. Run it with many threads and one or two workers
(each worker listens to Redis once and fans out to its own streams)::

    LIVE_STREAMS_PER_PROCESS=500 gunicorn -c gunicorn.conf.py -w 1 --threads 512 \\
        --bind 127.0.0.1:8001 events:app

It needs ``REDIS_URL`` (the same as the app's): the changes are made by the
page workers, other processes. ``LIVE_STREAMS_PER_PROCESS`` defaults to 500
here; keep it a little under ``--threads`` so that polls and the health
check still find a thread. Read with docs/DEPLOYMENT.md.
"""

import os

from manifesto import create_app

# QUEUE_MODE=worker: this process queues nothing and runs no job (the page workers or the consumer do).
app = create_app({"LIVE_EVENTS_ONLY": True, "QUEUE_MODE": "worker",
                  "LIVE_STREAMS_PER_PROCESS": int(os.environ.get("LIVE_STREAMS_PER_PROCESS") or 500)})
