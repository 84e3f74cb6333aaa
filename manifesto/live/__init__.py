"""Live updates: open pages learn within a second that a part of them changed, and ask for it again.

- ``publishing.py``: after each commit, a notice for every content-state
  scope it bumped (``audit/states.py``) and every topic a service named with
  :func:`announce`; nothing for a rollback.
- ``broker.py``: Redis publish/subscribe with ``REDIS_URL`` (one subscriber
  thread per process, fanning out to each stream's mailbox), else within
  this process; event ids that only grow.
- ``topics.py`` and ``checks.py``: which topics a reader may follow (the
  pages' own rules).
- ``views.py``: ``/live/stream`` (Server-Sent Events) and ``/live/poll``.

The browser's part is ``static/live.js`` with the macros of
``templates/live/_macros.html``: a region names its topics and the address
of its fragment; on a notice the script fetches the fragment with the
reader's own rights. Notices carry no content, so nothing private leaks;
except that ``content.py`` renders, once per process, the fragment of a
topic that every follower sees alike (the projector), and hands it to the
streams that asked for it, so 200 screens do not fetch it 200 times.
"""

from __future__ import annotations

from flask import Flask

from .. import delivery
from . import checks, publishing, views
from .broker import MemoryBroker, RedisBroker
from .content import Pump, register_content
from .publishing import announce
from .topics import register_topic

__all__ = ["announce", "init_app", "register_content", "register_topic"]


def make_broker(app: Flask):
    """The broker the settings ask for: ``LIVE_BROKER`` auto (Redis with ``REDIS_URL``), memory or redis.

    :raises ValueError: for an unknown ``LIVE_BROKER``, or redis without ``REDIS_URL``.
    """
    mode = str(app.config.get("LIVE_BROKER") or "auto").lower()
    url = app.config.get("REDIS_URL")
    if mode not in ("auto", "memory", "redis"):
        raise ValueError(f"LIVE_BROKER must be auto, memory or redis, not {mode!r}")
    if mode == "redis" and not url:
        raise ValueError("LIVE_BROKER=redis needs REDIS_URL")
    if mode == "redis" or (mode == "auto" and url):
        return RedisBroker(url, prefix=app.config["LIVE_PREFIX"], remember=int(app.config["LIVE_REMEMBER"]))
    return MemoryBroker()


def init_app(app: Flask) -> None:
    """Wire live updates: the broker, the stream's addresses, the commit hooks, who may follow what."""
    broker = app.extensions["live"] = make_broker(app)
    if app.config.get("LIVE_CONTENT", True):
        broker.hub.pump = Pump(app)
    app.register_blueprint(views.bp)
    delivery.never_set_cookie_under("/live/")
    publishing.install()
    checks.register()
    app.jinja_env.globals["live_since"] = views.since_now
    if app.config.get("LIVE_EVENTS_ONLY"):
        app.before_request(views.only_live)
