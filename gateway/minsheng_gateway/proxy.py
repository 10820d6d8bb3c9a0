"""The gateway as the single entry point: `/api/v1/campaigns/<campaign>/<path>` is forwarded to that
campaign service's `/api/v1/<path>`.

The gateway authenticates the caller (a person's session cookie, with the CSRF header on writes, or a
system's API key: `minsheng_gateway.identity`) and forwards the call with a short-lived token it signs for
that one service (`Authorization: Bearer <JWT>`); the caller's own `Authorization` and cookies never
reach a service.  A call without credentials goes without a token: the open reads answer it, the rest
is the service's 401.  Forwarded besides: the method, the query string, the raw body (streamed, so CSV
and JSON uploads pass through untouched), `Content-Type` and `X-Forwarded-For`.  The service's status,
body and `Content-Type` come back unchanged (with the few response headers a client acts on:
`WWW-Authenticate`, `Content-Disposition`, `Retry-After`, caching, and the service's security headers, which are
the gateway's own unless a route sets its own, as a 佐证材料 shown in a frame of the app does).  A JSON answer is
read whole; any other (a file: an evidence file, an export) is streamed as it comes, never held whole in memory.
The service decides the rest
(permissions, validation, errors); the gateway only says when the service cannot be reached (502
`service_unavailable`) or does not answer in time (504 `service_timeout`).

One `httpx.AsyncClient` (connection pool) per app, created on first use at `app.state.proxy_client`;
`app.state.service_transport` (tests: an `httpx.ASGITransport` to an in-process service) is used when set.
Close it at shutdown with `close_proxy_client(app)`, or run `proxy_client_lifecycle` as a background job.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from minsheng.auth.tokens import Unauthorized
from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.errors import DomainError, NotFound
from minsheng_gateway.identity.deps import SESSION_COOKIE, Caller, authenticate
from minsheng_gateway.identity.signing import is_signed
from minsheng_gateway.identity.tokens import service_token_signer
from minsheng_gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

PROXY_TIMEOUT_SECONDS = 30.0
PROXY_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
# The services' names as the README and the plan say them.
CAMPAIGN_NAMES = {
    "education": "教育",
    "health": "医疗健康",
    "eldercare": "养老服务",
    "employment": "就业增收",
    "livability": "文明宜居",
    "notifier": "提醒",  # not a campaign: the notifier, proxied the same way (notifications/router.py)
    "webhooks": "对接系统推送",  # nor the webhooks worker (webhooks.py)
}
# Response headers worth passing back besides Content-Type (hop-by-hop and framing headers never are).
RESPONSE_HEADERS = (
    "www-authenticate",
    "content-disposition",
    "retry-after",
    "cache-control",
    "etag",
    "last-modified",
    "content-security-policy",
    "x-frame-options",
)
# Kept on a streamed answer: the body passes as the service sent it.
STREAMED_HEADERS = ("content-length", "content-encoding")
# Characters kept as they are when the path is re-encoded for the service (RFC 3986 pchar and "/").
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


class ServiceUnavailable(DomainError):
    status_code = 502
    code = "service_unavailable"


class ServiceTimeout(DomainError):
    status_code = 504
    code = "service_timeout"


class IdentityNotConfigured(DomainError):
    status_code = 503
    code = "identity_not_configured"


def service_label(campaign: str) -> str:
    return f"{CAMPAIGN_NAMES.get(campaign, campaign)}服务（{campaign}）"


def proxy_client(app: FastAPI) -> httpx.AsyncClient:
    """The app's shared client, created on first use."""
    client: httpx.AsyncClient | None = getattr(app.state, "proxy_client", None)
    if client is None or client.is_closed:
        client = httpx.AsyncClient(
            transport=getattr(app.state, "service_transport", None),
            timeout=httpx.Timeout(PROXY_TIMEOUT_SECONDS),
            follow_redirects=False,
            trust_env=False,  # service URLs are internal: never through an HTTP(S)_PROXY of the environment
        )
        app.state.proxy_client = client
    return client


async def close_proxy_client(app: FastAPI) -> None:
    client: httpx.AsyncClient | None = getattr(app.state, "proxy_client", None)
    app.state.proxy_client = None
    if client is not None:
        await client.aclose()


async def proxy_client_lifecycle(app: FastAPI) -> None:
    """A background job (`create_app(background=[...])`) that closes the shared client at shutdown."""
    try:
        await asyncio.Event().wait()
    finally:
        await close_proxy_client(app)


def _forwarded_headers(request: Request) -> dict[str, str]:
    headers = {"content-type": request.headers["content-type"]} if "content-type" in request.headers else {}
    if request.client is not None:
        headers["x-forwarded-for"] = request.client.host
    return headers


def _caller(request: Request) -> tuple[Caller | None, Unauthorized | None]:
    """The authenticated caller; or none, with the reason when a session cookie was no longer valid (an
    open read still works with it, anything else answers that reason rather than the service's 401)."""
    with request.app.state.database.session() as session:
        try:
            return authenticate(request, session), None
        except Unauthorized as refused:
            if refused.code in ("not_signed_in", "session_expired") and "authorization" not in request.headers:
                return None, refused
            raise


def service_token(request: Request, caller: Caller, campaign: str) -> str:
    signer = service_token_signer(request.app)
    if signer is None:
        log.error("no GATEWAY_JWT_PRIVATE_KEY configured: authenticated calls cannot be forwarded")
        raise IdentityNotConfigured("网关未配置服务令牌签名密钥，暂时无法办理，请联系系统管理员")
    return signer.current(caller.account.principal(), audience=campaign)


router = APIRouter(tags=["统一入口 gateway"])


async def forward(campaign: str, path: str, request: Request) -> Response:
    _known_campaign(campaign)
    settings: GatewaySettings = request.app.state.settings
    return await forward_to_process(campaign, settings.service_url(campaign), path, request)


async def forward_to_process(process: str, base_url: str, path: str, request: Request) -> Response:
    """A path forwarded to `base_url`'s `/api/v1/{path}` with a token the gateway signs for `process` (its
    audience): a campaign service's, the notifier's or the webhooks worker's, one set of rules for all."""
    if any(segment in (".", "..") for segment in path.split("/")):
        raise NotFound("请求的地址不存在", code="http_404")
    url = f"{base_url.rstrip('/')}/api/v1/{quote(path, safe=_PATH_SAFE)}"
    if request.url.query:
        url = f"{url}?{request.url.query}"
    headers = _forwarded_headers(request)
    caller, refused = None, None
    credentials = "authorization" in request.headers or is_signed(request.headers)
    if credentials or SESSION_COOKIE in request.cookies:  # else nothing to look up
        caller, refused = await run_in_threadpool(_caller, request)
    if caller is not None:
        headers["authorization"] = f"Bearer {service_token(request, caller, process)}"
    body = _request_body(request, headers)
    upstream, streamed = await _send(request, process, url, headers, body)
    if upstream.status_code == 401 and refused is not None:
        await upstream.aclose()
        raise refused
    return _answer(upstream, streamed)


def _known_campaign(campaign: str) -> None:
    if campaign not in CAMPAIGN_CODES:
        valid = "、".join(f"{code}（{CAMPAIGN_NAMES[code]}）" for code in CAMPAIGN_CODES)
        raise NotFound(
            f"攻坚行动「{campaign}」不存在，可选：{valid}",
            code="unknown_campaign",
            extra={"campaigns": list(CAMPAIGN_CODES)},
        )


def _request_body(request: Request, headers: dict[str, str]) -> AsyncIterator[bytes] | None:
    """The body, streamed as it arrives; a known length is kept so the service gets a plain (not chunked) body."""
    if "content-length" not in request.headers and "transfer-encoding" not in request.headers:
        return None
    if "content-length" in request.headers:
        headers["content-length"] = request.headers["content-length"]
    return request.stream()


async def _send(
    request: Request, campaign: str, url: str, headers: dict[str, str], body: AsyncIterator[bytes] | None
) -> tuple[httpx.Response, bool]:
    """The service's answer and whether it is a file to stream (a JSON answer is read whole); the service
    unreachable or too slow is the gateway's own 502 or 504."""
    client = proxy_client(request.app)
    upstream: httpx.Response | None = None
    try:
        upstream = await client.send(
            client.build_request(request.method, url, headers=headers, content=body), stream=True
        )
        streamed = _is_file(upstream)
        if not streamed:
            await upstream.aread()
        return upstream, streamed
    except httpx.TimeoutException as exc:
        if upstream is not None:
            await upstream.aclose()
        log.warning("%s %s: %s did not answer in time: %r", request.method, url, campaign, exc)
        raise ServiceTimeout(
            f"{service_label(campaign)}响应超时（{PROXY_TIMEOUT_SECONDS:g} 秒），请稍后重试",
            extra={"campaign": campaign},
        ) from None
    except httpx.TransportError as exc:
        if upstream is not None:
            await upstream.aclose()
        log.warning("%s %s: %s unreachable: %r", request.method, url, campaign, exc)
        raise ServiceUnavailable(
            f"{service_label(campaign)}暂时无法访问，请稍后重试", extra={"campaign": campaign}
        ) from None


def _answer(upstream: httpx.Response, streamed: bool) -> Response:
    """The service's status, body and the headers a client acts on, passed back."""
    response_headers = {name: upstream.headers[name] for name in RESPONSE_HEADERS if name in upstream.headers}
    if streamed:
        response_headers |= {name: upstream.headers[name] for name in STREAMED_HEADERS if name in upstream.headers}
        response: Response = StreamingResponse(
            upstream.aiter_raw(),
            status_code=upstream.status_code,
            headers=response_headers,
            background=BackgroundTask(upstream.aclose),
        )
    else:
        response = Response(content=upstream.content, status_code=upstream.status_code, headers=response_headers)
    if "content-type" in upstream.headers:
        response.headers["content-type"] = upstream.headers["content-type"]
    return response


def _is_file(upstream: httpx.Response) -> bool:
    """A successful answer that is not JSON (nor an error): a file, streamed through."""
    media_type = upstream.headers.get("content-type", "").split(";")[0].strip().lower()
    return upstream.status_code == 200 and bool(media_type) and media_type != "application/json"


# One route per method, each its own operation id (generated clients need them unique).
for _method in PROXY_METHODS:
    router.add_api_route(
        "/api/v1/campaigns/{campaign}/{path:path}",
        forward,
        methods=[_method],
        operation_id=f"forward_{_method.lower()}",
        summary="转发到攻坚行动服务（统一入口）",
        description=(
            "把 `/api/v1/campaigns/{campaign}/{path}` 转发到该行动服务的 `/api/v1/{path}`："
            "网关核验调用者（登录会话 Cookie，写操作须带 `X-CSRF-Token`；或 `Authorization: Bearer <API 密钥>`），"
            "并附上网关为该服务签发的短期令牌；查询参数、请求体（含文件上传）与 `Content-Type` 一并转发，"
            "服务的状态码与响应内容原样返回。"
        ),
        # The service's own answers pass through as they are, errors included.
        responses={
            400: {"description": "请求内容无法解析（服务的回答）"},
            401: {"description": "未登录、会话或密钥无效"},
            403: {"description": "无权办理，或写操作缺少 CSRF 令牌"},
            404: {"description": "未知的攻坚行动，或服务中不存在的地址或记录"},
            409: {"description": "与当前状态冲突（服务的回答）"},
            413: {"description": "请求内容过大"},
            422: {"description": "参数或数据有误（服务的回答，逐项说明）"},
            502: {"description": "服务无法访问"},
            504: {"description": "服务响应超时"},
        },
    )
