"""填报完成情况: what each lead department and each district has handed in for a period."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from minsheng.clock import TodayDep
from minsheng.db import SessionDep
from minsheng.progress.periods import requested_period
from minsheng_gateway.completeness.service import Completeness, completeness
from minsheng_gateway.plans.scope import PLAN_SELECTED
from minsheng_gateway.reads import VIEWS_TAG, AsOfReported

router = APIRouter(prefix="/api/v1", tags=[VIEWS_TAG], dependencies=PLAN_SELECTED)  # ?plan= (decision 0017)


@router.get(
    "/completeness",
    response_model=Completeness,
    summary="填报完成情况：某期各牵头部门、各区县的应报、已报送、已通过和报送率",
    description="应报按「我的待办」的规则（部门：其牵头任务的指标，全市数；区县：非市级专属的指标，本区县数）"
    "和报送日历计；默认各报送频次的本期（最近一个已结束的期间）。",
)
def read_completeness(
    request: Request,
    session: SessionDep,
    today: TodayDep,
    period: Annotated[str | None, Query(description="期间：月 2024-05、季 2024Q2 或年 2024；默认本期")] = None,
    as_of: AsOfReported = None,
):
    wanted = requested_period(period) if period else None
    return completeness(
        session=session,
        calendar=request.app.state.settings.reporting_calendar(),
        today=as_of or today,
        period=wanted,
        replay=as_of is not None,
    )
