"""The load generators' HTTP client: a minimal HTTP/1.1 keep-alive client on asyncio streams, or httpx.

Why not httpx for the load: on this 2-core machine `httpx.AsyncClient` spends 1.8 ms of CPU per
request at concurrency 1 and 3.6–4 ms at concurrency 16 (measured against bench/bare_app.py), while
the bare endpoint itself needs ~1 ms of server CPU.  The "bare FastAPI" rate would then be httpx's
rate (≈200/s, the client using a whole core), and at 200 reports/s (400+ requests/s) the client alone
would need both cores.  The raw client below costs ~0.1 ms per request, so the servers, not the
client, are what is measured.  `--client httpx` switches the load generators back to httpx (same
interface) to reproduce that comparison.

Only what the platform's endpoints use: JSON bodies, Content-Length or chunked responses, keep-alive.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit


class ClientError(OSError):
    """The connection failed or the response could not be read (the connection is discarded)."""


@dataclass
class Response:
    status_code: int
    content: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.content)


def _closed_before_answer(exc: BaseException) -> bool:
    if isinstance(exc, asyncio.IncompleteReadError):
        return not exc.partial
    return isinstance(exc, (ConnectionResetError, BrokenPipeError))


class RawClient:
    """HTTP/1.1 over a pool of at most `max_connections` keep-alive connections to one server."""

    def __init__(self, base_url: str, max_connections: int, timeout: float = 60.0):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.timeout = timeout
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> Response:
        target = f"{path}?{urlencode(params)}" if params else path
        body = jsonlib.dumps(json).encode() if json is not None else b""
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        if json is not None:
            lines.append("Content-Type: application/json")
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        async with self._slots:
            while True:
                reused = bool(self._idle)
                reader, writer = self._idle.pop() if reused else await self._connect()
                try:
                    writer.write(raw)
                    status, keep_alive, content = await asyncio.wait_for(self._read_response(reader), self.timeout)
                except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    writer.close()
                    # uvicorn closes keep-alive connections idle for 5 s: a reused connection that
                    # ends before any byte of an answer never carried the request; send it again on a
                    # fresh one (httpx and urllib3 do the same).
                    if reused and _closed_before_answer(exc):
                        continue
                    raise ClientError(f"{type(exc).__name__}: {exc}") from exc
                if keep_alive:
                    self._idle.append((reader, writer))
                else:
                    writer.close()
                return Response(status, content)

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.timeout)
        except (TimeoutError, OSError) as exc:
            raise ClientError(f"{type(exc).__name__}: {exc}") from exc

    @staticmethod
    async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            content = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
            await reader.readuntil(b"\r\n")  # the (empty) trailer
            content = b"".join(chunks)
        else:
            return status, False, await reader.read()
        return status, headers.get("connection", "").lower() != "close", content

    async def post(self, path: str, **kwargs: Any) -> Response:
        return await self.request("POST", path, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> Response:
        return await self.request("GET", path, **kwargs)

    async def aclose(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()


class HttpxClient:
    """The same interface over `httpx.AsyncClient`."""

    def __init__(self, base_url: str, max_connections: int, timeout: float = 60.0):
        import httpx

        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )

    async def post(self, path: str, **kwargs: Any) -> Response:
        response = await self._client.post(path, **kwargs)
        return Response(response.status_code, response.content)

    async def get(self, path: str, **kwargs: Any) -> Response:
        response = await self._client.get(path, **kwargs)
        return Response(response.status_code, response.content)

    async def aclose(self) -> None:
        await self._client.aclose()


def make_client(kind: str, base_url: str, max_connections: int) -> RawClient | HttpxClient:
    if kind == "raw":
        return RawClient(base_url, max_connections)
    if kind == "httpx":
        return HttpxClient(base_url, max_connections)
    raise ValueError(f"unknown client {kind!r}: raw or httpx")
