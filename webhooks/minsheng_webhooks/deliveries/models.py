"""Deliveries: one event for one endpoint, recorded in the consumer's transaction before any try (an outbox), and
each try of it (the delivery log)."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from minsheng.catalog.models import enum_column


class DeliveryStatus(str, enum.Enum):
    pending = "pending"  # its first try or a retry is due
    succeeded = "succeeded"
    failed = "failed"  # after the last try of the schedule, or the endpoint was disabled


STATUS_LABELS = {
    DeliveryStatus.pending: "待投递",
    DeliveryStatus.succeeded: "已送达",
    DeliveryStatus.failed: "投递失败",
}


class Delivery(SQLModel, table=True):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        sa.UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_delivery_event"),
        # The sender's question: the earliest waiting delivery of each series of each endpoint.
        sa.Index(
            "ix_webhook_delivery_waiting", "endpoint_id", "series", "id", postgresql_where=sa.text("status = 'pending'")
        ),
        sa.Index("ix_webhook_delivery_log", "endpoint_id", "id"),
    )

    # Its order within a series: deliveries are recorded in the order the events came.
    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: int = Field(foreign_key="webhook_endpoint.id", ondelete="CASCADE")
    # `webhook-id`: the event's id, the same on every try and replay, so a receiver can drop what it has had.
    event_id: str = Field(max_length=64)
    event_type: str = Field(max_length=200)
    # Kept in order: an indicator × org unit (reports), else the event's subject (a task, a campaign, a 督办单).
    series: str = Field(max_length=300)
    campaign: str | None = Field(default=None, max_length=40)
    plan: str | None = Field(default=None, max_length=40)
    body: str  # the CloudEvent as the platform published it, signed as is
    event_time: dt.datetime = Field(sa_type=sa.DateTime(timezone=True))
    status: DeliveryStatus = Field(default=DeliveryStatus.pending, sa_type=enum_column(DeliveryStatus))
    attempts: int = 0
    next_attempt_at: dt.datetime = Field(sa_type=sa.DateTime(timezone=True))
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    delivered_at: dt.datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    created_at: dt.datetime = Field(sa_type=sa.DateTime(timezone=True))


class Attempt(SQLModel, table=True):
    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhook_delivery.id", ondelete="CASCADE", index=True)
    at: dt.datetime = Field(sa_type=sa.DateTime(timezone=True))
    status_code: int | None = None  # None: no HTTP answer (refused, timed out, unreachable)
    succeeded: bool
    error: str | None = Field(default=None, max_length=40)  # a machine code: timeout, unreachable, ssrf_blocked …
    latency_ms: float | None = None
    response_excerpt: str = Field(default="", max_length=1000)


class AttemptPublic(BaseModel):
    at: dt.datetime
    status_code: int | None
    succeeded: bool
    error: str | None
    latency_ms: float | None
    response_excerpt: str


class DeliveryPublic(BaseModel):
    id: int
    endpoint_id: int
    event_id: str
    event_type: str
    series: str
    event_time: dt.datetime
    status: DeliveryStatus
    status_label: str
    attempts: int
    next_attempt_at: dt.datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: dt.datetime | None
    created_at: dt.datetime
    log: list[AttemptPublic] = []


class DeliveryPage(BaseModel):
    data: list[DeliveryPublic]


class ReplayRange(BaseModel):
    since: dt.datetime
    until: dt.datetime


class Replayed(BaseModel):
    replayed: int


DELIVERY_TABLES = frozenset({Delivery.__tablename__, Attempt.__tablename__})
