"""The password rule: at least 12 characters, not on a list of common passwords, not the
username. Applied wherever a password is chosen (create, reset, change), never at login.

The list is Django's common-passwords list (data/common-passwords.txt.gz, 20,000 passwords
leaked in breaches, compiled by Royce Williams), taken unchanged from the Django 5.2.9 wheel
on PyPI under Django's BSD 3-clause licence (data/common-passwords.LICENSE).
"""

import gzip
import secrets
from functools import cache
from pathlib import Path

from marshmallow import ValidationError

MIN_LENGTH = 12
COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt.gz"

TOO_SHORT = f"Shorter than minimum length {MIN_LENGTH}."
TOO_COMMON = "This password is too common."
HAS_USERNAME = "The password must not contain the username."
SAME_AS_CURRENT = "The new password must differ from the current one."
MESSAGES_ZH = {
    SAME_AS_CURRENT: "新密码不能与当前密码相同。",
    TOO_SHORT: f"密码至少{MIN_LENGTH}个字符。",
    TOO_COMMON: "密码过于常见，请换一个。",
    HAS_USERNAME: "密码不能包含用户名。",
}


@cache
def _common() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as f:
        return frozenset(line.strip().casefold() for line in f if line.strip())


def password_problems(password: str, username: str | None = None) -> list[str]:
    """Why `password` may not be chosen (English messages, keys of MESSAGES_ZH); [] if it may."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(TOO_SHORT)
    if password.casefold() in _common():
        problems.append(TOO_COMMON)
    if username and username.casefold() in password.casefold():
        problems.append(HAS_USERNAME)
    return problems


def validate_new_password(password: str) -> None:
    """A marshmallow validator for fields that set a password (the username is checked later,
    where it is known)."""
    problems = password_problems(password)
    if problems:
        raise ValidationError(problems)


def temporary_password() -> str:
    """A random password to hand over once; its user must change it at the next login."""
    return secrets.token_urlsafe(12)  # 16 characters, 96 bits
