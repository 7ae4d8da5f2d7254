"""Passwords: argon2 hashing, and the rules a new password must meet."""

from __future__ import annotations

import re
from typing import Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from pydantic import StringConstraints
from zxcvbn import zxcvbn

from customslab.domain.errors import ValidationFailed
from customslab.domain.model import User

_state: dict[str, object] = {}


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Choose the argon2 parameters (the test suite picks cheap ones; production keeps the defaults)."""
    _state["hasher"] = hasher
    # Verifying against a dummy hash when the user is unknown keeps response times alike,
    # so a login form does not reveal which usernames exist.
    _state["dummy"] = hasher.hash("not-a-real-password")


def _hasher() -> PasswordHasher:
    if "hasher" not in _state:
        use_password_hasher(PasswordHasher())
    hasher = _state["hasher"]
    assert isinstance(hasher, PasswordHasher)
    return hasher


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def password_matches(user: User | None, password: str) -> bool:
    """True when `password` is the user's; an unknown user costs the same time (a dummy hash)."""
    try:
        return _hasher().verify(user.password_hash if user else str(_state["dummy"]), password)
    except (VerifyMismatchError, InvalidHashError):
        return False


MIN_PASSWORD_LENGTH = 12
#: zxcvbn's score (0-4, log10 of the guesses needed: 3 is "safely unguessable", ~10^10 guesses).
MIN_PASSWORD_SCORE = 3
#: zxcvbn refuses longer input; the first 72 characters of a passphrase carry its strength.
_ZXCVBN_MAX = 72

#: A password as typed: never stripped, bounded so that hashing stays cheap.
Password = Annotated[str, StringConstraints(max_length=200)]
#: A new password: long enough here; `check_password_rules` adds the rules JSON Schema cannot state.
NewPassword = Annotated[str, StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=200)]


def check_password_rules(password: str, username: str, *personal: str, field: str = "password") -> None:
    """Refuse a new password that is short, based on the username, or easy to guess.

    Guessability is zxcvbn's estimate (Wheeler 2016, "zxcvbn: Low-Budget Password Strength
    Estimation", USENIX Security): dictionaries of common passwords, names and words, keyboard patterns,
    dates and repeats, plus the person's own username, name and e-mail address.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.", field)
    name = username.strip().lower()
    if name and (password.lower() == name or (len(name) >= 4 and name in password.lower())):
        raise ValidationFailed("The password must not contain the username.", field)
    hints = [username, *personal, *re.split(r"[^\w]+", " ".join([username, *personal]))]
    verdict = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=[h for h in hints if h])
    if verdict["score"] < MIN_PASSWORD_SCORE:
        feedback = verdict.get("feedback") or {}
        advice = " ".join(
            x for x in [feedback.get("warning") or "", *(feedback.get("suggestions") or [])] if x
        )
        advice = advice or "A few unrelated words make a strong one."
        raise ValidationFailed(f"The password is too easy to guess. {advice}", field)
