"""Read-model tables of the gateway (its own database; never the services')."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from minsheng.catalog.models import enum_column
from minsheng.progress.model import Status
from minsheng.reporting.models import ReportStatus


def pending_condition(table: str | None = None) -> str:
    """The partial index ix_report_view_pending's own condition, as SQL text (of `report_view` under the
    name `table`): literals, not bound parameters, or a prepared statement's generic plan could not use
    the index; written from `ReportStatus`, never by hand."""
    of = f"{table}." if table else ""
    return f"{of}is_current AND {of}status = '{ReportStatus.submitted.value}'"


class ReportView(SQLModel, table=True):
    """Every report revision the gateway has heard of, keyed by its service and id."""

    __tablename__ = "report_view"
    # The pending values of a summary: the few current, not yet approved revisions among all reports.
    __table_args__ = (
        sa.Index("ix_report_view_pending", "indicator_code", postgresql_where=sa.text(pending_condition())),
    )

    campaign: str = Field(primary_key=True, max_length=20)
    report_id: int = Field(primary_key=True)
    indicator_code: str = Field(index=True, max_length=20)
    org_unit_code: str = Field(max_length=6)
    period: str = Field(max_length=7)
    period_end: dt.date
    value: float
    numerator: float | None = None
    denominator: float | None = None
    status: str = Field(max_length=16)
    revision: int
    is_current: bool
    submitted_by: str = Field(max_length=100)
    updated_at: dt.datetime  # its last change
    return_reason: str | None = None  # why the city office returned it (the reporter's inbox shows it)
    # When it was handed in and when it was approved or returned: what a replay of a past day
    # (`reads.py`) needs.  None where the fold never saw that event (a snapshot, an older fold).
    submitted_at: dt.datetime | None = None
    reviewed_at: dt.datetime | None = None


class OfficialValue(SQLModel, table=True):
    """The official figure of an indicator × org unit × period: its latest approved revision.
    Bounded by the number of series, not of reports, so summaries do not slow as reports pile up."""

    __tablename__ = "official_value"

    indicator_code: str = Field(primary_key=True, max_length=20)
    org_unit_code: str = Field(primary_key=True, max_length=6)
    period: str = Field(primary_key=True, max_length=7)
    campaign: str = Field(max_length=20)
    value: float
    numerator: float | None = None
    denominator: float | None = None
    report_id: int
    revision: int


class TaskStatusView(SQLModel, table=True):
    __tablename__ = "task_status_view"

    task_number: int = Field(primary_key=True)
    org_unit_code: str = Field(primary_key=True, max_length=6)
    period: str = Field(primary_key=True, max_length=7)
    campaign: str = Field(max_length=20)
    period_end: dt.date
    state: str = Field(max_length=16)
    narrative: str = ""
    problems: str = ""
    revision: int
    reported_by: str = Field(max_length=100)
    reported_at: dt.datetime


class TaskPartView(SQLModel, table=True):
    """A partner department's own part of a task (协办进展, decision 0020), per period: its latest revision.  Apart
    from `task_status_view`, which holds the tasks' own statuses (the lead's, and each district's for itself)."""

    __tablename__ = "task_part_view"

    task_number: int = Field(primary_key=True)
    department: str = Field(primary_key=True, max_length=100)
    period: str = Field(primary_key=True, max_length=7)
    campaign: str = Field(max_length=20)
    org_unit_code: str = Field(max_length=6)
    period_end: dt.date
    state: str = Field(max_length=16)
    narrative: str = ""
    problems: str = ""
    revision: int
    reported_by: str = Field(max_length=100)
    reported_at: dt.datetime


class TaskStateView(SQLModel, table=True):
    """Every change of a task's implementation state the gateway has heard of (minsheng.task.state_changed.v1):
    a task's state is its highest revision's (`reads.task_states`); a task without a row is in progress."""

    __tablename__ = "task_state_view"

    task_number: int = Field(primary_key=True)
    revision: int = Field(primary_key=True)
    campaign: str = Field(max_length=20)
    state: str = Field(max_length=16)
    previous_state: str = Field(max_length=16)
    reason: str | None = Field(default=None, max_length=500)
    changed_by: str = Field(max_length=200)
    changed_at: dt.datetime


class IndicatorProgressView(SQLModel, table=True):
    """The computed progress of an indicator for an org unit, refreshed by every fold that touches it."""

    __tablename__ = "indicator_progress_view"

    indicator_code: str = Field(primary_key=True, max_length=20)
    org_unit_code: str = Field(primary_key=True, max_length=6)
    campaign: str = Field(index=True, max_length=20)
    status: Status = Field(sa_type=enum_column(Status), index=True)
    status_since: dt.datetime  # when it entered this status (warnings are listed newest first)
    computed_on: dt.date
    payload: str  # IndicatorProgressPublic as JSON
    # ProgressInputs as JSON: what `payload` was computed from apart from the day (None: stored before
    # they were kept; such a row is recomputed in full on a new day)
    inputs: str | None = Field(default=None, sa_type=sa.Text)
    # The answer for the next day, stored ahead before midnight: `projection/ahead.py` owns them.
    next_on: dt.date | None = None
    next_status: Status | None = Field(default=None, sa_type=enum_column(Status))
    next_payload: str | None = Field(default=None, sa_type=sa.Text)


class QualityFlagView(SQLModel, table=True):
    """A validation rule's last word on an org unit and period (minsheng.quality.rule_failed.v1 / rule_resolved.v1):
    open while `resolved_at` is null.  The review shows the open ones beside the value; the 数据质量 page lists all."""

    __tablename__ = "quality_flag_view"

    campaign: str = Field(primary_key=True, max_length=20)
    rule: int = Field(primary_key=True)
    org_unit_code: str = Field(primary_key=True, max_length=6)
    period: str = Field(primary_key=True, max_length=7)
    name: str = Field(max_length=60)
    expression: str = Field(max_length=420)
    importance: str = Field(max_length=16)
    instruction: str = Field(max_length=300)
    indicators: str = Field(max_length=200)  # the rule's indicator codes, comma-separated
    indicator_code: str = Field(max_length=20)  # the report whose saving found it
    report_id: int
    left_value: float
    right_value: float
    explained: str = ""
    failed_at: dt.datetime
    resolved_at: dt.datetime | None = None


class FollowUpView(SQLModel, table=True):
    """A follow-up mark (待核实) on an approved value and where its thread stands (minsheng.quality.follow_up_*.v1):
    open while `closed_at` is null.  The reporter's 我的待办 and the 数据质量 page show the open ones."""

    __tablename__ = "follow_up_view"

    campaign: str = Field(primary_key=True, max_length=20)
    follow_up: int = Field(primary_key=True)
    report_id: int
    indicator_code: str = Field(max_length=20)
    org_unit_code: str = Field(max_length=6)
    period: str = Field(max_length=7)
    comment: str = Field(max_length=500)  # the mark's
    opened_by: str = Field(max_length=200)
    opened_at: dt.datetime
    answer: str | None = Field(default=None, max_length=500)  # the latest answer
    answered_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None


class ViewGeneration(SQLModel, table=True):
    """Which rebuild these views belong to: the consumer group is named after it, so a wiped or
    rebuilt database replays the topics from the beginning under a fresh group."""

    __tablename__ = "view_generation"

    id: int = Field(default=1, primary_key=True)
    generation: str = Field(max_length=40)
    created_at: dt.datetime


# Each plan's (decision 0017: in public for the legacy plan, in `plan_<code>` for another); the generation is the
# gateway's own, in public.
PLAN_VIEW_MODELS = (
    ReportView,
    OfficialValue,
    TaskStatusView,
    TaskPartView,
    TaskStateView,
    IndicatorProgressView,
    QualityFlagView,
    FollowUpView,
)
PLAN_VIEW_TABLES = frozenset(m.__tablename__ for m in PLAN_VIEW_MODELS)
VIEW_TABLES = PLAN_VIEW_TABLES | {ViewGeneration.__tablename__}
