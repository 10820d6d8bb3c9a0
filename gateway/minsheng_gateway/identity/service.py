"""Accounts, sign-in, sessions and API keys as plain functions (keyword-only; each commits its own work).

Rules in one place: a sign-in is refused the same way whether the username exists or not; the
`lockout_threshold`-th failure in a row locks the account for `lockout_minutes`; a session ends after
`session_idle_minutes` without a request or `session_absolute_hours` after sign-in, and at once on
sign-out, on a password change or reset, and when the account is disabled.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from functools import cache

from prometheus_client import Counter
from sqlmodel import Session, func, select, update

from minsheng.auth.demo import DEMO_ACCOUNTS, DEMO_API_KEY, DEMO_PASSWORD
from minsheng.auth.models import Role
from minsheng.auth.tokens import Unauthorized
from minsheng.clock import CHINA, as_utc
from minsheng.errors import Conflict, DomainError, NotFound, Unprocessable
from minsheng_gateway.identity.models import (
    MUTABLE_CHANNELS,
    Account,
    AccountContacts,
    AccountCreate,
    ApiKey,
    AppKey,
    SignInSession,
)
from minsheng_gateway.identity.passwords import check_policy, hash_password, needs_rehash, verify_password
from minsheng_gateway.identity.settings import IdentitySettings

log = logging.getLogger(__name__)

SIGN_INS = Counter("minsheng_sign_ins_total", "Sign-in attempts at the gateway", ["outcome"])
LOCKOUTS = Counter("minsheng_account_lockouts_total", "Accounts locked after repeated failed sign-ins")
for _outcome in ("success", "invalid_credentials", "locked", "disabled"):
    SIGN_INS.labels(_outcome)  # exported at 0 from the start: rate() works
API_KEY_PREFIX = "msk_"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,49}$")


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class AccountLocked(DomainError):
    status_code = 423
    code = "account_locked"


class AccountDisabled(DomainError):
    status_code = 403
    code = "account_disabled"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def digest(secret: str) -> str:
    """Session ids and API keys are random and long: SHA-256 protects them at rest and is found by index."""
    return hashlib.sha256(secret.encode()).hexdigest()


# ---- accounts -------------------------------------------------------------------------------------------


def check_scope(*, role: Role, department: str | None, org_unit: str | None, indicators: list[str]) -> None:
    """Each role carries exactly the scope the permission rules read (`minsheng.auth.principal`)."""
    needs = {Role.bureau: "department", Role.district: "org_unit", Role.integration: "indicators"}.get(role)
    given = {"department": department, "org_unit": org_unit, "indicators": indicators}
    names = {
        "department": "牵头部门（department）",
        "org_unit": "单位代码（org_unit）",
        "indicators": "可写入的指标（indicators）",
    }
    if needs and not given[needs]:
        raise Unprocessable(f"角色 {role.value} 的账号必须指定{names[needs]}", code="missing_scope")
    extra = [names[name] for name, value in given.items() if value and name != needs]
    if extra:
        raise Unprocessable(f"角色 {role.value} 的账号不能指定{'、'.join(extra)}", code="unexpected_scope")
    if org_unit and not re.fullmatch(r"\d{6}", org_unit):
        raise Unprocessable("单位代码应为 6 位数字，例如 370303", code="invalid_org_unit")


def check_head(*, role: Role, head: bool) -> None:
    """Only a bureau account may be its department's 负责人 (the head escalations reach)."""
    if head and role is not Role.bureau:
        raise Unprocessable("只有部门（bureau）账号可以设为部门负责人", code="head_needs_department")


def set_head(*, session: Session, account_id: int, head: bool, by: Account) -> Account:
    """Make a bureau account its department's 负责人, or no longer (the notifier reads it at its next round)."""
    account = get_account(session=session, account_id=account_id)
    check_head(role=account.role, head=head)
    account.head = head
    session.add(account)
    session.commit()
    session.refresh(account)
    log.info("account %s %s head by %s", account.username, "made" if head else "no longer", by.username)
    return account


def create_account(
    *, session: Session, data: AccountCreate, created_by: str | None, now: dt.datetime, min_password_length: int
) -> Account:
    username = data.username.strip().lower()
    if not _USERNAME.match(username):
        raise Unprocessable("用户名只能由字母、数字和 . _ - 组成（2–50 位，以字母或数字开头）", code="invalid_username")
    check_scope(role=data.role, department=data.department, org_unit=data.org_unit, indicators=data.indicators)
    check_head(role=data.role, head=data.head)
    check_policy(data.password, username=username, min_length=min_password_length)
    if session.exec(select(Account.id).where(Account.username == username)).first() is not None:
        raise Conflict(f"用户名 {username} 已被使用", code="username_taken")
    account = Account(
        **data.model_dump(exclude={"username", "password"}),
        username=username,
        password_hash=hash_password(data.password),
        password_changed_at=now,
        created_at=now,
        created_by=created_by,
    )
    session.add(account)
    session.commit()
    session.refresh(account)
    log.info("account %s (%s) created by %s", account.username, account.role.value, created_by or "the command line")
    return account


# Deliberately plain: one @, no spaces, a dotted domain. What a mail server accepts beyond that is its to say.
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")  # a mainland mobile number, 11 digits
_ROBOT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def set_contacts(*, session: Session, account: Account, contacts: AccountContacts) -> Account:
    """Save a person's contact settings; a malformed address is refused (nothing is saved)."""
    email = (contacts.email or "").strip() or None
    mobile = (contacts.mobile or "").strip().replace(" ", "").replace("-", "") or None
    if email is not None and not _EMAIL.match(email):
        raise Unprocessable(f"电子邮箱「{email}」格式不正确，例如 zhangsan@zibo.gov.cn", code="invalid_email")
    if mobile is not None and not _MOBILE.match(mobile):
        raise Unprocessable(
            f"手机号「{mobile}」格式不正确，应为 11 位手机号码，例如 13805331234", code="invalid_mobile"
        )
    robots = sorted({code.strip() for code in contacts.robots if code.strip()})
    bad = [code for code in robots if not _ROBOT.match(code)]
    if bad:
        raise Unprocessable(
            f"机器人代码「{'、'.join(bad)}」格式不正确：只能由小写字母、数字、- 和 _ 组成", code="invalid_robot"
        )
    unknown = sorted(set(contacts.muted) - set(MUTABLE_CHANNELS))
    if unknown:
        raise Unprocessable(
            f"不能关闭的提醒渠道：{'、'.join(unknown)}（站内消息始终开启；可关闭 email、wecom、dingtalk、sms）",
            code="invalid_channel",
        )
    account.email, account.mobile, account.robots = email, mobile, robots
    account.muted = sorted(set(contacts.muted))
    session.add(account)
    session.commit()
    session.refresh(account)
    return account


def get_account(*, session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"账号 {account_id} 不存在", code="unknown_account")
    return account


def list_accounts(*, session: Session, limit: int, offset: int) -> tuple[list[Account], int]:
    rows = session.exec(select(Account).order_by(Account.id).offset(offset).limit(limit)).all()
    return list(rows), session.exec(select(func.count()).select_from(Account)).one()


def set_disabled(*, session: Session, account_id: int, disabled: bool, by: Account, now: dt.datetime) -> Account:
    """Disabling ends the account's sessions at once and refuses its API keys; its service tokens
    already issued expire within their lifetime.  No one disables their own account (the last city
    office could otherwise lock everyone out)."""
    account = get_account(session=session, account_id=account_id)
    if disabled and account.id == by.id:
        raise Unprocessable("不能停用自己的账号", code="cannot_disable_self")
    account.disabled = disabled
    if not disabled:
        account.failed_sign_ins, account.locked_until = 0, None
    session.add(account)
    if disabled:
        _revoke_sessions(session, account.id, now)
    session.commit()
    session.refresh(account)
    log.info("account %s %s by %s", account.username, "disabled" if disabled else "enabled", by.username)
    return account


def change_password(
    *,
    session: Session,
    account: Account,
    current_password: str,
    new_password: str,
    keep_session_id: int | None,
    now: dt.datetime,
    min_password_length: int,
) -> None:
    """The person's own change: the other sessions end; the one that changed it stays signed in."""
    if not verify_password(account.password_hash, current_password):
        log.warning("password change for %s refused: wrong current password", account.username)
        raise InvalidCredentials("当前密码错误")
    _set_password(session, account, new_password, now, min_password_length, keep_session_id)
    log.info("account %s changed its password", account.username)


def reset_password(
    *, session: Session, account_id: int, new_password: str, by: str, now: dt.datetime, min_password_length: int
) -> None:
    """The city office sets a new password: every session of the account ends, and a lockout is lifted."""
    account = get_account(session=session, account_id=account_id)
    account.failed_sign_ins, account.locked_until = 0, None
    _set_password(session, account, new_password, now, min_password_length, keep_session_id=None)
    log.info("password of account %s reset by %s", account.username, by)


def _set_password(
    session: Session,
    account: Account,
    new_password: str,
    now: dt.datetime,
    min_password_length: int,
    keep_session_id: int | None,
) -> None:
    check_policy(new_password, username=account.username, min_length=min_password_length)
    account.password_hash = hash_password(new_password)
    account.password_changed_at = now
    session.add(account)
    _revoke_sessions(session, account.id, now, keep=keep_session_id)
    session.commit()


def _revoke_sessions(session: Session, account_id: int, now: dt.datetime, keep: int | None = None) -> None:
    statement = (
        update(SignInSession)
        .where(SignInSession.account_id == account_id, SignInSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if keep is not None:
        statement = statement.where(SignInSession.id != keep)
    session.exec(statement)


# ---- sign-in and sessions -------------------------------------------------------------------------------


def sign_in(
    *,
    session: Session,
    username: str,
    password: str,
    settings: IdentitySettings,
    now: dt.datetime,
    client_address: str | None,
) -> tuple[Account, SignInSession, str]:
    """Returns the account, its new session and the session id for the cookie (never stored in clear)."""
    username = username.strip().lower()
    account = session.exec(select(Account).where(Account.username == username)).first()
    if account is not None and account.locked_until is not None and as_utc(account.locked_until) > now:
        SIGN_INS.labels("locked").inc()
        log.warning(
            "sign-in of %s from %s refused: locked until %s", username, client_address, account.locked_until.isoformat()
        )
        raise _locked(account, settings)
    if not verify_password(account.password_hash if account else None, password):
        SIGN_INS.labels("invalid_credentials").inc()
        if account is None:
            log.warning("sign-in failed from %s: no account %r", client_address, username[:50])
            raise InvalidCredentials("用户名或密码错误")
        account.failed_sign_ins += 1
        log.warning("sign-in of %s failed from %s (%d in a row)", username, client_address, account.failed_sign_ins)
        if account.failed_sign_ins >= settings.lockout_threshold:
            account.failed_sign_ins = 0
            account.locked_until = now + dt.timedelta(minutes=settings.lockout_minutes)
            LOCKOUTS.inc()
            log.warning(
                "account %s locked until %s after %d failed sign-ins",
                username,
                account.locked_until.isoformat(),
                settings.lockout_threshold,
            )
            session.add(account)
            session.commit()
            raise _locked(account, settings)
        session.add(account)
        session.commit()
        raise InvalidCredentials("用户名或密码错误")
    if account.disabled:  # said only to someone who knows the password
        SIGN_INS.labels("disabled").inc()
        log.warning("sign-in of %s from %s refused: account disabled", username, client_address)
        raise AccountDisabled("账号已停用，请联系市民生办")
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    account.failed_sign_ins, account.locked_until, account.last_login_at = 0, None, now
    token = secrets.token_urlsafe(32)
    sign_in_session = SignInSession(
        token_hash=digest(token),
        csrf_token=secrets.token_urlsafe(32),
        account_id=account.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + dt.timedelta(hours=settings.session_absolute_hours),
        client_address=(client_address or "")[:64] or None,
    )
    session.add(account)
    session.add(sign_in_session)
    session.commit()
    session.refresh(sign_in_session)
    SIGN_INS.labels("success").inc()
    log.info("sign-in of %s from %s", username, client_address)
    return account, sign_in_session, token


def _locked(account: Account, settings: IdentitySettings) -> AccountLocked:
    until = as_utc(account.locked_until).astimezone(CHINA)
    return AccountLocked(
        f"连续 {settings.lockout_threshold} 次密码错误，账号已锁定，请于 {until:%H:%M} 后再试",
        extra={"locked_until": until.isoformat()},
    )


def session_account(
    *, session: Session, token: str, settings: IdentitySettings, now: dt.datetime
) -> tuple[Account, SignInSession]:
    """The account behind a session cookie; refreshes the idle timer. Raises Unauthorized."""
    row = session.exec(
        select(SignInSession, Account)
        .join(Account, Account.id == SignInSession.account_id)
        .where(SignInSession.token_hash == digest(token))
    ).first()
    if row is None:
        raise Unauthorized("请先登录", code="not_signed_in")
    sign_in_session, account = row
    idle_limit = dt.timedelta(minutes=settings.session_idle_minutes)
    if (
        sign_in_session.revoked_at is not None
        or account.disabled
        or as_utc(sign_in_session.expires_at) <= now
        or as_utc(sign_in_session.last_seen_at) + idle_limit <= now
    ):
        raise Unauthorized("登录已过期，请重新登录", code="session_expired")
    # The idle timer is written at most every tenth of its length: not a write per request.
    if now - as_utc(sign_in_session.last_seen_at) >= idle_limit / 10:
        sign_in_session.last_seen_at = now
        session.add(sign_in_session)
        session.commit()
    return account, sign_in_session


def sign_out(*, session: Session, sign_in_session: SignInSession, now: dt.datetime) -> None:
    sign_in_session.revoked_at = now
    session.add(sign_in_session)
    session.commit()
    log.info("sign-out of account %s", sign_in_session.account_id)


# ---- API keys -------------------------------------------------------------------------------------------


def issue_api_key(
    *, session: Session, account_id: int, name: str, by: str | None, now: dt.datetime, key: str | None = None
) -> tuple[ApiKey, str]:
    """Returns the stored key and its value, shown this once. `key` is for the demo account's known key."""
    account = get_account(session=session, account_id=account_id)
    if account.role is not Role.integration:
        raise Unprocessable("只有对接系统（integration）账号可以申请 API 密钥", code="not_integration_account")
    clear = key or f"{API_KEY_PREFIX}{secrets.token_urlsafe(32)}"
    api_key = ApiKey(account_id=account.id, name=name, key_hash=digest(clear), created_at=now, created_by=by)
    session.add(api_key)
    session.commit()
    session.refresh(api_key)
    log.info("API key %d (%s) issued to account %s by %s", api_key.id, name, account.username, by)
    return api_key, clear


def list_api_keys(*, session: Session, account_id: int) -> list[ApiKey]:
    get_account(session=session, account_id=account_id)
    return list(
        session.exec(
            select(ApiKey).where(ApiKey.account_id == account_id, ApiKey.revoked_at.is_(None)).order_by(ApiKey.id)
        ).all()
    )


def revoke_api_key(*, session: Session, account_id: int, key_id: int, by: str, now: dt.datetime) -> None:
    api_key = session.get(ApiKey, key_id)
    if api_key is None or api_key.account_id != account_id or api_key.revoked_at is not None:
        raise NotFound(f"账号 {account_id} 没有 API 密钥 {key_id}", code="unknown_api_key")
    api_key.revoked_at = now
    session.add(api_key)
    session.commit()
    log.info("API key %d of account %d revoked by %s", key_id, account_id, by)


def api_key_account(*, session: Session, key: str, now: dt.datetime) -> Account:
    row = session.exec(
        select(ApiKey, Account)
        .join(Account, Account.id == ApiKey.account_id)
        .where(ApiKey.key_hash == digest(key), ApiKey.revoked_at.is_(None))
    ).first()
    if row is None:
        raise Unauthorized("API 密钥无效或已吊销", code="invalid_api_key")
    api_key, account = row
    if account.disabled:
        raise AccountDisabled("账号已停用，请联系市民生办")
    if account.signed_requests_required:
        raise Unauthorized(
            "该对接系统账号要求签名请求：请按接入文档带上 X-App-Key、X-Timestamp、X-Nonce、"
            "X-Signature-Method 和 X-Signature",
            code="signature_required",
        )
    if api_key.last_used_at is None or now - as_utc(api_key.last_used_at) >= dt.timedelta(minutes=1):
        api_key.last_used_at = now
        session.add(api_key)
        session.commit()
    return account


# ---- AppKeys for signed requests (signing.py) ------------------------------------------------------------


def issue_app_key(*, session: Session, account_id: int, name: str, by: str | None, now: dt.datetime) -> AppKey:
    """A new AppKey and its secret (the caller shows the secret this once). The AppKey names the system in
    headers and logs; the secret never travels again."""
    account = get_account(session=session, account_id=account_id)
    if account.role is not Role.integration:
        raise Unprocessable("只有对接系统（integration）账号可以申请 AppKey", code="not_integration_account")
    app_key = AppKey(
        account_id=account.id,
        app_key=secrets.token_hex(10),
        secret=secrets.token_urlsafe(32),
        name=name,
        created_at=now,
        created_by=by,
    )
    session.add(app_key)
    session.commit()
    session.refresh(app_key)
    log.info("AppKey %s (%s) issued to account %s by %s", app_key.app_key, name, account.username, by)
    return app_key


def list_app_keys(*, session: Session, account_id: int) -> list[AppKey]:
    get_account(session=session, account_id=account_id)
    return list(
        session.exec(
            select(AppKey).where(AppKey.account_id == account_id, AppKey.revoked_at.is_(None)).order_by(AppKey.id)
        ).all()
    )


def revoke_app_key(*, session: Session, account_id: int, key_id: int, by: str, now: dt.datetime) -> None:
    app_key = session.get(AppKey, key_id)
    if app_key is None or app_key.account_id != account_id or app_key.revoked_at is not None:
        raise NotFound(f"账号 {account_id} 没有 AppKey {key_id}", code="unknown_app_key")
    app_key.revoked_at = now
    session.add(app_key)
    session.commit()
    log.info("AppKey %s of account %d revoked by %s", app_key.app_key, account_id, by)


def require_signed_requests(*, session: Session, account_id: int, required: bool, by: str) -> Account:
    account = get_account(session=session, account_id=account_id)
    if account.role is not Role.integration:
        raise Unprocessable("只有对接系统（integration）账号可以要求签名请求", code="not_integration_account")
    account.signed_requests_required = required
    session.add(account)
    session.commit()
    session.refresh(account)
    log.info("account %s: signed requests %s by %s", account.username, "required" if required else "optional", by)
    return account


# ---- demo -----------------------------------------------------------------------------------------------


@cache
def _demo_password_hash() -> str:
    return hash_password(DEMO_PASSWORD)  # one hash for all: they share the password anyway


def seed_demo_accounts(*, session: Session, now: dt.datetime) -> None:
    """The demo accounts of `minsheng.auth.demo` (local run only), created once; the integration one
    gets the demo API key."""
    known = set(session.exec(select(Account.username)).all())
    for demo in DEMO_ACCOUNTS:
        if demo.username in known:
            continue
        account = Account(
            username=demo.username,
            display_name=demo.display_name,
            role=demo.role,
            department=demo.department,
            org_unit=demo.org_unit,
            indicators=list(demo.indicators),
            head=demo.head,
            email=demo.email,
            password_hash=_demo_password_hash(),
            password_changed_at=now,
            created_at=now,
            created_by="演示数据",
        )
        session.add(account)
        session.commit()
        if demo.role is Role.integration:
            issue_api_key(
                session=session, account_id=account.id, name="演示密钥", by="演示数据", now=now, key=DEMO_API_KEY
            )


def seed_identity(app) -> None:  # noqa: ANN001 - a FastAPI app; a start-up hook of the gateway
    if app.state.settings.demo_users:
        with app.state.database.session() as session:
            seed_demo_accounts(session=session, now=utcnow())
