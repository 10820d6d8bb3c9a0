"""Progress answers as the API returns them (services and gateway alike)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from minsheng.catalog.document import Comparator, IndicatorKind
from minsheng.progress.model import Status


class SeriesPointPublic(BaseModel):
    period: str
    end: dt.date
    value: float
    cumulative: float | None
    basis: str  # "districts" (rolled up), "direct" (the unit's own report)


class PendingValue(BaseModel):
    report_id: int
    org_unit: str
    period: str
    value: float


class IndicatorProgressPublic(BaseModel):
    id: str
    name: str
    unit: str
    campaign: str
    task_number: int | None
    org_unit: str
    as_of: dt.date
    status: Status
    status_label: str
    target_value: float | None
    target_basis: str | None  # "city" (the plan's target), "district" (the district's own), None
    comparator: Comparator
    kind: IndicatorKind
    horizon: int
    current_value: float | None
    completion: float | None
    expected_value: float | None
    projected_value: float | None
    projected_reaches_target: bool | None
    basis: str  # "districts", "direct", "mixed" or "none": where the official figures came from
    contributors: list[str]  # org units whose approved values count
    series: list[SeriesPointPublic]
    pending: list[PendingValue]  # submitted but not yet approved: shown, never counted
    reasons: list[str]


class TaskStatusSummary(BaseModel):
    state: str
    period: str
    narrative: str
    problems: str
    reported_by: str


class TaskProgressPublic(BaseModel):
    number: int
    title: str
    campaign: str
    item: int
    lead_departments: list[str]
    org_unit: str
    as_of: dt.date
    status: Status
    status_label: str
    basis: str  # "indicators" (worst of them) or "reported_status" (a task without numbers) or "none"
    indicators: list[IndicatorProgressPublic]
    reported_status: TaskStatusSummary | None
    reasons: list[str]


class ItemProgressPublic(BaseModel):
    number: int
    title: str
    status: Status
    tasks_by_status: dict[str, int]
    tasks: list[dict]  # {number, title, status}


class CampaignProgressPublic(BaseModel):
    campaign: str
    name: str
    org_unit: str
    as_of: dt.date
    status: Status
    tasks_by_status: dict[str, int]
    indicators_by_status: dict[str, int]
    items: list[ItemProgressPublic]
    headline: list[IndicatorProgressPublic]
