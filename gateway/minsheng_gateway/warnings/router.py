"""预警: what is at risk or behind, and what is overdue (逾期未报)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from minsheng.catalog.snapshot import CatalogDep
from minsheng.clock import TodayDep
from minsheng.db import SessionDep
from minsheng_gateway import reads
from minsheng_gateway.plans.scope import PLAN_SELECTED
from minsheng_gateway.reads import VIEWS_TAG, AsOf, AsOfReported
from minsheng_gateway.warnings import overdue, service
from minsheng_gateway.warnings.schemas import Warning

router = APIRouter(prefix="/api/v1", tags=[VIEWS_TAG], dependencies=PLAN_SELECTED)  # ?plan= (decision 0017)


@router.get(
    "/warnings",
    response_model=list[Warning],
    summary="预警：存在风险或进度滞后的指标和任务，附牵头部门和区县，最新的在前",
)
def read_warnings(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    today: TodayDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    as_of: AsOf = None,
):
    return service.warnings(
        session=session,
        catalog=catalog,
        today=today,
        limit=limit,
        as_of=as_of,
        thresholds=reads.thresholds(request),
    )


@router.get(
    "/warnings/overdue",
    response_model=list[Warning],
    summary="预警·逾期未报：全市各单位应报未报且已过截止日期的指标（每个指标×单位一条，列出逾期期间），最近截止的在前",
    description="应报范围与截止日期同「我的待办」：各指标的全市数，及各区县、功能区非市级专属指标的本单位数；"
    "已提交（待审核）或已通过的不算逾期，被退回而未重报的算。",
)
def read_overdue_warnings(
    request: Request,
    session: SessionDep,
    today: TodayDep,
    as_of: AsOfReported = None,
    campaign: Annotated[str | None, Query(description="只看某个行动，如 education")] = None,
    org_unit: Annotated[str | None, Query(description="只看某个单位（区县代码，全市 370300）")] = None,
    department: Annotated[str | None, Query(description="只看某牵头部门的任务指标，如 市教育局")] = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 500,
):
    return overdue.overdue_warnings(
        session=session,
        calendar=request.app.state.settings.reporting_calendar(),
        today=as_of or today,
        campaign=campaign,
        org_unit=org_unit,
        department=department,
        replay=as_of is not None,
    )[:limit]
