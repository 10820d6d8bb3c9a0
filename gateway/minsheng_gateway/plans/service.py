"""The plans the gateway knows (from the campaigns' catalog documents) and which one a view defaults to."""

import datetime as dt

from sqlmodel import Session, select

from minsheng.catalog.document import PlanDoc, PlanPhase
from minsheng.catalog.models import Plan
from minsheng.progress.periods import PeriodType, plan_periods
from minsheng.progress.status import time_elapsed
from minsheng_gateway.plans.schemas import PeriodOption, PlanPeriods, PlanPublic


def default_plan(plans: list[PlanDoc], today: dt.date) -> PlanDoc | None:
    """The plan a view shows unless asked for another: the one in force today; else the latest that has begun;
    else the earliest to come.  Drafts never."""
    published = [p for p in plans if p.phase(today) is not PlanPhase.draft]
    in_force = [p for p in published if p.phase(today) is PlanPhase.in_force]
    begun = sorted((p for p in published if p.start <= today), key=lambda p: p.start)
    to_come = sorted((p for p in published if p.start > today), key=lambda p: p.start)
    return (in_force or begun[-1:] or to_come[:1] or [None])[0]


def _begun(plan: PlanDoc, period_type: PeriodType, today: dt.date) -> list[PeriodOption]:
    return [
        PeriodOption(code=p.code, ended=p.end < today)
        for p in reversed(plan_periods(plan, period_type))
        if p.start <= today
    ]


def list_plans(*, session: Session, today: dt.date, as_of: dt.date | None = None) -> list[PlanPublic]:
    # Drafts are the city office's work in progress, not yet anyone's plan.
    plans = [row.doc() for row in session.exec(select(Plan).order_by(Plan.start_date.desc()))]
    plans = [plan for plan in plans if plan.phase(today) is not PlanPhase.draft]
    current = default_plan(plans, today)
    day = as_of or today
    return [
        PlanPublic(
            code=plan.code,
            name=plan.name,
            document_number=plan.document_number,
            start=plan.start,
            end=plan.end,
            span_label=plan.span_label,
            state=plan.state,
            phase=plan.phase(today),
            current=current is not None and plan.code == current.code,
            periods=PlanPeriods(**{t.value: _begun(plan, t, today) for t in PeriodType}),
            time_elapsed=time_elapsed(plan.first_year, plan.last_year, day),
        )
        for plan in plans
    ]
