"""The integration events a campaign service emits, and where they are written: the outbox,
in the same transaction as the change (`emit_change`).  The relay publishes them later.

Topic: one per campaign (`minsheng.<campaign>.events`).  Key: the indicator code for report and
status events, `task-<n>` for a task's status reports and state changes, the campaign code for catalog
and period events, so all events of one indicator (or task) stay in order on one partition.
"""

from __future__ import annotations

import datetime as dt
import json

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, select

from minsheng.catalog.models import Campaign, Indicator, Task
from minsheng.catalog.snapshot import CatalogSnapshot
from minsheng.messaging import IntegrationEvent, add_event, event_source, register_event, retire_event, topic_for
from minsheng.reporting.models import (
    ChangeRecord,
    ImplementationState,
    PeriodLock,
    Report,
    ReportRow,
    TaskImplementation,
    TaskStatusReport,
)


class _EventData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _PlanEventData(_EventData):
    """An event's whole `data` (not its parts)."""

    # Decision 0017: the plan the event belongs to, when not the legacy plan (absent then, so the legacy plan's
    # events are what they always were).  Written by the outbox (`messaging.outbox.for_plan`), not by emitters.
    plan: str | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="方案代码；缺省为原三年行动方案（legacy）",
        max_length=40,
    )


# Declared here, not derived from `models.ReportBase`: a published event type keeps its shape (a new
# shape is a new version), whatever becomes of the table.
class ReportState(_EventData):
    """A report revision as it stands after the change."""

    report_id: int
    indicator: str
    org_unit: str
    period: str
    value: float
    numerator: float | None = None
    denominator: float | None = None
    note: str = ""
    status: str  # submitted | approved | returned
    revision: int
    is_current: bool
    submitted_by: str
    reviewed_by: str | None = None
    return_reason: str | None = None


class EvidenceDigests(_EventData):
    """The 佐证材料 saved with a revision: how many, and the SHA-256 of each stored file (not their content,
    nor their names)."""

    count: int
    sha256: list[str]


def evidence_field():  # noqa: ANN202 - a pydantic Field
    # Added to v1 without a new version: absent (not null) from the JSON of a revision without files, so such
    # events are what they always were; a consumer deployed before the producer reads them all.
    return Field(default=None, exclude_if=lambda value: value is None)


class ReportChanged(_PlanEventData):
    """A report revision changed: submitted (or resubmitted), revised, approved or returned.

    Types minsheng.report.{submitted,revised,approved,returned}.v1; `supersedes` names the revision
    it replaced, so a consumer can keep exactly one current revision per series; `evidence`, the files
    submitted with it (on a submission or revision only)."""

    campaign: str
    report: ReportState
    supersedes: int | None = None  # the report id of the revision this one replaced
    actor: str
    occurred_at: dt.datetime
    evidence: EvidenceDigests | None = evidence_field()


class TaskStatusReported(_PlanEventData):
    """Qualitative progress of a task for an org unit and a period (minsheng.task_status.reported.v1).

    With `partner_department`: that partner department's own part of the task (协办进展, decision 0020), not the
    task's status."""

    campaign: str
    task: int
    org_unit: str
    period: str
    # Added to v1 without a new version: absent from the task's own statuses, so they are what they always were.
    partner_department: str | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="协办部门：该部门承担部分的进展；缺省为任务整体（或区县本单位）的进展",
        max_length=100,
    )
    state: str
    narrative: str
    problems: str
    revision: int
    actor: str
    occurred_at: dt.datetime
    evidence: EvidenceDigests | None = evidence_field()


class TaskStateChanged(_PlanEventData):
    """minsheng.task.state_changed.v1: the city office set a task's implementation state (in_progress 执行中,
    suspended 暂缓实施, cancelled 已取消, undecided 待确定), with its reason.

    `revision` counts the task's changes from 1: a consumer keeps each once and takes the highest as the
    task's state; a task no event has named is in progress."""

    campaign: str
    task: int
    state: str  # in_progress | suspended | cancelled | undecided
    previous_state: str
    reason: str | None = None
    revision: int
    actor: str
    occurred_at: dt.datetime


class CatalogPublished(_PlanEventData):
    """minsheng.catalog.published.v1: the campaign's whole catalog document."""

    campaign: str
    catalog: dict


class PeriodLockChanged(_PlanEventData):
    """The city office locked or unlocked a period (minsheng.period.locked.v1 / minsheng.period.unlocked.v1)."""

    campaign: str
    period: str
    actor: str
    occurred_at: dt.datetime


class ReportSnapshot(_PlanEventData):
    """minsheng.report.snapshot.v1: everything a consumer needs for one indicator × org unit,
    republished on request so views can be rebuilt after the broker lost its data."""

    campaign: str
    indicator: str
    org_unit: str
    reports: list[ReportState]  # every current revision and every approved revision, oldest first
    taken_at: dt.datetime


REPORT_EVENT_TYPES = {
    "submitted": "minsheng.report.submitted.v1",
    "resubmitted": "minsheng.report.submitted.v1",
    "revised": "minsheng.report.revised.v1",
    "approved": "minsheng.report.approved.v1",
    "returned": "minsheng.report.returned.v1",
}
TASK_STATUS_REPORTED = "minsheng.task_status.reported.v1"
TASK_STATE_CHANGED = "minsheng.task.state_changed.v1"
CATALOG_PUBLISHED = "minsheng.catalog.published.v1"
PERIOD_LOCKED = "minsheng.period.locked.v1"
PERIOD_UNLOCKED = "minsheng.period.unlocked.v1"
REPORT_SNAPSHOT = "minsheng.report.snapshot.v1"

for _type in set(REPORT_EVENT_TYPES.values()):
    register_event(_type, ReportChanged)
register_event(TASK_STATUS_REPORTED, TaskStatusReported)
register_event(TASK_STATE_CHANGED, TaskStateChanged)
register_event(CATALOG_PUBLISHED, CatalogPublished)
register_event(PERIOD_LOCKED, PeriodLockChanged)
register_event(PERIOD_UNLOCKED, PeriodLockChanged)
register_event(REPORT_SNAPSHOT, ReportSnapshot)
# Sent by approvals until 2026-12; nothing consumed it (docs/decisions/0018).
retire_event("minsheng.indicator.status_changed.v1")


# Data quality (issue 30, decision 0024): a rule failed for an org unit and period when a report was saved, or a
# later report resolved it.  On the campaign's topic like its reports, so every consumer of it knows the types;
# key `rule-<id>`: a rule's failures and resolutions stay in order on one partition.
RULE_FAILED = "minsheng.quality.rule_failed.v1"
RULE_RESOLVED = "minsheng.quality.rule_resolved.v1"
QUALITY_EVENT_TYPES = (RULE_FAILED, RULE_RESOLVED)


class RuleFailed(_PlanEventData):
    """minsheng.quality.rule_failed.v1: a validation rule did not hold for an org unit and period when the report
    `report_id` was saved (a 高 one only with the report's 说明 explaining it, in `explained`)."""

    campaign: str
    rule: int
    name: str
    expression: str = Field(description="如 T003-2 <= T003-1")
    importance: str = Field(description="high 高 | medium 中 | low 低")
    instruction: str
    org_unit: str
    period: str
    indicator: str = Field(description="所保存报告的指标")
    indicators: list[str] = Field(description="规则涉及的指标")
    report_id: int
    left_value: float
    right_value: float
    explained: str = ""
    actor: str
    occurred_at: dt.datetime


class RuleResolved(_PlanEventData):
    """minsheng.quality.rule_resolved.v1: the rule holds again for the org unit and period, since report
    `report_id` was saved."""

    campaign: str
    rule: int
    org_unit: str
    period: str
    indicator: str
    report_id: int
    actor: str
    occurred_at: dt.datetime


register_event(RULE_FAILED, RuleFailed)
register_event(RULE_RESOLVED, RuleResolved)


def rule_key(rule: int) -> str:
    return f"rule-{rule}"


def quality_event(campaign: str, event_type: str, data: RuleFailed | RuleResolved) -> tuple[str, str, IntegrationEvent]:
    key = rule_key(data.rule)
    event = IntegrationEvent(source=event_source(campaign), type=event_type, subject=key, data=data)
    return topic_for(campaign), key, event


# Follow-up marks (issue 30 point 3): the city office marks an approved value 待核实, the reporter answers, the office
# closes it (已核实).  Key `follow-up-<id>`: a mark's thread stays in order on one partition.
FOLLOW_UP_OPENED = "minsheng.quality.follow_up_opened.v1"
FOLLOW_UP_ANSWERED = "minsheng.quality.follow_up_answered.v1"
FOLLOW_UP_CLOSED = "minsheng.quality.follow_up_closed.v1"
FOLLOW_UP_EVENT_TYPES = (FOLLOW_UP_OPENED, FOLLOW_UP_ANSWERED, FOLLOW_UP_CLOSED)


class FollowUpChanged(_PlanEventData):
    """minsheng.quality.follow_up_opened.v1 / minsheng.quality.follow_up_answered.v1 /
    minsheng.quality.follow_up_closed.v1: a line added to the thread of a follow-up mark (待核实) on the approved
    value `report_id`, with its comment."""

    campaign: str
    follow_up: int = Field(description="标记编号")
    report_id: int
    indicator: str
    org_unit: str
    period: str
    comment: str
    actor: str
    occurred_at: dt.datetime


for _type in FOLLOW_UP_EVENT_TYPES:
    register_event(_type, FollowUpChanged)


def follow_up_key(follow_up: int) -> str:
    return f"follow-up-{follow_up}"


def follow_up_event(event_type: str, data: FollowUpChanged) -> tuple[str, str, IntegrationEvent]:
    key = follow_up_key(data.follow_up)
    event = IntegrationEvent(source=event_source(data.campaign), type=event_type, subject=key, data=data)
    return topic_for(data.campaign), key, event


def report_state(report: Report | ReportRow) -> ReportState:
    return ReportState(
        report_id=report.id,
        indicator=report.indicator_code,
        org_unit=report.org_unit_code,
        period=report.period,
        value=report.value,
        numerator=report.numerator,
        denominator=report.denominator,
        note=report.note,
        status=report.status.value,
        revision=report.revision,
        is_current=report.is_current,
        submitted_by=report.submitted_by,
        reviewed_by=report.reviewed_by,
        return_reason=report.return_reason,
    )


def campaign_event(
    *, campaign: str, key: str, event_type: str, subject: str, data: BaseModel
) -> tuple[str, str, IntegrationEvent]:
    """(topic, key, event) of a campaign's event, for `add_events` (or `write_event`, one at a time)."""
    return (
        topic_for(campaign),
        key,
        IntegrationEvent(source=event_source(campaign), type=event_type, subject=subject, data=data),
    )


def write_event(session: Session, *, campaign: str, key: str, event_type: str, subject: str, data: BaseModel) -> None:
    topic, key, event = campaign_event(campaign=campaign, key=key, event_type=event_type, subject=subject, data=data)
    add_event(session, topic=topic, key=key, event=event)


def report_changed_event(
    *,
    campaign: str,
    action: str,
    actor: str,
    at: dt.datetime,
    report: Report | ReportRow,
    supersedes: int | None = None,
    evidence: EvidenceDigests | None = None,
) -> tuple[str, str, IntegrationEvent]:
    """(topic, key, event) announcing a report revision's change; `add_events` writes a batch of them."""
    event = IntegrationEvent(
        source=event_source(campaign),
        type=REPORT_EVENT_TYPES[action],
        subject=report.indicator_code,
        data=ReportChanged(
            campaign=campaign,
            report=report_state(report),
            supersedes=supersedes,
            actor=actor,
            occurred_at=at,
            evidence=evidence,
        ),
    )
    return topic_for(campaign), report.indicator_code, event


def campaign_of_indicator(session: Session, catalog: CatalogSnapshot | None, code: str) -> str:
    """The campaign an indicator belongs to: from the snapshot, else (retired, or no snapshot at hand)
    from its row."""
    fact = catalog.indicators.get(code) if catalog else None
    return fact.campaign_code if fact else session.get(Indicator, code).campaign_code


def task_status_reported(
    campaign: str, row: TaskStatusReport, evidence: EvidenceDigests | None = None
) -> tuple[str, str, IntegrationEvent]:
    """(topic, key, event) announcing a task status revision: when reported, and when republished."""
    return campaign_event(
        campaign=campaign,
        key=f"task-{row.task_number}",
        event_type=TASK_STATUS_REPORTED,
        subject=f"task-{row.task_number}",
        data=TaskStatusReported(
            campaign=campaign,
            task=row.task_number,
            org_unit=row.org_unit_code,
            period=row.period,
            partner_department=row.partner_department or None,
            state=row.state.value,
            narrative=row.narrative,
            problems=row.problems,
            revision=row.revision,
            actor=row.reported_by,
            occurred_at=row.reported_at,
            evidence=evidence,
        ),
    )


def task_state_changed(campaign: str, task: int, record: ChangeRecord) -> tuple[str, str, IntegrationEvent]:
    """(topic, key, event) announcing a task's state change, from its history record: when it is made, and
    when the history is republished."""
    previous, current = json.loads(record.previous or "{}"), json.loads(record.current)
    return campaign_event(
        campaign=campaign,
        key=f"task-{task}",
        event_type=TASK_STATE_CHANGED,
        subject=f"task-{task}",
        data=TaskStateChanged(
            campaign=campaign,
            task=task,
            state=current["state"],
            previous_state=previous.get("state", ImplementationState.in_progress.value),
            reason=record.reason,
            revision=current["revision"],
            actor=record.actor,
            occurred_at=record.at,
        ),
    )


def emit_change(
    session: Session,
    change: ChangeRecord,
    row: Report | TaskStatusReport | PeriodLock | TaskImplementation,
    evidence: EvidenceDigests | None = None,
) -> None:
    """Write the integration event for a recorded change into the outbox (same transaction)."""
    if isinstance(row, TaskImplementation):
        campaign = session.get(Task, row.task_number).campaign_code
        topic, key, event = task_state_changed(campaign, row.task_number, change)
    elif isinstance(row, Report):
        topic, key, event = report_changed_event(
            campaign=campaign_of_indicator(session, None, row.indicator_code),
            action=change.action,
            actor=change.actor,
            at=change.at,
            report=row,
        )
    elif isinstance(row, TaskStatusReport):
        topic, key, event = task_status_reported(session.get(Task, row.task_number).campaign_code, row, evidence)
    else:
        campaign = session.exec(select(Campaign.code)).first()
        topic, key, event = campaign_event(
            campaign=campaign,
            key=campaign,
            event_type=PERIOD_LOCKED if change.action == "locked" else PERIOD_UNLOCKED,
            subject=row.period,
            data=PeriodLockChanged(campaign=campaign, period=row.period, actor=change.actor, occurred_at=change.at),
        )
    add_event(session, topic=topic, key=key, event=event)
