"""Standard Webhooks signatures: `whsec_` + base64 secrets, and `v1,<base64 HMAC-SHA256 of id.timestamp.body>`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from minsheng.errors import Unprocessable

PREFIX = "whsec_"
MIN_SECRET_BYTES = 24  # the specification's lower bound
NEW_SECRET_BYTES = 32


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(NEW_SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The key bytes of a `whsec_` secret; refused (422, with a reason a clerk can pass on) when it is not one."""
    if not secret.startswith(PREFIX):
        raise Unprocessable("签名密钥须以 whsec_ 开头，后接 Base64 编码的随机字节", code="secret_malformed")
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise Unprocessable("签名密钥 whsec_ 之后须为 Base64 编码", code="secret_malformed") from None
    if len(key) < MIN_SECRET_BYTES:
        raise Unprocessable(
            f"签名密钥过短：只有 {len(key)} 字节，至少须 {MIN_SECRET_BYTES} 字节随机数",
            code="secret_too_short",
            extra={"bytes": len(key), "minimum": MIN_SECRET_BYTES},
        )
    return key


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signatures(secrets_in_force: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header: one entry per secret in force (two during a rotation), space separated."""
    return " ".join(signature(s, message_id, timestamp, body) for s in secrets_in_force)
