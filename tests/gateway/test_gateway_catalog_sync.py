"""The gateway pulls each campaign's catalog from its service; services still starting are expected."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import httpx

from minsheng_gateway.migration_plan import migration_plan
from minsheng_gateway.settings import GatewaySettings


def test_a_service_still_starting_is_logged_as_info_and_one_that_stays_away_as_a_warning(caplog, monkeypatch):
    from minsheng_gateway import catalog_sync

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("All connection attempts failed", request=request)

    app = SimpleNamespace(
        state=SimpleNamespace(settings=GatewaySettings(), catalogs_loaded=set(), catalog_missing_since={})
    )

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


def test_the_same_catalog_stored_by_the_consumer_meanwhile_is_waited_for_not_inserted_twice(make_database, caplog):
    """At start-up the gateway pulls a catalog while its consumer folds the same catalog's event.  Both once
    inserted the same rows and the second to commit met the first's (a UniqueViolation, logged, retried).  Now
    the pull waits for the consumer's transaction (`lock_catalog`) and then finds the rows there: it succeeds at
    once, with nothing logged but the catalog applied.  The race is played for real: the consumer's
    transaction is open until the pull waits on it."""
    import threading
    import time

    import sqlalchemy as sa

    from minsheng.catalog.loader import apply_catalog, read_catalog_file
    from minsheng.catalog.snapshot import CatalogCache
    from minsheng.db import Database
    from minsheng.db.migrations import upgrade_to_head
    from minsheng_gateway import catalog_sync
    from minsheng_gateway.plans.scope import GatewayPlans
    from tests.conftest import ROOT

    doc = read_catalog_file(ROOT / "services" / "education" / "minsheng_education" / "catalog.yaml")
    url = make_database("catalog_race")
    upgrade_to_head(migration_plan, url)
    database = Database(url)
    catalog = CatalogCache()
    app = SimpleNamespace(
        state=SimpleNamespace(
            settings=GatewaySettings(),
            catalogs_loaded=set(),
            catalog_missing_since={},
            database=database,
            catalog=catalog,
            plans=GatewayPlans(database, catalog),
        )
    )

    def serve(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=doc.model_dump(mode="json"))

    async def attempt() -> bool:
        async with httpx.AsyncClient(transport=httpx.MockTransport(serve)) as client:
            return await catalog_sync.sync_once(app, client, "education")

    def pull_is_waiting_on_a_lock() -> bool:
        with database.engine.connect() as connection:
            return bool(
                connection.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock'"
                    )
                ).scalar()
            )

    outcome: list[bool] = []
    try:
        with caplog.at_level(logging.INFO, logger="minsheng_gateway.catalog_sync"):
            with database.session() as consumer:  # the consumer's fold, not committed yet
                apply_catalog(session=consumer, doc=doc, catalog=CatalogCache())
                consumer.flush()
                pull = threading.Thread(target=lambda: outcome.append(asyncio.run(attempt())))
                pull.start()
                deadline = time.monotonic() + 20
                while not pull_is_waiting_on_a_lock():
                    assert time.monotonic() < deadline, "the pull never waited for the consumer"
                    time.sleep(0.05)
                consumer.commit()
            pull.join(timeout=20)
        assert outcome == [True] and app.state.catalogs_loaded == {"education"}
        assert not [r for r in caplog.records if "at the same time" in r.message or r.levelno >= logging.WARNING]
        with database.engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM campaign")).scalar() == 1
    finally:
        database.dispose()
