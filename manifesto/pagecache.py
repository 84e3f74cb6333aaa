"""The page cache: the expensive part of a page rendered once per state of its content, served many times.

**The rule.** A key names everything the cached HTML depends on: the page,
the counters of the content it shows (``audit/states.py``), the language,
the variant its reader's role sees, the page's own options, and the code
that renders it (``fingerprint``: a hash of the package's templates,
catalogues and Python files, so an entry written by older code is never
read by newer code). A key's value therefore never changes: an entry is
never invalidated, only no longer asked for, and any copy of it, in any
process, is as good as any other. What differs per person (the header,
the CSRF token, the unread count, one's own forms and drafts) is never in
an entry: views compose it around the cached part at request time.

**Where.** Two tiers. Each process keeps recent entries in memory (bounded
in bytes, least recently used first out). With ``REDIS_URL`` the entries are
also shared through Redis, so a page rendered by one worker or machine is
served by all. ``PAGE_CACHE``: ``auto`` (Redis when ``REDIS_URL`` is set,
else memory), ``memory``, ``redis`` or ``off``.

**No stampede.** When a write makes hundreds of readers miss at once, one
renders and the others wait for its result (``PAGE_CACHE_WAIT`` seconds at
most, then they render themselves): threads of one process wait on a lock,
processes on a short Redis lock (``SET NX`` with an expiry, so a crashed
renderer holds nobody for long).

**Redis down.** Every Redis call is bounded by a short timeout; a failure is
logged, counted (``metrics.page_cache("error")``) and switches the shared tier
off for a few seconds. Pages are still served, from memory or rendered from
the database: slower, never an error.

**Conditional requests.** :func:`etag` builds a weak validator from the same
parts as the key (plus what is personal for a logged-in reader), and
:func:`answer_if_fresh` answers ``If-None-Match`` with 304 before anything is
rendered.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import sys
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from flask import Flask, Response, current_app, g, request

from . import metrics

log = logging.getLogger(__name__)

_EXTENSION = "manifesto.pagecache"
_FORMAT = b"MPC1"  # the shared tier's value format: anything else reads as a miss
_PACKAGE = Path(__file__).resolve().parent


def fingerprint(root: Path = _PACKAGE) -> str:
    """A short hash of the code that renders pages: templates, catalogues and Python files."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in {".py", ".html", ".mo", ".css", ".js"} and path.is_file():
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


class MemoryStore:
    """Entries of one process, bounded in bytes; the least recently used leave first."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[str, tuple[str, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        """The entry under ``key``, or None."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            self._entries.move_to_end(key)
            return found[0]

    def set(self, key: str, value: str) -> None:
        """Keep ``value`` under ``key``, making room; a value bigger than a quarter of the budget is not kept."""
        size = sys.getsizeof(value) + sys.getsizeof(key)
        if size > self.max_bytes // 4:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.bytes -= old[1]
            self._entries[key] = (value, size)
            self.bytes += size
            while self.bytes > self.max_bytes and self._entries:
                _, (_, freed) = self._entries.popitem(last=False)
                self.bytes -= freed
            held = self.bytes
        metrics.page_cache_memory(held)

    def __len__(self) -> int:
        return len(self._entries)


class SharedStore:
    """Entries shared by every process through Redis, with a short lock per key against stampedes."""

    PAUSE_AFTER_FAILURE = 5.0  # seconds without Redis after a failure, so no request waits for its timeout

    def __init__(self, url: str, ttl: int, lock_ttl: float, prefix: str) -> None:
        import redis  # a dependency, imported only when a shared cache is configured

        self.errors = (redis.RedisError, OSError)
        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.ttl = ttl
        self.lock_ttl_ms = int(lock_ttl * 1000)
        self.prefix = prefix
        self.down_until = 0.0
        self._release = self.client.register_script(
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0")

    def available(self) -> bool:
        """False for a few seconds after a failure."""
        return time.monotonic() >= self.down_until

    def failed(self, exc: BaseException) -> None:
        """Note a failure: log it once per pause, count it, and pause the shared tier."""
        metrics.page_cache("error")
        if self.available():
            log.warning("page cache: Redis unavailable (%s: %s); serving pages from the database for %.0f s",
                        type(exc).__name__, exc, self.PAUSE_AFTER_FAILURE)
        self.down_until = time.monotonic() + self.PAUSE_AFTER_FAILURE

    def get(self, key: str) -> str | None:
        """The shared entry under ``key``, or None (also when Redis fails or the entry is of another format)."""
        if not self.available():
            return None
        try:
            raw = self.client.get(self.prefix + key)
        except self.errors as exc:
            self.failed(exc)
            return None
        if not raw or not raw.startswith(_FORMAT):
            return None
        try:
            return zlib.decompress(raw[len(_FORMAT):]).decode("utf-8")
        except (zlib.error, UnicodeDecodeError):
            return None  # a damaged entry is a miss; the next render overwrites it

    def set(self, key: str, value: str) -> None:
        """Share ``value`` under ``key`` for ``ttl`` seconds (compressed: it crosses the network)."""
        if not self.available():
            return
        try:
            self.client.set(self.prefix + key, _FORMAT + zlib.compress(value.encode("utf-8"), 1), ex=self.ttl)
        except self.errors as exc:
            self.failed(exc)

    def lock(self, key: str) -> str | None:
        """Take the key's render lock: a token to release it with, None when someone else holds it.

        :raises: the Redis errors, so the caller can tell "taken" from "unavailable".
        """
        token = secrets.token_hex(8)
        if self.client.set(self.prefix + "lock:" + key, token, nx=True, px=self.lock_ttl_ms):
            return token
        return None

    def unlock(self, key: str, token: str) -> None:
        """Release the render lock if it is still ours."""
        try:
            self._release(keys=[self.prefix + "lock:" + key], args=[token])
        except self.errors as exc:
            self.failed(exc)


class PageCache:
    """The two tiers and the render locks of one process."""

    def __init__(self, memory: MemoryStore | None, shared: SharedStore | None, wait: float, code: str) -> None:
        self.memory = memory
        self.shared = shared
        self.wait = wait
        self.code = code
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def _lock_for(self, key: str) -> threading.Lock:
        """The in-process render lock of ``key``."""
        with self._locks_guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
            return lock

    def _drop_lock(self, key: str) -> None:
        """Forget the key's lock once nobody holds it (keys change with every state)."""
        with self._locks_guard:
            lock = self._locks.get(key)
            if lock is not None and not lock.locked():
                del self._locks[key]

    def _look(self, key: str) -> str | None:
        """The entry from memory, else from the shared tier (kept in memory then)."""
        if self.memory is not None:
            found = self.memory.get(key)
            if found is not None:
                return found
        if self.shared is not None:
            found = self.shared.get(key)
            if found is not None and self.memory is not None:
                self.memory.set(key, found)
            return found
        return None

    def _keep(self, key: str, value: str) -> None:
        """Store a fresh render in both tiers."""
        if self.memory is not None:
            self.memory.set(key, value)
        if self.shared is not None:
            self.shared.set(key, value)

    def get_or_render(self, key: str, render: Callable[[], str]) -> tuple[str, str]:
        """The entry under ``key``, rendering it once however many ask at once; and how it was found.

        The second value is ``hit``, ``miss`` (rendered here), ``wait`` (rendered by another request
        while this one waited) or ``error`` (the shared tier failed; rendered here).
        """
        key = f"{self.code}:{key}"
        found = self._look(key)
        if found is not None:
            return found, "hit"
        lock = self._lock_for(key)
        waited = not lock.acquire(blocking=False)
        if waited and not lock.acquire(timeout=self.wait):
            return render(), "miss"  # the renderer is stuck: do not make everyone else stuck too
        try:
            if waited:
                found = self._look(key)
                if found is not None:
                    return found, "wait"
            return self._render_across_processes(key, render)
        finally:
            lock.release()
            self._drop_lock(key)

    def _render_across_processes(self, key: str, render: Callable[[], str]) -> tuple[str, str]:
        """Render under the shared lock, or wait for the process that holds it."""
        if self.shared is None or not self.shared.available():
            value = render()
            self._keep(key, value)
            return value, "miss" if self.shared is None or self.shared.available() else "error"
        try:
            token = self.shared.lock(key)
        except self.shared.errors as exc:
            self.shared.failed(exc)
            value = render()
            self._keep(key, value)
            return value, "error"
        if token is None:
            deadline = time.monotonic() + self.wait
            while time.monotonic() < deadline and self.shared.available():
                time.sleep(0.02)
                found = self.shared.get(key)
                if found is not None:
                    if self.memory is not None:
                        self.memory.set(key, found)
                    return found, "wait"
            value = render()
            self._keep(key, value)
            return value, "miss"
        try:
            value = render()
            self._keep(key, value)
            return value, "miss"
        finally:
            self.shared.unlock(key, token)


def init_app(app: Flask) -> None:
    """Choose the page cache's tiers from ``PAGE_CACHE`` and ``REDIS_URL``."""
    mode = (app.config.get("PAGE_CACHE") or "auto").lower()
    redis_url = app.config.get("REDIS_URL")
    if mode not in {"auto", "memory", "redis", "off"}:
        raise ValueError(f"PAGE_CACHE must be auto, memory, redis or off, not {mode!r}")
    if mode == "redis" and not redis_url:
        raise ValueError("PAGE_CACHE=redis needs REDIS_URL")
    code = fingerprint()
    memory = None
    if mode != "off":
        memory = MemoryStore(int(float(app.config.get("PAGE_CACHE_MEMORY_MB", 64)) * 1024 * 1024))
    shared = None
    if mode == "redis" or (mode == "auto" and redis_url):
        shared = SharedStore(redis_url, ttl=int(app.config.get("PAGE_CACHE_TTL", 6 * 3600)),
                             lock_ttl=float(app.config.get("PAGE_CACHE_LOCK_TTL", 30.0)),
                             prefix=app.config.get("PAGE_CACHE_PREFIX", "manifesto:page:"))
    app.extensions[_EXTENSION] = PageCache(memory, shared, wait=float(app.config.get("PAGE_CACHE_WAIT", 5.0)),
                                           code=code) if mode != "off" else None


def cache() -> PageCache | None:
    """This app's page cache, or None when it is off."""
    return current_app.extensions.get(_EXTENSION)


def cached(key: str, render: Callable[[], str], *, count: bool = True) -> str:
    """The HTML under ``key``, rendered by ``render`` only when no tier has it (see the module docstring).

    ``count=False`` for an entry that wraps another cached one: its misses render the inner entry,
    which counts itself, so only its hits and waits are counted (one outcome per request).
    """
    pages = cache()
    if pages is None:
        g.page_cache = "off"
        return render()
    value, outcome = pages.get_or_render(key, render)
    if count or outcome in ("hit", "wait"):
        g.page_cache = outcome
        metrics.page_cache(outcome)
    return value


# ------------------------------------------------------------ validators

def etag(*parts: object) -> str:
    """A short weak-validator value from everything a response depends on."""
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:24]


def answer_if_fresh(tag: str, last_modified: datetime | None, *, shared: bool) -> Response | None:
    """A 304 when the request's ``If-None-Match`` names ``tag`` (or is ``*``), else None.

    Only ``If-None-Match`` is trusted: ``If-Modified-Since`` alone has a one-second resolution
    and knows nothing of the reader's language or role, so it is answered in full.
    """
    if request.method not in {"GET", "HEAD"} or not request.if_none_match:
        return None
    if not request.if_none_match.contains_weak(tag):
        return None
    response = Response(status=304)
    set_validators(response, tag, last_modified, shared=shared)
    return response


def set_validators(response: Response, tag: str, last_modified: datetime | None, *, shared: bool) -> Response:
    """Give ``response`` its weak ETag, ``Last-Modified`` and the caching policy for its reader.

    ``shared``: the whole body is the same for every visitor with these validators, so a proxy
    may keep it (and revalidate); otherwise it is one person's page.
    """
    response.set_etag(tag, weak=True)
    if last_modified is not None:
        response.last_modified = last_modified
    response.headers["Cache-Control"] = "public, no-cache" if shared else "private, no-cache"
    response.vary.update(("Cookie", "Accept-Language"))
    return response
