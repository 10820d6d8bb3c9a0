"""What the gateway tells the notifier: the people with their contacts, and what each owes."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from minsheng_gateway.inbox.models import InboxState


class Person(BaseModel):
    account_id: int
    username: str
    display_name: str
    role: str
    department: str | None
    org_unit: str | None
    head: bool = False  # 负责人 of its department
    email: str | None
    mobile: str | None
    robots: list[str]
    muted: list[str]


class OwedItem(BaseModel):
    """A report owed and not in (not reported, or returned), due within the horizon or overdue."""

    indicator_id: str
    indicator_name: str
    org_unit: str
    org_unit_name: str
    period: str
    due_date: dt.date
    state: InboxState
    state_label: str
    task: int | None
    lead_departments: list[str]
    return_reason: str | None = None


class PersonOwes(BaseModel):
    account_id: int
    items: list[OwedItem]


class OwedFeed(BaseModel):
    plan: str
    on: dt.date
    people: list[Person]  # every enabled account (escalation reaches the ones who owe nothing too)
    owed: list[PersonOwes]


class OwersFeed(BaseModel):
    plan: str
    people: list[Person]
    indicator_name: str | None = None  # /owers: the names of the series asked about (events carry codes)
    org_unit_name: str | None = None
