"""The quality tables of a plan (in each plan's schema, reporting branch): the city office's validation rules and
min–max bounds, and the rule failures found on entry (open until a later revision passes)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlmodel import Field, SQLModel

from minsheng.catalog.models import enum_column


class Importance(str, enum.Enum):
    high = "high"  # 高: blocks a submission unless its 说明 explains it
    medium = "medium"  # 中: a warning saved with the report
    low = "low"  # 低: a warning saved with the report


IMPORTANCE_LABELS = {Importance.high: "高", Importance.medium: "中", Importance.low: "低"}


class QualityRule(SQLModel, table=True):
    """left operator right, over indicator codes of the same org unit and period (or `sum_districts(CODE)`: the
    districts' sum, compared at the city)."""

    __tablename__ = "quality_rule"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60)
    left: str = Field(max_length=200)
    operator: str = Field(max_length=2)
    right: str = Field(max_length=200)
    importance: Importance = Field(sa_type=enum_column(Importance))
    instruction: str = Field(max_length=300)
    revision: int = 1
    changed_by: str = Field(max_length=200)
    changed_at: dt.datetime


class QualityBound(SQLModel, table=True):
    """The office's plausible range of an indicator's value for an org unit (either end may be open)."""

    __tablename__ = "quality_bound"

    indicator_code: str = Field(foreign_key="indicator.code", primary_key=True, max_length=20)
    org_unit_code: str = Field(foreign_key="org_unit.code", primary_key=True, max_length=6)
    minimum: float | None = None
    maximum: float | None = None
    changed_by: str = Field(max_length=200)
    changed_at: dt.datetime


class QualityFailure(SQLModel, table=True):
    """A rule that failed for an org unit and period when a report was saved; resolved when a later report of
    the rule's indicators there passes it (or the rule is deleted)."""

    __tablename__ = "quality_failure"

    id: int | None = Field(default=None, primary_key=True)
    rule_id: int = Field(index=True)  # no foreign key: the failure outlives a deleted rule in the record
    org_unit_code: str = Field(max_length=6)
    period: str = Field(max_length=7, index=True)
    report_id: int  # the revision whose saving found it
    indicator_code: str = Field(max_length=20)
    left_value: float
    right_value: float
    importance: Importance = Field(sa_type=enum_column(Importance))
    explained: str = ""  # the report's 说明 when a 高 failure was saved with it
    failed_at: dt.datetime
    resolved_at: dt.datetime | None = None
    resolved_by_report: int | None = None


class FollowUpNoteKind(str, enum.Enum):
    opened = "opened"  # 待核实: the city office marks an approved value
    answered = "answered"  # the reporter answers (a comment; a revision is submitted as usual)
    closed = "closed"  # 已核实: the city office closes the mark


FOLLOW_UP_NOTE_LABELS = {
    FollowUpNoteKind.opened: "标记待核实",
    FollowUpNoteKind.answered: "填报单位答复",
    FollowUpNoteKind.closed: "已核实",
}


class QualityFollowUp(SQLModel, table=True):
    """A follow-up mark (待核实) on an official value (an approved revision), open until the city office closes it."""

    __tablename__ = "quality_follow_up"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    indicator_code: str = Field(max_length=20)
    org_unit_code: str = Field(max_length=6)
    period: str = Field(max_length=7)
    opened_by: str = Field(max_length=200)
    opened_at: dt.datetime
    closed_at: dt.datetime | None = None


class QualityFollowUpNote(SQLModel, table=True):
    """One line of a mark's thread: the mark, an answer, the closing, with its comment."""

    __tablename__ = "quality_follow_up_note"

    id: int | None = Field(default=None, primary_key=True)
    follow_up_id: int = Field(foreign_key="quality_follow_up.id", index=True)
    kind: FollowUpNoteKind = Field(sa_type=enum_column(FollowUpNoteKind))
    comment: str = Field(max_length=500)
    actor: str = Field(max_length=200)
    at: dt.datetime


QUALITY_TABLES = frozenset(
    m.__tablename__ for m in (QualityRule, QualityBound, QualityFailure, QualityFollowUp, QualityFollowUpNote)
)
