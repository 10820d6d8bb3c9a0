"""The integration events of 督办单 (supervision orders), published by the gateway.

The gateway owns 督办单 (docs/decisions/0022) and writes one event per step of an order's life to its
outbox, in the same transaction as the step; its relay publishes them to `SUPERVISION_TOPIC`.  The
notifier consumes them (new order, 退回 → notify; unacknowledged or overdue → escalate).  Both processes
import this module, so the data model is declared once; a change that is not backwards compatible is a
new version of the types, not an edit here.

Key: the order id, so all the steps of one order stay in order on one partition.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from minsheng.messaging import register_event
from minsheng.reporting.events import EvidenceDigests, evidence_field

SUPERVISION_TOPIC = "minsheng.supervision.events"
# The CloudEvents `source` of these events (`messaging.event_source("gateway")`).
SUPERVISION_SOURCE = "/minsheng/gateway"

ORDER_ASSIGNED = "minsheng.supervision.order_assigned.v1"  # 已交办: opened
ORDER_ACKNOWLEDGED = "minsheng.supervision.order_acknowledged.v1"  # 已签收
ORDER_IN_PROGRESS = "minsheng.supervision.order_in_progress.v1"  # 办理中
ORDER_ANSWERED = "minsheng.supervision.order_answered.v1"  # 已反馈
ORDER_CLOSED = "minsheng.supervision.order_closed.v1"  # 已办结
ORDER_RETURNED = "minsheng.supervision.order_returned.v1"  # 退回重办

SUPERVISION_EVENT_TYPES: tuple[str, ...] = (
    ORDER_ASSIGNED,
    ORDER_ACKNOWLEDGED,
    ORDER_IN_PROGRESS,
    ORDER_ANSWERED,
    ORDER_CLOSED,
    ORDER_RETURNED,
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SupervisionUnit(_Frozen):
    """A responsible unit: a city department (`department`, e.g. 市教育局) or an org unit (`org_unit`, a district)."""

    kind: Literal["department", "org_unit"]
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=100)


class SupervisionSubject(_Frozen):
    """What the order is about: an indicator, a task, a district, a warning or a league-table (红黑榜) row."""

    kind: Literal["indicator", "task", "district", "warning", "ranking"]
    # The code of an indicator or district, `task-<n>` of a task, the id of a warning or ranking row.
    ref: str = Field(min_length=1, max_length=200)
    label: str = Field(min_length=1, max_length=300)


class SupervisionOrderEvent(_Frozen):
    """The `data` of every supervision event: the order as it stands after the step, and the step's actor."""

    order_id: str = Field(min_length=1, max_length=40, description="督办单号，例如 DB-2026-0007")
    plan: str | None = Field(default=None, max_length=40, description="方案代码；缺省为原三年行动方案")
    title: str = Field(min_length=1, max_length=200, description="督办事项")
    instruction: str = Field(max_length=4000, description="批示")
    state: str = Field(min_length=1, max_length=40, description="状态代码")
    state_label: str = Field(min_length=1, max_length=40, description="状态（中文）")
    lead_unit: SupervisionUnit  # 主办单位 (a $ref in the AsyncAPI document may carry no description beside it)
    partner_units: list[SupervisionUnit] = Field(default_factory=list, description="协办单位")
    deadline: dt.date = Field(description="办理时限")
    subject: SupervisionSubject
    actor: str = Field(min_length=1, max_length=100, description="本步操作人（显示名）")
    at: AwareDatetime = Field(description="本步时间（UTC）")
    link: str = Field(min_length=1, max_length=200, description="该督办单在 Web 应用中的路径")
    reason: str | None = Field(default=None, max_length=2000, description="退回重办的理由")
    # The 佐证材料 of an answer (反馈): how many and their SHA-256.  Optional and absent when an answer has none, so
    # the events of the contract are unchanged and a notifier built before it reads them all.
    evidence: EvidenceDigests | None = evidence_field()

    @field_validator("at")
    @classmethod
    def _in_utc(cls, value: dt.datetime) -> dt.datetime:
        return value.astimezone(dt.UTC)


for _type in SUPERVISION_EVENT_TYPES:
    register_event(_type, SupervisionOrderEvent)


__all__ = [
    "ORDER_ACKNOWLEDGED",
    "ORDER_ANSWERED",
    "ORDER_ASSIGNED",
    "ORDER_CLOSED",
    "ORDER_IN_PROGRESS",
    "ORDER_RETURNED",
    "SUPERVISION_EVENT_TYPES",
    "SUPERVISION_SOURCE",
    "SUPERVISION_TOPIC",
    "SupervisionOrderEvent",
    "SupervisionSubject",
    "SupervisionUnit",
]
