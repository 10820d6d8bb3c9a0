"""Progress for an indicator, a task or a whole campaign, read from a database.

The catalog facts come from the catalog tables (every process has them).  Official values,
pending values and task statuses come from a `ProgressSource`: a campaign service reads its
own reports (`ReportSource` below); the gateway reads its read models.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session, select

from minsheng.catalog.document import legacy_plan
from minsheng.catalog.models import (
    Campaign,
    DistrictTarget,
    Indicator,
    Plan,
    Task,
    TaskLeadDepartment,
    WorkItem,
)
from minsheng.catalog.service import get_org_unit, milestone_rows
from minsheng.catalog.snapshot import CatalogCache
from minsheng.errors import NotFound
from minsheng.progress.assemble import IndicatorFacts, indicator_progress, task_progress
from minsheng.progress.model import STATUS_LABELS, Milestone, Observation, Status, Thresholds
from minsheng.progress.periods import Period
from minsheng.progress.rollup import summarize, worst_status
from minsheng.progress.schemas import (
    CampaignProgressPublic,
    IndicatorProgressPublic,
    ItemProgressPublic,
    PendingValue,
    TaskProgressPublic,
    TaskStatusSummary,
)
from minsheng.reporting.models import Report, ReportStatus, TaskStatusReport
from minsheng.reporting.official import latest_approved


class ProgressSource(Protocol):
    def official(self, codes: list[str]) -> dict[str, list[Observation]]: ...

    def pending(self, codes: list[str]) -> dict[str, list[PendingValue]]: ...

    def task_statuses(self, numbers: list[int], org_unit: str, as_of: dt.date) -> dict[int, TaskStatusSummary]: ...


class ReportSource:
    """A campaign service's own reports: the latest approved revision of each series is official
    (`reporting/official.py`)."""

    def __init__(self, session: Session):
        self.session = session

    def official(self, codes: list[str]) -> dict[str, list[Observation]]:
        # Plain rows, not ORM objects: an approval re-reads its indicator's every approved value.
        table = Report.__table__
        result: dict[str, list[Observation]] = defaultdict(list)
        for indicator, org_unit, period, value, numerator, denominator in self.session.execute(
            latest_approved(
                table.c.indicator_code,
                table.c.org_unit_code,
                table.c.period,
                table.c.value,
                table.c.numerator,
                table.c.denominator,
                where=[table.c.indicator_code.in_(codes)],
            )
        ):
            result[indicator].append(
                Observation(
                    period=Period.parse(period),
                    org_unit=org_unit,
                    value=value,
                    numerator=numerator,
                    denominator=denominator,
                )
            )
        return result

    def pending(self, codes: list[str]) -> dict[str, list[PendingValue]]:
        result: dict[str, list[PendingValue]] = defaultdict(list)
        for report in self.session.exec(
            select(Report)
            .where(
                Report.indicator_code.in_(codes),
                Report.is_current == True,  # noqa: E712
                Report.status == ReportStatus.submitted,
            )
            .order_by(Report.period_end)
        ):
            result[report.indicator_code].append(
                PendingValue(
                    report_id=report.id, org_unit=report.org_unit_code, period=report.period, value=report.value
                )
            )
        return result

    def task_statuses(self, numbers: list[int], org_unit: str, as_of: dt.date) -> dict[int, TaskStatusSummary]:
        result: dict[int, TaskStatusSummary] = {}
        for row in self.session.exec(
            select(TaskStatusReport)
            .where(
                TaskStatusReport.task_number.in_(numbers),
                TaskStatusReport.org_unit_code == org_unit,
                TaskStatusReport.is_current == True,
                TaskStatusReport.period_end <= as_of,
                TaskStatusReport.partner_department == "",  # the task's own, not a partner's part of it
            )  # noqa: E712
            .order_by(TaskStatusReport.period_end)
        ):
            result[row.task_number] = TaskStatusSummary(
                state=row.state.value,
                period=row.period,
                narrative=row.narrative,
                problems=row.problems,
                reported_by=row.reported_by,
            )
        return result


def load_facts(
    session: Session,
    catalog: CatalogCache,
    *,
    campaign: str | None = None,
    codes: list[str] | None = None,
    task_numbers: list[int] | None = None,
) -> dict[str, IndicatorFacts]:
    """Catalog facts of the active indicators (optionally filtered), from the process's `catalog`
    snapshot: they change only when a catalog is applied, which drops the snapshot."""
    everything = catalog.snapshot(session).extra("indicator_facts", lambda: _load_all_facts(session))
    return {
        code: f
        for code, f in everything.items()
        if (campaign is None or f.campaign == campaign)
        and (codes is None or code in codes)
        and (task_numbers is None or f.task_number in task_numbers)
    }


def _plan_first_years(session: Session) -> dict[str, int]:
    """Each campaign's plan's first year (a campaign row stored before plans were data names none: the legacy plan)."""
    rows = session.exec(select(Campaign.code, Plan.start_date).join(Plan, Campaign.plan_code == Plan.code))
    return {code: start.year for code, start in rows}


def _load_all_facts(
    session: Session,
    *,
    campaign: str | None = None,
    codes: list[str] | None = None,
    task_numbers: list[int] | None = None,
) -> dict[str, IndicatorFacts]:
    query = select(Indicator).where(Indicator.retired == False)  # noqa: E712
    if campaign:
        query = query.where(Indicator.campaign_code == campaign)
    if codes is not None:
        query = query.where(Indicator.code.in_(codes))
    if task_numbers is not None:
        query = query.where(Indicator.task_number.in_(task_numbers))
    rows = list(session.exec(query.order_by(Indicator.task_number, Indicator.position)))
    found = [r.code for r in rows]
    milestones: dict[str, list[Milestone]] = defaultdict(list)
    for m in milestone_rows(session, found):
        milestones[m.indicator_code].append(
            Milestone(
                year=m.year,
                value=m.value,
                quarter=m.quarter,
                basis=m.basis,
                comparator=m.comparator,
                source=m.source,
            )
        )
    targets: dict[str, dict[str, float]] = defaultdict(dict)
    for t in session.exec(select(DistrictTarget).where(DistrictTarget.indicator_code.in_(found))):
        targets[t.indicator_code][t.org_unit_code] = t.target_value
    first_years = _plan_first_years(session)
    return {
        r.code: IndicatorFacts(
            code=r.code,
            name=r.name,
            unit=r.unit,
            campaign=r.campaign_code,
            task_number=r.task_number,
            target_value=r.target_value,
            comparator=r.comparator,
            kind=r.kind,
            horizon=r.horizon,
            first_year=first_years.get(r.campaign_code, legacy_plan().first_year),
            aggregation=r.aggregation,
            baseline_value=r.baseline_value,
            milestones=tuple(milestones[r.code]),
            district_targets=targets[r.code],
        )
        for r in rows
    }


def _indicators(
    session: Session,
    source: ProgressSource,
    facts: dict[str, IndicatorFacts],
    org_unit: str,
    as_of: dt.date,
    thresholds: Thresholds,
) -> dict[str, IndicatorProgressPublic]:
    codes = list(facts)
    official, pending = source.official(codes), source.pending(codes)
    return {
        code: indicator_progress(f, org_unit, official.get(code, []), pending.get(code, []), as_of, thresholds)
        for code, f in facts.items()
    }


def get_indicator_progress(
    *,
    session: Session,
    catalog: CatalogCache,
    source: ProgressSource,
    code: str,
    org_unit: str,
    as_of: dt.date,
    thresholds: Thresholds,
) -> IndicatorProgressPublic:
    get_org_unit(session=session, code=org_unit)
    facts = load_facts(session, catalog, codes=[code])
    if not facts:
        raise NotFound(f"指标 {code} 不存在：指标编号形如 T002-1 或 H-EDU-1", code="indicator_not_found")
    return _indicators(session, source, facts, org_unit, as_of, thresholds)[code]


def _tasks(
    session: Session,
    catalog: CatalogCache,
    source: ProgressSource,
    tasks: list[Task],
    org_unit: str,
    as_of: dt.date,
    thresholds: Thresholds,
) -> list[TaskProgressPublic]:
    numbers = [t.number for t in tasks]
    facts = load_facts(session, catalog, task_numbers=numbers)
    by_code = _indicators(session, source, facts, org_unit, as_of, thresholds)
    by_task: dict[int, list[IndicatorProgressPublic]] = defaultdict(list)
    for code, progress in by_code.items():
        by_task[facts[code].task_number].append(progress)
    leads: dict[int, list[str]] = defaultdict(list)
    for row in session.exec(
        select(TaskLeadDepartment)
        .where(TaskLeadDepartment.task_number.in_(numbers))
        .order_by(TaskLeadDepartment.position)
    ):
        leads[row.task_number].append(row.department)
    reported = source.task_statuses(numbers, org_unit, as_of)
    return [
        task_progress(
            number=t.number,
            title=t.title,
            campaign=t.campaign_code,
            item=t.item_number,
            lead_departments=leads[t.number],
            org_unit=org_unit,
            as_of=as_of,
            indicators=by_task[t.number],
            reported=reported.get(t.number),
        )
        for t in tasks
    ]


def get_task_progress(
    *,
    session: Session,
    catalog: CatalogCache,
    source: ProgressSource,
    number: int,
    org_unit: str,
    as_of: dt.date,
    thresholds: Thresholds,
) -> TaskProgressPublic:
    get_org_unit(session=session, code=org_unit)
    task = session.get(Task, number)
    if task is None or task.retired:
        raise NotFound(f"任务编号 {number} 不存在", code="task_not_found")
    return _tasks(session, catalog, source, [task], org_unit, as_of, thresholds)[0]


def get_campaign_progress(
    *,
    session: Session,
    catalog: CatalogCache,
    source: ProgressSource,
    campaign: str,
    org_unit: str,
    as_of: dt.date,
    thresholds: Thresholds,
) -> CampaignProgressPublic:
    get_org_unit(session=session, code=org_unit)
    row = session.get(Campaign, campaign)
    if row is None:
        raise NotFound(f"行动 {campaign} 不存在", code="campaign_not_found")
    tasks = list(
        session.exec(
            select(Task)
            .where(Task.campaign_code == campaign, Task.retired == False)  # noqa: E712
            .order_by(Task.number)
        )
    )
    task_answers = _tasks(session, catalog, source, tasks, org_unit, as_of, thresholds)
    headline_facts = {c: f for c, f in load_facts(session, catalog, campaign=campaign).items() if f.task_number is None}
    headline = list(_indicators(session, source, headline_facts, org_unit, as_of, thresholds).values())
    items = []
    for item in session.exec(select(WorkItem).where(WorkItem.campaign_code == campaign).order_by(WorkItem.number)):
        mine = [t for t in task_answers if t.item == item.number]
        items.append(
            ItemProgressPublic(
                number=item.number,
                title=item.title,
                status=worst_status(t.status for t in mine),
                tasks_by_status=summarize(t.status for t in mine),
                tasks=[
                    {
                        "number": t.number,
                        "title": t.title,
                        "status": t.status.value,
                        "status_label": STATUS_LABELS[t.status],
                    }
                    for t in mine
                ],
            )
        )
    indicator_statuses = [i.status for t in task_answers for i in t.indicators] + [h.status for h in headline]
    judged = [t.status for t in task_answers]
    return CampaignProgressPublic(
        campaign=campaign,
        name=row.name,
        org_unit=org_unit,
        as_of=as_of,
        status=worst_status(judged) if judged else Status.no_data,
        tasks_by_status=summarize(judged),
        indicators_by_status=summarize(indicator_statuses),
        items=items,
        headline=headline,
    )


@dataclass(frozen=True)
class ProgressRead:
    """A progress request's database, catalog and source of values, its org unit, its day and the thresholds:
    what every progress endpoint (a service's, the gateway's) reads with. Each process builds it in a
    dependency of its own (its source, its settings)."""

    session: Session
    catalog: CatalogCache
    source: ProgressSource
    org_unit: str
    as_of: dt.date
    thresholds: Thresholds

    def indicator(self, code: str) -> IndicatorProgressPublic:
        return get_indicator_progress(
            session=self.session,
            catalog=self.catalog,
            source=self.source,
            code=code,
            org_unit=self.org_unit,
            as_of=self.as_of,
            thresholds=self.thresholds,
        )

    def task(self, number: int) -> TaskProgressPublic:
        return get_task_progress(
            session=self.session,
            catalog=self.catalog,
            source=self.source,
            number=number,
            org_unit=self.org_unit,
            as_of=self.as_of,
            thresholds=self.thresholds,
        )

    def campaign(self, campaign: str) -> CampaignProgressPublic:
        return get_campaign_progress(
            session=self.session,
            catalog=self.catalog,
            source=self.source,
            campaign=campaign,
            org_unit=self.org_unit,
            as_of=self.as_of,
            thresholds=self.thresholds,
        )
