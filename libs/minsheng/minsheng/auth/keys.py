"""The Ed25519 key pair the gateway signs service tokens with.

A setting holds a key either as PEM text or as the path of a PEM file (a Docker/Kubernetes secret
mounted as a file, or `var/jwt/*.pem` of `make run`): one rule for every process.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PRIVATE_KEY_FILE = "jwt_private_key.pem"
PUBLIC_KEY_FILE = "jwt_public_key.pem"


def _pem(setting: str) -> bytes:
    text = setting.strip()
    if text.startswith("-----BEGIN"):
        return text.encode()
    return Path(text).expanduser().read_bytes()


def load_private_key(setting: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(_pem(setting), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the service-token signing key must be an Ed25519 private key")
    return key


def load_public_key(setting: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(_pem(setting))
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the service-token verification key must be an Ed25519 public key")
    return key


def private_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def ensure_key_pair(directory: Path) -> tuple[Path, Path]:
    """The key pair's files in `directory`, generated on first use (private key readable by the owner only)."""
    directory.mkdir(parents=True, exist_ok=True)
    private, public = directory / PRIVATE_KEY_FILE, directory / PUBLIC_KEY_FILE
    if not private.exists():
        key = Ed25519PrivateKey.generate()
        descriptor = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(private_pem(key))
        public.write_text(public_pem(key.public_key()))
    elif not public.exists():
        public.write_text(public_pem(load_private_key(str(private)).public_key()))
    return private, public


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    """The key as a JWK (RFC 8037), its `kid` the RFC 7638 thumbprint."""
    x = _b64url(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True)
    kid = _b64url(hashlib.sha256(canonical.encode()).digest())
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"}
