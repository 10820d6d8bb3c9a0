"""The inbox's public schemas: what the signed-in person owes, one row per indicator × org unit × period, and per
task × period for a partner's own part of a task (协办进展, decision 0020)."""

from __future__ import annotations

import datetime as dt
import enum

from pydantic import BaseModel, Field

from minsheng.catalog.document import ReportingFrequency
from minsheng.pagination import Page
from minsheng.reporting.models import REPORT_STATUS_LABELS


class InboxState(str, enum.Enum):
    not_reported = "not_reported"
    submitted = "submitted"
    returned = "returned"
    approved = "approved"
    reported = "reported"  # a partner's part of a task: reported, nobody reviews it
    follow_up = "follow_up"  # an approved value the city office asks to verify (待核实): to answer


# A report's own states say it as the reporting pages do (one wording per state).
INBOX_STATE_LABELS = {
    InboxState.not_reported: "未填报",
    **{InboxState(status.value): label for status, label in REPORT_STATUS_LABELS.items()},
    InboxState.reported: "已报送",
    InboxState.follow_up: "待核实",
}
# What counts as done for the share of the period: the reporter's part is over once it is submitted.
DONE_STATES = frozenset({InboxState.submitted, InboxState.approved, InboxState.reported})


class InboxItemKind(str, enum.Enum):
    indicator = "indicator"  # a figure of an indicator, for an org unit and a period
    partner_part = "partner_part"  # a partner's own part of a task, for a period (decision 0020)
    follow_up = "follow_up"  # an approved value marked 待核实 by the city office, to answer (issue 30)


INBOX_KIND_LABELS = {
    InboxItemKind.indicator: "指标数据",
    InboxItemKind.partner_part: "协办进展",
    InboxItemKind.follow_up: "数据核实",
}


class InboxItemPublic(BaseModel):
    kind: InboxItemKind = Field(
        default=InboxItemKind.indicator,
        description="indicator 指标数据（填报数值）；partner_part 协办进展（协办单位填报本单位承担部分的任务进展）；"
        "follow_up 数据核实（市民生办对已通过的数值标记待核实，请答复）",
    )
    kind_label: str = INBOX_KIND_LABELS[InboxItemKind.indicator]
    campaign: str
    campaign_name: str
    item: int | None  # None: a campaign-level (headline) indicator
    item_title: str | None
    task: int | None
    task_title: str | None
    indicator_id: str | None = Field(description="指标编号；协办进展为空")
    indicator_name: str | None
    unit: str | None
    partner_department: str | None = Field(
        default=None, description="协办进展：填报的协办部门（区县的协办进展为空：按本单位填报）"
    )
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
    follow_up: int | None = Field(default=None, description="数据核实：待核实标记编号（在本行动的服务中答复）")
    follow_up_comment: str | None = Field(default=None, description="数据核实：市民生办的疑问")
    follow_up_answer: str | None = Field(default=None, description="数据核实：本单位最近一次答复")


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
