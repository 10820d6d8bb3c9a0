"""The service token: a short-lived JWT the gateway signs (EdDSA) for one campaign service.

The claims are written and read here, once: `sub` = the account's id, `name` = its display name,
`role`, the scope (`department`, `org_unit`, `indicators`), `aud` = the campaign, `iss`, `iat`, `exp`.
A service verifies the signature with the gateway's public key from its settings and never looks a
caller up in its database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from minsheng.auth.keys import load_public_key
from minsheng.auth.models import Role
from minsheng.auth.principal import Principal
from minsheng.errors import DomainError

log = logging.getLogger(__name__)

ISSUER = "minsheng-gateway"
ALGORITHM = "EdDSA"  # pinned: a token naming any other algorithm (`none` included) is refused
MAX_LIFETIME_SECONDS = 60
CLOCK_SKEW_SECONDS = 5  # gateway and services on different hosts may disagree by a little


class Unauthorized(DomainError):
    status_code = 401
    code = "not_signed_in"


def service_token_claims(principal: Principal, *, audience: str | Iterable[str], issued_at: int, lifetime: int) -> dict:
    if not 0 < lifetime <= MAX_LIFETIME_SECONDS:
        raise ValueError(f"a service token lives at most {MAX_LIFETIME_SECONDS} s")
    return {
        "iss": ISSUER,
        "sub": str(principal.account_id),
        "aud": audience if isinstance(audience, str) else list(audience),
        "iat": issued_at,
        "exp": issued_at + lifetime,
        "name": principal.name,
        "role": principal.role.value,
        "department": principal.department,
        "org_unit": principal.org_unit,
        "indicators": sorted(principal.indicators),
    }


def principal_from_claims(claims: dict) -> Principal:
    return Principal(
        account_id=int(claims["sub"]),
        name=claims["name"],
        role=Role(claims["role"]),
        department=claims.get("department"),
        org_unit=claims.get("org_unit"),
        indicators=frozenset(claims.get("indicators") or ()),
    )


INVALID = "令牌无效：请通过网关登录后访问（服务只接受网关签发的令牌）"


@dataclass
class ServiceTokenVerifier:
    """Verifies service tokens for one campaign.

    Holds the tokens it verified until they expire, so a caller's burst of requests costs one signature
    check: a token that verified once stays valid to its `exp` (a signature cannot change), which is also
    as long as any revocation takes to reach a service.  Bounded; tests reset it with `clear()`.
    """

    audience: str
    public_key: Ed25519PublicKey | None
    max_entries: int = 10_000
    _verified: dict[str, tuple[Principal, float]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_setting(cls, *, audience: str, public_key: str) -> ServiceTokenVerifier:
        if not public_key:
            log.error("%s: no JWT_PUBLIC_KEY configured: every authenticated request will be refused", audience)
            return cls(audience=audience, public_key=None)
        return cls(audience=audience, public_key=load_public_key(public_key))

    def clear(self) -> None:
        self._verified.clear()

    def principal(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        principal, expires_at = self._verify(token)
        if len(self._verified) >= self.max_entries:
            self._verified.clear()
        self._verified[token] = (principal, expires_at)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        if self.public_key is None:
            raise Unauthorized(INVALID, code="invalid_token")
        try:
            claims = jwt.decode(
                token,
                self.public_key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=ISSUER,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
            if claims["exp"] - claims["iat"] > MAX_LIFETIME_SECONDS:
                raise jwt.InvalidTokenError("lifetime above the maximum")
            return principal_from_claims(claims), float(claims["exp"])
        except jwt.ExpiredSignatureError:
            raise Unauthorized("令牌已过期：请重新通过网关发起请求", code="token_expired") from None
        except (jwt.InvalidTokenError, KeyError, ValueError, TypeError) as exc:
            log.info("%s: service token refused: %s", self.audience, exc.__class__.__name__)
            raise Unauthorized(INVALID, code="invalid_token") from None
