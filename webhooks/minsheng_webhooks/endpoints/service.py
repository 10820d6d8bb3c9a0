"""Endpoints: subscribed by the city office or an integration account (its own); secrets checked and rotated."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, func, select

from minsheng.auth.models import Role
from minsheng.auth.principal import Principal
from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.errors import Forbidden, NotFound, Unprocessable
from minsheng.messaging.asyncapi import platform_event_types
from minsheng_webhooks.deliveries.models import Delivery, DeliveryStatus
from minsheng_webhooks.destinations import validate_endpoint_url
from minsheng_webhooks.endpoints.models import (
    DISABLED_LABELS,
    DisabledReason,
    Endpoint,
    EndpointCreate,
    EndpointFilters,
    EndpointPublic,
    EndpointSecret,
    EndpointUpdate,
)
from minsheng_webhooks.signing import new_secret, secret_key


def require_manager(principal: Principal) -> None:
    if principal.role not in (Role.city_office, Role.integration):
        raise Forbidden("对接系统只能由市民生办或对接系统账号管理", code="webhooks_forbidden")


def endpoint_for(session: Session, principal: Principal, endpoint_id: int) -> Endpoint:
    """The endpoint, if the caller may see it: the city office every one, an integration account its own."""
    require_manager(principal)
    endpoint = session.get(Endpoint, endpoint_id)
    if endpoint is None or (principal.role is Role.integration and endpoint.owner_account_id != principal.account_id):
        raise NotFound(f"接收地址 {endpoint_id} 不存在", code="endpoint_not_found")
    return endpoint


def _check_filters(filters: EndpointFilters) -> None:
    known = platform_event_types()
    unknown = [t for t in filters.event_types if t not in known]
    if unknown:
        raise Unprocessable(
            f"未知的事件类型：{'、'.join(unknown)}", code="unknown_event_type", extra={"known": sorted(known)}
        )
    wrong = [c for c in filters.campaigns if c not in CAMPAIGN_CODES]
    if wrong:
        raise Unprocessable(
            f"未知的攻坚行动：{'、'.join(wrong)}", code="unknown_campaign", extra={"campaigns": list(CAMPAIGN_CODES)}
        )


def public(session: Session, endpoint: Endpoint, now: dt.datetime) -> EndpointPublic:
    counts = dict(
        session.exec(
            select(Delivery.status, func.count())
            .where(Delivery.endpoint_id == endpoint.id, Delivery.status != DeliveryStatus.succeeded)
            .group_by(Delivery.status)
        ).all()
    )
    rotating = (
        endpoint.previous_secret_until
        if endpoint.previous_secret_until and endpoint.previous_secret_until > now
        else None
    )
    return EndpointPublic(
        id=endpoint.id,
        url=endpoint.url,
        description=endpoint.description,
        event_types=endpoint.event_types,
        campaigns=endpoint.campaigns,
        plans=endpoint.plans,
        owner_name=endpoint.owner_name,
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason,
        disabled_label=DISABLED_LABELS[endpoint.disabled_reason] if endpoint.disabled_reason else None,
        disabled_at=endpoint.disabled_at,
        failing_since=endpoint.failing_since,
        rotating_until=rotating,
        created_at=endpoint.created_at,
        pending=counts.get(DeliveryStatus.pending, 0),
        failed=counts.get(DeliveryStatus.failed, 0),
    )


def list_endpoints(*, session: Session, principal: Principal, now: dt.datetime) -> list[EndpointPublic]:
    require_manager(principal)
    query = select(Endpoint).order_by(Endpoint.id)
    if principal.role is Role.integration:
        query = query.where(Endpoint.owner_account_id == principal.account_id)
    return [public(session, e, now) for e in session.exec(query)]


def create_endpoint(
    *,
    session: Session,
    principal: Principal,
    body: EndpointCreate,
    settings,
    now: dt.datetime,  # noqa: ANN001
) -> EndpointSecret:
    require_manager(principal)
    validate_endpoint_url(body.url, allow_http=settings.allow_http, allow_private=settings.allow_private_destinations)
    _check_filters(body)
    secret = body.secret or new_secret()
    secret_key(secret)  # refused before anything is written
    endpoint = Endpoint(
        url=body.url,
        description=body.description,
        event_types=body.event_types,
        campaigns=body.campaigns,
        plans=body.plans,
        owner_account_id=principal.account_id,
        owner_name=principal.name,
        secret=secret,
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    session.commit()
    return EndpointSecret(endpoint=public(session, endpoint, now), secret=secret)


def update_endpoint(
    *,
    session: Session,
    principal: Principal,
    endpoint_id: int,
    body: EndpointUpdate,
    settings,
    now: dt.datetime,  # noqa: ANN001
) -> EndpointPublic:
    endpoint = endpoint_for(session, principal, endpoint_id)
    validate_endpoint_url(body.url, allow_http=settings.allow_http, allow_private=settings.allow_private_destinations)
    _check_filters(body)
    for name in ("url", "description", "event_types", "campaigns", "plans"):
        setattr(endpoint, name, getattr(body, name))
    if body.enabled and not endpoint.enabled:  # enabled again: its failures start afresh
        endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at, endpoint.failing_since = (
            True,
            None,
            None,
            None,
        )
    elif not body.enabled and endpoint.enabled:
        endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at = False, DisabledReason.manual, now
    endpoint.updated_at = now
    session.add(endpoint)
    session.commit()
    return public(session, endpoint, now)


def rotate_secret(
    *,
    session: Session,
    principal: Principal,
    endpoint_id: int,
    secret: str | None,
    settings,
    now: dt.datetime,  # noqa: ANN001
) -> EndpointSecret:
    """A new secret; the old one still signs beside it for `rotation_grace_seconds`, so the receiver can switch."""
    endpoint = endpoint_for(session, principal, endpoint_id)
    fresh = secret or new_secret()
    secret_key(fresh)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = now + dt.timedelta(seconds=settings.rotation_grace_seconds)
    endpoint.secret, endpoint.updated_at = fresh, now
    session.add(endpoint)
    session.commit()
    return EndpointSecret(endpoint=public(session, endpoint, now), secret=fresh)


def delete_endpoint(*, session: Session, principal: Principal, endpoint_id: int) -> None:
    endpoint = endpoint_for(session, principal, endpoint_id)
    session.delete(endpoint)
    session.commit()
