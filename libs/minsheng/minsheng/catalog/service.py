"""Reading the catalog: plain functions over a session, used by the routers of every process."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func
from sqlmodel import Session, select

from minsheng.catalog.document import CampaignDoc, DistrictTargetDoc, IndicatorDoc, TaskDoc, WorkItemDoc, legacy_plan
from minsheng.catalog.models import (
    Campaign,
    DistrictTarget,
    DistrictTargetPublic,
    Indicator,
    IndicatorMilestone,
    IndicatorPublic,
    MilestonePublic,
    OrgUnit,
    Plan,
    Task,
    TaskLeadDepartment,
    TaskPartnerDepartment,
    TaskPublic,
    WorkItem,
    WorkItemPublic,
)
from minsheng.errors import NotFound
from minsheng.orgunits import districts_named
from minsheng.pagination import PageParams


def list_campaigns(*, session: Session) -> list[Campaign]:
    return list(session.exec(select(Campaign).order_by(Campaign.number)))


def list_items(*, session: Session, page: PageParams, campaign: str | None = None) -> tuple[list[WorkItemPublic], int]:
    query = select(WorkItem)
    if campaign:
        query = query.where(WorkItem.campaign_code == campaign)
    count = session.exec(select(func.count()).select_from(query.subquery())).one()
    items = list(session.exec(query.order_by(WorkItem.number).offset(page.offset).limit(page.limit)))
    tasks_by_item: dict[int, list[int]] = defaultdict(list)
    if items:
        for number, item_number in session.exec(
            select(Task.number, Task.item_number)
            .where(Task.item_number.in_([i.number for i in items]), Task.retired == False)  # noqa: E712
            .order_by(Task.number)
        ):
            tasks_by_item[item_number].append(number)
    return [
        WorkItemPublic(number=i.number, campaign=i.campaign_code, title=i.title, task_numbers=tasks_by_item[i.number])
        for i in items
    ], count


def list_tasks(
    *,
    session: Session,
    page: PageParams,
    campaign: str | None = None,
    item: int | None = None,
    lead_department: str | None = None,
    text: str | None = None,
) -> tuple[list[TaskPublic], int]:
    query = select(Task).where(Task.retired == False)  # noqa: E712
    if campaign:
        query = query.where(Task.campaign_code == campaign)
    if item is not None:
        query = query.where(Task.item_number == item)
    if lead_department:
        query = query.where(
            Task.number.in_(
                select(TaskLeadDepartment.task_number).where(TaskLeadDepartment.department == lead_department)
            )
        )
    if text:
        pattern = f"%{text}%"
        query = query.where(Task.text.like(pattern) | Task.title.like(pattern))
    count = session.exec(select(func.count()).select_from(query.subquery())).one()
    tasks = list(session.exec(query.order_by(Task.number).offset(page.offset).limit(page.limit)))
    return _tasks_public(session, tasks), count


def get_task(*, session: Session, number: int) -> TaskPublic:
    task = session.get(Task, number)
    if task is None or task.retired:
        raise NotFound(f"任务编号 {number} 不存在：本服务的任务编号见 /api/v1/tasks", code="task_not_found")
    return _tasks_public(session, [task])[0]


def list_indicators(
    *,
    session: Session,
    page: PageParams,
    campaign: str | None = None,
    task: int | None = None,
    headline: bool | None = None,
) -> tuple[list[IndicatorPublic], int]:
    query = select(Indicator).where(Indicator.retired == False)  # noqa: E712
    if campaign:
        query = query.where(Indicator.campaign_code == campaign)
    if task is not None:
        query = query.where(Indicator.task_number == task)
    if headline is True:
        query = query.where(Indicator.task_number.is_(None))
    elif headline is False:
        query = query.where(Indicator.task_number.is_not(None))
    count = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = list(session.exec(_indicator_order(query).offset(page.offset).limit(page.limit)))
    return _indicators_public(session, rows), count


def get_indicator(*, session: Session, code: str) -> IndicatorPublic:
    row = session.get(Indicator, code)
    if row is None or row.retired:
        raise NotFound(
            f"指标 {code} 不存在：指标编号形如 T002-1（任务2的第1个指标）或 H-EDU-1（行动总目标）",
            code="indicator_not_found",
        )
    return _indicators_public(session, [row])[0]


def list_org_units(*, session: Session, page: PageParams) -> tuple[list[OrgUnit], int]:
    count = session.exec(select(func.count()).select_from(OrgUnit)).one()
    return list(session.exec(select(OrgUnit).order_by(OrgUnit.code).offset(page.offset).limit(page.limit))), count


def get_org_unit(*, session: Session, code: str) -> OrgUnit:
    unit = session.get(OrgUnit, code)
    if unit is None:
        raise NotFound(
            f"单位代码 {code} 不存在：淄博市为 370300，各区县见 /api/v1/org-units", code="org_unit_not_found"
        )
    return unit


def list_district_targets(
    *, session: Session, org_unit: str, page: PageParams
) -> tuple[list[DistrictTargetPublic], int]:
    get_org_unit(session=session, code=org_unit)
    query = (
        select(DistrictTarget, Indicator)
        .join(Indicator, Indicator.code == DistrictTarget.indicator_code)
        .where(DistrictTarget.org_unit_code == org_unit, Indicator.retired == False)  # noqa: E712
    )
    count = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(_indicator_order(query).offset(page.offset).limit(page.limit))
    return [
        DistrictTargetPublic(
            indicator_id=indicator.code,
            indicator_name=indicator.name,
            campaign=indicator.campaign_code,
            task_number=indicator.task_number,
            org_unit=target.org_unit_code,
            target_value=target.target_value,
            unit=indicator.unit,
            comparator=indicator.comparator,
            horizon=indicator.horizon,
            city_target_value=indicator.target_value,
            source=target.source,
            seed=target.seed,
        )
        for target, indicator in rows
    ], count


def export_catalog(*, session: Session, campaign: str) -> CampaignDoc:
    """The campaign's catalog as a document: what the gateway loads with the same `apply_catalog`."""
    row = session.get(Campaign, campaign)
    if row is None:
        raise NotFound(f"行动 {campaign} 的目录尚未加载", code="campaign_not_found")
    indicators = list(
        session.exec(
            _indicator_order(select(Indicator).where(Indicator.campaign_code == campaign, Indicator.retired == False))
        )
    )  # noqa: E712
    docs = {i.code: _indicator_doc(session, i) for i in indicators}
    tasks = _tasks_public(
        session,
        list(
            session.exec(
                select(Task).where(Task.campaign_code == campaign, Task.retired == False).order_by(Task.number)
            )
        ),
    )  # noqa: E712
    items = []
    for item in session.exec(select(WorkItem).where(WorkItem.campaign_code == campaign).order_by(WorkItem.number)):
        items.append(
            WorkItemDoc(
                number=item.number,
                title=item.title,
                tasks=tuple(
                    TaskDoc(
                        number=t.number,
                        title=t.title,
                        text=t.text,
                        lead_departments=tuple(t.lead_departments),
                        partner_departments=tuple(t.partner_departments),
                        deadline=t.deadline,
                        evidence_required=t.evidence_required,
                        indicators=tuple(docs[i.id] for i in t.indicators),
                    )
                    for t in tasks
                    if t.item == item.number
                ),
            )
        )
    plan = session.get(Plan, row.plan_code) if row.plan_code else None
    return CampaignDoc(
        code=row.code,
        number=row.number,
        name=row.name,
        title=row.title,
        plan=plan.doc() if plan is not None else legacy_plan(),
        indicators=tuple(docs[i.code] for i in indicators if i.task_number is None),
        items=tuple(items),
    )


# ---- composition helpers ---------------------------------------------------------------------


def _indicator_order(query):  # noqa: ANN001, ANN202
    # Headline indicators first, then in task order, then as listed in the task.
    return query.order_by(Indicator.task_number.is_not(None), Indicator.task_number, Indicator.position, Indicator.code)


def _tasks_public(session: Session, tasks: list[Task]) -> list[TaskPublic]:
    if not tasks:
        return []
    numbers = [t.number for t in tasks]
    departments: dict[int, list[str]] = defaultdict(list)
    for row in session.exec(
        select(TaskLeadDepartment)
        .where(TaskLeadDepartment.task_number.in_(numbers))
        .order_by(TaskLeadDepartment.task_number, TaskLeadDepartment.position)
    ):
        departments[row.task_number].append(row.department)
    partners: dict[int, list[str]] = defaultdict(list)
    for row in session.exec(
        select(TaskPartnerDepartment)
        .where(TaskPartnerDepartment.task_number.in_(numbers))
        .order_by(TaskPartnerDepartment.task_number, TaskPartnerDepartment.position)
    ):
        partners[row.task_number].append(row.department)
    indicators: dict[int, list[IndicatorPublic]] = defaultdict(list)
    rows = list(
        session.exec(
            _indicator_order(select(Indicator).where(Indicator.task_number.in_(numbers), Indicator.retired == False))
        )
    )  # noqa: E712
    for indicator in _indicators_public(session, rows):
        indicators[indicator.task_number].append(indicator)
    item_titles = dict(
        session.exec(
            select(WorkItem.number, WorkItem.title).where(WorkItem.number.in_({t.item_number for t in tasks}))
        ).all()
    )
    return [
        TaskPublic(
            number=t.number,
            campaign=t.campaign_code,
            item=t.item_number,
            item_title=item_titles[t.item_number],
            title=t.title,
            text=t.text,
            lead_departments=departments[t.number],
            partner_departments=partners[t.number],
            partner_bureaus=[name for name in partners[t.number] if not districts_named((name,))],
            deadline=t.deadline,
            evidence_required=t.evidence_required,
            indicators=indicators[t.number],
        )
        for t in tasks
    ]


def milestone_rows(session: Session, codes: list[str]) -> list[IndicatorMilestone]:
    """The milestones and annual targets of these indicators, in the order a chart and the status read them:
    by year, a year's quarters before the whole year, then by basis."""
    if not codes:
        return []
    return list(
        session.exec(
            select(IndicatorMilestone)
            .where(IndicatorMilestone.indicator_code.in_(codes))
            .order_by(IndicatorMilestone.year, IndicatorMilestone.quarter.nulls_last(), IndicatorMilestone.basis)
        )
    )


def _indicators_public(session: Session, rows: list[Indicator]) -> list[IndicatorPublic]:
    milestones: dict[str, list[MilestonePublic]] = defaultdict(list)
    if rows:
        for m in milestone_rows(session, [r.code for r in rows]):
            milestones[m.indicator_code].append(
                MilestonePublic(
                    year=m.year,
                    quarter=m.quarter,
                    value=m.value,
                    basis=m.basis,
                    comparator=m.comparator,
                    source=m.source,
                )
            )
    return [
        IndicatorPublic(
            id=r.code,
            name=r.name,
            unit=r.unit,
            target_value=r.target_value,
            comparator=r.comparator,
            kind=r.kind,
            horizon=r.horizon,
            aggregation=r.aggregation,
            frequency=r.frequency,
            city_only=r.city_only,
            evidence_required=r.evidence_required,
            baseline_value=r.baseline_value,
            baseline_year=r.baseline_year,
            campaign=r.campaign_code,
            task_number=r.task_number,
            source=r.source,
            seed=r.seed,
            milestones=milestones[r.code],
        )
        for r in rows
    ]


def _indicator_doc(session: Session, row: Indicator) -> IndicatorDoc:
    milestones = session.exec(
        select(IndicatorMilestone)
        .where(IndicatorMilestone.indicator_code == row.code)
        .order_by(IndicatorMilestone.year, IndicatorMilestone.quarter.nulls_last(), IndicatorMilestone.basis)
    )
    targets = session.exec(
        select(DistrictTarget).where(DistrictTarget.indicator_code == row.code).order_by(DistrictTarget.org_unit_code)
    )
    return IndicatorDoc(
        code=row.code,
        name=row.name,
        unit=row.unit,
        target_value=row.target_value,
        comparator=row.comparator,
        kind=row.kind,
        horizon=row.horizon,
        aggregation=row.aggregation,
        frequency=row.frequency,
        city_only=row.city_only,
        evidence_required=row.evidence_required,
        baseline_value=row.baseline_value,
        baseline_year=row.baseline_year,
        source=row.source,
        seed=row.seed,
        milestones=tuple(m.doc() for m in milestones),
        district_targets=tuple(
            DistrictTargetDoc(org_unit=t.org_unit_code, target_value=t.target_value, source=t.source, seed=t.seed)
            for t in targets
        ),
        continues=row.continues(),
    )
