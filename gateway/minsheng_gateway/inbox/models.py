"""The inbox's public schemas: what the signed-in person owes, one row per indicator × org unit × period."""

from __future__ import annotations

import datetime as dt
import enum

from pydantic import BaseModel

from minsheng.catalog.document import ReportingFrequency
from minsheng.pagination import Page
from minsheng.reporting.models import REPORT_STATUS_LABELS


class InboxState(str, enum.Enum):
    not_reported = "not_reported"
    submitted = "submitted"
    returned = "returned"
    approved = "approved"


# A report's own states say it as the reporting pages do (one wording per state).
INBOX_STATE_LABELS = {
    InboxState.not_reported: "未填报",
    **{InboxState(status.value): label for status, label in REPORT_STATUS_LABELS.items()},
}
# What counts as done for the share of the period: the reporter's part is over once it is submitted.
DONE_STATES = frozenset({InboxState.submitted, InboxState.approved})


class InboxItemPublic(BaseModel):
    campaign: str
    campaign_name: str
    item: int | None  # None: a campaign-level (headline) indicator
    item_title: str | None
    task: int | None
    task_title: str | None
    indicator_id: str
    indicator_name: str
    unit: str
    frequency: ReportingFrequency
    org_unit: str
    org_unit_name: str
    period: str
    due_date: dt.date
    overdue: bool  # past its due date and not submitted (or returned)
    current: bool  # the period being reported now for its frequency
    state: InboxState
    state_label: str
    return_reason: str | None = None
    report_id: int | None = None
    value: float | None = None


class InboxSummary(BaseModel):
    periods: list[str]  # the periods the share is of: this period of each frequency, or the one asked for
    owed: int
    done: int  # submitted or approved
    share_done: float | None  # done / owed; None when nothing is owed
    overdue: int  # over all periods, not just these
    returned: int


class InboxPage(Page[InboxItemPublic]):
    summary: InboxSummary
    scope: str  # what this person owes, in words (e.g. 市教育局牵头任务的指标 · 淄博市)
