"""Passwords: what we accept (NIST SP 800-63B-4) and how we keep them (Argon2id).

The policy (:func:`check_new_password`), applied to every password a person
chooses, by registering, changing, resetting or accepting an invitation:

- Unicode is normalised (NFKC) first, so the same phrase typed on another
  keyboard is the same password; the hash is made of the normalised text.
- At least ``PASSWORD_MIN_LENGTH`` characters (15) for an account that signs
  in with its password alone, ``PASSWORD_MIN_LENGTH_TWO_FACTOR`` (8) with a
  second factor; never fewer than 8, whatever the settings say. At most 256.
- No composition rules (no "one digit, one capital"): they make passwords
  harder to remember, not to guess.
- Refused: a password on the shipped list of the most common ones
  (``data/common-passwords.txt.gz``, see its README), one of those with only
  digits or punctuation around it, one repeated or sequential run
  (``aaaaaaaaaaaaaaaa``, ``1234567890123456``, ``qwertyuiopasdfgh``), and one
  built from the person's own name, the local part of their email or the
  site's name with only digits, punctuation or repetition besides.

Hashes: Argon2id (argon2-cffi) with the ``ARGON2_*`` settings when
``PASSWORD_HASH_METHOD`` is ``argon2id``; werkzeug's methods otherwise (tests
use a cheap one). :func:`verify_password` also reads werkzeug's older
``scrypt:`` and ``pbkdf2:`` hashes, and :func:`needs_rehash` says when a hash
should be replaced at the next login. A hash starting with ``!`` is unusable
(:func:`unusable_hash`): an invited account that has not chosen a password,
an account restored from an archive; nothing verifies against it.
"""

from __future__ import annotations

import functools
import gzip
import re
import secrets
import unicodedata
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from ..services import ValidationError

ABSOLUTE_MIN_LENGTH = 8  # NIST's floor: no setting goes below it
MAX_LENGTH = 256  # NIST asks for at least 64
SITE_WORDS = ("manifesto",)
UNUSABLE_PREFIX = "!"
ARGON2 = "argon2id"
# Rows of letters and digits people slide a finger along, and the alphabet; runs are read both ways.
SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "qwertyuiopasdfghjklzxcvbnm",  # QWERTY, row after row
    "qwertzuiopasdfghjklyxcvbnm",  # QWERTZ
    "azertyuiopqsdfghjklmwxcvbn",  # AZERTY
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",  # QWERTY columns
    "qazwsxedcrfvtgbyhnujmikolp",
)
# What may surround a word without making it a new password: digits, punctuation, symbols, spaces.
_FILLER = re.compile(r"[\d\W_]*", re.UNICODE)


def normalise(password: str | None) -> str:
    """The password as we check and hash it: Unicode NFKC."""
    return unicodedata.normalize("NFKC", password or "")


def _fold(text: str) -> str:
    """Normalised and case-folded, for comparisons that ignore case."""
    return unicodedata.normalize("NFKC", text).casefold()


def describe_policy() -> str:
    """The help under a new-password field, with the configured minimum."""
    return (_("At least %(num)s characters.", num=minimum_length()) + " "
            + _("A phrase of several words is easiest to remember."))


def minimum_length(two_factor: bool = False) -> int:
    """The shortest password allowed: the setting, never below 8."""
    config = current_app.config
    setting = config.get("PASSWORD_MIN_LENGTH_TWO_FACTOR", 8) if two_factor else config.get("PASSWORD_MIN_LENGTH", 15)
    return max(ABSOLUTE_MIN_LENGTH, int(setting))


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, folded; read once per process, on first use."""
    data = resources.files(__package__).joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(_fold(line) for line in gzip.decompress(data).decode("utf-8").splitlines() if line)


def _is_run(text: str) -> bool:
    """One unit repeated (``aaaa``, ``abcabcab``, ``sunflowersunflower``), or a slide along the alphabet,
    the digits or a keyboard row (``1234567890123456``, ``qwertyuiopasdfgh``, ``zyxwvu``)."""
    if len(text) < 3:
        return False
    for size in range(1, len(text) // 2 + 1):
        # A short unit may stop midway (abcabcab); a longer one must be whole, twice or more.
        if (size <= 4 or len(text) % size == 0) and (text[:size] * (len(text) // size + 1))[:len(text)] == text:
            return True
    for sequence in SEQUENCES:
        # Cyclic, so 1234567890123456 and xyzabc count; enough turns to hold the whole text.
        turns = sequence * (len(text) // len(sequence) + 2)
        if text in turns or text in turns[::-1]:
            return True
    return False


def _is_repeated_or_sequential(folded: str) -> bool:
    """The whole password, or its letters and digits without separators, is one run."""
    if _is_run(folded):
        return True
    letters = "".join(ch for ch in folded if ch.isalnum())
    return len(letters) >= 4 and _is_run(letters)


def _personal_words(name: str | None, email: str | None) -> list[str]:
    """The words a guesser tries first: the person's names, their address's local part, the site's name."""
    words: set[str] = set(SITE_WORDS)
    if name:
        folded = _fold(name)
        words.update(re.split(r"[\W_]+", folded))
        words.add(re.sub(r"[\W_]+", "", folded))
    if email:
        local = _fold(email).partition("@")[0]
        words.update((_fold(email), local))
        words.update(re.split(r"[\W_]+", local))
        words.add(re.sub(r"[\W_]+", "", local))
    return sorted((w for w in words if len(w) >= 3), key=len, reverse=True)


def _built_from(folded: str, words: list[str]) -> bool:
    """The password is some of ``words`` (any number of times) and nothing else but digits and punctuation."""
    rest = folded
    found = False
    for word in words:  # longest first: "amina" before "ami"
        if word in rest:
            found = True
            rest = rest.replace(word, " ")
    return found and _FILLER.fullmatch(rest) is not None


def _common_with_filler(folded: str) -> bool:
    """A common password with only digits or punctuation around it (``iloveyou2024!``)."""
    match = re.fullmatch(r"[\d\W_]*(.*?)[\d\W_]*", folded)
    core = match.group(1) if match else folded
    return core != folded and len(core) >= 4 and core in common_passwords()


def check_new_password(password: str | None, *, name: str | None = None, email: str | None = None,
                       two_factor: bool = False, field: str = "password") -> str:
    """Check a password someone chooses; return it normalised (NFKC).

    ``name`` and ``email`` are the person's, ``two_factor`` whether their
    account has a second factor on (a shorter password is then allowed).

    :raises ValidationError: naming ``field``, saying why the password is refused.
    """
    password = normalise(password)
    least = minimum_length(two_factor)
    if len(password) < least:
        raise ValidationError(_("Use at least %(num)s characters.", num=least) + " "
                              + _("A phrase of several words is long enough and easy to remember."), field)
    if len(password) > MAX_LENGTH:
        raise ValidationError(_("Use at most %(num)s characters.", num=MAX_LENGTH), field)
    folded = password.casefold()
    if _is_repeated_or_sequential(folded):
        raise ValidationError(_("This password is one character or one sequence repeated (like aaaa, 1234 or "
                                "qwerty), which is guessed at once. Choose something less predictable."), field)
    if folded in common_passwords() or _common_with_filler(folded):
        raise ValidationError(_("This password is on the list of the most common passwords, which attackers "
                                "try first. Choose another one."), field)
    if _built_from(folded, _personal_words(name, email)):
        raise ValidationError(_("This password is made of your name, your email address or the site's name, "
                                "which are guessed first. Choose something else."), field)
    return password


# ------------------------------------------------------------------ hashing


def _hasher() -> PasswordHasher:
    """The Argon2id hasher with the configured cost."""
    return _hasher_for(*_costs())


@functools.lru_cache(maxsize=8)
def _hasher_for(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    """One hasher per set of parameters (tests use cheaper ones than production)."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID)


def _method() -> str:
    """``argon2id``, or one of werkzeug's methods (``scrypt``, ``pbkdf2:sha256:1000``)."""
    return current_app.config.get("PASSWORD_HASH_METHOD") or ARGON2


def hash_password(password: str) -> str:
    """Hash a password (normalised) with the configured method; slow on purpose: call it outside transactions."""
    password = normalise(password)
    method = _method()
    if method == ARGON2:
        return _hasher().hash(password)
    return generate_password_hash(password, method=method)


def unusable_hash() -> str:
    """A password hash nothing verifies against: for accounts that have not chosen a password yet."""
    return UNUSABLE_PREFIX + secrets.token_urlsafe(24)


def is_usable(stored_hash: str | None) -> bool:
    """Whether some password could verify against this hash."""
    return bool(stored_hash) and not stored_hash.startswith(UNUSABLE_PREFIX)


def verify_password(stored_hash: str | None, password: str | None) -> bool:
    """Whether ``password`` is the one ``stored_hash`` was made of (Argon2, or werkzeug's scrypt/pbkdf2)."""
    if not is_usable(stored_hash) or password is None:
        return False
    normalised = normalise(password)
    if stored_hash.startswith("$argon2"):
        try:
            return _hasher().verify(stored_hash, normalised)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
    try:
        if check_password_hash(stored_hash, normalised):
            return True
        # Hashes made before we normalised were made of the text as typed.
        return normalised != password and check_password_hash(stored_hash, password)
    except (ValueError, TypeError):  # not a hash werkzeug knows
        return False


def verify_nothing(password: str | None) -> bool:
    """Spend the time of a verify against no account, so a login with an unknown address takes as long.

    Without it an unknown address answers at once and a known one after the
    hash's cost: a stopwatch would tell who has an account.
    """
    verify_password(_decoy(_method(), *_costs()), password or "")
    return False


def _costs() -> tuple[int, int, int]:
    """The configured Argon2 parameters."""
    config = current_app.config
    return (int(config.get("ARGON2_TIME_COST", 2)), int(config.get("ARGON2_MEMORY_COST", 19456)),
            int(config.get("ARGON2_PARALLELISM", 1)))


@functools.lru_cache(maxsize=8)
def _decoy(method: str, time_cost: int, memory_cost: int, parallelism: int) -> str:
    """A hash of a random password with the configured method: what an unknown address is checked against."""
    return hash_password(secrets.token_urlsafe(16))


def needs_rehash(stored_hash: str | None) -> bool:
    """Whether a verified hash should be replaced: an older scheme, or Argon2 with other parameters."""
    if not is_usable(stored_hash) or _method() != ARGON2:
        return False
    if not stored_hash.startswith("$argon2id$"):
        return True
    try:
        return _hasher().check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
