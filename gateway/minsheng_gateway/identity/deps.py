"""Who calls the gateway: a person by the session cookie (with the CSRF header on writes) or a system
by `Authorization: Bearer <API key>` or by a signed request (`X-App-Key` and its signature, signing.py)."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from minsheng.auth.models import Role
from minsheng.auth.tokens import Unauthorized
from minsheng.db import SessionDep
from minsheng.errors import DomainError, Forbidden
from minsheng.openapi import needs_principal
from minsheng_gateway.identity.models import Account, SignInSession
from minsheng_gateway.identity.service import api_key_account, session_account, utcnow
from minsheng_gateway.identity.settings import IdentitySettings
from minsheng_gateway.identity.signing import BODY_DIGEST_STATE, is_signed, signed_account

SESSION_COOKIE = "minsheng_session"
CSRF_HEADER = "X-CSRF-Token"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CsrfFailed(DomainError):
    status_code = 403
    code = "csrf_failed"


@dataclass(frozen=True)
class Caller:
    account: Account
    session: SignInSession | None  # None: a system with an API key


def now(request: Request) -> dt.datetime:
    """The time identity rules are judged at: `app.state.utc_clock` when a test set one."""
    return getattr(request.app.state, "utc_clock", utcnow)()


def authenticate(request: Request, session: Session) -> Caller | None:
    """The caller, or None when the request carries no credentials. Raises when it carries bad ones,
    and when a cookie-authenticated write lacks the session's CSRF token."""
    settings: IdentitySettings = request.app.state.settings
    if is_signed(request.headers):
        account, _ = signed_account(
            session=session,
            method=request.method,
            path=request.scope.get("raw_path", request.url.path.encode()).decode("latin-1"),
            query_string=request.scope.get("query_string", b"").decode("latin-1"),
            headers=request.headers,
            body_digest=request.scope.get("state", {}).get(BODY_DIGEST_STATE),
            now=now(request),
        )
        return Caller(account, None)
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return Caller(api_key_account(session=session, key=authorization[7:].strip(), now=now(request)), None)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    account, sign_in_session = session_account(session=session, token=cookie, settings=settings, now=now(request))
    if request.method in STATE_CHANGING and not secrets.compare_digest(
        request.headers.get(CSRF_HEADER, "").encode(), sign_in_session.csrf_token.encode()
    ):
        raise CsrfFailed("页面已过期，请刷新后重试")
    return Caller(account, sign_in_session)


@needs_principal
def current_caller(request: Request, session: SessionDep) -> Caller:
    caller = authenticate(request, session)
    if caller is None:
        raise Unauthorized("请先登录", code="not_signed_in")
    return caller


@needs_principal
def city_office_caller(request: Request, session: SessionDep) -> Caller:
    caller = current_caller(request, session)
    if caller.account.role is not Role.city_office:
        raise Forbidden("账号管理只能由市民生办办理", code="city_office_only")
    return caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]
CityOfficeCaller = Annotated[Caller, Depends(city_office_caller)]
