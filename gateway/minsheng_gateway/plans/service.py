"""The plans the gateway knows (from the campaigns' catalog documents) and which one a view defaults to."""

import datetime as dt
from urllib.parse import quote

import httpx
from fastapi import Request
from sqlmodel import Session

from minsheng.catalog.document import CAMPAIGN_CODES, PlanDoc, PlanPhase
from minsheng.catalog.versions import CatalogVersionPublic
from minsheng.progress.periods import PeriodType, plan_periods
from minsheng.progress.status import time_elapsed
from minsheng_gateway.identity.deps import Caller
from minsheng_gateway.plans.schemas import (
    CampaignClosing,
    CampaignVersions,
    PeriodOption,
    PlanClosing,
    PlanPeriods,
    PlanPublic,
    PlanVersions,
)
from minsheng_gateway.plans.scope import known_plans
from minsheng_gateway.proxy import CAMPAIGN_NAMES, proxy_client, service_label, service_token


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
    # Every plan of the registry (public.plan, `plans/scope.py`) but drafts: the city office's work in progress.
    plans = known_plans(session)
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


async def call_campaigns(
    request: Request, caller: Caller, method: str, path: str, bodies: dict[str, dict] | None = None
) -> dict[str, httpx.Response | None]:
    """`method` `path` on each of the five campaign services in the caller's name (with `bodies[campaign]` as JSON
    if given); None for a service that could not be reached.  The plans' fan-outs (closing, publishing, the
    versions) go this way."""
    settings = request.app.state.settings
    client = proxy_client(request.app)
    answers: dict[str, httpx.Response | None] = {}
    for campaign in CAMPAIGN_CODES:
        headers = {"authorization": f"Bearer {service_token(request, caller, campaign)}"}
        json = bodies[campaign] if bodies is not None else None
        try:
            answers[campaign] = await client.request(
                method, f"{settings.service_url(campaign)}{path}", headers=headers, json=json
            )
        except httpx.HTTPError:
            answers[campaign] = None
    return answers


def unreachable(campaign: str) -> str:
    return f"{service_label(campaign)}暂时无法访问"


async def close_plan(*, request: Request, caller: Caller, code: str) -> PlanClosing:
    """Each campaign service closes its part of the plan (it alone knows whether its reports are all reviewed); the
    gateway learns the closed plan from their catalog events.  Closing is idempotent, so what failed can be retried."""
    answers = []
    for campaign, upstream in (
        await call_campaigns(request, caller, "POST", f"/api/v1/plans/{quote(code, safe='')}/close")
    ).items():
        if upstream is None:
            answers.append(
                CampaignClosing(
                    campaign=campaign, name=CAMPAIGN_NAMES[campaign], status_code=502, detail=unreachable(campaign)
                )
            )
            continue
        detail = None if upstream.status_code == 200 else detail_of(upstream)
        answers.append(
            CampaignClosing(
                campaign=campaign, name=CAMPAIGN_NAMES[campaign], status_code=upstream.status_code, detail=detail
            )
        )
    return PlanClosing(code=code, closed=all(a.status_code == 200 for a in answers), campaigns=answers)


async def plan_versions(*, request: Request, caller: Caller, code: str) -> PlanVersions:
    """修订记录: each campaign service's versions of its catalog in the plan (it alone keeps them), gathered."""
    campaigns = []
    for campaign, upstream in (
        await call_campaigns(request, caller, "GET", f"/api/v1/plans/{quote(code, safe='')}/versions")
    ).items():
        name = CAMPAIGN_NAMES[campaign]
        if upstream is None:
            campaigns.append(
                CampaignVersions(campaign=campaign, name=name, status_code=502, detail=unreachable(campaign))
            )
        elif upstream.status_code != 200:
            campaigns.append(
                CampaignVersions(
                    campaign=campaign, name=name, status_code=upstream.status_code, detail=detail_of(upstream)
                )
            )
        else:
            versions = [CatalogVersionPublic.model_validate(v) for v in upstream.json()]
            campaigns.append(CampaignVersions(campaign=campaign, name=name, status_code=200, versions=versions))
    return PlanVersions(code=code, campaigns=campaigns)


def detail_of(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail"))
    except ValueError:
        return response.text[:200]
