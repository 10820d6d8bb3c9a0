"""The delivery log of an endpoint, and replays (one delivery, or every one of a time range)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlmodel import Session, select

from minsheng.auth.principal import Principal
from minsheng.errors import NotFound, Unprocessable
from minsheng_webhooks.deliveries.models import (
    STATUS_LABELS,
    Attempt,
    AttemptPublic,
    Delivery,
    DeliveryPublic,
    DeliveryStatus,
)
from minsheng_webhooks.endpoints.service import endpoint_for

MAX_RANGE = dt.timedelta(days=31)


def _public(delivery: Delivery, attempts: list[Attempt]) -> DeliveryPublic:
    return DeliveryPublic(
        id=delivery.id,
        endpoint_id=delivery.endpoint_id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        series=delivery.series,
        event_time=delivery.event_time,
        status=delivery.status,
        status_label=STATUS_LABELS[delivery.status],
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at if delivery.status is DeliveryStatus.pending else None,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        delivered_at=delivery.delivered_at,
        created_at=delivery.created_at,
        log=[AttemptPublic.model_validate(a, from_attributes=True) for a in attempts],
    )


def delivery_log(
    *,
    session: Session,
    principal: Principal,
    endpoint_id: int,
    status: DeliveryStatus | None,
    before: int | None,
    limit: int,
) -> list[DeliveryPublic]:
    """The endpoint's deliveries, latest first, each with its tries (`before`: the page after that id)."""
    endpoint_for(session, principal, endpoint_id)
    query = select(Delivery).where(Delivery.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(Delivery.status == status)
    if before is not None:
        query = query.where(Delivery.id < before)
    deliveries = list(session.exec(query.order_by(Delivery.id.desc()).limit(limit)))
    attempts: dict[int, list[Attempt]] = {}
    if deliveries:
        for attempt in session.exec(
            select(Attempt).where(Attempt.delivery_id.in_([d.id for d in deliveries])).order_by(Attempt.id)
        ):
            attempts.setdefault(attempt.delivery_id, []).append(attempt)
    return [_public(d, attempts.get(d.id, [])) for d in deliveries]


def _replay(session: Session, condition, now: dt.datetime) -> int:  # noqa: ANN001 - a SQL condition
    """Waiting again from now, with a fresh schedule; the same `webhook-id` (a receiver that had it drops it)."""
    result = session.execute(
        update(Delivery)
        .where(condition)
        .values(status=DeliveryStatus.pending.name, attempts=0, next_attempt_at=now, delivered_at=None)
    )
    session.commit()
    return result.rowcount


def replay_one(*, session: Session, principal: Principal, delivery_id: int, now: dt.datetime) -> int:
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(f"投递记录 {delivery_id} 不存在", code="delivery_not_found")
    endpoint_for(session, principal, delivery.endpoint_id)
    return _replay(session, Delivery.id == delivery_id, now)


def replay_range(
    *,
    session: Session,
    principal: Principal,
    endpoint_id: int,
    since: dt.datetime,
    until: dt.datetime,
    now: dt.datetime,
) -> int:
    """Every delivery of the endpoint whose event falls in [since, until)."""
    endpoint_for(session, principal, endpoint_id)
    if until <= since:
        raise Unprocessable("重新投递的结束时间须晚于开始时间", code="range_invalid")
    if until - since > MAX_RANGE:
        raise Unprocessable("一次最多重新投递 31 天内的事件，请分段办理", code="range_too_long")
    return _replay(
        session,
        (Delivery.endpoint_id == endpoint_id) & (Delivery.event_time >= since) & (Delivery.event_time < until),
        now,
    )
