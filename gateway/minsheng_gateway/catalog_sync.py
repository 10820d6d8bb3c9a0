"""The gateway learns the catalog from the services over HTTP (`GET /api/v1/catalog`), never from
their databases, and stores it in its own tables with the kernel's idempotent `apply_catalog`."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from minsheng.catalog.document import CAMPAIGN_CODES, CampaignDoc
from minsheng.catalog.loader import holds_catalog, seed_catalog
from minsheng_gateway.plans.scope import GatewayPlans, legacy_code, register_plan
from minsheng_gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

STARTUP_PATIENCE = 30.0  # seconds a service's catalog may be unavailable before it is a warning


def missing_catalogs(app: FastAPI) -> list[str]:
    """Readiness: the gateway is not ready until every campaign's catalog has arrived."""
    return [f"catalog:{code}" for code in CAMPAIGN_CODES if code not in app.state.catalogs_loaded]


async def fetch_catalog(client: httpx.AsyncClient, base_url: str, plan: str | None = None) -> CampaignDoc:
    response = await client.get(f"{base_url}/api/v1/catalog", params={"plan": plan} if plan else None)
    response.raise_for_status()
    return CampaignDoc.model_validate(response.json())


async def sync_once(app: FastAPI, client: httpx.AsyncClient, campaign: str, plan: str | None = None) -> bool:
    """The campaign's catalog of `plan` (None: the one the service serves by default) stored in that plan's tables."""
    settings: GatewaySettings = app.state.settings
    try:
        doc = await fetch_catalog(client, settings.service_url(campaign), plan)
    except (httpx.HTTPError, ValidationError, ValueError) as exc:
        # Services and the gateway start together: a service still starting is expected, not a fault.
        waited = max(0.0, time.monotonic() - app.state.catalog_missing_since.setdefault(campaign, time.monotonic()))
        (log.warning if waited >= STARTUP_PATIENCE else log.info)(
            "catalog of %s not available yet (%.0f s): %s", campaign, waited, exc
        )
        return False
    if doc.code != campaign:
        log.error(
            "service at %s served the catalog of %s, expected %s", settings.service_url(campaign), doc.code, campaign
        )
        return False

    def apply() -> None:
        # Into the tables of the plan the document names (decision 0017), listed in the registry in public.
        plans: GatewayPlans = app.state.plans
        slot = plans.slot(doc.plan.code)
        plans.ensure_schema(slot.code)
        with slot.database.session() as session:
            if not holds_catalog(session, doc):
                seed_catalog(session=session, doc=doc, catalog=slot.catalog)
        if slot.code is not None:
            with plans.legacy.database.session() as session:
                register_plan(session, doc.plan)
                session.commit()

    try:
        await asyncio.to_thread(apply)
    except IntegrityError as exc:
        # The consumer folded the same catalog (the service's catalog.published event) at the same
        # moment: one of the two stores it; the next try finds it there.
        log.info(
            "catalog of %s was being stored by the event consumer at the same time (%s); will retry",
            campaign,
            type(exc.orig).__name__ if exc.orig is not None else "IntegrityError",
        )
        return False
    except Exception:
        log.exception("could not store the catalog of %s; will retry", campaign)
        return False
    if plan is None:
        app.state.catalogs_loaded.add(campaign)
        app.state.catalog_missing_since.pop(campaign, None)
    return True


def known_plan_codes(app: FastAPI) -> list[str]:
    return [slot.code or legacy_code() for slot in app.state.plans.slots()]


async def sync_catalogs(app: FastAPI) -> None:
    """Background job: pull every catalog until all have arrived, then refresh periodically."""
    settings: GatewaySettings = app.state.settings
    transport = getattr(app.state, "service_transport", None)  # tests route to in-process service apps
    async with httpx.AsyncClient(timeout=10.0, transport=transport) as client:
        while True:
            pending = [c for c in CAMPAIGN_CODES if c not in app.state.catalogs_loaded]
            targets = pending or list(CAMPAIGN_CODES)
            # One at a time: the catalogs share the org-unit rows.
            for campaign in targets:
                await sync_once(app, client, campaign)
            if not pending:  # every plan the gateway knows, refreshed too (the default one is pulled above)
                for plan in await asyncio.to_thread(known_plan_codes, app):
                    for campaign in CAMPAIGN_CODES:
                        await sync_once(app, client, campaign, plan)
            still_missing = [c for c in CAMPAIGN_CODES if c not in app.state.catalogs_loaded]
            await asyncio.sleep(settings.catalog_retry_seconds if still_missing else settings.catalog_refresh_seconds)
