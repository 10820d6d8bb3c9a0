"""Signing the short-lived service tokens the gateway forwards to the campaign services
(the claims are `minsheng.auth.tokens`' to define; the services verify them there)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from minsheng.auth.keys import load_private_key, public_jwk
from minsheng.auth.principal import Principal
from minsheng.auth.tokens import ALGORITHM, service_token_claims


@dataclass
class ServiceTokenSigner:
    """Signs service tokens. `current` hands out the same token for a caller and service until it is half
    its lifetime old, so a service verifies its signature once, not on every call (the caller is still
    authenticated at the gateway on every call; a disabled account gets no token at all)."""

    private_key: Ed25519PrivateKey
    lifetime: int = 30
    max_entries: int = 10_000
    kid: str = field(init=False)
    _current: dict[tuple[Principal, str | tuple[str, ...]], tuple[str, float]] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        self.kid = public_jwk(self.private_key.public_key())["kid"]

    @classmethod
    def from_setting(cls, private_key: str, *, lifetime: int = 30) -> ServiceTokenSigner:
        return cls(load_private_key(private_key), lifetime=lifetime)

    def sign(self, principal: Principal, *, audience: str | Iterable[str]) -> str:
        claims = service_token_claims(principal, audience=audience, issued_at=int(time.time()), lifetime=self.lifetime)
        return jwt.encode(claims, self.private_key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def current(self, principal: Principal, *, audience: str | tuple[str, ...]) -> str:
        key = (principal, audience)
        cached = self._current.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        token = self.sign(principal, audience=audience)
        if len(self._current) >= self.max_entries:
            self._current.clear()
        self._current[key] = (token, time.monotonic() + self.lifetime / 2)
        return token

    def jwks(self) -> dict:
        return {"keys": [public_jwk(self.private_key.public_key())]}


class FreshBearer(Mapping[str, str]):
    """`{"Authorization": "Bearer <service token>"}` whose token is renewed before it expires: for tools
    that call services directly for a long time (tests, benchmarks)."""

    def __init__(self, signer: ServiceTokenSigner, principal: Principal, audience: str | Iterable[str]):
        self._signer, self._principal = signer, principal
        self._audience = audience if isinstance(audience, str) else tuple(audience)

    def __getitem__(self, name: str) -> str:
        if name != "Authorization":
            raise KeyError(name)
        return f"Bearer {self._signer.current(self._principal, audience=self._audience)}"

    def __iter__(self) -> Iterator[str]:
        return iter(("Authorization",))

    def __len__(self) -> int:
        return 1


def service_token_signer(app) -> ServiceTokenSigner | None:  # noqa: ANN001 - a FastAPI app
    """The app's signer (`app.state.service_token_signer`), built from its settings on first use;
    None when no key is configured."""
    signer = getattr(app.state, "service_token_signer", None)
    if signer is None:
        settings = app.state.settings
        if not settings.jwt_private_key:
            return None
        signer = ServiceTokenSigner.from_setting(settings.jwt_private_key, lifetime=settings.service_token_seconds)
        app.state.service_token_signer = signer
    return signer
