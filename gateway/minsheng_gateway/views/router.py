"""The gateway's views. Reads come from the gateway's own tables, never from the services."""

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from minsheng.catalog.router import OrgUnitCode
from minsheng.catalog.snapshot import CatalogDep
from minsheng.clock import TodayDep
from minsheng.db import SessionDep
from minsheng.orgunits import CITY_CODE
from minsheng.params import TaskNumber
from minsheng.progress import queries
from minsheng.progress.model import Thresholds
from minsheng.progress.router import OrgUnitQuery
from minsheng.progress.schemas import IndicatorProgressPublic, TaskProgressPublic
from minsheng_gateway.views import overdue, summaries
from minsheng_gateway.views.entry import entry_values
from minsheng_gateway.views.schemas import DistrictMatrix, EntryValues, Summary, Warning
from minsheng_gateway.views.source import GatewaySource

router = APIRouter(prefix="/api/v1", tags=["全市与区县视图 views"])


def _thresholds(request: Request) -> Thresholds:
    return Thresholds.from_settings(request.app.state.settings)


@router.get(
    "/city/summary",
    response_model=Summary,
    summary="全市：各行动及总体的任务、指标按状态统计，行动总目标的完成值、目标、完成率、应达值和状态",
)
def city_summary(request: Request, session: SessionDep, catalog: CatalogDep, today: TodayDep):
    return summaries.summary(session, catalog, CITY_CODE, today, _thresholds(request))


@router.get(
    "/districts/{code}/summary",
    response_model=Summary,
    summary="一个区县：同全市视图，按该区县自己的目标（有分解目标的）判断",
)
def district_summary(request: Request, session: SessionDep, catalog: CatalogDep, today: TodayDep, code: str):
    return summaries.summary(session, catalog, code, today, _thresholds(request))


AsOfRoutines = Annotated[dt.date | None, Query(description="以哪一天为准推算上月末、上季末、上年末，默认今天")]


@router.get(
    "/districts",
    response_model=DistrictMatrix,
    summary="区县×行动得分矩阵与排名：月调度、季考评、年评价（计分规则见 scoring_rule）",
)
def districts(request: Request, session: SessionDep, catalog: CatalogDep, today: TodayDep, as_of: AsOfRoutines = None):
    return summaries.district_matrix(session, catalog, as_of or today, _thresholds(request))


@router.get(
    "/indicators/{code}/progress",
    response_model=IndicatorProgressPublic,
    summary="指标进展：序列、应达轨迹、趋势预测、状态（网关读模型）",
)
def indicator_progress(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    today: TodayDep,
    code: str,
    org_unit: OrgUnitQuery = CITY_CODE,
    as_of: dt.date | None = None,
):
    # Today's answer is the one stored when the row last changed (dashboards poll this); another
    # day's, or one for a series without data, is computed.
    if (
        as_of in (None, today)
        and (stored := summaries.stored_answer(session, catalog, code, org_unit, today)) is not None
    ):
        return Response(stored, media_type="application/json")
    return queries.get_indicator_progress(
        session=session,
        catalog=catalog,
        source=GatewaySource(session),
        code=code,
        org_unit=org_unit,
        as_of=as_of or today,
        thresholds=_thresholds(request),
    )


@router.get("/tasks/{number}/progress", response_model=TaskProgressPublic, summary="任务进展（网关读模型）")
def task_progress(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    today: TodayDep,
    number: TaskNumber,
    org_unit: OrgUnitQuery = CITY_CODE,
    as_of: dt.date | None = None,
):
    return queries.get_task_progress(
        session=session,
        catalog=catalog,
        source=GatewaySource(session),
        number=number,
        org_unit=org_unit,
        as_of=as_of or today,
        thresholds=_thresholds(request),
    )


@router.get(
    "/warnings",
    response_model=list[Warning],
    summary="预警：存在风险或进度滞后的指标和任务，附牵头部门和区县，最新的在前",
)
def read_warnings(
    session: SessionDep, catalog: CatalogDep, today: TodayDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
):
    return summaries.warnings(session, catalog, today, limit)


@router.get(
    "/org-units/{code}/values",
    response_model=EntryValues,
    summary="填报参考：某单位截至某期间各指标的上期审定值、累计值和目标（网关读模型）",
    description="每个指标一行：截至该期间（含）最近一期已审核值及其期间；累计值按进展模型计算"
    "（累计类为2022年起合计，年度类为当年合计，水平类为最新水平）；该单位的目标（区县有分解目标的用区县目标）。",
)
def org_unit_values(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    code: OrgUnitCode,
    period: Annotated[str, Query(description="期间：月 2024-05、季 2024Q2 或年 2024")],
    campaign: Annotated[str | None, Query(description="只看某个行动，如 education")] = None,
):
    return entry_values(
        session=session,
        catalog=catalog,
        org_unit=code,
        period=period,
        campaign=campaign,
        thresholds=_thresholds(request),
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
    as_of: Annotated[dt.date | None, Query(description="以哪一天为准判断是否逾期，默认今天")] = None,
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
    )[:limit]
