"""Feeding the gateway's views from a service's real events in-process: the service's outbox read back,
each event folded as the live consumer would (`fold_all`) or a batch in one transaction (`fold`), and the
scenario of approved and pending reports that the view tests compare."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from minsheng.catalog.snapshot import CatalogCache
from minsheng.db import Database
from minsheng.messaging import IntegrationEvent, OutboxEvent
from minsheng.progress.model import Thresholds
from minsheng_gateway.plans.scope import GatewayPlans
from minsheng_gateway.projection.fold import view_handlers
from minsheng_gateway.projection.progress import StaleProgress, refresh
from tests.conftest import CITY, EDU_BUREAU, ZHANGDIAN

AS_OF = "2022-12-31"
TODAY = dt.date(2022, 12, 31)  # the in-process gateway's clock (the `gateway` fixture)


def outbox_events(service_client) -> list[IntegrationEvent]:
    with service_client.app.state.database.session() as session:
        rows = session.exec(select(OutboxEvent).order_by(OutboxEvent.id)).all()
    return [IntegrationEvent.from_json_bytes(r.payload) for r in rows]


def approve(client, body, headers=EDU_BUREAU):
    created = client.post("/api/v1/reports", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert client.post(f"/api/v1/reports/{created.json()['id']}/approve", headers=CITY).status_code == 200
    return created.json()


def live_handlers(app):
    """The live consumer's handlers of `app`, refreshing the progress rows for 2022-12-31."""
    return view_handlers(
        lambda session, stale, slot: refresh(session, stale, Thresholds(), slot.catalog, TODAY), app.state.plans
    )


def fold_all(gateway_client, events) -> list[bool]:
    """Each event in its own transaction (a poll of one): whether it was new."""
    handlers, database = live_handlers(gateway_client.app), gateway_client.app.state.database
    new = []
    for event in events:
        with database.session() as session:
            outcome = handlers.apply(session, [handlers.parser.parse(event.to_json_bytes())])
            session.commit()
        new.append(outcome.duplicates == 0)
    return new


def fold(database: Database, events: list[IntegrationEvent]) -> tuple[int, int]:
    """One transaction, as a poll or a rebuild's batch, without the progress refresh: (new events, duplicates)."""
    stale = StaleProgress()
    handlers = view_handlers(
        lambda session, work, slot: stale.series.update(work.series), GatewayPlans(database, CatalogCache())
    )
    with database.session() as session:
        outcome = handlers.apply(session, [handlers.parser.parse(e.to_json_bytes()) for e in events])
        session.commit()
    return outcome.applied + outcome.skipped, outcome.duplicates


def scenario(education):
    approve(education, {"indicator": "T002-1", "org_unit": "370303", "period": "2022-06", "value": 3}, ZHANGDIAN)
    approve(education, {"indicator": "T002-1", "org_unit": "370302", "period": "2022-06", "value": 2})
    approve(education, {"indicator": "T002-1", "org_unit": "370300", "period": "2023-03", "value": 20})
    approve(
        education,
        {
            "indicator": "T002-3",
            "org_unit": "370303",
            "period": "2022",
            "numerator": 65,
            "denominator": 100,
            "value": None,
        },
        ZHANGDIAN,
    )
    approve(
        education,
        {
            "indicator": "T002-3",
            "org_unit": "370302",
            "period": "2022",
            "numerator": 90,
            "denominator": 200,
            "value": None,
        },
    )
    # a revision that is still pending: shown as pending, never counted
    education.post(
        "/api/v1/reports",
        headers=EDU_BUREAU,
        json={"indicator": "T002-1", "org_unit": "370302", "period": "2022-06", "value": 9},
    )
    education.post(
        "/api/v1/task-status",
        headers=EDU_BUREAU,
        json={
            "task": 6,
            "org_unit": "370300",
            "period": "2022Q4",
            "state": "blocked",
            "narrative": "协议未签",
            "problems": "经费未落实",
        },
    )


def comparable(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k not in ("reasons",)}
