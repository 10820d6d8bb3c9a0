"""City-wide and district views, the district ranking and the warnings, read from the gateway's own
tables and computed with the kernel's progress functions."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from minsheng.clock import today_in_china

from minsheng.catalog.models import Campaign, OrgUnit, Task, TaskLeadDepartment
from minsheng.catalog.service import get_org_unit
from minsheng.orgunits import CITY_CODE
from minsheng.progress.assemble import IndicatorFacts, indicator_progress, judge_task
from minsheng.progress.model import STATUS_LABELS, Status, Thresholds
from minsheng.progress.queries import load_facts
from minsheng.progress.rollup import summarize
from minsheng.progress.schemas import IndicatorProgressPublic
from minsheng_gateway.views.fold import store_progress
from minsheng_gateway.views.models import IndicatorProgressView, TaskStatusView
from minsheng_gateway.views.schemas import (
    CampaignSummary,
    DistrictMatrix,
    DistrictScore,
    HeadlineFigure,
    Ranking,
    Summary,
    Warning,
)
from minsheng_gateway.views.source import GatewaySource

# The ranking's scoring rule, stated in the answer and the docs.
POINTS = {Status.completed: 100, Status.on_track: 90, Status.at_risk: 60, Status.behind: 30, Status.no_data: 0}
SCORING_RULE = (
    "每个区县按其可考核的指标计分：已完成100分、进度正常90分、存在风险60分、进度滞后30分、暂无数据0分；"
    "可考核指标为该区县有分解目标的指标，以及比率、人均类指标（全市目标同样适用于区县）；总量指标未分解到该区县的不计分。"
    "各行动得分为其指标得分的平均数，总分为各行动得分的平均数，按总分从高到低排名。"
    "月调度截至上月末，季考评截至上季度末，年评价截至上年末（不早于2022年末、不晚于2024年末）。"
)
ROUTINES = (("monthly_dispatch", "月调度"), ("quarterly_assessment", "季考评"), ("yearly_evaluation", "年评价"))


def progress_for_unit(session: Session, org_unit: str, facts: dict[str, IndicatorFacts], today: dt.date,
                      thresholds: Thresholds) -> dict[str, IndicatorProgressPublic]:
    """Stored progress rows where fresh; recomputed (not stored) where missing or computed on an earlier day."""
    stored = {row.indicator_code: row for row in session.exec(
        select(IndicatorProgressView).where(IndicatorProgressView.org_unit_code == org_unit,
                                            IndicatorProgressView.indicator_code.in_(list(facts))))}
    result: dict[str, IndicatorProgressPublic] = {}
    stale = []
    for code in facts:
        row = stored.get(code)
        if row is not None and row.computed_on == today:
            result[code] = IndicatorProgressPublic.model_validate_json(row.payload)
        else:
            stale.append(code)
    if stale:
        source = GatewaySource(session)
        with_data = [c for c in stale if c in stored]
        official = source.official(with_data) if with_data else {}
        pending = source.pending(with_data) if with_data else {}
        for code in stale:
            result[code] = indicator_progress(facts[code], org_unit, official.get(code, []), pending.get(code, []),
                                              today, thresholds)
        # Keep what was recomputed (rows with data only): the next reader of the day gets it stored.
        store_refreshed(session, [result[c] for c in with_data], today)
    return result


def store_refreshed(session: Session, answers: list[IndicatorProgressPublic], today: dt.date) -> None:
    """A cache fill in its own short transaction; losing a race with the consumer is harmless."""
    if not answers or today != today_in_china():
        return  # only "today" is cached: an as_of in the past is computed for the asker alone
    with Session(session.get_bind()) as writer:
        now = dt.datetime.now(dt.UTC)
        for answer in answers:
            store_progress(writer, answer, now)
        try:
            writer.commit()
        except SQLAlchemyError:
            writer.rollback()


def _tasks_and_leads(session: Session) -> tuple[list[Task], dict[int, list[str]]]:
    tasks = list(session.exec(select(Task).where(Task.retired == False).order_by(Task.number)))  # noqa: E712
    leads: dict[int, list[str]] = defaultdict(list)
    for row in session.exec(select(TaskLeadDepartment).order_by(TaskLeadDepartment.task_number,
                                                                TaskLeadDepartment.position)):
        leads[row.task_number].append(row.department)
    return tasks, leads


def statuses_for_unit(session: Session, org_unit: str, facts: dict[str, IndicatorFacts], today: dt.date,
                      thresholds: Thresholds, *, whole: set[str]) -> tuple[dict[str, Status],
                                                                            dict[str, IndicatorProgressPublic]]:
    """Each indicator's status for `org_unit`, and the whole answer for the codes in `whole` (the
    headline figures).  A summary needs no more: reading the stored statuses, not parsing every stored
    answer (whose pending values grow with the data), keeps it as fast at a million reports as at ten
    thousand.  Rows missing or computed on an earlier day are recomputed (`progress_for_unit`)."""
    statuses: dict[str, Status] = {}
    stale = set(facts)
    for code, status, computed_on in session.execute(
            sa.select(IndicatorProgressView.indicator_code, IndicatorProgressView.status,
                      IndicatorProgressView.computed_on).where(IndicatorProgressView.org_unit_code == org_unit)):
        if code in facts and computed_on == today:
            statuses[code] = Status(status)
            stale.discard(code)
    wanted = {code: facts[code] for code in stale | (whole & set(facts))}
    answers = progress_for_unit(session, org_unit, wanted, today, thresholds) if wanted else {}
    statuses.update({code: answer.status for code, answer in answers.items()})
    return statuses, {code: answers[code] for code in whole if code in answers}


def summary(session: Session, org_unit: str, today: dt.date, thresholds: Thresholds) -> Summary:
    unit = get_org_unit(session=session, code=org_unit)
    facts = load_facts(session)
    headline_codes = {code for code, f in facts.items() if f.task_number is None}
    statuses, headline = statuses_for_unit(session, org_unit, facts, today, thresholds, whole=headline_codes)
    tasks, leads = _tasks_and_leads(session)
    reported = GatewaySource(session).task_statuses([t.number for t in tasks], org_unit, today)
    by_task: dict[int, list[tuple[str, Status]]] = defaultdict(list)
    for code, status in statuses.items():
        if facts[code].task_number is not None:
            by_task[facts[code].task_number].append((code, status))
    task_statuses = {t.number: judge_task(by_task[t.number], reported.get(t.number))[0] for t in tasks}
    campaigns = []
    for campaign in session.exec(select(Campaign).order_by(Campaign.number)):
        mine = [task_statuses[t.number] for t in tasks if t.campaign_code == campaign.code]
        indicators = [status for code, status in statuses.items() if facts[code].campaign == campaign.code]
        figures = [headline[code] for code in facts if code in headline and facts[code].campaign == campaign.code]
        campaigns.append(CampaignSummary(
            campaign=campaign.code, name=campaign.name, tasks_by_status=summarize(mine),
            indicators_by_status=summarize(indicators),
            headline=[HeadlineFigure(id=p.id, name=p.name, unit=p.unit, current_value=p.current_value,
                                     target_value=p.target_value, completion=p.completion,
                                     expected_value=p.expected_value, status=p.status, status_label=p.status_label)
                      for p in figures]))
    own = len(facts) if org_unit == CITY_CODE else sum(1 for f in facts.values() if org_unit in f.district_targets)
    return Summary(org_unit=org_unit, org_unit_name=unit.name, as_of=today,
                   tasks_by_status=summarize(task_statuses.values()),
                   indicators_by_status=summarize(statuses.values()), campaigns=campaigns,
                   own_targets=own)


def routine_dates(as_of: dt.date) -> dict[str, dt.date]:
    """End of last month, last quarter, last year — kept within the plan's reporting years."""
    last_month = as_of.replace(day=1) - dt.timedelta(days=1)
    quarter_start_month = 3 * ((as_of.month - 1) // 3) + 1
    last_quarter = as_of.replace(month=quarter_start_month, day=1) - dt.timedelta(days=1)
    last_year = dt.date(as_of.year - 1, 12, 31)

    def clamp(day: dt.date) -> dt.date:
        return min(max(day, dt.date(2022, 1, 31)), dt.date(2024, 12, 31))

    return {"monthly_dispatch": clamp(last_month), "quarterly_assessment": clamp(last_quarter),
            "yearly_evaluation": min(max(last_year, dt.date(2022, 12, 31)), dt.date(2024, 12, 31))}


def district_matrix(session: Session, as_of: dt.date, thresholds: Thresholds) -> DistrictMatrix:
    facts = load_facts(session)
    official = GatewaySource(session).official(list(facts))
    districts = list(session.exec(select(OrgUnit).where(OrgUnit.code != CITY_CODE).order_by(OrgUnit.code)))
    campaigns = [c.code for c in session.exec(select(Campaign).order_by(Campaign.number))]
    rankings = []
    for routine, label in ROUTINES:
        day = routine_dates(as_of)[routine]
        scores = []
        for district in districts:
            points: dict[str, list[int]] = defaultdict(list)
            for code, f in facts.items():
                answer = indicator_progress(f, district.code, official.get(code, []), [], day, thresholds)
                if answer.status in POINTS:
                    points[f.campaign].append(POINTS[answer.status])
            per_campaign = {c: (round(sum(points[c]) / len(points[c]), 1) if points[c] else None) for c in campaigns}
            judged = [v for v in per_campaign.values() if v is not None]
            scores.append(DistrictScore(code=district.code, name=district.name, campaigns=per_campaign,
                                        score=round(sum(judged) / len(judged), 1) if judged else None, rank=None,
                                        judged_indicators=sum(len(v) for v in points.values())))
        ordered = sorted(scores, key=lambda s: (s.score is None, -(s.score or 0), s.code))
        for rank, score in enumerate(ordered, start=1):
            score.rank = rank if score.score is not None else None
        rankings.append(Ranking(routine=routine, label=label, as_of=day, districts=ordered))
    return DistrictMatrix(scoring_rule=SCORING_RULE, rankings=rankings)


def warnings(session: Session, today: dt.date, limit: int) -> list[Warning]:
    facts = load_facts(session)
    names = dict(session.exec(select(OrgUnit.code, OrgUnit.name)).all())
    tasks, leads = _tasks_and_leads(session)
    titles = {t.number: t.title for t in tasks}
    rows = list(session.exec(select(IndicatorProgressView).where(
        IndicatorProgressView.status.in_([Status.at_risk, Status.behind]))))
    result: list[Warning] = []
    by_task: dict[tuple[int, str], list[IndicatorProgressView]] = defaultdict(list)
    for row in rows:
        f = facts.get(row.indicator_code)
        if f is None:
            continue
        answer = IndicatorProgressPublic.model_validate_json(row.payload)
        result.append(Warning(kind="indicator", id=row.indicator_code, name=f.name, campaign=f.campaign,
                              task_number=f.task_number, org_unit=row.org_unit_code,
                              org_unit_name=names.get(row.org_unit_code, row.org_unit_code), status=row.status,
                              status_label=STATUS_LABELS[row.status], since=row.status_since,
                              lead_departments=leads.get(f.task_number, []), reasons=answer.reasons))
        if f.task_number is not None:
            by_task[(f.task_number, row.org_unit_code)].append(row)
    for (number, org_unit), task_rows in by_task.items():
        worst = max(task_rows, key=lambda r: (r.status == Status.behind, r.status_since))
        result.append(Warning(kind="task", id=str(number), name=titles.get(number, ""), campaign=worst.campaign,
                              task_number=number, org_unit=org_unit, org_unit_name=names.get(org_unit, org_unit),
                              status=worst.status, status_label=STATUS_LABELS[worst.status],
                              since=max(r.status_since for r in task_rows), lead_departments=leads.get(number, []),
                              reasons=[f"指标 {'、'.join(sorted(r.indicator_code for r in task_rows))} "
                                       f"{STATUS_LABELS[worst.status]}"]))
    for row in session.exec(select(TaskStatusView).where(TaskStatusView.state.in_(["blocked"]))):
        result.append(Warning(kind="task", id=str(row.task_number), name=titles.get(row.task_number, ""),
                              campaign=row.campaign, task_number=row.task_number, org_unit=row.org_unit_code,
                              org_unit_name=names.get(row.org_unit_code, row.org_unit_code), status=Status.behind,
                              status_label=STATUS_LABELS[Status.behind], since=row.reported_at,
                              lead_departments=leads.get(row.task_number, []),
                              reasons=[f"{row.period}填报受阻：{row.problems or row.narrative}"]))
    result.sort(key=lambda w: w.since, reverse=True)
    return result[:limit]


__all__ = ["district_matrix", "progress_for_unit", "routine_dates", "statuses_for_unit", "summary", "warnings"]
