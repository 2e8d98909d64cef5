"""Passwords of local accounts: argon2id (``argon2-cffi``'s defaults, RFC 9106's low-memory profile).

Why argon2id: it is memory-hard, so a stolen table of hashes costs an attacker far more per guess
than SHA-256 or bcrypt would; ``argon2-cffi`` is the well-kept binding. A hash made with older
parameters is upgraded at the next successful sign-in (:func:`needs_rehash`).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from carelens.errors import AccessError

MIN_LENGTH = 12  # NCSC: length beats complexity rules
_hasher = PasswordHasher()
# Verified against when the account does not exist, so an unknown name takes as long as a wrong password.
_DUMMY = _hasher.hash("carelens: no such account")


def check_strength(password: str, *, username: str = "") -> None:
    """Refuse a password a guesser would try early: short, one repeated character, or the username."""
    if len(password) < MIN_LENGTH:
        raise AccessError(f"a password needs at least {MIN_LENGTH} characters", field="password")
    if len(set(password)) < 4:
        raise AccessError("a password needs more than a few different characters", field="password")
    if username and username.lower() in password.lower():
        raise AccessError("a password must not contain the username", field="password")


def hash_password(password: str, *, username: str = "") -> str:
    check_strength(password, username=username)
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash`` (None: compared with a dummy, and False)."""
    try:
        return _hasher.verify(stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def generate_password() -> str:
    """A password to show once (the demo's admin, a reset): 20 characters from a 56-symbol alphabet."""
    import secrets

    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    while True:
        word = "".join(secrets.choice(alphabet) for _ in range(20))
        if len(set(word)) >= 8:
            return word
