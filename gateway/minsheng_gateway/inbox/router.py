"""我的待办: what the signed-in person owes, from the gateway's own tables (never the services)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from minsheng.clock import TodayDep
from minsheng.db import SessionDep
from minsheng.pagination import PageDep
from minsheng.progress.periods import requested_period
from minsheng_gateway.identity.deps import CurrentCaller
from minsheng_gateway.inbox import service
from minsheng_gateway.inbox.models import InboxPage, InboxState
from minsheng_gateway.plans.scope import PLAN_SELECTED

router = APIRouter(prefix="/api/v1", tags=["我的待办 inbox"], dependencies=PLAN_SELECTED)  # ?plan= (decision 0017)

PeriodQuery = Annotated[
    str | None, Query(description="只看这一期（2022-06、2022Q2、2022）；默认：本期及以前仍欠的（逾期未报、被退回）")
]
StateQuery = Annotated[
    InboxState | None,
    Query(
        description="按状态筛选：not_reported 未填报、submitted 待审核、returned 被退回、approved 已通过、"
        "reported 已报送（协办进展）、follow_up 待核实（数据核实）"
    ),
]


@router.get(
    "/inbox",
    response_model=InboxPage,
    summary="我的待办：本人应报的指标×单位×期间（及协办任务每季度的协办进展），截止日期、是否逾期、状态"
    "（被退回的在前，附退回原因）和本期完成率",
)
def inbox(
    request: Request,
    session: SessionDep,
    today: TodayDep,
    caller: CurrentCaller,
    page: PageDep,
    period: PeriodQuery = None,
    state: StateQuery = None,
):
    wanted = requested_period(period) if period else None
    principal, catalog = caller.account.principal(), service.OwingCatalog.read(session)
    series, scope = service.owed_series(session=session, principal=principal, catalog=catalog)
    parts = service.owed_parts(principal=principal, catalog=catalog)
    rows = service.inbox_items(
        session=session,
        series=series,
        calendar=request.app.state.settings.reporting_calendar(),
        today=today,
        parts=parts,
    )
    if parts:
        scope += service.PARTS_RULE
    shown, summary = service.select_items(rows, period=wanted, state=state)
    if state in (None, InboxState.follow_up):  # the marks to answer come first and count in no period's share
        marks = service.follow_up_items(session=session, series=series)
        shown = [m for m in marks if wanted is None or m.period == wanted.code] + shown
    return InboxPage(data=shown[page.offset : page.offset + page.limit], count=len(shown), summary=summary, scope=scope)
