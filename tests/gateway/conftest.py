"""Fixtures of the gateway's tests: an in-process gateway that only folds feed."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from minsheng_gateway.settings import GatewaySettings
from tests.support.views import TODAY


@pytest.fixture
def gateway(make_database):
    """A gateway app on a fresh database, with the broker and services out of reach: only folds feed it."""
    import minsheng_gateway.main as gateway_main

    url = make_database("gateway")
    settings = GatewaySettings().model_copy(
        update={"database_url": url, "kafka_bootstrap_servers": "127.0.0.1:1", "catalog_retry_seconds": 3600}
    )
    client = TestClient(gateway_main.build_app(settings))
    client.__enter__()
    client.app.state.clock = lambda: TODAY
    yield client
    client.__exit__(None, None, None)
