"""The rules, per plan: read by anyone signed in, changed by the city office."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from sqlmodel import select

from minsheng.auth.deps import PrincipalDep
from minsheng.db import SessionDep
from minsheng.errors import Forbidden
from minsheng_notifier.rules import service
from minsheng_notifier.rules.models import DEFAULT_PLAN, NotifyRules, RulesPublic, RulesSummary, RulesUpdate
from minsheng_notifier.sender import now_of

router = APIRouter(prefix="/api/v1/rules", tags=["提醒规则 rules"])
PlanPath = Annotated[str, Path(max_length=40, pattern=r"^(\*|[A-Za-z0-9_-]+)$", description="方案代码；* 为默认规则")]


@router.get("", response_model=RulesSummary, summary="提醒规则：默认规则及各方案自己的规则")
def list_rules(session: SessionDep, principal: PrincipalDep):
    own = [r.plan for r in session.exec(select(NotifyRules).order_by(NotifyRules.plan))]
    plans = [DEFAULT_PLAN, *[p for p in own if p != DEFAULT_PLAN]]
    return RulesSummary(data=[service.rules_for(session=session, plan=p) for p in plans])


@router.get("/{plan}", response_model=RulesPublic, summary="某方案的提醒规则（无自己的规则时沿用默认规则）")
def get_rules(session: SessionDep, principal: PrincipalDep, plan: PlanPath):
    return service.rules_for(session=session, plan=plan)


@router.put("/{plan}", response_model=RulesPublic, summary="修改某方案的提醒规则（市民生办）")
def put_rules(request: Request, session: SessionDep, principal: PrincipalDep, plan: PlanPath, body: RulesUpdate):
    if principal.role.value != "city_office":
        raise Forbidden("提醒规则只能由市民生办修改", code="city_office_only")
    return service.set_rules(session=session, plan=plan, rules=body, by=principal.name, now=now_of(request.app))
