"""City-wide and district views, the district ranking and the warnings, read from the gateway's own
tables and computed with the kernel's progress functions."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import sqlalchemy as sa
from sqlmodel import Session, select

from minsheng.catalog.models import Campaign, Indicator, OrgUnit, Task, TaskLeadDepartment
from minsheng.catalog.service import get_org_unit
from minsheng.catalog.snapshot import CatalogCache
from minsheng.orgunits import CITY_CODE
from minsheng.progress.assemble import (
    IndicatorFacts,
    indicator_progress,
    judge_task,
    pending_of,
    progress_from_inputs,
    with_pending,
)
from minsheng.progress.model import STATUS_LABELS, Status, Thresholds
from minsheng.progress.queries import load_facts
from minsheng.progress.rollup import summarize
from minsheng.progress.schemas import IndicatorProgressPublic
from minsheng_gateway.projection.answers import usable_inputs
from minsheng_gateway.projection.models import IndicatorProgressView, TaskStatusView
from minsheng_gateway.projection.source import GatewaySource
from minsheng_gateway.summaries.schemas import (
    CampaignSummary,
    DistrictMatrix,
    DistrictScore,
    HeadlineFigure,
    Ranking,
    Summary,
    Warning,
)

# The ranking's scoring rule, stated in the answer and the docs.
POINTS = {Status.completed: 100, Status.on_track: 90, Status.at_risk: 60, Status.behind: 30, Status.no_data: 0}
SCORING_RULE = (
    "每个区县按其可考核的指标计分：已完成100分、进度正常90分、存在风险60分、进度滞后30分、暂无数据0分；"
    "可考核指标为该区县有分解目标的指标，以及比率、人均类指标（全市目标同样适用于区县）；总量指标未分解到该区县的、只统计全市数据的指标不计分。"
    "各行动得分为其指标得分的平均数，总分为各行动得分的平均数，按总分从高到低排名。"
    "月调度截至上月末，季考评截至上季度末，年评价截至上年末（不早于2022年末、不晚于2024年末）。"
)
ROUTINES = (("monthly_dispatch", "月调度"), ("quarterly_assessment", "季考评"), ("yearly_evaluation", "年评价"))


def _tasks_and_leads(session: Session) -> tuple[list[Task], dict[int, list[str]]]:
    tasks = list(session.exec(select(Task).where(Task.retired == False).order_by(Task.number)))  # noqa: E712
    leads: dict[int, list[str]] = defaultdict(list)
    for row in session.exec(
        select(TaskLeadDepartment).order_by(TaskLeadDepartment.task_number, TaskLeadDepartment.position)
    ):
        leads[row.task_number].append(row.department)
    return tasks, leads


def todays(today: dt.date, current: sa.ColumnElement, ahead: sa.ColumnElement) -> sa.ColumnElement:
    """A progress row's `current` column if the row was computed `today`, its `ahead` column if the
    answer stored ahead is for `today`, else NULL: the row holds no answer for today."""
    view = IndicatorProgressView
    return sa.case((view.computed_on == today, current), (view.next_on == today, ahead), else_=sa.null())


def statuses_for_unit(
    session: Session,
    org_unit: str,
    facts: dict[str, IndicatorFacts],
    today: dt.date,
    thresholds: Thresholds,
    *,
    whole: set[str],
) -> tuple[dict[str, Status], dict[str, HeadlineFigure]]:
    """Each indicator's status for `org_unit`, and its figures for the codes in `whole` (the headline).

    A summary needs no more, so it reads neither the official values nor the report history:
    - rows computed for `today`: the stored status; the stored answer is read for `whole` only, and
      into its headline figures only (a stored answer grows with its series and its pending values);
    - rows computed on an earlier day with an answer for `today` stored ahead (a new day's first
      minute, before the refresher has promoted those answers): the same, from the answer ahead;
    - other rows computed for another day (the gateway was down at midnight, or the row changed in
      the last minute before it): computed from the inputs stored with them, without their pending values,
      which neither figures nor statuses depend on, and without their series.  Such answers are not
      complete, so they are not stored: the refresher (`refresher.py`) stores whole ones within a minute;
    - rows without stored inputs, and indicators without a row (no data yet): computed in full."""
    statuses: dict[str, Status] = {}
    figures: dict[str, IndicatorProgressPublic | HeadlineFigure] = {}
    fresh_whole, in_full = [], set(facts)
    view = IndicatorProgressView
    answered_today = todays(today, view.status, view.next_status)
    for code, status, inputs in session.execute(
        sa.select(
            view.indicator_code, answered_today, sa.case((answered_today.is_(None), view.inputs), else_=sa.null())
        ).where(view.org_unit_code == org_unit)
    ):
        if code not in facts:
            continue
        if status is not None:
            statuses[code] = Status(status)
            in_full.discard(code)
            if code in whole:
                fresh_whole.append(code)
        elif (parsed := usable_inputs(inputs, facts[code])) is not None:
            answer = progress_from_inputs(facts[code], org_unit, parsed, today, thresholds, figures_only=True)
            statuses[code] = answer.status
            figures[code] = answer
            in_full.discard(code)
    if fresh_whole:
        for code, payload in session.execute(
            sa.select(view.indicator_code, todays(today, view.payload, view.next_payload)).where(
                view.org_unit_code == org_unit, view.indicator_code.in_(fresh_whole)
            )
        ):
            figures[code] = HeadlineFigure.model_validate_json(payload)
    if in_full:
        codes = sorted(in_full)
        source = GatewaySource(session)
        official, pending = source.official(codes), source.pending(codes)
        for code in codes:
            answer = indicator_progress(
                facts[code], org_unit, official.get(code, []), pending.get(code, []), today, thresholds
            )
            statuses[code] = answer.status
            figures[code] = answer
    return statuses, {code: _headline_figure(figures[code]) for code in whole if code in figures}


def stored_answer(session: Session, catalog: CatalogCache, code: str, org_unit: str, today: dt.date) -> str | None:
    """The answer stored for `today` (as JSON, an `IndicatorProgressPublic`), if the indicator is in
    the catalog and its row is current: what the consumer computed when the row last changed, or the
    answer the refresher stored ahead for a new day, with the reports awaiting review now (stored
    answers hold none: `answers`' docstring).  None: compute it."""
    if not load_facts(session, catalog, codes=[code]):
        return None
    view = IndicatorProgressView
    stored = session.execute(
        sa.select(todays(today, view.payload, view.next_payload)).where(
            view.indicator_code == code, view.org_unit_code == org_unit
        )
    ).scalar()
    if stored is None:
        return None
    pending = pending_of(org_unit, GatewaySource(session).pending([code]).get(code, []))
    if not pending and '"pending":[]' in stored:
        return stored  # the usual case: served as stored, not parsed
    return with_pending(IndicatorProgressPublic.model_validate_json(stored), pending).model_dump_json()


def _headline_figure(answer: IndicatorProgressPublic | HeadlineFigure) -> HeadlineFigure:
    if isinstance(answer, HeadlineFigure):
        return answer
    return HeadlineFigure(
        id=answer.id,
        name=answer.name,
        unit=answer.unit,
        current_value=answer.current_value,
        target_value=answer.target_value,
        completion=answer.completion,
        expected_value=answer.expected_value,
        status=answer.status,
        status_label=answer.status_label,
    )


def summary(session: Session, catalog: CatalogCache, org_unit: str, today: dt.date, thresholds: Thresholds) -> Summary:
    unit = get_org_unit(session=session, code=org_unit)
    facts = load_facts(session, catalog)
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
        campaigns.append(
            CampaignSummary(
                campaign=campaign.code,
                name=campaign.name,
                tasks_by_status=summarize(mine),
                indicators_by_status=summarize(indicators),
                headline=figures,
            )
        )
    own = len(facts) if org_unit == CITY_CODE else sum(1 for f in facts.values() if org_unit in f.district_targets)
    return Summary(
        org_unit=org_unit,
        org_unit_name=unit.name,
        as_of=today,
        tasks_by_status=summarize(task_statuses.values()),
        indicators_by_status=summarize(statuses.values()),
        campaigns=campaigns,
        own_targets=own,
    )


def routine_dates(as_of: dt.date) -> dict[str, dt.date]:
    """End of last month, last quarter, last year — kept within the plan's reporting years."""
    last_month = as_of.replace(day=1) - dt.timedelta(days=1)
    quarter_start_month = 3 * ((as_of.month - 1) // 3) + 1
    last_quarter = as_of.replace(month=quarter_start_month, day=1) - dt.timedelta(days=1)
    last_year = dt.date(as_of.year - 1, 12, 31)

    def clamp(day: dt.date) -> dt.date:
        return min(max(day, dt.date(2022, 1, 31)), dt.date(2024, 12, 31))

    return {
        "monthly_dispatch": clamp(last_month),
        "quarterly_assessment": clamp(last_quarter),
        "yearly_evaluation": min(max(last_year, dt.date(2022, 12, 31)), dt.date(2024, 12, 31)),
    }


def previous_routine_date(routine: str, day: dt.date) -> dt.date | None:
    """The routine's period before the one ending on `day` (None: `day` is the plan's first)."""
    before = routine_dates(day)[routine]
    return before if before < day else None


def _district_scores(
    facts: dict[str, IndicatorFacts],
    official: dict,
    districts: list[OrgUnit],
    campaigns: list[str],
    day: dt.date,
    thresholds: Thresholds,
) -> list[DistrictScore]:
    """Every district's scores as of `day`, best first, ranked (see SCORING_RULE)."""
    scores = []
    for district in districts:
        points: dict[str, list[int]] = defaultdict(list)
        for code, f in facts.items():
            answer = indicator_progress(f, district.code, official.get(code, []), [], day, thresholds)
            if answer.status in POINTS:
                points[f.campaign].append(POINTS[answer.status])
        per_campaign = {c: (round(sum(points[c]) / len(points[c]), 1) if points[c] else None) for c in campaigns}
        judged = [v for v in per_campaign.values() if v is not None]
        scores.append(
            DistrictScore(
                code=district.code,
                name=district.name,
                campaigns=per_campaign,
                score=round(sum(judged) / len(judged), 1) if judged else None,
                rank=None,
                judged_indicators=sum(len(v) for v in points.values()),
            )
        )
    ordered = sorted(scores, key=lambda s: (s.score is None, -(s.score or 0), s.code))
    for rank, score in enumerate(ordered, start=1):
        score.rank = rank if score.score is not None else None
    return ordered


def district_matrix(session: Session, catalog: CatalogCache, as_of: dt.date, thresholds: Thresholds) -> DistrictMatrix:
    # City-only indicators are never reported by a district: nothing of theirs to judge it on.
    city_only = set(session.exec(select(Indicator.code).where(Indicator.city_only == True)))  # noqa: E712
    facts = {code: f for code, f in load_facts(session, catalog).items() if code not in city_only}
    official = GatewaySource(session).official(list(facts))
    districts = list(session.exec(select(OrgUnit).where(OrgUnit.code != CITY_CODE).order_by(OrgUnit.code)))
    campaigns = [c.code for c in session.exec(select(Campaign).order_by(Campaign.number))]
    by_day: dict[dt.date, list[DistrictScore]] = {}

    def scores_on(day: dt.date) -> list[DistrictScore]:
        if day not in by_day:
            by_day[day] = _district_scores(facts, official, districts, campaigns, day, thresholds)
        return [score.model_copy(deep=True) for score in by_day[day]]

    rankings = []
    for routine, label in ROUTINES:
        day = routine_dates(as_of)[routine]
        ordered = scores_on(day)
        # The change since the routine's previous period (月调度: the month before, and so on).
        previous_day = previous_routine_date(routine, day)
        if previous_day is not None:
            before = {s.code: s for s in scores_on(previous_day)}
            for score in ordered:
                score.previous_score = before[score.code].score
                score.previous_rank = before[score.code].rank
                if score.rank is not None and score.previous_rank is not None:
                    score.rank_change = score.previous_rank - score.rank
        rankings.append(
            Ranking(routine=routine, label=label, as_of=day, previous_as_of=previous_day, districts=ordered)
        )
    return DistrictMatrix(scoring_rule=SCORING_RULE, rankings=rankings)


WARNED = (Status.at_risk, Status.behind)


def _warned_today(session: Session) -> list[tuple[IndicatorProgressView, list[str]]]:
    """The rows at risk or behind as stored, with their reasons."""
    rows = session.exec(select(IndicatorProgressView).where(IndicatorProgressView.status.in_(WARNED)))
    return [(row, IndicatorProgressPublic.model_validate_json(row.payload).reasons) for row in rows]


def _warned_on(
    session: Session, facts: dict[str, IndicatorFacts], day: dt.date, thresholds: Thresholds
) -> list[tuple[IndicatorProgressView, list[str]]]:
    """The rows at risk or behind as the plan stood on `day` (时间回溯): each row judged again for that
    day, from its stored inputs where they serve, else from the official values.  The rows are
    detached copies carrying that day's status; since when is known only if it is the stored status
    and began by then, otherwise the day itself is given."""
    rows = [row for row in session.exec(select(IndicatorProgressView)) if row.indicator_code in facts]
    answers: dict[tuple[str, str], IndicatorProgressPublic] = {}
    in_full: list[IndicatorProgressView] = []
    for row in rows:
        inputs = usable_inputs(row.inputs, facts[row.indicator_code])
        if inputs is None:
            in_full.append(row)
        else:
            answers[(row.indicator_code, row.org_unit_code)] = progress_from_inputs(
                facts[row.indicator_code], row.org_unit_code, inputs, day, thresholds
            )
    if in_full:
        official = GatewaySource(session).official(sorted({row.indicator_code for row in in_full}))
        for row in in_full:
            answers[(row.indicator_code, row.org_unit_code)] = indicator_progress(
                facts[row.indicator_code], row.org_unit_code, official.get(row.indicator_code, []), [], day, thresholds
            )
    day_start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    warned = []
    for row in rows:
        answer = answers[(row.indicator_code, row.org_unit_code)]
        if answer.status not in WARNED:
            continue
        since = row.status_since if row.status == answer.status and row.status_since <= day_start else day_start
        copy = IndicatorProgressView.model_validate(row.model_dump() | {"status": answer.status, "status_since": since})
        warned.append((copy, answer.reasons))
    return warned


def warnings(
    session: Session,
    catalog: CatalogCache,
    today: dt.date,
    limit: int,
    *,
    as_of: dt.date | None = None,
    thresholds: Thresholds | None = None,
) -> list[Warning]:
    """The warnings today (as stored), or as the plan stood on `as_of` (computed for that day)."""
    facts = load_facts(session, catalog)
    names = dict(session.exec(select(OrgUnit.code, OrgUnit.name)).all())
    tasks, leads = _tasks_and_leads(session)
    titles = {t.number: t.title for t in tasks}
    day = as_of or today
    if day == today:
        warned = _warned_today(session)
    else:
        warned = _warned_on(session, facts, day, thresholds or Thresholds())
    result: list[Warning] = []
    by_task: dict[tuple[int, str], list[IndicatorProgressView]] = defaultdict(list)
    for row, reasons in warned:
        f = facts.get(row.indicator_code)
        if f is None:
            continue
        result.append(
            Warning(
                kind="indicator",
                id=row.indicator_code,
                name=f.name,
                campaign=f.campaign,
                task_number=f.task_number,
                org_unit=row.org_unit_code,
                org_unit_name=names.get(row.org_unit_code, row.org_unit_code),
                status=row.status,
                status_label=STATUS_LABELS[row.status],
                since=row.status_since,
                lead_departments=leads.get(f.task_number, []),
                reasons=reasons,
            )
        )
        if f.task_number is not None:
            by_task[(f.task_number, row.org_unit_code)].append(row)
    for (number, org_unit), task_rows in by_task.items():
        worst = max(task_rows, key=lambda r: (r.status == Status.behind, r.status_since))
        result.append(
            Warning(
                kind="task",
                id=str(number),
                name=titles.get(number, ""),
                campaign=worst.campaign,
                task_number=number,
                org_unit=org_unit,
                org_unit_name=names.get(org_unit, org_unit),
                status=worst.status,
                status_label=STATUS_LABELS[worst.status],
                since=max(r.status_since for r in task_rows),
                lead_departments=leads.get(number, []),
                reasons=[
                    f"指标 {'、'.join(sorted(r.indicator_code for r in task_rows))} {STATUS_LABELS[worst.status]}"
                ],
            )
        )
    for row in session.exec(
        select(TaskStatusView).where(TaskStatusView.state.in_(["blocked"]), TaskStatusView.period_end <= day)
    ):
        result.append(
            Warning(
                kind="task",
                id=str(row.task_number),
                name=titles.get(row.task_number, ""),
                campaign=row.campaign,
                task_number=row.task_number,
                org_unit=row.org_unit_code,
                org_unit_name=names.get(row.org_unit_code, row.org_unit_code),
                status=Status.behind,
                status_label=STATUS_LABELS[Status.behind],
                since=row.reported_at,
                lead_departments=leads.get(row.task_number, []),
                reasons=[f"{row.period}填报受阻：{row.problems or row.narrative}"],
            )
        )
    result.sort(key=lambda w: w.since, reverse=True)
    return result[:limit]


__all__ = [
    "district_matrix",
    "previous_routine_date",
    "routine_dates",
    "statuses_for_unit",
    "stored_answer",
    "summary",
    "warnings",
]
