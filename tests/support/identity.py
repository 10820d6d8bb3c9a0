"""Service tokens for tests: one Ed25519 key pair per test run, standing in for the gateway's.

`bearer("demo-city-office")` is the `Authorization` header the gateway would forward for that demo
account, valid for every campaign service and signed anew before it expires, so a test can call a
service directly as that account for as long as it runs.  Services started by the tests are given
`PUBLIC_KEY_PEM` (the campaign_client fixture, tests/support/processes.py); a gateway `PRIVATE_KEY_PEM`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.testclient import TestClient

import minsheng_gateway.main as gateway_main
from minsheng.auth.demo import DEMO_API_KEY, DEMO_BY_USERNAME, DEMO_PASSWORD
from minsheng.auth.keys import private_pem, public_pem
from minsheng.auth.principal import Principal
from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.db import Database
from minsheng.db.migrations import upgrade_to_head
from minsheng.errors import install_error_handlers
from minsheng_gateway.identity.router import routers as identity_routers
from minsheng_gateway.identity.service import seed_identity
from minsheng_gateway.identity.signing import SignedBodyDigest
from minsheng_gateway.identity.tokens import FreshBearer, ServiceTokenSigner
from minsheng_gateway.migration_plan import migration_plan
from minsheng_gateway.proxy import close_proxy_client
from minsheng_gateway.proxy import router as proxy_router
from minsheng_gateway.settings import GatewaySettings

_KEY = Ed25519PrivateKey.generate()
PRIVATE_KEY_PEM = private_pem(_KEY)
PUBLIC_KEY_PEM = public_pem(_KEY.public_key())
SIGNER = ServiceTokenSigner(_KEY, lifetime=60)


def demo_principal(username: str) -> Principal:
    return DEMO_BY_USERNAME[username].principal()


def bearer(username: str) -> FreshBearer:
    """Valid for every campaign service, the notifier and the webhooks worker (the gateway forwards to them too)."""
    return FreshBearer(SIGNER, demo_principal(username), audience=(*CAMPAIGN_CODES, "notifier", "webhooks"))


# ---- a gateway with identity, for tests ------------------------------------------------------------------


def gateway_settings(database_url: str, **values) -> GatewaySettings:
    return GatewaySettings(
        **{"database_url": database_url, "jwt_private_key": PRIVATE_KEY_PEM, "demo_users": True, **values}
    )


def identity_gateway(settings: GatewaySettings, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """The gateway's identity routers and its proxy (with the signed requests' middleware) on a migrated gateway
    database with the demo accounts (the views, the consumer and the catalog sync are left out); `transport`
    reaches the services."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.database = Database(settings.database_url)
        upgrade_to_head(migration_plan, settings.database_url)
        seed_identity(app)
        yield
        await close_proxy_client(app)
        app.state.database.dispose()

    app = FastAPI(lifespan=lifespan)
    app.add_middleware(SignedBodyDigest)  # as main's: a signed request's body digest (identity/signing.py)
    install_error_handlers(app)
    for router in (*identity_routers, proxy_router):
        app.include_router(router)
    app.state.settings = settings
    if transport is not None:
        app.state.service_transport = transport
    return app


@contextmanager
def views_gateway(database_url: str, *, today: dt.date | None = None, **values) -> Iterator[TestClient]:
    """A whole gateway on its own database with no broker and no service to pull catalogs from: a test folds the
    services' events into it itself (`fold_all`); `today` fixes its clock."""
    settings = gateway_settings(
        database_url, kafka_bootstrap_servers="127.0.0.1:1", catalog_retry_seconds=3600, **values
    )
    with TestClient(gateway_main.build_app(settings)) as client:
        if today is not None:
            client.app.state.clock = lambda: today
        yield client


def sign_in(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    """Signs the client in (it keeps the cookie); returns the CSRF header its writes need."""
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


API_KEY = {"Authorization": f"Bearer {DEMO_API_KEY}"}  # the demo integration account's key
