"""Endpoints: another system's HTTPS address subscribed to event types, filtered by campaign and plan, with the
secret its deliveries are signed with (Standard Webhooks `whsec_…`) and, during a rotation, the one before it."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from minsheng.catalog.models import enum_column


class DisabledReason(str, enum.Enum):
    manual = "manual"  # turned off by its owner or the city office
    gone = "gone"  # it answered 410 Gone
    failing = "failing"  # no success for `disable_after_seconds`


DISABLED_LABELS = {
    DisabledReason.manual: "已手动停用",
    DisabledReason.gone: "对方答复 410（已不存在），已自动停用",
    DisabledReason.failing: "长时间投递失败，已自动停用",
}


class EndpointFilters(SQLModel):
    # Empty: every event type (campaign, plan).
    event_types: list[str] = Field(default_factory=list, sa_type=sa.JSON, description="订阅的事件类型；空为全部")
    campaigns: list[str] = Field(default_factory=list, sa_type=sa.JSON, description="攻坚行动代码；空为全部")
    plans: list[str] = Field(default_factory=list, sa_type=sa.JSON, description="方案代码；空为全部")


class Endpoint(EndpointFilters, table=True):
    __tablename__ = "webhook_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=500)
    description: str = Field(default="", max_length=200)
    owner_account_id: int = Field(index=True)  # who subscribed it (the city office, or an integration account)
    owner_name: str = Field(max_length=100)
    secret: str = Field(max_length=200)
    previous_secret: str | None = Field(default=None, max_length=200)
    previous_secret_until: dt.datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    enabled: bool = True
    disabled_reason: DisabledReason | None = Field(default=None, sa_type=enum_column(DisabledReason))
    disabled_at: dt.datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    # The first failure since the last success: a long failure disables the endpoint.
    failing_since: dt.datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    created_at: dt.datetime = Field(sa_type=sa.DateTime(timezone=True))
    updated_at: dt.datetime = Field(sa_type=sa.DateTime(timezone=True))


class EndpointCreate(EndpointFilters):
    url: str = Field(min_length=1, max_length=500, description="接收地址（https://…）")
    description: str = Field(default="", max_length=200, description="说明，例如 市大数据局一体化平台")
    secret: str | None = Field(
        default=None, max_length=200, description="签名密钥 whsec_…（至少 24 字节）；不填由平台生成"
    )


class EndpointUpdate(EndpointFilters):
    url: str = Field(min_length=1, max_length=500)
    description: str = Field(default="", max_length=200)
    enabled: bool = True


class EndpointPublic(BaseModel):
    id: int
    url: str
    description: str
    event_types: list[str]
    campaigns: list[str]
    plans: list[str]
    owner_name: str
    enabled: bool
    disabled_reason: DisabledReason | None
    disabled_label: str | None
    disabled_at: dt.datetime | None
    failing_since: dt.datetime | None
    rotating_until: dt.datetime | None  # the previous secret still signs until then
    created_at: dt.datetime
    pending: int = 0  # deliveries waiting (first try or a retry)
    failed: int = 0  # deliveries that failed after their last try


class EndpointSecret(BaseModel):
    """Shown once, when the endpoint is created or its secret rotated."""

    endpoint: EndpointPublic
    secret: str


class EventTypePublic(BaseModel):
    type: str
    summary: str


ENDPOINT_TABLES = frozenset({Endpoint.__tablename__})
