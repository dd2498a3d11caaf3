"""Web login passwords: Argon2id (argon2-cffi, RFC 9106's recommended variant) for every new hash.

Hashes made before (werkzeug's scrypt or pbkdf2) still verify, and are replaced by Argon2id at the next successful
login. A login for an unknown user verifies against a dummy hash, so it costs what a known user's does and the
answer's time does not tell which usernames exist.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from werkzeug.security import check_password_hash

_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """A new Argon2id hash of `password`."""
    return _HASHER.hash(password)


@cache
def _dummy_hash() -> str:
    return _HASHER.hash("fundsvc: no such user")


def verify_password(stored: str | None, password: str) -> tuple[bool, bool]:
    """(whether `password` matches `stored`, whether `stored` should be replaced by a new hash).

    `stored` None (an unknown user, or one without a password) is checked against a dummy hash and never matches.
    """
    if not stored:
        _check_argon2(_dummy_hash(), password)
        return False, False
    if not stored.startswith("$argon2"):
        matches = check_password_hash(stored, password)
        return matches, matches
    if not _check_argon2(stored, password):
        return False, False
    return True, _HASHER.check_needs_rehash(stored)


def _check_argon2(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
