"""The gateway pulls each campaign's catalog from its service; services still starting are expected."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import httpx

from minsheng_gateway.settings import GatewaySettings


def test_a_service_still_starting_is_logged_as_info_and_one_that_stays_away_as_a_warning(caplog, monkeypatch):
    from minsheng_gateway import catalog_sync

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("All connection attempts failed", request=request)

    app = SimpleNamespace(state=SimpleNamespace(settings=GatewaySettings(), catalogs_loaded=set(),
                                                catalog_missing_since={}))

    async def attempt() -> bool:
        async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
            return await catalog_sync.sync_once(app, client, "education")

    with caplog.at_level(logging.INFO, logger="minsheng_gateway.catalog_sync"):
        assert asyncio.run(attempt()) is False
        monkeypatch.setattr(catalog_sync, "STARTUP_PATIENCE", 0.0)  # as if it had been away that long
        assert asyncio.run(attempt()) is False
    levels = [record.levelno for record in caplog.records if "catalog of education not available" in record.message]
    assert levels == [logging.INFO, logging.WARNING]
    assert "education" in app.state.catalog_missing_since and not app.state.catalogs_loaded
