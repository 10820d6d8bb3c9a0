"""Issuing, revoking and checking tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time

from sqlmodel import Session, select

from minsheng.auth.models import ApiToken, Role
from minsheng.auth.principal import Principal
from minsheng.errors import DomainError


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    *,
    session: Session,
    name: str,
    role: Role,
    department: str | None = None,
    org_unit: str | None = None,
    indicators: list[str] | None = None,
    token: str | None = None,
) -> tuple[ApiToken, str]:
    """Stores the hash and returns the clear token once. `token` is for demo users with known tokens."""
    if role is Role.bureau and not department:
        raise ValueError("a bureau token needs its department")
    if role is Role.district and not org_unit:
        raise ValueError("a district token needs its org unit")
    if role is Role.integration and not indicators:
        raise ValueError("an integration token needs the indicators it may write")
    clear = token or f"ms_{secrets.token_urlsafe(24)}"
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(clear))).first()
    values = dict(name=name, role=role, department=department, org_unit_code=org_unit,
                  indicator_codes=",".join(indicators) if indicators else None)
    if row is None:
        row = ApiToken(token_hash=hash_token(clear), created_at=dt.datetime.now(dt.UTC), **values)
    else:  # re-issuing a known (demo) token refreshes its grants and un-revokes it
        for key, value in values.items():
            setattr(row, key, value)
        row.revoked_at = None
    session.add(row)
    session.commit()
    session.refresh(row)
    return row, clear


def revoke_token(*, session: Session, token_id: int) -> ApiToken | None:
    row = session.get(ApiToken, token_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = dt.datetime.now(dt.UTC)
        session.add(row)
        session.commit()
        _verified.clear()  # this process forgets at once; other processes within TOKEN_CACHE_SECONDS
    return row


# Recently verified tokens, so a burst of requests does not look the same token up each time.
# A revocation therefore takes effect within this many seconds.
TOKEN_CACHE_SECONDS = 2.0
_verified: dict[tuple[int, str], tuple[Principal, float]] = {}


def principal_for(*, session: Session, token: str) -> Principal:
    cached = cached_principal(session.get_bind().engine, token)
    if cached is not None:
        return cached
    return _remember(session.get_bind().engine, token, _principal_from_database(session, hash_token(token)))


def cached_principal(engine: object, token: str) -> Principal | None:
    """The principal of a token verified within TOKEN_CACHE_SECONDS, without touching the database."""
    cached = _verified.get((id(engine), hash_token(token)))
    if cached is not None and cached[1] > time.monotonic():
        return cached[0]
    return None


def _remember(engine: object, token: str, principal: Principal) -> Principal:
    if len(_verified) > 10_000:
        _verified.clear()
    _verified[(id(engine), hash_token(token))] = (principal, time.monotonic() + TOKEN_CACHE_SECONDS)
    return principal


def _principal_from_database(session: Session, digest: str) -> Principal:
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == digest)).first()
    if row is None:
        raise Unauthorized("令牌无效：请在请求头 Authorization: Bearer <令牌> 中使用市民生办发放的令牌",
                           code="invalid_token")
    if row.revoked_at is not None:
        raise Unauthorized(f"令牌已于 {row.revoked_at:%Y-%m-%d} 吊销，请向市民生办重新申请", code="revoked_token")
    return Principal(
        token_id=row.id, name=row.name, role=row.role, department=row.department, org_unit=row.org_unit_code,
        indicators=frozenset(filter(None, (row.indicator_codes or "").split(","))),
    )
