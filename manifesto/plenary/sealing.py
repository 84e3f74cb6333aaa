"""Sealed ballots: a secret ballot as nobody reading the database can open it while its vote is open.

While a secret vote is open, the transaction that marks a person as having
voted also stores their ballot, so the two rows share what the database
keeps of a transaction (PostgreSQL's ``xmin``, the place on the page, the
moment). The ballot is therefore stored *sealed*: the choice and the hash of
the receipt code encrypted with AES-256-GCM under a key derived (HKDF-SHA256)
from the app's ``SECRET_KEY`` and the vote's id, with a random 96-bit nonce
and the vote's id as associated data. The plaintext has one length whatever
the choice (one byte for the choice, 32 for the hash), so neither the
ciphertext nor its length tells yes from abstain. Fernet is not used: its
tokens carry their creation time in clear.

At the close all of a vote's sealed ballots are opened, deleted and written
again as open ballots in a random order, in one statement of the closing
transaction (``votes.close_vote``): every open ballot then has the close's
transaction id and a place on the page that says nothing of who cast it.

No Flask and no database here: the caller passes the keys.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CHOICES = ("yes", "no", "abstain")
NONCE_BYTES = 12
HASH_BYTES = 32
# base64 of nonce (12) + choice (1) + receipt hash (32) + GCM tag (16) = 61 bytes: 84 characters, always.
SEALED_LENGTH = 84
_INFO = b"manifesto/plenary/ballot/v1:"


class Unreadable(Exception):
    """A sealed ballot that none of the keys opens (the secret key changed while the vote was open)."""


def _key(secret_key: str | bytes, vote_id: int) -> bytes:
    """The 256-bit key of one vote's sealed ballots, derived from the app's secret key."""
    material = secret_key.encode() if isinstance(secret_key, str) else bytes(secret_key)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=_INFO + str(vote_id).encode()).derive(material)


def seal(secret_key: str | bytes, vote_id: int, choice: str, receipt_hash: str) -> str:
    """A ballot sealed: ASCII text of one length for every choice."""
    plaintext = bytes([CHOICES.index(choice)]) + bytes.fromhex(receipt_hash)
    if len(plaintext) != 1 + HASH_BYTES:
        raise ValueError("a receipt hash is 64 hex digits")
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = nonce + AESGCM(_key(secret_key, vote_id)).encrypt(nonce, plaintext, f"vote:{vote_id}".encode())
    return base64.urlsafe_b64encode(sealed).decode("ascii")


def unseal(secret_keys: Iterable[str | bytes], vote_id: int, sealed: str) -> tuple[str, str]:
    """The choice and receipt hash of a sealed ballot, opened with the first of ``secret_keys`` that fits.

    :raises Unreadable: when none does, or the text was changed.
    """
    try:
        raw = base64.urlsafe_b64decode(sealed.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as error:
        raise Unreadable("not a sealed ballot") from error
    nonce, body = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
    for secret_key in secret_keys:
        try:
            plaintext = AESGCM(_key(secret_key, vote_id)).decrypt(nonce, body, f"vote:{vote_id}".encode())
        except (InvalidTag, ValueError):
            continue
        if len(plaintext) != 1 + HASH_BYTES or plaintext[0] >= len(CHOICES):
            raise Unreadable("a sealed ballot of another layout")
        return CHOICES[plaintext[0]], plaintext[1:].hex()
    raise Unreadable("no key opens this ballot")


def shuffled(items: list) -> list:
    """``items`` in an order nobody can predict or reproduce (the system's random source)."""
    items = list(items)
    secrets.SystemRandom().shuffle(items)
    return items
