"""Local receivers for the notifier's channels, on 127.0.0.1 with real sockets: an SMTP server (aiosmtpd) and an
HTTP server standing in for the 企业微信 / 钉钉 robots and the SMS provider, which checks their signatures as they
do and answers as they document."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


class _Collect:
    def __init__(self, inbox: list[EmailMessage]):
        self.inbox = inbox

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802 - aiosmtpd's hook
        self.inbox.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


class SmtpServer:
    """aiosmtpd on 127.0.0.1 (a free port); `inbox` holds what it received, parsed."""

    def __init__(self) -> None:
        self.inbox: list[EmailMessage] = []
        with socket.socket() as probe:  # aiosmtpd checks its own port after starting: it needs a real one
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(_Collect(self.inbox), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.inbox if address in m["To"]]


@dataclass
class Received:
    path: str
    query: dict
    headers: dict
    body: dict


@dataclass
class HttpReceivers:
    """One HTTP server for the robots and the SMS provider.  /wecom/<key>, /dingtalk/<key> (checks `sign` with
    `dingtalk_secret`), /sms (checks X-Signature with `sms_secret`).  `fail_with`: a status every request gets."""

    dingtalk_secret: str = "SECtest-dingtalk-secret"
    sms_access_key: str = "test-access-key"
    sms_secret: str = "test-sms-secret"
    fail_with: int | None = None
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def __enter__(self) -> HttpReceivers:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # noqa: ANN002
                pass

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                status, answer = owner.answer(url.path, query, dict(self.headers), raw)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, path: str, query: dict, headers: dict, raw: bytes) -> tuple[int, dict]:
        if self.fail_with is not None:
            return self.fail_with, {"errcode": -1, "errmsg": "system busy"}
        headers = {k.lower(): v for k, v in headers.items()}
        body = json.loads(raw)
        if path.startswith("/dingtalk/"):
            stamp = query.get("timestamp", "")
            expected = base64.b64encode(
                hmac.new(
                    self.dingtalk_secret.encode(), f"{stamp}\n{self.dingtalk_secret}".encode(), hashlib.sha256
                ).digest()
            ).decode()
            if (
                not hmac.compare_digest(query.get("sign", ""), expected)
                or abs(time.time() * 1000 - int(stamp or 0)) > 3600_000
            ):
                self.refused.append(path)
                return 200, {"errcode": 310000, "errmsg": "sign not match"}
        elif path == "/sms":
            text = "\n".join(
                [
                    "POST",
                    path,
                    headers.get("x-timestamp", ""),
                    headers.get("x-nonce", ""),
                    hashlib.sha256(raw).hexdigest(),
                ]
            )
            expected = base64.b64encode(
                hmac.new(self.sms_secret.encode(), text.encode(), hashlib.sha256).digest()
            ).decode()
            if headers.get("x-access-key") != self.sms_access_key or not hmac.compare_digest(
                headers.get("x-signature", ""), expected
            ):
                self.refused.append(path)
                return 403, {"code": "SignatureDoesNotMatch", "message": "signature"}
            self.received.append(Received(path, query, headers, body))
            return 200, {"code": "OK"}
        elif path.startswith("/wecom/"):
            if len(body["text"]["content"].encode()) > 2048:
                self.refused.append(path)
                return 200, {"errcode": 40058, "errmsg": "content exceed max length"}
        self.received.append(Received(path, query, headers, body))
        return 200, {"errcode": 0, "errmsg": "ok"}
