"""Rate limits at the single entry point: sign-in attempts per address, and writes per caller and per
address, so one runaway script or a guessing attack cannot crowd out the clerks.  Refused with 429,
`Retry-After` and a Chinese message; nothing of a refused request reaches a route.

Token buckets in this process's memory (`RateLimiter`, one per app): each gateway replica counts
its own, which bounds a caller at replicas × the rate; the limits are set far above what people do.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from minsheng_gateway.identity.deps import SESSION_COOKIE

SIGN_IN_PATH = "/api/v1/auth/login"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def rate_limited(method: str, path: str) -> bool:
    """Whether a request is counted against the limits (sign-in is a write too)."""
    return method in WRITE_METHODS and path.startswith("/api/")


@dataclass(frozen=True)
class Rate:
    per_second: float
    burst: float

    @property
    def enabled(self) -> bool:
        return self.per_second > 0 and self.burst > 0


class RateLimiter:
    """Token buckets by key: `take(key, rate)` spends one token or says how long until one is back.
    Buckets that are full again are forgotten when the table grows, so memory follows active callers.
    A test resets it by building a new one (each app has its own)."""

    MAX_KEYS = 50_000

    def __init__(self, clock=time.monotonic):  # noqa: ANN001 - a monotonic clock, replaceable in tests
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, when counted)
        self._lock = threading.Lock()

    def take(self, key: str, rate: Rate) -> float:
        """0 if allowed (a token spent), else the seconds until the next token."""
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.get(key, (rate.burst, now))
            tokens = min(rate.burst, tokens + (now - then) * rate.per_second)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                return (1 - tokens) / rate.per_second
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > self.MAX_KEYS:
                self._forget_full(now, rate)
        return 0.0

    def _forget_full(self, now: float, rate: Rate) -> None:
        self._buckets = {
            key: (tokens, then)
            for key, (tokens, then) in self._buckets.items()
            if tokens + (now - then) * rate.per_second < rate.burst
        }


def _caller(scope: Scope) -> str | None:
    """Who writes, as far as the request says before authentication: its bearer token, AppKey or session
    cookie (hashed: the limiter keeps no credentials)."""
    headers = dict(scope.get("headers", []))
    credential = headers.get(b"authorization") or headers.get(b"x-app-key")  # a signed request: its AppKey
    if credential is None:
        for part in headers.get(b"cookie", b"").split(b";"):
            name, _, value = part.strip().partition(b"=")
            if name == SESSION_COOKIE.encode():
                credential = value
    return hashlib.sha256(credential).hexdigest()[:32] if credential else None


class RateLimits:
    """The middleware; its limits come from the gateway's settings (0 turns one off)."""

    def __init__(
        self, app: ASGIApp, limiter: RateLimiter, sign_in: Rate, writes_by_caller: Rate, writes_by_address: Rate
    ):
        self.app = app
        self.limiter = limiter
        self.sign_in = sign_in
        self.writes_by_caller = writes_by_caller
        self.writes_by_address = writes_by_address

    def _wait(self, scope: Scope) -> tuple[float, str]:
        address = scope["client"][0] if scope.get("client") else "unknown"
        if scope["path"] == SIGN_IN_PATH:
            if self.sign_in.enabled:
                return self.limiter.take(f"sign-in:{address}", self.sign_in), "登录尝试过于频繁"
            return 0.0, ""
        caller = _caller(scope)
        if caller and self.writes_by_caller.enabled:
            wait = self.limiter.take(f"caller:{caller}", self.writes_by_caller)
            if wait:
                return wait, "提交过于频繁"
        if self.writes_by_address.enabled:
            return self.limiter.take(f"address:{address}", self.writes_by_address), "本地址提交过于频繁"
        return 0.0, ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not rate_limited(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        wait, what = self._wait(scope)
        if not wait:
            await self.app(scope, receive, send)
            return
        seconds = max(1, math.ceil(wait))
        body = json.dumps(
            {"detail": f"{what}，本次未处理（没有保存任何数据），请 {seconds} 秒后再试", "code": "rate_limited"},
            ensure_ascii=False,
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(seconds).encode()),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})
