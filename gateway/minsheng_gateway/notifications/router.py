"""The notifier's two doors at the gateway (decision 0021).

- `/internal/notifier/…`: what the notifier reads (people, contacts, what each owes), with the key both share
  (GATEWAY_NOTIFIER_KEY = NOTIFIER_GATEWAY_KEY). Not in the public API: no person calls it.
- `/api/v1/notifier/{path}`: the 消息中心, rules and 催办记录, forwarded to the notifier with a token the gateway
  signs for it, as the campaigns are (`proxy.py`)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response

from minsheng.auth.tokens import Unauthorized
from minsheng.catalog.document import PlanDoc
from minsheng.db import SessionDep
from minsheng_gateway import proxy
from minsheng_gateway.notifications import service
from minsheng_gateway.notifications.models import OwedFeed, OwersFeed
from minsheng_gateway.plans.scope import PLAN_SELECTED, select_plan


def notifier_key(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    expected = request.app.state.settings.notifier_key
    given = authorization[7:].strip() if authorization and authorization.lower().startswith("bearer ") else ""
    if not expected or not secrets.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("仅供提醒服务调用", code="invalid_token")


# The plan chosen first (router dependencies run before the route's own): the session is then that plan's.
internal_router = APIRouter(
    prefix="/internal/notifier", include_in_schema=False, dependencies=[Depends(notifier_key), *PLAN_SELECTED]
)
PlanDep = Annotated[PlanDoc, Depends(select_plan)]


@internal_router.get("/owed", response_model=OwedFeed)
def owed(
    request: Request,
    session: SessionDep,
    plan: PlanDep,
    on: dt.date,
    horizon: Annotated[int, Query(ge=0, le=60)] = 3,
):
    accounts = service.people(session)
    calendar = request.app.state.settings.reporting_calendar()
    return OwedFeed(
        plan=plan.code,
        on=on,
        people=[service.person(a) for a in accounts],
        owed=service.owed(session=session, accounts=accounts, calendar=calendar, on=on, horizon=horizon),
    )


@internal_router.get("/owers", response_model=OwersFeed)
def owers(session: SessionDep, plan: PlanDep, indicator: str, org_unit: str):
    accounts = service.people(session)
    found = service.owers(session=session, accounts=accounts, indicator=indicator, org_unit=org_unit)
    names = service.names(session=session, indicator=indicator, org_unit=org_unit)
    return OwersFeed(plan=plan.code, people=[service.person(a) for a in found], **names)


@internal_router.get("/people", response_model=OwersFeed)
def people(session: SessionDep, plan: PlanDep):
    return OwersFeed(plan=plan.code, people=[service.person(a) for a in service.people(session)])


router = APIRouter(tags=["消息中心 notifier"])
NOTIFIER = "notifier"


async def forward(path: str, request: Request) -> Response:
    return await proxy.forward_to_process(NOTIFIER, request.app.state.settings.notifier_url, path, request)


for _method in ("GET", "POST", "PUT", "DELETE"):
    router.add_api_route(
        "/api/v1/notifier/{path:path}",
        forward,
        methods=[_method],
        operation_id=f"notifier_{_method.lower()}",
        summary="转发到提醒服务（消息中心、提醒规则、催办记录）",
        description="把 `/api/v1/notifier/{path}` 转发到提醒服务的 `/api/v1/{path}`，附上网关为其签发的短期令牌。",
        responses={401: {"description": "未登录"}, 502: {"description": "提醒服务无法访问"}},
    )
