"""Closing a plan: after its horizon the city office closes it, and the campaign's figures of that plan are then
read-only (`parse_plan_period` refuses every write of a closed plan).  The catalog document carries the plan's
state, so closing republishes it: the gateway and every other consumer learn it like any catalog change."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, func, select

from minsheng.auth.principal import Principal, require_city_office
from minsheng.catalog.document import PlanDoc, PlanPhase, PlanState
from minsheng.catalog.models import Campaign, Plan
from minsheng.catalog.snapshot import CatalogCache
from minsheng.errors import Conflict, NotFound
from minsheng.reporting.changes import commit
from minsheng.reporting.models import Report, ReportStatus
from minsheng.reporting.republish import publish_catalog


def close_plan(
    *, session: Session, catalog: CatalogCache, campaign: str, code: str, principal: Principal, today: dt.date
) -> PlanDoc:
    require_city_office(principal, "关闭方案")
    row = session.get(Plan, code)
    owner = session.get(Campaign, campaign)
    # A plan published without tasks of this campaign has no campaign row in its schema: it closes all the same.
    if row is None or (owner is not None and owner.plan_code != code):
        raise NotFound(f"方案「{code}」不存在或不属于本行动", code="unknown_plan")
    plan = row.doc()
    if plan.phase(today) is PlanPhase.closed:
        return plan  # closing twice is closing once: the gateway may retry a campaign that did not answer
    if plan.phase(today) is not PlanPhase.ended:
        raise Conflict(f"《{plan.name}》实施期至 {plan.end:%Y-%m-%d}，尚未结束，不能关闭", code="plan_not_ended")
    pending = session.exec(
        select(func.count()).where(Report.is_current == True, Report.status == ReportStatus.submitted)  # noqa: E712
    ).one()
    if pending:
        raise Conflict(f"《{plan.name}》仍有 {pending} 份报告待审核，请先审核或退回再关闭方案", code="pending_reports")
    row.state = PlanState.closed
    session.add(row)
    session.flush()
    if owner is not None:
        publish_catalog(session=session, campaign=campaign)
    commit(session)
    catalog.drop()
    return row.doc()
