"""督办单 (supervision orders): the order and the history of its steps (the gateway's own tables, public schema).

An order spans campaigns and plans, so it lives beside the accounts rather than in a plan's schema
(docs/decisions/0022).  Its vocabulary (states, actions, subject and unit kinds) is served by the API
(`GET /api/v1/supervision/dictionary`); the web app never spells it.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from minsheng.catalog.models import enum_column
from minsheng.evidence.models import EvidenceFile


class OrderState(enum.StrEnum):
    assigned = "assigned"  # 已交办: opened, waiting for the responsible unit to acknowledge
    acknowledged = "acknowledged"  # 已签收
    in_progress = "in_progress"  # 办理中
    answered = "answered"  # 已反馈: the unit says what it did, waiting for the city office
    closed = "closed"  # 已办结
    returned = "returned"  # 退回重办: the city office sent the answer back; the unit works on it again


ORDER_STATE_LABELS = {
    OrderState.assigned: "已交办",
    OrderState.acknowledged: "已签收",
    OrderState.in_progress: "办理中",
    OrderState.answered: "已反馈",
    OrderState.closed: "已办结",
    OrderState.returned: "退回重办",
}


class OrderAction(enum.StrEnum):
    open = "open"  # 交办
    acknowledge = "acknowledge"  # 签收
    start = "start"  # 开始办理
    answer = "answer"  # 反馈
    close = "close"  # 办结
    send_back = "return"  # 退回重办 (`return` is a keyword)


ORDER_ACTION_LABELS = {
    OrderAction.open: "交办",
    OrderAction.acknowledge: "签收",
    OrderAction.start: "开始办理",
    OrderAction.answer: "反馈",
    OrderAction.close: "办结",
    OrderAction.send_back: "退回重办",
}

# The life of an order: which action moves it from which states, and where to.  An answer may follow the
# acknowledgement directly (a unit that has already acted need not record 办理中 first).
TRANSITIONS: dict[OrderAction, tuple[frozenset[OrderState], OrderState]] = {
    OrderAction.acknowledge: (frozenset({OrderState.assigned}), OrderState.acknowledged),
    OrderAction.start: (frozenset({OrderState.acknowledged}), OrderState.in_progress),
    OrderAction.answer: (
        frozenset({OrderState.acknowledged, OrderState.in_progress, OrderState.returned}),
        OrderState.answered,
    ),
    OrderAction.close: (frozenset({OrderState.answered}), OrderState.closed),
    OrderAction.send_back: (frozenset({OrderState.answered}), OrderState.returned),
}


class SubjectKind(enum.StrEnum):
    indicator = "indicator"
    task = "task"
    district = "district"
    warning = "warning"
    ranking = "ranking"


SUBJECT_KIND_LABELS = {
    SubjectKind.indicator: "指标",
    SubjectKind.task: "任务",
    SubjectKind.district: "区县",
    SubjectKind.warning: "预警事项",
    SubjectKind.ranking: "红黑榜",
}


class UnitKind(enum.StrEnum):
    department = "department"
    org_unit = "org_unit"


UNIT_KIND_LABELS = {UnitKind.department: "市直部门", UnitKind.org_unit: "区县"}


class SupervisionOrder(SQLModel, table=True):
    __tablename__ = "supervision_order"
    __table_args__ = (
        sa.UniqueConstraint("year", "number", name="uq_supervision_order_year_number"),
        sa.Index("ix_supervision_order_lead", "lead_kind", "lead_code"),
        sa.Index("ix_supervision_order_subject", "subject_kind", "subject_ref"),
    )

    id: str = Field(primary_key=True, max_length=40)  # DB-2026-0007
    year: int  # of the day it was opened (Beijing time), with `number` the id
    number: int
    plan: str | None = Field(default=None, max_length=40)
    title: str = Field(max_length=200)
    instruction: str = Field(max_length=4000)  # 批示
    subject_kind: SubjectKind = Field(sa_type=enum_column(SubjectKind))
    subject_ref: str = Field(max_length=200)
    subject_label: str = Field(max_length=300)
    lead_kind: UnitKind = Field(sa_type=enum_column(UnitKind))
    lead_code: str = Field(max_length=100)
    lead_name: str = Field(max_length=100)
    partner_units: list[dict] = Field(default_factory=list, sa_type=sa.JSON)  # [{kind, code, name}]
    # The partners as `|kind:code|kind:code|`, so that a unit's orders are found with one LIKE (not JSON operators).
    partner_keys: str = Field(default="|", max_length=2000)
    deadline: dt.date
    state: OrderState = Field(sa_type=enum_column(OrderState))
    opened_by: str = Field(max_length=200)
    opened_by_role: str = Field(max_length=16)
    opened_at: dt.datetime = Field(sa_type=sa.DateTime(timezone=True))
    updated_at: dt.datetime = Field(sa_type=sa.DateTime(timezone=True))
    closed_at: dt.datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    # The latest answer (已反馈): what was done, the figures expected and by when.
    measures: str | None = Field(default=None, max_length=4000)
    expected_result: str | None = Field(default=None, max_length=1000)
    expected_by: dt.date | None = None


class SupervisionStep(SQLModel, table=True):
    """One step of an order's life: who did what, when, from which state to which, and what they wrote."""

    __tablename__ = "supervision_step"

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(foreign_key="supervision_order.id", index=True, max_length=40)
    action: OrderAction = Field(sa_type=enum_column(OrderAction))
    from_state: OrderState | None = Field(default=None, sa_type=enum_column(OrderState))
    to_state: OrderState = Field(sa_type=enum_column(OrderState))
    actor: str = Field(max_length=200)  # the actor's label (name, role and scope; Principal.label)
    actor_name: str = Field(max_length=100)  # the display name, as the events carry it
    account_id: int
    at: dt.datetime = Field(sa_type=sa.DateTime(timezone=True))
    note: str | None = Field(default=None, max_length=4000)  # the return reason, or the answer's measures
    detail: dict = Field(default_factory=dict, sa_type=sa.JSON)


class SupervisionEvidence(SQLModel, table=True):
    """A 佐证材料 attached to an answer (反馈) of an order: the step it came with, its file (the kernel's
    `evidence_file`, in the gateway's database) and its caption.  Written with the step, never removed."""

    __tablename__ = "supervision_evidence"

    id: int | None = Field(default=None, primary_key=True)
    step_id: int = Field(foreign_key="supervision_step.id", index=True)
    order_id: str = Field(foreign_key="supervision_order.id", index=True, max_length=40)
    evidence_id: str = Field(foreign_key="evidence_file.id", index=True, max_length=32)
    caption: str = Field(default="", max_length=200)
    position: int = 0


SUPERVISION_TABLES = frozenset(
    {
        SupervisionOrder.__tablename__,
        SupervisionStep.__tablename__,
        SupervisionEvidence.__tablename__,
        EvidenceFile.__tablename__,  # the kernel's table, the gateway's own rows (its files only)
    }
)
