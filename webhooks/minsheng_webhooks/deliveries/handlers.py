"""The consumer's handler: each platform event, for every enabled endpoint it matches, becomes a delivery row in
the consumer's transaction (recorded before any try, exactly once per event and endpoint: the kernel's consumer
applies each event once, and (endpoint, event) is unique besides)."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from minsheng.catalog.document import legacy_plan
from minsheng.messaging import EventHandlers
from minsheng.messaging.asyncapi import platform_event_types
from minsheng.messaging.consumer import TypedEvent
from minsheng_webhooks.deliveries.models import Delivery, DeliveryStatus
from minsheng_webhooks.endpoints.models import Endpoint


def series_of(event: TypedEvent) -> str:
    """What must stay in order: a report's indicator × org unit, else what the event is about (its subject)."""
    data: BaseModel = event.typed_data()
    report = getattr(data, "report", None)
    indicator = getattr(report or data, "indicator", None)
    org_unit = getattr(report or data, "org_unit", None)
    if indicator and org_unit:
        return f"{indicator}×{org_unit}"
    return event.subject or event.type


def plan_of(data: BaseModel) -> str:
    return getattr(data, "plan", None) or legacy_plan().code


def matches(endpoint: Endpoint, event_type: str, campaign: str | None, plan: str) -> bool:
    return (
        (not endpoint.event_types or event_type in endpoint.event_types)
        and (not endpoint.campaigns or campaign in endpoint.campaigns)
        and (not endpoint.plans or plan in endpoint.plans)
    )


def _fan_out(session: Session, events: list[TypedEvent], work: None) -> None:
    endpoints = list(session.exec(select(Endpoint).where(Endpoint.enabled)))
    if not endpoints:
        return
    rows = []
    for event in events:
        data = event.typed_data()
        campaign, plan = getattr(data, "campaign", None), plan_of(data)
        body = event.model_dump_json(exclude_none=True)
        for endpoint in endpoints:
            if matches(endpoint, event.type, campaign, plan):
                rows.append(
                    dict(
                        endpoint_id=endpoint.id,
                        event_id=event.id,
                        event_type=event.type,
                        series=series_of(event)[:300],
                        campaign=campaign,
                        plan=plan,
                        body=body,
                        event_time=event.time,
                        status=DeliveryStatus.pending.name,
                        attempts=0,
                        next_attempt_at=event.time,
                        created_at=event.time,
                    )
                )
    if rows:
        session.execute(insert(Delivery).values(rows).on_conflict_do_nothing(constraint="uq_webhook_delivery_event"))


def webhooks_handlers() -> EventHandlers:
    handlers = EventHandlers()
    for model in {*platform_event_types().values()}:
        handlers.register(model, _fan_out)
    return handlers
