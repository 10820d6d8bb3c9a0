"""The drill-down campaign → task → indicator: what the progress answers do not hold, read from the
gateway's own tables and judged with the kernel's progress functions; and a task's implementation state
as the city office set it, with its history."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Session, select

from minsheng.catalog.breakdown import figure
from minsheng.catalog.document import IndicatorKind, PlanDoc
from minsheng.catalog.models import Indicator, OrgUnit, Task
from minsheng.catalog.service import get_org_unit
from minsheng.catalog.snapshot import CatalogCache
from minsheng.errors import NotFound
from minsheng.orgunits import CITY_CODE
from minsheng.progress.assemble import IndicatorFacts, indicator_progress, progress_inputs, spec_for
from minsheng.progress.model import Observation, Thresholds
from minsheng.progress.queries import load_facts
from minsheng.progress.status import (
    counted_observations,
    expected_value,
    horizon_end,
    milestone_label,
    milestone_on_chart,
    milestone_phrase,
    plan_start,
    projection_end,
)
from minsheng.reporting.models import (
    IMPLEMENTATION_STATE_LABELS,
    REPORT_STATUS_LABELS,
    ImplementationState,
    ReportStatus,
)
from minsheng.reporting.schemas import TaskImplementationPublic, TaskStateChangePublic
from minsheng_gateway.drill.schemas import (
    DistrictProgress,
    IndicatorDistricts,
    IndicatorTrajectory,
    PlanSpan,
    SpanPoint,
    TaskStatusEntry,
    TrajectoryMilestone,
    TrajectoryPoint,
    ValueRevision,
)
from minsheng_gateway.plans.scope import GatewayPlans, known_plans
from minsheng_gateway.projection.models import ReportView, TaskStateView, TaskStatusView
from minsheng_gateway.projection.source import GatewaySource
from minsheng_gateway.reads import as_it_stood, known_by


def _facts(session: Session, catalog: CatalogCache, code: str) -> IndicatorFacts:
    facts = load_facts(session, catalog, codes=[code])
    if not facts:
        raise NotFound(f"指标 {code} 不存在：指标编号形如 T002-1 或 H-EDU-1", code="indicator_not_found")
    return facts[code]


def _unit_names(session: Session) -> dict[str, str]:
    return dict(session.execute(sa.select(OrgUnit.code, OrgUnit.name)).all())


def indicator_districts(
    *, session: Session, catalog: CatalogCache, code: str, as_of: dt.date, thresholds: Thresholds
) -> IndicatorDistricts:
    """Each district, county and functional zone against its own target (or the city's, for a rate)."""
    facts = _facts(session, catalog, code)
    source = GatewaySource(session)
    official, pending = source.official([code]).get(code, []), source.pending([code]).get(code, [])
    units = session.exec(select(OrgUnit).where(OrgUnit.code != CITY_CODE).order_by(OrgUnit.code)).all()
    rows = []
    for unit in units:
        answer = indicator_progress(facts, unit.code, official, pending, as_of, thresholds)
        rows.append(
            DistrictProgress(
                code=unit.code,
                name=unit.name,
                kind=unit.kind,
                target_value=answer.target_value,
                target_basis=answer.target_basis,
                current_value=answer.current_value,
                completion=answer.completion,
                expected_value=answer.expected_value,
                latest_period=answer.series[-1].period if answer.series else None,
                status=answer.status,
                status_label=answer.status_label,
                reasons=answer.reasons,
            )
        )
    return IndicatorDistricts(id=facts.code, name=facts.name, unit=facts.unit, as_of=as_of, districts=rows)


def _month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    ends, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        following = dt.date(year + month // 12, month % 12 + 1, 1)
        ends.append(following - dt.timedelta(days=1))
        year, month = following.year, following.month
    return ends


def indicator_trajectory(
    *,
    session: Session,
    catalog: CatalogCache,
    plans: GatewayPlans,
    code: str,
    org_unit: str,
    as_of: dt.date,
    thresholds: Thresholds,
) -> IndicatorTrajectory:
    """The line the status is judged against (through the plan's milestones), sampled at each month end:
    the same `expected_value` the status uses, so the chart and the status never disagree; the
    annual (quarterly) targets it passes through, where the chart draws them; and, for an indicator that
    continues one of an older plan, each plan's stretch of the series (`series_across_plans`)."""
    get_org_unit(session=session, code=org_unit)
    facts = _facts(session, catalog, code)
    spec, _ = spec_for(facts, org_unit)
    official = GatewaySource(session).official([code]).get(code, [])
    observations = progress_inputs(facts, org_unit, official, []).observations
    counted = counted_observations(
        spec.kind, observations, as_of=as_of, horizon=spec.horizon, first_year=spec.first_year
    )
    # A level without a baseline starts at its first observation: without one there is no line yet.
    drawable = spec.target_value is not None and (
        counted or spec.baseline_value is not None or spec.kind is not IndicatorKind.level
    )
    start = plan_start(spec)
    days = (start, *_month_ends(start, horizon_end(spec.horizon))) if drawable else ()
    points = [TrajectoryPoint(date=day, value=expected_value(spec, counted, day)) for day in days]
    plan = catalog.snapshot(session).plan
    return IndicatorTrajectory(
        id=facts.code,
        org_unit=org_unit,
        as_of=as_of,
        target_value=spec.target_value,
        horizon=spec.horizon,
        plan_start=plan.start,
        plan_end=plan.end,
        projection_end=projection_end(spec, as_of),
        points=points,
        milestones=[
            TrajectoryMilestone(
                period=m.period.code,
                label=milestone_label(m)[0],
                description=milestone_phrase(spec, m),
                date=m.due,
                value=m.value,
                plotted=milestone_on_chart(spec, m),
                source=m.source,
            )
            for m in sorted(spec.milestones, key=lambda m: m.due)
        ]
        if spec.target_value is not None
        else [],
        spans=series_across_plans(
            session=session,
            plans=plans,
            plan=plan,
            facts=facts,
            official=official,
            org_unit=org_unit,
            as_of=as_of,
            thresholds=thresholds,
        ),
    )


MAX_PLANS_BACK = 10  # a chain of plans, each continuing the one before: far more than a city runs in a lifetime


def series_across_plans(
    *,
    session: Session,
    plans: GatewayPlans,
    plan: PlanDoc,
    facts: IndicatorFacts,
    official: list[Observation],
    org_unit: str,
    as_of: dt.date,
    thresholds: Thresholds,
) -> list[PlanSpan]:
    """An indicator's series across plans (接续指标, issue 26 point 6): the older plans' stretches it continues,
    oldest first, each its own indicator, target and official values for `org_unit`, then the page's own plan.
    Empty when the indicator continues none.  The link is catalog data (`IndicatorDoc.continues`); each older plan
    is read in its own tables (`GatewayPlans.reading`), and only a plan the gateway has learnt is followed."""
    link = session.get(Indicator, facts.code).continues()
    if link is None:
        return []
    with plans.legacy.database.session() as registry:
        known = {p.code: p for p in known_plans(registry)}
    spans = [_span(plan, facts, official, org_unit, as_of, thresholds, current=True)]
    while link is not None and link.plan in known and len(spans) <= MAX_PLANS_BACK:
        older = known[link.plan]
        with plans.reading(older.code) as (other, other_catalog):
            found = load_facts(other, other_catalog, codes=[link.indicator])
            if link.indicator not in found:
                break  # retired there since, or not yet folded
            values = GatewaySource(other).official([link.indicator]).get(link.indicator, [])
            spans.insert(0, _span(older, found[link.indicator], values, org_unit, as_of, thresholds, current=False))
            row = other.get(Indicator, link.indicator)
            link = row.continues() if row is not None else None
    return spans if len(spans) > 1 else []


def _span(
    plan: PlanDoc,
    facts: IndicatorFacts,
    official: list[Observation],
    org_unit: str,
    as_of: dt.date,
    thresholds: Thresholds,
    *,
    current: bool,
) -> PlanSpan:
    """One plan's stretch: the same kernel progress as the plan's own pages (an ended plan as of its last day)."""
    answer = indicator_progress(facts, org_unit, official, [], as_of if current else plan.clamp(as_of), thresholds)
    level = facts.kind is IndicatorKind.level
    target = answer.target_value
    return PlanSpan(
        plan=plan.code,
        plan_name=plan.name,
        span_label=plan.span_label,
        start=plan.start,
        end=plan.end,
        current=current,
        indicator=facts.code,
        indicator_name=facts.name,
        unit=facts.unit,
        label=f"{plan.span_label}方案 {facts.code} {facts.name}",
        target_value=target,
        target_label=f"{plan.span_label}目标 {facts.comparator.value}{figure(target)}{facts.unit}（{facts.horizon}年）"
        if target is not None
        else f"{plan.span_label}：该单位没有分解此项总量目标",
        points=[
            SpanPoint(
                period=p.period,
                end=p.end,
                value=p.value,
                plotted=p.value if level or p.cumulative is None else p.cumulative,
            )
            for p in answer.series
        ],
    )


def indicator_history(
    *,
    session: Session,
    catalog: CatalogCache,
    code: str,
    org_unit: str | None,
    as_of: dt.date | None,
    limit: int,
) -> list[ValueRevision]:
    """Every revision of the indicator's values (of one org unit, or all), latest period first; with
    `as_of`, only what had been handed in by the end of that day, as it stood then (`reads.py`)."""
    _facts(session, catalog, code)
    if org_unit is not None:
        get_org_unit(session=session, code=org_unit)
    query = select(ReportView).where(ReportView.indicator_code == code)
    if org_unit is not None:
        query = query.where(ReportView.org_unit_code == org_unit)
    if as_of is not None:
        query = query.where(known_by(as_of))
    rows = session.exec(
        query.order_by(
            ReportView.period_end.desc(), ReportView.period, ReportView.org_unit_code, ReportView.revision.desc()
        ).limit(limit)
    ).all()
    if as_of is not None:
        rows = [as_it_stood(row, as_of) for row in rows]
    official: dict[tuple[str, str], int] = {}
    for row in rows:
        if row.status == ReportStatus.approved.value:
            key = (row.org_unit_code, row.period)
            official[key] = max(official.get(key, row.revision), row.revision)
    names = _unit_names(session)
    return [
        ValueRevision(
            campaign=row.campaign,
            report_id=row.report_id,
            org_unit=row.org_unit_code,
            org_unit_name=names.get(row.org_unit_code, row.org_unit_code),
            period=row.period,
            value=row.value,
            numerator=row.numerator,
            denominator=row.denominator,
            revision=row.revision,
            status=row.status,
            status_label=REPORT_STATUS_LABELS.get(ReportStatus(row.status), row.status),
            official=official.get((row.org_unit_code, row.period)) == row.revision
            and row.status == ReportStatus.approved.value,
            submitted_by=row.submitted_by,
            updated_at=row.updated_at,
            return_reason=row.return_reason,
        )
        for row in rows
    ]


def task_statuses(
    *, session: Session, number: int, org_unit: str | None, as_of: dt.date | None
) -> list[TaskStatusEntry]:
    """A task's reported statuses (问题账单 → 履职清单) by period, latest first."""
    query = select(TaskStatusView).where(TaskStatusView.task_number == number)
    if org_unit is not None:
        query = query.where(TaskStatusView.org_unit_code == org_unit)
    if as_of is not None:
        query = query.where(TaskStatusView.period_end <= as_of)
    names = _unit_names(session)
    return [
        TaskStatusEntry.of(row, names)
        for row in session.exec(query.order_by(TaskStatusView.period_end.desc(), TaskStatusView.org_unit_code))
    ]


def task_state(*, session: Session, number: int) -> TaskImplementationPublic:
    """A task's implementation state (its highest revision; 执行中 when none) and every change, oldest first:
    the same answer as its service's `GET /api/v1/tasks/{number}/state`, from the folded events."""
    task = session.get(Task, number)
    if task is None or task.retired:
        raise NotFound(f"任务编号 {number} 不存在", code="task_not_found")
    rows = session.exec(
        select(TaskStateView).where(TaskStateView.task_number == number).order_by(TaskStateView.revision)
    ).all()
    history = [
        TaskStateChangePublic(
            revision=row.revision,
            previous_state=(before := ImplementationState(row.previous_state)),
            previous_state_label=IMPLEMENTATION_STATE_LABELS[before],
            state=(after := ImplementationState(row.state)),
            state_label=IMPLEMENTATION_STATE_LABELS[after],
            reason=row.reason,
            changed_by=row.changed_by,
            changed_at=row.changed_at,
        )
        for row in rows
    ]
    current = rows[-1] if rows else None
    state = ImplementationState(current.state) if current else ImplementationState.in_progress
    return TaskImplementationPublic(
        task=task.number,
        campaign=task.campaign_code,
        state=state,
        state_label=IMPLEMENTATION_STATE_LABELS[state],
        reason=current.reason if current else None,
        revision=current.revision if current else 0,
        changed_by=current.changed_by if current else None,
        changed_at=current.changed_at if current else None,
        history=history,
    )
