"""City-wide and district summaries and the districts' ranking, read from the gateway's own
tables and computed with the kernel's progress functions."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import Session, select

from minsheng.catalog.document import SCORED_STATUSES, PlanDoc, ScoringRuleDoc
from minsheng.catalog.models import Campaign, Indicator, OrgUnit, Task
from minsheng.catalog.service import get_org_unit
from minsheng.catalog.snapshot import CatalogCache, plan_of
from minsheng.orgunits import CITY_CODE
from minsheng.progress.assemble import (
    IndicatorFacts,
    indicator_progress,
    judge_task,
    progress_from_inputs,
)
from minsheng.progress.model import Status, Thresholds
from minsheng.progress.queries import load_facts
from minsheng.progress.rollup import summarize
from minsheng.progress.schemas import IndicatorProgressPublic
from minsheng.progress.status import time_elapsed
from minsheng.reporting.calendar import ReportingCalendar
from minsheng.reporting.models import IMPLEMENTATION_STATE_LABELS, ImplementationState
from minsheng_gateway.projection.ahead import answer_for
from minsheng_gateway.projection.answers import usable_inputs
from minsheng_gateway.projection.models import IndicatorProgressView, TaskStateView
from minsheng_gateway.projection.source import GatewaySource
from minsheng_gateway.reads import counted_facts, tasks_and_leads, tasks_apart
from minsheng_gateway.summaries.schemas import (
    CampaignSummary,
    DistrictMatrix,
    DistrictScore,
    HeadlineFigure,
    Ranking,
    Summary,
    TaskApart,
    TasksApart,
)
from minsheng_gateway.warnings.overdue import overdue_by_unit

# The statuses a league table scores (the points themselves are plan data: `ScoringRuleDoc`).
SCORED = {status for status in Status if status.value in SCORED_STATUSES}
ROUTINES = (("monthly_dispatch", "月调度"), ("quarterly_assessment", "季考评"), ("yearly_evaluation", "年评价"))


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
    - rows holding an answer for `today` (`ahead.answer_for`): the stored status; the stored answer is
      read for `whole` only, and into its headline figures only (a stored answer grows with its series
      and its pending values);
    - rows without one (between midnight and the refresher's run, where no answer was stored ahead):
      computed from the inputs stored with them, without their pending values, which neither figures
      nor statuses depend on, and without their series.  Such answers are not complete, so they are not
      stored: the refresher (`projection/refresher.py`) stores whole ones within a minute;
    - rows without stored inputs, and indicators without a row (no data yet): computed in full."""
    statuses: dict[str, Status] = {}
    figures: dict[str, IndicatorProgressPublic | HeadlineFigure] = {}
    fresh_whole, in_full = [], set(facts)
    view = IndicatorProgressView
    stored_status = answer_for(today, view.status, view.next_status)
    for code, status, inputs in session.execute(
        sa.select(
            view.indicator_code, stored_status, sa.case((stored_status.is_(None), view.inputs), else_=sa.null())
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
            sa.select(view.indicator_code, answer_for(today, view.payload, view.next_payload)).where(
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


def set_apart(tasks: Sequence[Task], apart: dict[int, TaskStateView]) -> TasksApart:
    """`tasks` (all of them counted apart) as a summary counts them, with the sentence a bulletin says."""
    listed = sorted(
        (
            TaskApart(
                number=t.number,
                title=t.title,
                campaign=t.campaign_code,
                state=(state := ImplementationState(apart[t.number].state)),
                state_label=IMPLEMENTATION_STATE_LABELS[state],
                reason=apart[t.number].reason,
                since=apart[t.number].changed_at,
            )
            for t in tasks
        ),
        key=lambda t: (list(ImplementationState).index(t.state), t.number),
    )
    by_state: dict[str, int] = {}
    for task in listed:
        by_state[task.state.value] = by_state.get(task.state.value, 0) + 1
    return TasksApart(count=len(listed), by_state=by_state, tasks=listed, sentence=apart_sentence(listed))


def apart_sentence(tasks: Sequence[TaskApart]) -> str:
    """How the bulletin says them: 另有2项因政策调整暂缓实施，1项待确定 (in the states' order; the suspended and
    the cancelled by reason, the undecided together).  Empty when there are none."""
    groups: dict[tuple[ImplementationState, str], int] = {}
    for task in tasks:
        reason = "" if task.state is ImplementationState.undecided else (task.reason or "").strip().rstrip("。；;，,. ")
        groups[(task.state, reason)] = groups.get((task.state, reason), 0) + 1
    parts = []
    for (state, reason), count in groups.items():
        label = IMPLEMENTATION_STATE_LABELS[state]
        if reason.startswith("因"):
            parts.append(f"{count}项{reason}{label}")
        else:
            parts.append(f"{count}项{label}" + (f"（{reason}）" if reason else ""))
    return "另有" + "，".join(parts) if parts else ""


def summary(
    *, session: Session, catalog: CatalogCache, org_unit: str, today: dt.date, thresholds: Thresholds
) -> Summary:
    unit = get_org_unit(session=session, code=org_unit)
    apart = tasks_apart(session)
    facts = counted_facts(load_facts(session, catalog), apart)
    headline_codes = {code for code, f in facts.items() if f.task_number is None}
    statuses, headline = statuses_for_unit(session, org_unit, facts, today, thresholds, whole=headline_codes)
    every_task, _ = tasks_and_leads(session)
    tasks = [t for t in every_task if t.number not in apart]
    task_statuses = _task_statuses(session, tasks, facts, statuses, org_unit, today)
    campaigns = [
        CampaignSummary(
            campaign=campaign.code,
            name=campaign.name,
            tasks_by_status=summarize(task_statuses[t.number] for t in tasks if t.campaign_code == campaign.code),
            indicators_by_status=summarize(s for code, s in statuses.items() if facts[code].campaign == campaign.code),
            headline=[headline[code] for code in facts if code in headline and facts[code].campaign == campaign.code],
            tasks_apart=set_apart(
                [t for t in every_task if t.number in apart and t.campaign_code == campaign.code], apart
            ),
        )
        for campaign in session.exec(select(Campaign).order_by(Campaign.number))
    ]
    plan = catalog.snapshot(session).plan
    return Summary(
        org_unit=org_unit,
        org_unit_name=unit.name,
        as_of=today,
        time_elapsed=time_elapsed(plan.first_year, plan.last_year, today),
        tasks_by_status=summarize(task_statuses.values()),
        indicators_by_status=summarize(statuses.values()),
        campaigns=campaigns,
        own_targets=_own_targets(facts, org_unit),
        tasks_apart=set_apart([t for t in every_task if t.number in apart], apart),
    )


def _task_statuses(
    session: Session,
    tasks: Sequence[Task],
    facts: dict[str, IndicatorFacts],
    statuses: dict[str, Status],
    org_unit: str,
    today: dt.date,
) -> dict[int, Status]:
    """Each task's status, judged from its indicators' statuses and the implementation status reported."""
    reported = GatewaySource(session).task_statuses([t.number for t in tasks], org_unit, today)
    by_task: dict[int, list[tuple[str, Status]]] = defaultdict(list)
    for code, status in statuses.items():
        if facts[code].task_number is not None:
            by_task[facts[code].task_number].append((code, status))
    return {t.number: judge_task(by_task[t.number], reported.get(t.number))[0] for t in tasks}


def _own_targets(facts: dict[str, IndicatorFacts], org_unit: str) -> int:
    """The indicators with a target of the org unit's own: every one for the city, a district's share else."""
    if org_unit == CITY_CODE:
        return len(facts)
    return sum(1 for f in facts.values() if org_unit in f.district_targets)


def routine_dates(as_of: dt.date, *, plan: PlanDoc) -> dict[str, dt.date]:
    """End of last month, last quarter, last year — kept within the plan's reporting years."""
    last_month = as_of.replace(day=1) - dt.timedelta(days=1)
    quarter_start_month = 3 * ((as_of.month - 1) // 3) + 1
    last_quarter = as_of.replace(month=quarter_start_month, day=1) - dt.timedelta(days=1)
    last_year = dt.date(as_of.year - 1, 12, 31)

    first_month_end = plan.start.replace(day=31)  # the first day anything of the plan has been reported for

    def clamp(day: dt.date, first: dt.date) -> dt.date:
        return min(max(day, first), plan.end)

    return {
        "monthly_dispatch": clamp(last_month, first_month_end),
        "quarterly_assessment": clamp(last_quarter, first_month_end),
        "yearly_evaluation": clamp(last_year, plan.start.replace(month=12, day=31)),
    }


def previous_routine_date(routine: str, day: dt.date, *, plan: PlanDoc) -> dt.date | None:
    """The routine's period before the one ending on `day` (None: `day` is the plan's first)."""
    before = routine_dates(day, plan=plan)[routine]
    return before if before < day else None


def _district_scores(
    facts: dict[str, IndicatorFacts],
    official: dict,
    districts: list[OrgUnit],
    campaigns: list[str],
    day: dt.date,
    thresholds: Thresholds,
    rule: ScoringRuleDoc,
    overdue: dict[str, int],
) -> list[DistrictScore]:
    """Every district's scores as of `day` by the plan's `rule`, best first, ranked."""
    scores = []
    for district in districts:
        points: dict[str, list[float]] = defaultdict(list)
        for code, f in facts.items():
            answer = indicator_progress(f, district.code, official.get(code, []), [], day, thresholds)
            if answer.status in SCORED and answer.status.value in rule.points:
                points[f.campaign].append(rule.points[answer.status.value])
        per_campaign = {c: (round(sum(points[c]) / len(points[c]), 1) if points[c] else None) for c in campaigns}
        judged = {c: v for c, v in per_campaign.items() if v is not None}
        score = None
        if judged:
            total = sum(v * rule.weight(c) for c, v in judged.items()) / sum(rule.weight(c) for c in judged)
            deduction = min(overdue.get(district.code, 0) * rule.overdue_deduction, rule.deduction_cap)
            score = round(total - deduction, 1)
        scores.append(
            DistrictScore(
                code=district.code,
                name=district.name,
                campaigns=per_campaign,
                score=score,
                rank=None,
                judged_indicators=sum(len(v) for v in points.values()),
            )
        )
    ordered = sorted(scores, key=lambda s: (s.score is None, -(s.score or 0), s.code))
    for rank, score in enumerate(ordered, start=1):
        score.rank = rank if score.score is not None else None
    return ordered


def district_matrix(
    *,
    session: Session,
    catalog: CatalogCache,
    calendar: ReportingCalendar,
    as_of: dt.date,
    thresholds: Thresholds,
) -> DistrictMatrix:
    # City-only indicators are never reported by a district: nothing of theirs to judge it on.
    city_only = set(session.exec(select(Indicator.code).where(Indicator.city_only == True)))  # noqa: E712
    counted = counted_facts(load_facts(session, catalog), tasks_apart(session))
    facts = {code: f for code, f in counted.items() if code not in city_only}
    official = GatewaySource(session).official(list(facts))
    districts = list(session.exec(select(OrgUnit).where(OrgUnit.code != CITY_CODE).order_by(OrgUnit.code)))
    names = {c.code: c.name for c in session.exec(select(Campaign).order_by(Campaign.number))}
    campaigns = list(names)
    plan = plan_of(session)
    by_day: dict[dt.date, list[DistrictScore]] = {}

    def scores_on(day: dt.date) -> list[DistrictScore]:
        if day not in by_day:
            rule = plan.scoring_rule(day)
            overdue = overdue_by_unit(session=session, calendar=calendar, day=day) if rule.overdue_deduction else {}
            by_day[day] = _district_scores(facts, official, districts, campaigns, day, thresholds, rule, overdue)
        return [score.model_copy(deep=True) for score in by_day[day]]

    rankings = []
    for routine, label in ROUTINES:
        day = routine_dates(as_of, plan=plan)[routine]
        ordered = scores_on(day)
        # The change since the routine's previous period (月调度: the month before, and so on).
        previous_day = previous_routine_date(routine, day, plan=plan)
        if previous_day is not None:
            before = {s.code: s for s in scores_on(previous_day)}
            for score in ordered:
                score.previous_score = before[score.code].score
                score.previous_rank = before[score.code].rank
                if score.rank is not None and score.previous_rank is not None:
                    score.rank_change = score.previous_rank - score.rank
        rankings.append(
            Ranking(
                routine=routine,
                label=label,
                as_of=day,
                previous_as_of=previous_day,
                scoring_rule=plan.scoring_rule(day).describe(names),
                districts=ordered,
            )
        )
    return DistrictMatrix(scoring_rule=rankings[0].scoring_rule, rankings=rankings)


__all__ = [
    "apart_sentence",
    "district_matrix",
    "previous_routine_date",
    "routine_dates",
    "set_apart",
    "statuses_for_unit",
    "summary",
]
