"""Signing and sending one webhook message (Standard Webhooks), to the address the guard checked.

Standard Webhooks (https://www.standardwebhooks.com): three headers,
``webhook-id`` (the message's id, the same on every attempt, so a receiver
can refuse a replay or drop a duplicate), ``webhook-timestamp`` (Unix
seconds of this attempt, so a receiver can refuse old messages) and
``webhook-signature`` (``v1,`` and the Base64 HMAC-SHA256 of
``{id}.{timestamp}.{body}`` keyed with the secret's bytes, the Base64 part
after ``whsec_``).

Sending is careful: the URL is checked again here, after DNS, and the
connection goes to the checked address (the Host header and TLS name are the
URL's host), so DNS rebinding cannot reach the inside; redirects are never
followed; both timeouts are short; at most a few kilobytes of the answer are
read, never decompressed; proxies from the environment are ignored (a proxy
would resolve the name again). No Flask and no database: the caller records
the outcome.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError as TransportError
from urllib3.exceptions import TimeoutError as TransportTimeout

from .addresses import AddressRefused, Target, resolve

SECRET_PREFIX = "whsec_"
USER_AGENT = "Manifesto-Webhooks"


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` and 32 random bytes in Base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def new_message_id() -> str:
    """A fresh ``webhook-id``: ``msg_`` and 24 random URL-safe characters."""
    return "msg_" + secrets.token_urlsafe(18)


def secret_key(secret: str) -> bytes:
    """The bytes a secret stands for (the Base64 part after ``whsec_``)."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,`` and the Base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(secret_key(secret), signed, hashlib.sha256).digest()).decode("ascii")


def headers(secret: str, message_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers of one attempt: the Standard Webhooks three, the content type and who sends."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(secret, message_id, timestamp, body),
            "Content-Type": "application/json", "User-Agent": USER_AGENT}


@dataclass(frozen=True)
class Outcome:
    """How one attempt ended: delivered (a 2xx), or why not (the status code, an error in a few words)."""

    delivered: bool
    status_code: int | None = None
    error: str | None = None
    refused: bool = False  # the address guard refused the URL: no connection was made


class _PinnedAdapter(HTTPAdapter):
    """A transport that connects to the checked address while speaking TLS to, and checking, the URL's host."""

    def __init__(self, hostname: str):
        self._hostname = hostname
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs) -> None:
        """Name the host for SNI and certificate checks (urllib3 drops these for plain HTTP)."""
        kwargs["server_hostname"] = self._hostname
        kwargs["assert_hostname"] = self._hostname
        super().init_poolmanager(*args, **kwargs)


def _excerpt(raw: bytes, limit: int = 200) -> str:
    """The start of a receiver's answer, on one line, for the delivery log."""
    text = raw.decode("utf-8", "replace")
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return text[:limit]


def post(target: Target, body: bytes, request_headers: dict[str, str], *, timeout: float,
         max_bytes: int) -> Outcome:
    """POST ``body`` to the checked address of ``target``; never raises for the receiver's failures."""
    session = requests.Session()
    session.trust_env = False  # no proxy, no .netrc: the connection goes where the guard said
    adapter = _PinnedAdapter(target.host)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    try:
        response = session.post(target.pinned_url, data=body, headers={**request_headers, "Host": target.host_header},
                                allow_redirects=False, timeout=(timeout, timeout), stream=True)
        try:
            answer = response.raw.read(max_bytes, decode_content=False) or b""
        finally:
            response.close()
    except (requests.Timeout, TransportTimeout, TimeoutError):
        return Outcome(False, error="timeout")
    except (requests.RequestException, TransportError, OSError) as error:  # reading the answer fails this way
        return Outcome(False, error=f"connection failed: {type(error).__name__}")
    finally:
        session.close()
    if 200 <= response.status_code < 300:
        return Outcome(True, status_code=response.status_code)
    detail = f"HTTP {response.status_code}"
    if 300 <= response.status_code < 400:
        detail += " (redirects are not followed)"
    excerpt = _excerpt(answer)
    return Outcome(False, status_code=response.status_code, error=f"{detail}: {excerpt}" if excerpt else detail)


def send(url: str, secret: str, message_id: str, body: bytes, *, allow_private: bool, timeout: float,
         max_bytes: int, timestamp: int | None = None) -> Outcome:
    """Check ``url`` now (after DNS) and send one signed attempt to the address checked."""
    try:
        target = resolve(url, allow_private=allow_private)
    except AddressRefused as refused:
        return Outcome(False, error=f"address refused: {refused.reason}", refused=True)
    return post(target, body, headers(secret, message_id, body, timestamp), timeout=timeout, max_bytes=max_bytes)
