"""政务 request signing (docs/integration.md): an integration system signs each request with its AppKey's secret,
HMAC-SHA256 or HMAC-SM3 over the method, path, sorted query and the body's digest, with a timestamp (5-minute
window) and a nonce used once. The body's digest is taken by `SignedBodyDigest` (the middleware buffers a signed
request's body, which the protection middleware has already capped); `signed_account` checks the rest."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from urllib.parse import parse_qsl, quote

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, delete, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from minsheng.auth.tokens import Unauthorized
from minsheng.clock import as_utc
from minsheng_gateway.identity.models import Account, AppKey, RequestNonce
from minsheng_gateway.identity.service import AccountDisabled

APP_KEY_HEADER = "x-app-key"
TIMESTAMP_HEADER = "x-timestamp"
NONCE_HEADER = "x-nonce"
METHOD_HEADER = "x-signature-method"
SIGNATURE_HEADER = "x-signature"
SIGNED_HEADERS = (APP_KEY_HEADER, TIMESTAMP_HEADER, NONCE_HEADER, METHOD_HEADER, SIGNATURE_HEADER)
HEADER_NAMES = {  # as the documentation spells them
    APP_KEY_HEADER: "X-App-Key",
    TIMESTAMP_HEADER: "X-Timestamp",
    NONCE_HEADER: "X-Nonce",
    METHOD_HEADER: "X-Signature-Method",
    SIGNATURE_HEADER: "X-Signature",
}
# signature method → the hash of both the HMAC and the body's digest (OpenSSL's sm3 through hashlib)
DIGESTS = {"HMAC-SHA256": "sha256", "HMAC-SM3": "sm3"}
WINDOW = dt.timedelta(minutes=5)
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
BODY_DIGEST_STATE = "signed_body_digest"
MARKERS = (APP_KEY_HEADER, SIGNATURE_HEADER)  # either makes a request a signed one: then all five must be there


def canonical_query(query_string: str) -> str:
    """Decoded name=value pairs, each part percent-encoded by RFC 3986 (UTF-8, only A–Z a–z 0–9 - . _ ~ left as
    they are), sorted by name then value, joined with &."""
    pairs = [(quote(k, safe=""), quote(v, safe="")) for k, v in parse_qsl(query_string, keep_blank_values=True)]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def string_to_sign(
    *, method: str, path: str, query_string: str, body_digest: str, app_key: str, timestamp: str, nonce: str
) -> str:
    return "\n".join((method.upper(), path, canonical_query(query_string), body_digest, app_key, timestamp, nonce))


def signature(secret: str, text: str, signature_method: str) -> str:
    return hmac.new(secret.encode(), text.encode(), DIGESTS[signature_method]).hexdigest()


def is_signed(headers) -> bool:  # noqa: ANN001 - starlette's Headers
    return any(marker in headers for marker in MARKERS)


def signed_account(
    *,
    session: Session,
    method: str,
    path: str,
    query_string: str,
    headers,  # noqa: ANN001 - starlette's Headers
    body_digest: str | None,
    now: dt.datetime,
) -> tuple[Account, AppKey]:
    """The account a signed request comes from; refuses it (401, a code and a Chinese reason) otherwise. The nonce
    is recorded (committed) once the signature holds, so a replay is refused even if this request fails later."""
    missing = [HEADER_NAMES[h] for h in SIGNED_HEADERS if not headers.get(h)]
    if missing:
        raise Unauthorized(f"签名请求缺少请求头：{'、'.join(missing)}", code="signature_headers_missing")
    app_key, timestamp, nonce = headers[APP_KEY_HEADER], headers[TIMESTAMP_HEADER], headers[NONCE_HEADER]
    signature_method = headers[METHOD_HEADER].upper()
    if signature_method not in DIGESTS:
        raise Unauthorized(
            f"签名算法「{headers[METHOD_HEADER]}」不支持，请用 HMAC-SHA256 或 HMAC-SM3",
            code="unsupported_signature_method",
        )
    if not timestamp.isdigit() or not NONCE.match(nonce):
        raise Unauthorized(
            "X-Timestamp 应为 Unix 时间戳（秒），X-Nonce 应为 16–64 位字母、数字、- 或 _",
            code="signature_headers_invalid",
        )
    row = session.exec(
        select(AppKey, Account)
        .join(Account, Account.id == AppKey.account_id)
        .where(AppKey.app_key == app_key, AppKey.revoked_at.is_(None))
    ).first()
    if row is None:
        raise Unauthorized(f"AppKey「{app_key}」不存在或已吊销，请向市民生办确认", code="unknown_app_key")
    key, account = row
    if account.disabled:
        raise AccountDisabled("账号已停用，请联系市民生办")
    signed_at = dt.datetime.fromtimestamp(int(timestamp), dt.UTC)
    if abs(now - signed_at) > WINDOW:
        raise Unauthorized(
            "请求时间戳超出 5 分钟有效期：请校准系统时钟（北京时间对应的 Unix 时间戳，单位秒）后重新签名",
            code="timestamp_expired",
        )
    expected = signature(
        key.secret,
        string_to_sign(
            method=method,
            path=path,
            query_string=query_string,
            body_digest=body_digest or hashlib.new(DIGESTS[signature_method], b"").hexdigest(),
            app_key=app_key,
            timestamp=timestamp,
            nonce=nonce,
        ),
        signature_method,
    )
    if not secrets.compare_digest(expected.encode(), headers[SIGNATURE_HEADER].lower().encode()):
        raise Unauthorized(
            "签名不符：请按接入文档核对待签名字符串（方法、路径、排序后的查询参数、请求体摘要、AppKey、时间戳、随机数）和密钥",
            code="bad_signature",
        )
    # Nonces live as long as their timestamp can pass the window; older ones go with each signed request.
    session.exec(delete(RequestNonce).where(RequestNonce.expires_at < now))
    recorded = session.exec(
        insert(RequestNonce)
        .values(app_key=app_key, nonce=nonce, expires_at=signed_at + WINDOW)
        .on_conflict_do_nothing()
        .returning(RequestNonce.nonce)
    ).first()
    if recorded is None:
        session.commit()
        raise Unauthorized("随机数（X-Nonce）已用过：每个请求须用新的随机数重新签名", code="nonce_replayed")
    if key.last_used_at is None or now - as_utc(key.last_used_at) >= dt.timedelta(minutes=1):
        key.last_used_at = now
        session.add(key)
    session.commit()
    return account, key


class SignedBodyDigest:
    """Takes the digest of a signed request's body (by its X-Signature-Method) before the app reads it, and hands
    the app the same body: `scope["state"]["signed_body_digest"]`. Requests that are not signed pass untouched."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        if not any(marker.encode() in headers for marker in MARKERS):
            await self.app(scope, receive, send)
            return
        method = headers.get(METHOD_HEADER.encode(), b"").decode("latin-1").upper()
        hasher = hashlib.new(DIGESTS.get(method, "sha256"))
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client went away: the app sees it as it would have
            hasher.update(message.get("body", b""))
            if not message.get("more_body", False):
                break
        scope.setdefault("state", {})[BODY_DIGEST_STATE] = hasher.hexdigest()
        buffered = iter(messages)

        async def replay() -> Message:
            return next(buffered, None) or await receive()

        await self.app(scope, replay, send)
