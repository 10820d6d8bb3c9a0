"""A webhook receiver on 127.0.0.1 (real sockets) that checks signatures as the Standard Webhooks specification
says, written here from the specification (never importing the platform's signer):

    signed content = "{webhook-id}.{webhook-timestamp}.{body}"
    signature      = base64(HMAC-SHA256(key, signed content)), key = base64-decode(secret without "whsec_")
    header         = space-separated "v1,<signature>" entries; the message is genuine if any one matches.

`mode` says how it answers: "ok" (204), "unavailable" (503), "gone" (410), "redirect" (302 to 127.0.0.1),
"big" (10 MB), "hang" (never answers); `stop()` closes the socket (nothing listening), `start()` opens it again
on the same port.  `processed` holds each event once (deduplicated by webhook-id), `seen` every request."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def spec_verify(secret: str, headers: dict[str, str], body: bytes, tolerance: int = 300) -> bool:
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest())
    for entry in headers["webhook-signature"].split(" "):
        version, _, given = entry.partition(",")
        if version == "v1" and hmac.compare_digest(given.encode(), expected):
            return True
    return False


class Receiver:
    def __init__(self, secret: str = "") -> None:
        self.secret = secret
        self.mode = "ok"
        self.seen: list[dict] = []  # every request: headers, verified, body
        self.processed: dict[str, dict] = {}  # webhook-id -> event, each once
        self.duplicates = 0
        self.lock = threading.Lock()
        self.release = threading.Event()  # lets a hanging answer go at the end
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's hook
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified = bool(receiver.secret) and spec_verify(receiver.secret, headers, body)
                mode = receiver.mode
                with receiver.lock:
                    receiver.seen.append({"headers": headers, "verified": verified, "body": body, "mode": mode})
                if mode == "hang":
                    receiver.release.wait(60)
                    return
                if mode == "ok" and verified:
                    with receiver.lock:
                        if headers["webhook-id"] in receiver.processed:
                            receiver.duplicates += 1
                        else:
                            receiver.processed[headers["webhook-id"]] = json.loads(body)
                    self._answer(204, b"")
                elif mode == "ok":
                    self._answer(401, b"bad signature")
                elif mode == "gone":
                    self._answer(410, b"gone")
                elif mode == "redirect":
                    self.send_response(302)
                    self.send_header("location", f"http://127.0.0.1:{receiver.port}/elsewhere")
                    self.send_header("content-length", "0")
                    self.end_headers()
                elif mode == "big":
                    self.send_response(200)
                    self.send_header("content-length", str(10 * 1024 * 1024))
                    self.end_headers()
                    try:
                        for _ in range(160):
                            self.wfile.write(b"x" * 65536)
                    except OSError:
                        pass  # the sender stopped reading: as it should
                else:
                    self._answer(503, "稍后再试".encode())

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def start(self) -> Receiver:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.stop()
