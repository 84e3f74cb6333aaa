"""How responses leave: compressed, static files named by their content, no cookie for visitors, cache headers.

The rules, in the order a response meets them:

1. **Compression** (Flask-Compress): brotli and gzip, zstd when the client
   asks for it, for text, HTML, CSS, JavaScript, JSON, SVG and XML of at
   least ``COMPRESS_MIN_SIZE`` bytes. Never a response that is already
   encoded, never a stream (``text/event-stream``, a generator):
   compressing one would hold its chunks back. A file of known, modest
   length (a static file, a text export) is read whole, then compressed. The
   client's ``Accept-Encoding`` is read by :func:`accepted_encodings`, which
   keeps only the codings we speak, with a valid quality above zero, so a
   huge or garbage header costs nothing and fills no cache. A response whose
   whole body is shared (the page cache sets ``g.compress_key``: a visitor's
   page is the same for everyone with the same ETag) is compressed once per
   key and encoding, kept in :class:`CompressedBodies`, a small LRU bounded in
   bytes. Weak ETags pass untouched and a 304 stays a 304 (Flask-Compress
   suffixes only strong ETags, and compresses only 2xx answers).
2. **Static files** carry a hash of their content in their address:
   ``url_for('static', filename=...)`` gives ``...?v=<hash>``. Asked with
   the file's current hash, a static file may be kept a year
   (``public, max-age=31536000, immutable``); without it, or with an old one,
   it is revalidated (``public, no-cache``). A changed file changes its
   address, so nobody keeps an old style sheet.
3. **No cookie for visitors.** The session cookie is written only when the
   session holds something: a login, or the CSRF token of a form the page
   really printed (:class:`DeferredCSRF`: a form built but not shown makes no
   token). A session that holds something is kept ``PERMANENT_SESSION_LIFETIME``
   (30 days), logins and CSRF tokens with it.
4. **Cache-Control** for every response that has none: ``no-store`` for
   errors and anything but GET and HEAD; ``private, no-cache`` (and
   ``Vary: Cookie``) when the response sets a cookie or the reader is logged
   in; else ``public, no-cache`` with ``Vary: Cookie, Accept-Language``
   (the language comes from a cookie or that header), so a proxy may keep a
   visitor's page and must ask again before serving it. A Cache-Control set
   earlier (the page cache, exports) is left alone.

Rules 3 and 4 live in :class:`DeliverySessionInterface`: Flask writes the
session cookie after every ``after_request`` hook (Flask-Login's and the
page cache's among them), so only the session's save sees every cookie a
response sets.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from typing import Any

from flask import Flask, current_app, g, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_compress import Compress
from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

# What is worth compressing. Images other than SVG, fonts (woff2), PDF and
# DOCX are compressed already; text/event-stream is a stream (never compressed).
COMPRESSED_TYPES = ["text/html", "text/css", "text/plain", "text/xml", "text/javascript", "application/javascript",
                    "application/json", "application/xml", "image/svg+xml"]
# Our codings in order of preference when the client likes several equally:
# brotli compresses the reading page best for its CPU (see scripts/bench_compression.py),
# gzip is what every client speaks, zstd only for a client that asks for it.
ENCODINGS = ("br", "gzip", "zstd")
# A file sent as a stream (send_file) is read into memory to be compressed up to this size; larger ones go as they are.
FILE_COMPRESS_MAX_BYTES = 4 << 20
# An Accept-Encoding longer than this is cut: real browsers send under 60 characters.
ACCEPT_ENCODING_MAX_CHARS = 512
YEAR = 31536000
IMMUTABLE = f"public, max-age={YEAR}, immutable"
REVALIDATE = "public, no-cache"
PRIVATE = "private, no-cache"
NO_STORE = "no-store"


def init_app(app: Flask) -> None:
    """Install compression, hashed static URLs and the cookie and cache policy."""
    # Flask-Compress reads its settings once, in init_app; ours are defaults the config may override.
    for name, value in compression_defaults(app).items():
        app.config.setdefault(name, value)
    # One per app: Flask-Compress keeps its settings and its cache on the instance.
    app.extensions["compress"] = Compress(app)
    app.after_request(compress_response)
    app.url_defaults(add_static_version)
    app.session_interface = DeliverySessionInterface()
    FlaskForm.Meta.csrf_class = DeferredCSRF


# ------------------------------------------------------------------ compression

def compression_defaults(app: Flask) -> dict[str, Any]:
    """Flask-Compress's settings as we want them (levels measured on the 700 KiB reading page)."""
    return {
        "COMPRESS_MIMETYPES": COMPRESSED_TYPES,
        "COMPRESS_ALGORITHM": list(ENCODINGS),
        # A stream is never compressed (compress_response reads the files worth it into memory first).
        "COMPRESS_STREAMS": False,
        "COMPRESS_LEVEL": 6,  # gzip
        "COMPRESS_BR_LEVEL": 4,
        "COMPRESS_ZSTD_LEVEL": 3,
        "COMPRESS_MIN_SIZE": 500,
        # compress_response calls Flask-Compress itself, after cleaning Accept-Encoding.
        "COMPRESS_REGISTER": False,
        "COMPRESS_CACHE_KEY": compress_key,
        "COMPRESS_CACHE_BACKEND": lambda: CompressedBodies(app.config.get("COMPRESSED_BODIES_MAX_BYTES", 16 << 20)),
    }


def compress_response(response: Response) -> Response:
    """Compress what the client accepts and is worth it; a stream goes as it is, a modest file is read first."""
    if response.is_streamed and _file_worth_compressing(response):
        response.make_sequence()  # the body is now in memory, like a page's
        # Passed through directly, a list would leave the response's close (which closes the file) uncalled.
        response.direct_passthrough = False
    header = request.headers.get("Accept-Encoding", "")
    cleaned = accepted_encodings(header)
    if cleaned != header:
        # Flask-Compress reads the header from the environ (and remembers each distinct value it saw).
        request.environ["HTTP_ACCEPT_ENCODING"] = cleaned
    return current_app.extensions["compress"].after_request(response)


def _file_worth_compressing(response: Response) -> bool:
    """A streamed response that is a whole file of known, modest length, of a type worth compressing."""
    length = response.content_length
    return (length is not None and current_app.config["COMPRESS_MIN_SIZE"] <= length <= FILE_COMPRESS_MAX_BYTES
            and response.mimetype in current_app.config["COMPRESS_MIMETYPES"]
            and "Content-Encoding" not in response.headers)


def accepted_encodings(header: str) -> str:
    """The codings of an Accept-Encoding we speak, each with its quality: ``"br;q=1, gzip;q=0.5"``.

    Anything else is dropped: unknown codings, a quality that is not a number
    from 0 to 1, and codings refused with ``q=0`` (which Flask-Compress
    would otherwise choose). ``identity`` and ``*`` are kept, as the client's
    word on no compression and on any. The result is short and takes few
    distinct values, whatever was sent.
    """
    qualities: dict[str, float] = {}
    for part in header[:ACCEPT_ENCODING_MAX_CHARS].lower().split(","):
        name, _, params = part.partition(";")
        name = name.strip()
        if name not in ENCODINGS and name not in ("identity", "*"):
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = -1.0
        if 0 < quality <= 1 and name not in qualities:
            qualities[name] = max(round(quality, 3), 0.001)  # a tiny quality is still a yes, never a q=0
    return ", ".join(f"{name};q={quality:g}" for name, quality in qualities.items())


def compress_key(_request) -> str:
    """The key under which a response's compressed body is shared: ``g.compress_key``, or "" (not shared)."""
    return g.get("compress_key") or ""


class CompressedBodies:
    """Compressed bodies of shared responses, least recently used dropped first, at most ``max_bytes`` in all.

    Flask-Compress asks ``get(key)`` and then ``set(key, body)`` with keys
    ``"<encoding>;<compress_key>"``; a key with no ``compress_key`` (a page
    that is not the same for everyone) is never kept. One per process;
    threads share it under a lock.
    """

    def __init__(self, max_bytes: int) -> None:
        """An empty store that will hold at most ``max_bytes`` of bodies."""
        self.max_bytes = max_bytes
        self.size = 0
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _shared(key: str) -> bool:
        """Whether the key names a shared body (Flask-Compress asks with an empty page key otherwise)."""
        return bool(key.partition(";")[2])

    def get(self, key: str) -> bytes | None:
        """The compressed body kept under ``key``, now the most recently used; None when not kept."""
        if not self._shared(key):
            return None
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
            return body

    def set(self, key: str, value: bytes) -> None:
        """Keep ``value`` under ``key``, dropping the least recently used bodies to stay within the bound."""
        if not self._shared(key) or len(value) > self.max_bytes:
            return
        with self._lock:
            old = self._bodies.pop(key, None)
            if old is not None:
                self.size -= len(old)
            self._bodies[key] = value
            self.size += len(value)
            while self.size > self.max_bytes:
                _, dropped = self._bodies.popitem(last=False)
                self.size -= len(dropped)

    def __len__(self) -> int:
        """How many bodies are kept."""
        return len(self._bodies)


# ------------------------------------------------------------------ static files

_versions: dict[str, tuple[int, int, str]] = {}


def static_version(filename: str) -> str | None:
    """A short hash of a static file's bytes (read again only when its mtime or size changes); None if absent."""
    folder = current_app.static_folder
    path = safe_join(folder, filename) if folder else None
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    known = _versions.get(path)
    if known is not None and known[:2] == (stat.st_mtime_ns, stat.st_size):
        return known[2]
    try:
        with open(path, "rb") as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()[:12]
    except OSError:  # a folder, or gone since the stat
        return None
    _versions[path] = (stat.st_mtime_ns, stat.st_size, digest)
    return digest


def add_static_version(endpoint: str, values: dict[str, Any]) -> None:
    """``url_for('static', filename=...)`` names the file's content (``?v=<hash>``), so a new file is a new address."""
    if endpoint != "static" or "v" in values or "filename" not in values:
        return
    version = static_version(values["filename"])
    if version is not None:
        values["v"] = version


def static_cache_control(response: Response) -> None:
    """A year for the address of the current file, revalidation for any other (an old page's, or no hash)."""
    filename = (request.view_args or {}).get("filename", "")
    asked = request.args.get("v")
    current = asked and static_version(filename)
    response.headers["Cache-Control"] = IMMUTABLE if asked and asked == current else REVALIDATE


# ------------------------------------------------------------------ cookies and cache policy

class DeferredCSRF(_FlaskFormCSRF):
    """Flask-WTF's form CSRF, except that the token is made (and written to the session) only when printed.

    Pages build forms their reader is not shown (a moderator's decision form
    on an amendment page, the revert form of a section); a token made for
    nothing would give every visitor a session cookie.
    """

    def generate_csrf_token(self, csrf_token_field):
        """A token that becomes the real one when the page prints it."""
        return DeferredToken(lambda: super(DeferredCSRF, self).generate_csrf_token(csrf_token_field))


class DeferredToken:
    """A CSRF token made on first use as text (``str`` or HTML)."""

    def __init__(self, make) -> None:
        """Remember how to make the token."""
        self._make = make
        self._token: str | None = None

    def __str__(self) -> str:
        """The token, made now if this is the first use."""
        if self._token is None:
            self._token = self._make()
        return self._token

    def __html__(self) -> str:
        """The token in a template (it is URL-safe text: nothing to escape)."""
        return str(self)


# Address prefixes whose answers never carry the session cookie (the JSON API reads no cookie: a
# refreshed one on its public answers could be kept by a shared cache and handed to the next caller).
_cookieless: set[str] = set()


def never_set_cookie_under(prefix: str) -> None:
    """Let an area declare addresses whose answers must never set the session cookie."""
    _cookieless.add(prefix)


class DeliverySessionInterface(SecureCookieSessionInterface):
    """The signed-cookie session, whose save is the last word on a response: cookie lifetime and Cache-Control."""

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        """Never under a cookieless prefix (the API); else as Flask decides (refreshed on each request)."""
        if _cookieless and request.path.startswith(tuple(_cookieless)):
            return False
        return super().should_set_cookie(app, session)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Keep a session that holds something for 30 days, write the cookie, then decide Cache-Control."""
        if session and not session.permanent:
            # A login or a printed form's token: keep it PERMANENT_SESSION_LIFETIME, not until the browser closes.
            session.permanent = True
        super().save_session(app, session, response)
        apply_cache_policy(response, session)


def apply_cache_policy(response: Response, session: SessionMixin) -> None:
    """Set Cache-Control (and Vary) by the rules of the module docstring, unless already set."""
    ok = 200 <= response.status_code < 400
    if request.endpoint == "static" and ok:
        static_cache_control(response)
        return
    if "Cache-Control" in response.headers:
        return
    if request.method not in ("GET", "HEAD") or not ok:
        response.headers["Cache-Control"] = NO_STORE
        return
    if response.headers.getlist("Set-Cookie") or _logged_in(session):
        response.headers["Cache-Control"] = PRIVATE
        response.vary.add("Cookie")
        return
    response.headers["Cache-Control"] = REVALIDATE
    response.vary.add("Cookie")
    response.vary.add("Accept-Language")


def _logged_in(session: SessionMixin) -> bool:
    """Whether the request is a logged-in person's, without loading anyone from the database."""
    user = g.get("_login_user")  # Flask-Login's user, when the request loaded it
    return "_user_id" in session or bool(user is not None and user.is_authenticated)
