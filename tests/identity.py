"""Service tokens for tests: one Ed25519 key pair per test run, standing in for the gateway's.

`bearer("demo-city-office")` is the `Authorization` header the gateway would forward for that demo
account, valid for every campaign service and signed anew before it expires, so a test can call a
service directly as that account for as long as it runs.  Services started by the tests are given
`PUBLIC_KEY_PEM` (the campaign_client fixture, tests/processes.py); a gateway `PRIVATE_KEY_PEM`.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from minsheng.auth.demo import DEMO_ACCOUNTS, DEMO_BY_USERNAME
from minsheng.auth.keys import private_pem, public_pem
from minsheng.auth.principal import Principal
from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng_gateway.identity.tokens import FreshBearer, ServiceTokenSigner

_KEY = Ed25519PrivateKey.generate()
PRIVATE_KEY_PEM = private_pem(_KEY)
PUBLIC_KEY_PEM = public_pem(_KEY.public_key())
SIGNER = ServiceTokenSigner(_KEY, lifetime=60)


def demo_principal(username: str) -> Principal:
    """The demo account as a service sees it; its id is its place in the demo list."""
    demo = DEMO_BY_USERNAME[username]
    return Principal(account_id=DEMO_ACCOUNTS.index(demo) + 1, name=demo.display_name, role=demo.role,
                     department=demo.department, org_unit=demo.org_unit, indicators=frozenset(demo.indicators))


def bearer(username: str) -> FreshBearer:
    return FreshBearer(SIGNER, demo_principal(username), audience=CAMPAIGN_CODES)
