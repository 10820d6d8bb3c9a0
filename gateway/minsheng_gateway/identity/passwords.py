"""Passwords: Argon2id hashes and the policy a new password must meet."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from minsheng.errors import Unprocessable

MIN_LENGTH = 10
_hasher = PasswordHasher()  # argon2-cffi's defaults: Argon2id, RFC 9106's low-memory profile


class WeakPassword(Unprocessable):
    code = "weak_password"


@cache
def common_passwords() -> frozenset[str]:
    lines = (Path(__file__).with_name("common_passwords.txt").read_text(encoding="utf-8")).splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def check_policy(password: str, *, username: str, min_length: int = MIN_LENGTH) -> None:
    """Raises WeakPassword saying, in Chinese, what is wrong with it."""
    if len(password) < min_length:
        raise WeakPassword(f"密码太短：至少 {min_length} 位")
    if username and username.lower() in password.lower():
        raise WeakPassword("密码不能与用户名相同，也不能包含用户名")
    if password.lower() in common_passwords() or len(set(password)) <= 2:
        raise WeakPassword("密码过于常见，容易被猜中，请换一个")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def _dummy_hash() -> str:
    return _hasher.hash("an account that does not exist")


def verify_password(password_hash: str | None, password: str) -> bool:
    """`None` (no such account) is checked against a dummy hash: a wrong username costs as long as a
    wrong password, so timing does not tell which usernames exist."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
