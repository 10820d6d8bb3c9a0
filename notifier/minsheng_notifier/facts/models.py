"""What the notifier learned from the events: reports that are in, notices still to expand into messages,
and the 督办单 as they stand."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class ReportIn(SQLModel, table=True):
    """A series' period whose report is in (submitted or approved): nothing more is sent for it, even
    before the gateway's views have caught up.  Removed again when the report is returned."""

    __tablename__ = "report_in"

    indicator: str = Field(primary_key=True, max_length=40)
    org_unit: str = Field(primary_key=True, max_length=6)
    period: str = Field(primary_key=True, max_length=10)
    plan: str | None = Field(default=None, max_length=40)
    at: dt.datetime = Field(sa_type=sa.DateTime(timezone=True))


class Notice(SQLModel, table=True):
    """Something to tell at once (a 退回, a new or returned 督办单), written by the event handler in the
    consumer's transaction and turned into messages by the planner (who to tell needs the gateway)."""

    __tablename__ = "notice"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=40)  # a messages.models.Reason
    plan: str | None = Field(default=None, max_length=40)
    ref: str = Field(max_length=200)  # report:… or order:…
    data: dict = Field(default_factory=dict, sa_type=sa.JSON)  # what the message says
    at: dt.datetime = Field(sa_type=sa.DateTime(timezone=True))
    expanded_at: dt.datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class OrderState(SQLModel, table=True):
    """A 督办单 as its last event left it (the gateway owns it; this is what escalation reads)."""

    __tablename__ = "order_state"

    order_id: str = Field(primary_key=True, max_length=40)
    plan: str | None = Field(default=None, max_length=40)
    title: str = Field(max_length=200)
    state: str = Field(max_length=40)
    state_label: str = Field(max_length=40)
    deadline: dt.date
    lead_unit: dict = Field(sa_type=sa.JSON)
    partner_units: list = Field(default_factory=list, sa_type=sa.JSON)
    link: str = Field(max_length=200)
    at: dt.datetime = Field(sa_type=sa.DateTime(timezone=True))


FACT_TABLES = frozenset({ReportIn.__tablename__, Notice.__tablename__, OrderState.__tablename__})
