"""Catalog tables and their public schemas.

Natural keys (task number 1–113, indicator code such as T002-1, org unit code)
are the primary keys: a corrected catalog file updates rows in place, so reports
attached to an indicator are never orphaned.  Rows that disappear from the file
are retired, not deleted.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel, UniqueConstraint

from minsheng.catalog.document import (
    Aggregation,
    Comparator,
    ContinuesDoc,
    IndicatorKind,
    MilestoneBasis,
    MilestoneDoc,
    PlanDoc,
    PlanState,
    ReportingFrequency,
    ScoringRuleDoc,
)


def enum_column(enum_class: type) -> sa.Enum:
    """Stored as the member name in a VARCHAR: no database enum type to migrate when a member is added."""
    return sa.Enum(enum_class, native_enum=False, create_constraint=False, length=16)


class Plan(SQLModel, table=True):
    """A plan the campaigns work to (`PlanDoc`): its horizon bounds every period, trajectory and due date."""

    code: str = Field(primary_key=True, max_length=40)
    name: str
    document_number: str | None = None
    start_date: dt.date
    end_date: dt.date
    state: PlanState = Field(sa_type=enum_column(PlanState))
    legacy: bool = False
    scoring: list[dict] = Field(sa_type=JSONB)  # ScoringRuleDoc, oldest first

    def doc(self) -> PlanDoc:
        return PlanDoc(
            code=self.code,
            name=self.name,
            document_number=self.document_number,
            start=self.start_date,
            end=self.end_date,
            state=self.state,
            legacy=self.legacy,
            scoring=tuple(ScoringRuleDoc.model_validate(rule) for rule in self.scoring),
        )


class Campaign(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=20)
    number: int
    name: str
    title: str
    plan_code: str | None = Field(default=None, foreign_key="plan.code", max_length=40)
    # What `apply_catalog` last applied (`loader.catalog_digest`), so that a receiver of the same
    # document again can tell at once that there is nothing to apply.  Only `apply_catalog` writes
    # the catalog tables, and it sets this last; NULL: not known, compare in full.
    catalog_digest: str | None = Field(default=None, max_length=64)


class WorkItem(SQLModel, table=True):
    __tablename__ = "work_item"

    number: int = Field(primary_key=True)
    campaign_code: str = Field(foreign_key="campaign.code", index=True, max_length=20)
    title: str


class Task(SQLModel, table=True):
    number: int = Field(primary_key=True)
    campaign_code: str = Field(foreign_key="campaign.code", index=True, max_length=20)
    item_number: int = Field(foreign_key="work_item.number", index=True)
    title: str
    text: str
    deadline: dt.date
    evidence_required: bool = False  # 须附佐证 (TaskDoc)
    retired: bool = False


class TaskLeadDepartment(SQLModel, table=True):
    __tablename__ = "task_lead_department"

    task_number: int = Field(foreign_key="task.number", primary_key=True)
    department: str = Field(primary_key=True, max_length=100)
    position: int = 0


class TaskPartnerDepartment(SQLModel, table=True):
    """A task's 协办单位 (`TaskDoc.partner_departments`): a department, a district by name, or ALL_DISTRICTS."""

    __tablename__ = "task_partner_department"

    task_number: int = Field(foreign_key="task.number", primary_key=True)
    department: str = Field(primary_key=True, max_length=100)
    position: int = 0


class Indicator(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=20)
    campaign_code: str = Field(foreign_key="campaign.code", index=True, max_length=20)
    task_number: int | None = Field(default=None, foreign_key="task.number", index=True)
    position: int = 0
    name: str
    unit: str = Field(max_length=20)
    target_value: float
    comparator: Comparator = Field(sa_type=enum_column(Comparator))
    kind: IndicatorKind = Field(sa_type=enum_column(IndicatorKind))
    horizon: int
    aggregation: Aggregation = Field(sa_type=enum_column(Aggregation))
    frequency: ReportingFrequency = Field(sa_type=enum_column(ReportingFrequency))
    city_only: bool = False
    evidence_required: bool = False  # 须附佐证 (IndicatorDoc)
    baseline_value: float | None = None
    baseline_year: int | None = None
    source: str
    seed: str = Field(max_length=8)
    retired: bool = False
    # 接续指标 (`ContinuesDoc`): the older plan's indicator this one continues, in that plan's tables.
    continues_plan: str | None = Field(default=None, max_length=40)
    continues_indicator: str | None = Field(default=None, max_length=20)

    def continues(self) -> ContinuesDoc | None:
        if self.continues_plan is None or self.continues_indicator is None:
            return None
        return ContinuesDoc(plan=self.continues_plan, indicator=self.continues_indicator)


class IndicatorMilestone(SQLModel, table=True):
    """A `MilestoneDoc`: an annual (quarterly) target.  The document refuses two for the same period and
    basis; the constraint cannot (a year's row has no quarter, and NULLs differ)."""

    __tablename__ = "indicator_milestone"
    __table_args__ = (UniqueConstraint("indicator_code", "year", "quarter", "basis"),)

    id: int | None = Field(default=None, primary_key=True)
    indicator_code: str = Field(foreign_key="indicator.code", index=True, max_length=20)
    year: int
    quarter: int | None = None
    value: float
    basis: MilestoneBasis = Field(default=MilestoneBasis.reached, sa_type=enum_column(MilestoneBasis))
    comparator: Comparator | None = Field(default=None, sa_type=enum_column(Comparator))
    source: str
    seed: str = Field(max_length=8)

    def doc(self) -> MilestoneDoc:
        return MilestoneDoc(
            year=self.year,
            quarter=self.quarter,
            value=self.value,
            basis=self.basis,
            comparator=self.comparator,
            source=self.source,
            seed=self.seed,
        )


class OrgUnit(SQLModel, table=True):
    __tablename__ = "org_unit"

    code: str = Field(primary_key=True, max_length=6)
    name: str
    kind: str = Field(max_length=10)
    parent_code: str | None = Field(default=None, max_length=6)


class DistrictTarget(SQLModel, table=True):
    __tablename__ = "district_target"
    __table_args__ = (UniqueConstraint("indicator_code", "org_unit_code"),)

    id: int | None = Field(default=None, primary_key=True)
    indicator_code: str = Field(foreign_key="indicator.code", index=True, max_length=20)
    org_unit_code: str = Field(foreign_key="org_unit.code", index=True, max_length=6)
    target_value: float
    source: str
    seed: str = Field(max_length=8)


class CatalogVersion(SQLModel, table=True):
    """A version of a campaign's catalog in a plan: one per publication (or start-up re-application of the legacy
    plan's catalog file) that changed something, with what it changed (`loader.diff_catalogs`'s labels).  Written by
    the campaign service only; nothing is overwritten silently."""

    __tablename__ = "catalog_version"
    __table_args__ = (UniqueConstraint("plan_code", "campaign_code", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_code: str = Field(max_length=40)
    campaign_code: str = Field(max_length=20)
    version: int
    digest: str = Field(max_length=64)
    published_at: dt.datetime = Field(sa_type=sa.DateTime(timezone=True))
    published_by: str
    tasks: int
    indicators: int
    created: list[str] = Field(sa_type=JSONB)
    updated: list[str] = Field(sa_type=JSONB)
    retired: list[str] = Field(sa_type=JSONB)


CATALOG_TABLES = frozenset(
    model.__tablename__
    for model in (
        Plan,
        Campaign,
        WorkItem,
        Task,
        TaskLeadDepartment,
        TaskPartnerDepartment,
        Indicator,
        IndicatorMilestone,
        OrgUnit,
        DistrictTarget,
        CatalogVersion,
    )
)


# ---- public schemas -------------------------------------------------------------------------


class CampaignPublic(SQLModel):
    code: str
    number: int
    name: str
    title: str


class WorkItemPublic(SQLModel):
    number: int
    campaign: str
    title: str
    task_numbers: list[int]


class MilestonePublic(SQLModel):
    year: int
    quarter: int | None = None  # None: the whole year
    value: float
    basis: MilestoneBasis = MilestoneBasis.reached
    comparator: Comparator | None = None  # None: the indicator's
    source: str


class IndicatorPublic(SQLModel):
    id: str
    name: str
    unit: str
    target_value: float
    comparator: Comparator
    kind: IndicatorKind
    horizon: int
    aggregation: Aggregation
    frequency: ReportingFrequency
    city_only: bool
    evidence_required: bool = Field(description="须附佐证：填报数值须同时附佐证材料")
    baseline_value: float | None
    baseline_year: int | None
    campaign: str
    task_number: int | None
    source: str
    seed: str
    milestones: list[MilestonePublic]


class TaskPublic(SQLModel):
    number: int
    campaign: str
    item: int
    item_title: str
    title: str
    text: str
    lead_departments: list[str] = Field(description="主办（牵头）单位：填报指标数据和任务整体进展")
    partner_departments: list[str] = Field(
        default=[],
        description="协办（配合）单位：各自填报本单位承担部分的进展；可为部门、区县名称或「各区县（功能区）」（即每个区县）",
    )
    partner_bureaus: list[str] = Field(
        default=[], description="协办单位中的部门（区县除外）：由部门账号按全市填报本部门承担部分的进展"
    )
    deadline: dt.date
    evidence_required: bool = Field(description="须附佐证：填报任务进展须同时附佐证材料")
    indicators: list[IndicatorPublic]


class OrgUnitPublic(SQLModel):
    code: str
    name: str
    kind: str
    parent_code: str | None


class DistrictTargetPublic(SQLModel):
    indicator_id: str
    indicator_name: str
    campaign: str
    task_number: int | None
    org_unit: str
    target_value: float
    unit: str
    comparator: Comparator
    horizon: int
    city_target_value: float
    source: str
    seed: str
